"""Model arenas: a grid of models × strategy variants trading head to head — one clone per
cell with the same pipeline, one prop account each with the same rules, balance and start."""
