"""Backtests: months of history through the live trading code, in memory, into a store of
their own (never the live ledger)."""
