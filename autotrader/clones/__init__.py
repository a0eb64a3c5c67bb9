"""Clones: a user's strategy actor, its model, entitlements and strategy graph."""
