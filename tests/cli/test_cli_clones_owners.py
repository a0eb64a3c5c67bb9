"""Clones have owners: a handle and an optional EVM address, checksummed and unique."""

import json

ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_creates_a_clone_with_a_new_owner_and_shows_the_checksummed_address(cli, tmp_path):
    db = str(tmp_path / "s.db")
    result = cli("clones", "create", "--name", "m", "--id", "42", "--owner", "alice",
                 "--owner-address", ADDRESS.lower(), "--db", db, "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    shown = json.loads(cli("clones", "show", "42", "--db", db, "--json").stdout)
    assert (shown["owner"], shown["owner_address"]) == ("alice", ADDRESS)
    owners = json.loads(cli("clones", "owners", "list", "--db", db, "--json").stdout)
    assert {"handle": "alice", "evm_address": ADDRESS, "clones": 1} in owners


def test_a_clone_without_owner_belongs_to_local_with_no_address(cli, tmp_path):
    db = str(tmp_path / "s.db")
    cli("clones", "create", "--name", "m", "--id", "42", "--db", db)
    shown = json.loads(cli("clones", "show", "42", "--db", db, "--json").stdout)
    assert (shown["owner"], shown["owner_address"]) == ("local", None)


def test_refuses_a_mistyped_owner_address_and_creates_nothing(cli, tmp_path):
    db = str(tmp_path / "s.db")
    typo = ADDRESS[:-1] + "D"
    result = cli("clones", "create", "--name", "m", "--id", "42", "--owner", "alice",
                 "--owner-address", typo, "--db", db)  # fmt: skip
    assert result.exit_code == 1
    assert "EIP-55" in result.stderr
    assert "Traceback" not in result.stderr
    assert cli("clones", "show", "42", "--db", db).exit_code == 1
    assert json.loads(cli("clones", "owners", "list", "--db", db, "--json").stdout) == []


def test_refuses_an_address_that_belongs_to_another_owner(cli, tmp_path):
    db = str(tmp_path / "s.db")
    cli(
        "clones",
        "create",
        "--name",
        "a",
        "--owner",
        "alice",
        "--owner-address",
        ADDRESS,
        "--db",
        db,
    )
    result = cli("clones", "create", "--name", "b", "--owner", "bob", "--owner-address", ADDRESS,
                 "--db", db)  # fmt: skip
    assert result.exit_code == 1
    assert "already belongs to owner 'alice'" in result.stderr


def test_refuses_an_owner_handle_the_economy_could_mistake_for_the_protocol(cli, tmp_path):
    result = cli("clones", "create", "--name", "a", "--owner", "protocol:fees", "--db",
                 str(tmp_path / "s.db"))  # fmt: skip
    assert result.exit_code == 1
    assert "--owner: 1–32 letters" in result.stderr


def test_owners_set_records_the_address_an_owner_pays_from(cli, tmp_path):
    db = str(tmp_path / "s.db")
    cli("clones", "create", "--name", "a", "--owner", "alice", "--db", db)
    shouted = "0x" + ADDRESS[2:].upper()
    result = cli("clones", "owners", "set", "alice", "--address", shouted, "--db", db)
    assert result.exit_code == 0, result.stderr
    assert ADDRESS in result.stdout
    assert cli("clones", "owners", "set", "nobody", "--address", ADDRESS, "--db", db).exit_code == 1
