"""The app factory: ``create_app(settings, ...)`` wires the routers (``server.routers``) to
read-only store connections, the clock, the artifact backend and the guards.

Collaborators are arguments, so tests and the bench build the same app over their own store
and clock; ``autotrader serve`` passes the settings' ones.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

from autotrader import __version__
from autotrader.artifacts.stores import BlobStore, backend_from_settings
from autotrader.core.clock import Clock
from autotrader.core.db import Store
from autotrader.core.settings import Settings
from autotrader.server import routers
from autotrader.server.cache import Derived, ReadCache
from autotrader.server.errors import install_error_handlers
from autotrader.server.security import Guard, bearer_token_check
from autotrader.server.stores import StorePool

STATIC = Path(__file__).parent / "static"
log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    open_reader: Callable[[], Store] | None = None,
    open_writer: Callable[[], Store] | None = None,
    blobs: BlobStore | None = None,
) -> FastAPI:
    """The ASGI app over the store of ``settings``.

    ``open_reader`` opens one read-only connection (default: ``Store(db_path, readonly=True)``);
    ``open_writer`` one writable connection for the admin routes (default: the bootstrap's).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        # The default leaderboard takes seconds on a large store: compute it now, in the
        # background, so the first visitor does not wait for all of it.
        threading.Thread(target=_warm, args=(app,), daemon=True).start()
        yield
        app.state.stores.close()

    app = FastAPI(
        lifespan=lifespan,
        title="autotrader",
        version=__version__,
        summary="Read-only API over the autotrader store: money as decimal strings, times "
        "ISO-8601 UTC, ledger-sized lists cursor-paged.",
        docs_url=None,  # served below with the vendored Swagger UI: no CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.clock = clock or settings.clock()
    app.state.stores = StorePool(open_reader or _reader(settings))
    app.state.open_writer = _writer(open_writer, settings)
    app.state.blobs = blobs or backend_from_settings(settings)
    app.state.cache = ReadCache(settings.server_refresh_s)
    app.state.derived = Derived()
    install_error_handlers(app)

    for row in routers.API_ROUTERS + routers.PAGE_ROUTERS:
        app.include_router(_load(row))
    if settings.server_token is not None and settings.server_token.get_secret_value():
        guard = Depends(bearer_token_check(settings.server_token.get_secret_value()))
        for row in routers.ADMIN_ROUTERS:
            app.include_router(_load(row), dependencies=[guard])

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="autotrader API",
            swagger_js_url="/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    origins = [o.strip() for o in settings.server_cors_origins.split(",") if o.strip()]
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET"])
    app.add_middleware(
        Guard,
        max_body_bytes=settings.server_max_body_bytes,
        rate_limit=settings.server_rate_limit,
    )
    return app


def _warm(app: FastAPI) -> None:
    from autotrader.server.api.leaderboard import leaderboard_entry

    try:
        leaderboard_entry(app, kind=None, by="account")
    except Exception:  # a request computes it then, and reports what fails
        log.exception("warming the leaderboard failed")


def _load(row: str):
    module, attribute = row.split(":")
    return getattr(importlib.import_module(module), attribute)


def _reader(settings: Settings) -> Callable[[], Store]:
    path, timeout = settings.db_path, settings.db_busy_timeout_ms
    return lambda: Store(path, readonly=True, busy_timeout_ms=timeout, migrate=False)


def _writer(
    opener: Callable[[], Store] | None, settings: Settings
) -> Callable[[], contextlib.AbstractContextManager[Store]]:
    @contextlib.contextmanager
    def open_writer() -> Iterator[Store]:
        if opener is not None:
            store = opener()
        else:
            from autotrader.bootstrap import open_store

            store = open_store(settings, migrate=False)
        try:
            yield store
        finally:
            store.close()

    return open_writer
