"""The single agent of the specs: one clone booted, reconciled and traded in a loop that sleeps
as its Planner says (``autotrader agent run --clone-id 42``)."""
