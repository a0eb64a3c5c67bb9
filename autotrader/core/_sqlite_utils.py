"""Import sqlite-utils without paying for pandas and numpy.

``sqlite_utils.db`` imports pandas and numpy at module level whenever they are installed (only to
recognise their types when inserting), which costs about 350 ms on every command that opens the
store. Import ``Database`` and ``Migrations`` from here, not from sqlite_utils.
We never insert pandas or numpy values through sqlite-utils (repos use plain SQL), so the
import runs with both hidden; anything that imports them later gets the real modules.
"""

from __future__ import annotations

import sys

_HIDDEN = ("pandas", "numpy")


def load() -> None:
    """Import sqlite_utils (once) with pandas and numpy hidden unless already loaded."""
    if "sqlite_utils.db" in sys.modules:
        return
    hidden = [name for name in _HIDDEN if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` raise ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]


load()

from sqlite_utils import Database  # noqa: E402
from sqlite_utils.migrations import Migrations  # noqa: E402

__all__ = ["Database", "Migrations", "load"]
