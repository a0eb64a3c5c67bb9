"""Every router of the server, in one place (as ``autotrader/jobs.py`` lists every job).

A feature that has something to show adds its modules here: an ``api`` router (JSON under
``/api/v1/<feature>``) and, when it has a page, a ``pages`` router. Rows are
``module:attribute`` strings, imported when the app is built. Admin routers (writes) are
mounted only when a token is configured, behind it.
"""

from __future__ import annotations

API_ROUTERS: tuple[str, ...] = (
    "autotrader.server.api.health:router",
    "autotrader.server.api.clones:router",
    "autotrader.server.api.market:router",
    "autotrader.server.api.accounts:router",
    "autotrader.server.api.leaderboard:router",
    "autotrader.server.api.trace:router",
    "autotrader.server.api.decisions:router",
)
PAGE_ROUTERS: tuple[str, ...] = (
    "autotrader.server.pages.leaderboard:router",
    "autotrader.server.pages.accounts:router",
    "autotrader.server.pages.trace:router",
    "autotrader.server.pages.health:router",
    "autotrader.server.pages.decisions:router",
)
ADMIN_ROUTERS: tuple[str, ...] = ("autotrader.server.api.admin:router",)
