"""An output never overwrites an input: every command that writes a path (``ledger export --out``,
``ledger nav --out``, ``ledger plot --out``, ``db backup PATH``) refuses the store and its
``-wal``/``-shm``/``-journal`` files even with ``--force``, replaces any other existing file only
with ``--force``, and writes through a temporary file so a failure leaves nothing half-written."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from autotrader.core.clock import iso_utc
from tests.fakes.ledger_scenario import build_scenario_file

PNG = b"\x89PNG\r\n\x1a\n"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line(text: str) -> bool:
    return text.strip().count("\n") == 0 and text.startswith("error: ")


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return build_scenario_file(tmp_path_factory.mktemp("outputs"))


@pytest.fixture
def db(scenario, tmp_path, monkeypatch) -> Path:
    """A copy of the ledger scenario (three accounts, fills, snapshots), closed: no -wal."""
    path = tmp_path / "store.db"
    shutil.copyfile(scenario[0], path)
    monkeypatch.setenv("AUTOTRADER_NOW", iso_utc(scenario[1].end_ms))
    return path


def writes(command: str, target: Path, db: Path, *extra: str) -> list[str]:
    """The arguments of ``command`` writing to ``target`` from the store ``db``."""
    by_command = {
        "export": ["ledger", "export", "--format", "csv", "--out", str(target)],
        "plot": ["ledger", "plot", "--account", "1", "--out", str(target)],
        "nav": ["ledger", "nav", "--by", "clone", "--format", "csv", "--out", str(target)],
        "plot-by": ["ledger", "plot", "--by", "clone", "--out", str(target)],
        "backup": ["db", "backup", str(target)],
    }
    return [*by_command[command], "--db", str(db), *extra]


def test_export_onto_the_store_is_refused_and_the_store_survives_byte_identical(cli, db):
    before = digest(db)

    result = cli("ledger", "export", "--format", "csv", "--out", str(db), "--db", str(db))

    assert result.exit_code == 1
    assert one_line(result.stderr), result.stderr
    assert str(db) in result.stderr
    assert "store" in result.stderr
    assert digest(db) == before
    assert cli("ledger", "verify", "--db", str(db)).exit_code == 0


def test_the_default_plot_file_is_refused_when_it_is_the_store(cli, scenario, tmp_path):
    """``ledger plot --account 1`` writes ``equity-1.png`` in the working folder (tmp_path):
    a store that happens to carry that name is never drawn over."""
    store = tmp_path / "equity-1.png"
    shutil.copyfile(scenario[0], store)
    before = digest(store)

    result = cli("ledger", "plot", "--account", "1", "--db", str(store))

    assert result.exit_code == 1
    assert one_line(result.stderr), result.stderr
    assert digest(store) == before


@pytest.mark.parametrize("command", ["export", "nav", "backup"])
@pytest.mark.parametrize("suffix", ["", "-wal", "-shm", "-journal"])
def test_writing_onto_the_store_or_a_side_file_is_refused_even_with_force(cli, db, command, suffix):
    target = Path(f"{db}{suffix}")
    before = digest(db)

    result = cli(*writes(command, target, db, "--force"))

    assert result.exit_code == 1
    assert one_line(result.stderr), result.stderr
    assert "store" in result.stderr
    assert digest(db) == before
    assert target.exists() == (suffix == "")  # no side file was made up either


def test_a_symlink_or_hard_link_to_the_store_is_the_store(cli, db, tmp_path):
    soft, hard = tmp_path / "soft.csv", tmp_path / "hard.csv"
    soft.symlink_to(db)
    os.link(db, hard)
    before = digest(db)

    for target in (soft, hard):
        result = cli(*writes("export", target, db, "--force"))
        assert result.exit_code == 1, target
        assert one_line(result.stderr), result.stderr
    assert digest(db) == before


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("export", "out.csv"),
        ("nav", "out.csv"),
        ("plot", "out.png"),
        ("plot-by", "out.png"),
        ("backup", "out.db"),
    ],
)
def test_an_existing_file_is_replaced_only_with_force(cli, db, tmp_path, command, name):
    target = tmp_path / name
    target.write_bytes(b"precious")

    refused = cli(*writes(command, target, db))

    assert refused.exit_code == 1
    assert one_line(refused.stderr), refused.stderr
    assert "--force" in refused.stderr
    assert target.read_bytes() == b"precious"

    forced = cli(*writes(command, target, db, "--force"))

    assert forced.exit_code == 0, forced.stderr
    assert target.read_bytes() != b"precious"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    ("command", "name", "magic"),
    [
        ("export", "new.csv", b"id,time,"),
        ("nav", "new.csv", b"group,time,at,nav,accounts"),
        ("plot", "new.png", PNG),
        ("plot-by", "new.png", PNG),
        ("backup", "new.db", b"SQLite"),
    ],
)
def test_a_new_file_is_written_whole_in_a_new_folder_and_no_temporary_file_is_left(
    cli, db, tmp_path, command, name, magic
):
    target = tmp_path / "reports" / name

    result = cli(*writes(command, target, db))

    assert result.exit_code == 0, result.stderr
    assert target.read_bytes().startswith(magic)
    assert [p.name for p in target.parent.iterdir()] == [name]


def test_a_failed_plot_leaves_the_existing_file_untouched(cli, db, tmp_path):
    target = tmp_path / "equity.png"
    target.write_bytes(PNG + b"the old chart")

    result = cli(
        "ledger", "plot", "--account", "99", "--out", str(target), "--force", "--db", str(db)
    )

    assert result.exit_code == 1
    assert target.read_bytes() == PNG + b"the old chart"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
