"""``autotrader serve``: a read-only HTTP API (FastAPI, OpenAPI at ``/docs``) and a server-rendered
dashboard over the same services the CLI uses.

Handlers never run SQL: they call the ledger, market, workers, decisions, clones and prop read
services, on read-only connections to the store (``stores``), and encode money as decimal strings
and times as ISO-8601 UTC (``encoding``). Each feature brings its routers; ``routers.ROUTERS`` is
the one list of them (as ``autotrader/jobs.py`` is of jobs). ``app.create_app`` wires it all.
"""
