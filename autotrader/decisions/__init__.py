"""Decisions: due runs, engines, intents through the gates, memory, workers."""
