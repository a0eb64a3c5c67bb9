"""What sits at a store's path, judged before SQLite opens it, and the files that belong to it.

SQLite opens nearly any file without complaint: a one-byte text file becomes an empty database
that the first migration then overwrites, and a damaged header surfaces as a vague error on some
later query. :func:`check_store_file` reads the 100-byte database header instead, so a foreign
file is refused before anything touches it. A missing or zero-length file is a new store.
"""

from __future__ import annotations

from pathlib import Path

from autotrader.core.errors import InvalidInputError, OperationalError

# The files SQLite keeps beside a database: the write-ahead log and its index (WAL mode), and the
# rollback journal. Each holds committed or in-flight data, so nothing may be written over them.
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")

_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100


def store_files(path: Path) -> tuple[Path, ...]:
    """The store at ``path`` and its side files (which may not exist yet)."""
    return (path, *(Path(f"{path}{suffix}") for suffix in SIDE_SUFFIXES))


def check_store_file(path: Path) -> None:
    """Refuse a file at ``path`` that cannot be an autotrader store.

    Raises InvalidInputError for a file that is not a SQLite database (a text file, an image, a
    truncated header) and OperationalError for a SQLite header that is damaged. A missing or
    empty file passes: it is a new store.
    """
    try:
        with path.open("rb") as handle:
            header = handle.read(_HEADER_SIZE)
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise InvalidInputError(f"{path} is a folder, not an autotrader store") from None
    except OSError as exc:
        raise OperationalError(f"cannot read the store {path}: {exc.strerror}") from None
    if not header:
        return
    if len(header) < _HEADER_SIZE or not header.startswith(_MAGIC):
        raise InvalidInputError(
            f"{path} is not an autotrader store: not a SQLite database (it starts with"
            f" {header[:16]!r}); check --db or AUTOTRADER_DB"
        )
    problem = _header_problem(header)
    if problem:
        raise OperationalError(f"the store {path} is damaged ({problem}); restore it from a backup")


def _header_problem(header: bytes) -> str | None:
    """What is wrong with a header that has SQLite's magic string, or None.

    The fields checked are the ones SQLite requires to hold fixed values (file format 3).
    """
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65_536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return f"page size {page_size} is not a power of two from 512 to 65536"
    if header[18] not in (1, 2) or header[19] not in (1, 2):
        return f"unknown file format versions {header[18]}/{header[19]}"
    if header[21:24] != b"\x40\x20\x20":
        return "payload fractions are not 64/32/32"
    return None
