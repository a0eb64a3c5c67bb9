"""A throwaway PostgreSQL server for the test session: initdb in a temp folder, started on a free
loopback port, stopped and removed at the end. No shared server, no mocks.

PostgreSQL refuses to run as root, and the tests run as root in CI: the cluster is then created
and run as the ``postgres`` OS user (the Debian package's), in a folder it owns.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "autotrader"
TEMPLATE = "autotrader_template"  # migrated once per session; each test's database copies it
_databases = itertools.count(1)
_SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"


def binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl``, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for pattern in _SEARCH:
        for folder in sorted(glob.glob(pattern), reverse=True):
            if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
                return Path(folder)
    return None


def unavailable_reason() -> str | None:
    """Why the PostgreSQL tier cannot run here, or None when it can."""
    if binaries() is None:
        return "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed: pip install -e '.[postgres]'"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs a 'postgres' OS user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL will not run as root: run it as ``postgres`` then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A fresh cluster on a free loopback port for as long as the block runs."""
    bin_dir = binaries()
    assert bin_dir is not None, unavailable_reason()
    root = Path(tempfile.mkdtemp(prefix="autotrader-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data, log = root / "data", root / "server.log"
    port = _free_port()
    run = {"check": True, "capture_output": True, "text": True}
    try:
        subprocess.run(
            _as_server_user(
                [
                    *(str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER),
                    *("--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"),
                ]
            ),
            **run,
        )
        # Durability is the tests' least concern: fsync off keeps CREATE DATABASE quick.
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_server_user(
                [
                    *(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log)),
                    *("-o", options, "-w", "-t", "60", "start"),
                ]
            ),
            **run,
        )
        try:
            yield PostgresServer("127.0.0.1", port, SUPERUSER)
        finally:
            subprocess.run(
                _as_server_user(
                    [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
                ),
                capture_output=True,
            )
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(
            f"PostgreSQL did not start: {exc.stderr or exc.stdout}"
            + (log.read_text() if log.is_file() else "")
        ) from exc
    finally:
        shutil.rmtree(root, ignore_errors=True)


def next_name() -> str:
    """A database name not used before in this process."""
    return f"test_{os.getpid()}_{next(_databases)}"


def create_database(server: PostgresServer, name: str, *, template: str = "template0") -> str:
    """Create database ``name`` (a copy of ``template``) and return its URL."""
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return server.url(name)
