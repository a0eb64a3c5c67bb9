"""Prop (paper) trading: accounts, the intent contract, safety gates, fills, PnL."""
