"""Alerts: what happened (fills, exits by stop/target/time/liquidation, drawdown freezes, a
degraded or stale worker) goes to the channels a user configures as apprise URLs (Telegram,
Discord, Slack, e-mail, any webhook), filtered per event and rate limited per channel.

The ``alerts`` job does it in two steps, neither inside a trading transaction: ``events``
notices what is new since its last tick and writes one outbox row per event (idempotent by
event key) with one delivery per matching channel; ``delivery`` sends the due deliveries,
retries failures with back-off and records every attempt. A failing channel therefore delays
only its own messages: trading never waits for it, and nothing is lost while it is down.
"""
