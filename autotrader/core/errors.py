"""The one exception tree of autotrader.

Every error the program raises on purpose is one of these. Vendor errors (ccxt, openai, httpx,
sqlite3) are translated into them at the adapter edge, so callers only ever handle our own::

    AutotraderError                 base; never raised directly
    ├── UserError                   the user can fix it: one line on stderr, exit 1, no traceback
    │   ├── InvalidInputError       a flag, file, payload or value is malformed or out of range
    │   ├── NotFoundError           a referenced thing (account, clone, run, file) does not exist
    │   ├── ConflictError           the request contradicts the current state (already exists, ...)
    │   └── ConfigError             settings are invalid; carries one line per problem
    ├── TemporaryError              a retry may succeed (network, rate limit, busy database):
    │                               workers back off and retry, commands report and exit 1
    └── OperationalError            the program cannot go on (corrupt store, failed migration):
                                    workers stop, commands report and exit 1

What the CLI does with them lives in ``autotrader.cli.app``: it prints ``str(error)`` as a single
line and exits 1; ``--debug`` (or ``AUTOTRADER_DEBUG=1``) prints the traceback as well.
"""

from __future__ import annotations

from collections.abc import Iterable


class AutotraderError(Exception):
    """Base of every error raised on purpose by autotrader."""

    exit_code = 1


class UserError(AutotraderError):
    """Bad input or a missing thing: reported as one line, exit 1, never retried."""


class InvalidInputError(UserError):
    """A flag, file, payload or value is malformed or out of range."""


class NotFoundError(UserError):
    """A referenced object does not exist (account, clone, decision run, file)."""


class ConflictError(UserError):
    """The request contradicts the current state (duplicate name, account not active, ...)."""


class ConfigError(UserError):
    """Settings are invalid. ``problems`` holds one human line per problem, all at once."""

    def __init__(self, problems: Iterable[str], *, header: str = "invalid settings") -> None:
        self.problems = list(problems)
        lines = "; ".join(self.problems) if self.problems else "unknown problem"
        super().__init__(f"{header}: {lines}")


def quoted(value: object, limit: int = 40) -> str:
    """A value the user gave, as an error message repeats it: its ``repr``, cut to about
    ``limit`` characters (a refused value may be ten thousand characters of anything)."""
    text = value if isinstance(value, str) else str(value)
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


class TemporaryError(AutotraderError):
    """A retry may succeed: workers back off and retry; one-shot commands exit 1."""


class OperationalError(AutotraderError):
    """The program cannot continue safely: workers stop; commands exit 1."""
