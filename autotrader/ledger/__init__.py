"""The audit view of the prop engine: ledger queries, trades, verify, metrics, leaderboard,
exports, plots and traces. Read-only over prop's tables (plus indexes of its own)."""
