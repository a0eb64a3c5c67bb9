"""Rendering a page: the shared Jinja2 environment (autoescaped: every value from the store,
a model or a market is data, never markup) and the filters the templates format values with."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from autotrader.core.clock import iso_utc
from autotrader.core.jsonout import dumps
from autotrader.core.money import to_text
from autotrader.server.encoding import api_value

templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")


def _money(value: Any, places: int = 2) -> str:
    if value is None:
        return ""
    amount = Decimal(value)
    return f"{amount:,.{places}f}"


def _signed(value: Any, places: int = 2) -> str:
    return "" if value is None else f"{Decimal(value):+,.{places}f}"


def _pct(value: Any, places: int = 2) -> str:
    """A fraction (0.05) as a percentage (5.00%)."""
    return "" if value is None else f"{Decimal(str(value)) * 100:.{places}f}%"


def _number(value: Any, places: int = 2) -> str:
    return "" if value is None else f"{value:.{places}f}"


def _when(value: Any) -> str:
    """Epoch ms (or ISO text) as ``2026-02-19 19:20:00Z``."""
    if value is None or value == "":
        return ""
    text = iso_utc(value) if isinstance(value, int) else str(value)
    return text.replace("T", " ")


def _exact(value: Any) -> str:
    return "" if value is None else to_text(Decimal(value))


def _sign_class(value: Any) -> str:
    if value is None:
        return ""
    amount = Decimal(str(value))
    return "pos" if amount > 0 else "neg" if amount < 0 else ""


def _as_json(value: Any) -> str:
    """Data for a ``<script type="application/json">`` block: ``<`` is escaped so no text
    in it can close the block."""
    return dumps(api_value(value), indent=None).replace("<", "\\u003c")


templates.env.filters.update(
    money=_money,
    signed=_signed,
    pct=_pct,
    number=_number,
    when=_when,
    exact=_exact,
    sign=_sign_class,
    as_json=_as_json,
)


def _context(request: Request, title: str, context: dict[str, Any]) -> dict[str, Any]:
    """The layout's context: the title, the refresh interval, and what the page is as of
    (``as_of_ms``; default: now)."""
    app = request.app
    context.setdefault("as_of_ms", app.state.clock.now_ms())
    return {"title": title, "refresh_s": app.state.settings.server_refresh_s, **context}


def page(request: Request, name: str, title: str, **context: Any) -> HTMLResponse:
    """Render ``name`` as this request's response."""
    return templates.TemplateResponse(request, name, _context(request, title, context))


def render(request: Request, name: str, title: str, **context: Any) -> str:
    """Render ``name`` to text (for a page cached beyond one request)."""
    return templates.get_template(name).render(_context(request, title, context))
