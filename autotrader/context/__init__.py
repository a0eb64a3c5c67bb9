"""Context packets: the deterministic, budgeted prompt a decision reads, built from SQLite."""
