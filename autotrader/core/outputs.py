"""Files a command writes (exports, charts, backups): never over the store, never half-written.

Every command that takes an output path writes it through :func:`output_file`, which keeps two
promises:

- **an output never overwrites an input.** A path that is the store or one of its side files
  (``-wal``, ``-shm``, ``-journal``) is refused, ``--force`` or not: writing there destroys
  committed data, even while another process has the store open. Any other existing file is
  replaced only with ``--force``. A symbolic or hard link to a protected file is that file.
- **a failure never leaves a half file.** The bytes go to a temporary file beside the target,
  flushed to disk, then renamed over it: a reader sees the old file or the new one, and a failed
  write leaves the old file (or none) and no temporary file behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from autotrader.core.errors import ConflictError, InvalidInputError
from autotrader.core.store_file import store_files


@contextlib.contextmanager
def output_file(target: Path, *, stores: Iterable[Path], force: bool) -> Iterator[Path]:
    """Yield a temporary path to write instead of ``target``; it becomes ``target`` when the block
    ends without an exception, and is removed when it raises.

    ``stores`` are the stores the command reads: neither they nor their side files may be the
    target. Raises ConflictError (a protected file, or an existing file without ``force``) or
    InvalidInputError (``target`` is a folder) before anything is written; missing parent folders
    are created.
    """
    check_output(target, stores=stores, force=force)
    # Write beside the file a symbolic link points to, so the rename replaces that file (as
    # writing through the link would) rather than the link.
    final = Path(os.path.realpath(target))
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        os.chmod(temp, _mode_for(final))
        with temp.open("rb+") as handle:
            os.fsync(handle.fileno())  # without it a crash after the rename can leave no data
        os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)


def check_output(target: Path, *, stores: Iterable[Path], force: bool) -> None:
    """Refuse ``target`` if it is a protected store file, a folder, or (without ``force``) an
    existing file; see :func:`output_file`."""
    for store in stores:
        main, *sides = store_files(store)
        for protected in (main, *sides):
            if same_file(target, protected):
                what = (
                    f"the store {store}"
                    if protected is main
                    else f"the {protected.name.removeprefix(store.name)} file of the store {store}"
                )
                raise ConflictError(
                    f"refusing to write {target}: it is {what}, which --force never overwrites;"
                    " choose another path"
                )
    if target.is_dir():
        raise InvalidInputError(f"{target} is a folder; give a file path")
    if (target.exists() or target.is_symlink()) and not force:
        raise ConflictError(f"{target} exists; pass --force to replace it")


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same path once links are resolved, or the same inode
    (a hard link)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


def _mode_for(final: Path) -> int:
    """The permissions a plain ``open(final, "w")`` would give: an existing file keeps its own,
    a new one gets 0666 less the umask (``mkstemp`` makes its file 0600)."""
    try:
        return final.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
