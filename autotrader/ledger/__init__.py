"""The audit view of the prop engine: ledger queries, trades, verify, metrics, leaderboard,
exports, plots and traces. Read-only over prop's tables (plus indexes of its own).

Its SQL lives in ``ledger.queries`` (the one package allowed to read prop's tables directly,
see docs/architecture.md); decision runs, invocations, artifacts and clones are read through
their packages' repo functions."""
