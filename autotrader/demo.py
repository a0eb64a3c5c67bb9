"""The embedded demo: a fresh store of its own, never the user's configured one.

``prepare_demo_store`` decides where the demo writes and makes sure it never overwrites anything
that is not an earlier demo store.
"""

from __future__ import annotations

from pathlib import Path

from autotrader.core.errors import ConflictError
from autotrader.core.outputs import same_file
from autotrader.core.store_file import store_files

DEMO_MARKER = ("store_kind", "demo")


def default_demo_path(data_dir: Path) -> Path:
    return data_dir / "demo" / "demo.db"


def _is_demo_store(path: Path) -> bool:
    from autotrader.core.db import Store
    from autotrader.core.errors import AutotraderError
    from autotrader.core.repo import get_meta

    try:
        with Store(path, readonly=True) as store:
            return get_meta(store, DEMO_MARKER[0]) == DEMO_MARKER[1]
    except AutotraderError:
        return False


def prepare_demo_store(path: Path, *, protected: Path | None = None) -> Path:
    """Make ``path`` ready for a fresh demo run and return it.

    An earlier demo store at ``path`` is removed (with its ``-wal``/``-shm`` files). Anything
    else there — and the user's configured store ``protected`` — is refused with ConflictError.
    """
    path = path.expanduser()
    if protected is not None:
        configured = protected.expanduser()
        if any(same_file(path, file) for file in store_files(configured)):
            raise ConflictError(
                f"{path} is your configured store (or one of its files); the demo only writes"
                " its own"
            )
    if path.exists():
        if path.is_dir():
            raise ConflictError(f"{path} is a folder; give the demo a file path")
        if path.stat().st_size and not _is_demo_store(path):
            raise ConflictError(f"{path} exists and is not a demo store; choose another --db")
    for file in store_files(path):
        file.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def mark_demo_store(store, *, now_ms: int) -> None:
    from autotrader.core.repo import set_meta

    with store.atomic():
        set_meta(store, *DEMO_MARKER, now_ms=now_ms)


def bundled_candles() -> dict[str, tuple[Path, str]]:
    """The packaged demo candle files: ``{symbol: (path, timeframe)}``."""
    from importlib.resources import files

    folder = Path(str(files("autotrader") / "data" / "candles"))
    return {
        "BTC": (folder / "BTC-5m.csv", "5m"),
        "ETH": (folder / "ETH-5m.csv", "5m"),
    }


def replay_end_ms(candle_files: dict[str, tuple[Path, str]]) -> int:
    """The close time of the last bar common to the bundled files (the demo's "now")."""
    from autotrader.market.models import TIMEFRAME_MS

    ends = []
    for file, timeframe in candle_files.values():
        last_line = file.read_text().strip().splitlines()[-1]
        ends.append(int(last_line.split(",")[0]) + TIMEFRAME_MS[timeframe])
    return min(ends)


def demo_orders(store, now_ms: int) -> list[dict]:
    """Three manual intents for the demo, priced off the bundled candles as of ``now_ms``: a
    BTC long and an ETH short with tight exit plans (so the replay fires them), and an
    oversized BTC order the position-notional gate rejects."""
    from decimal import ROUND_HALF_UP, Decimal

    from autotrader.market.view import execution_price

    def level(symbol: str, factor: str) -> Decimal:
        price = execution_price(store, symbol, now_ms)
        if price is None:
            raise ValueError(f"no bundled price for {symbol}")
        return (price.price * Decimal(factor)).quantize(Decimal(1), rounding=ROUND_HALF_UP)

    return [
        {
            "why": "A BTC long, 3x, stop 0.8 % below and target 0.8 % above:",
            "symbol": "BTC",
            "side": "long",
            "notional": Decimal(2000),
            "qty": None,
            "leverage": 3,
            "stop": level("BTC", "0.992"),
            "target": level("BTC", "1.008"),
        },
        {
            "why": "An ETH short, 2x, stop 1.5 % above and target 1.5 % below:",
            "symbol": "ETH",
            "side": "short",
            "notional": Decimal(1500),
            "qty": None,
            "leverage": 2,
            "stop": level("ETH", "1.015"),
            "target": level("ETH", "0.985"),
        },
        {
            "why": "An oversized BTC order (50,000 USD) that the position-notional gate refuses:",
            "symbol": "BTC",
            "side": "long",
            "notional": Decimal(50_000),
            "qty": None,
            "leverage": 5,
            "stop": None,
            "target": None,
        },
    ]


def example_pipeline() -> Path:
    """The strategy graph the demo gives clone 42 (BTC and ETH, indicators and funding, rules).

    Shipped inside the package (a copy of ``examples/pipelines/btc-eth-rules.json``) so an
    installed autotrader runs its demo without the repository.
    """
    from importlib.resources import files

    return Path(str(files("autotrader") / "data" / "pipelines" / "btc-eth-rules.json"))
