"""The only SQL for the arena's tables, one module per group of tables. Money crosses this
boundary as Decimal in, canonical TEXT in the database, Decimal out."""
