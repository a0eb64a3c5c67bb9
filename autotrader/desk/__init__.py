"""The desk: a self-operating six-agent trading company on the product's own parts.

Agents propose (:mod:`~autotrader.desk.proposals`), cap gates and the ``auto_approve`` policy
decide, approved proposals become missions of steps (:mod:`~autotrader.desk.missions`) that
workers claim (:mod:`~autotrader.desk.jobs`), every transition is an event, and the heartbeat
(:mod:`~autotrader.desk.heartbeat`) turns events and facts back into proposals through triggers
and the reaction matrix. ``docs/desk.md`` maps the seed's design onto these modules.
"""
