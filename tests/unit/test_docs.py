"""The docs stay true: every setting is documented, the README opens with the two commands."""

from pathlib import Path

from autotrader.core.settings import Settings, env_names

ROOT = Path(__file__).resolve().parents[2]


def test_env_example_documents_every_setting():
    text = (ROOT / ".env.example").read_text()
    missing = [
        env_names(name)[0] for name in Settings.model_fields if env_names(name)[0] not in text
    ]
    assert missing == []


def test_readme_starts_with_the_two_fresh_machine_commands():
    text = (ROOT / "README.md").read_text()
    first_block = text.split("```")[1]
    commands = [line.strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["scripts/demo", "scripts/test"]


def test_changelog_follows_keep_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in text
    assert "keepachangelog.com" in text


def test_the_packaged_demo_pipeline_is_the_documented_example():
    packaged = ROOT / "autotrader" / "data" / "pipelines" / "btc-eth-rules.json"
    example = ROOT / "examples" / "pipelines" / "btc-eth-rules.json"
    assert packaged.read_bytes() == example.read_bytes()


def _readme_commands() -> set[str]:
    """Every command the README's "What is here" table names, as full paths."""
    import re

    text = (ROOT / "README.md").read_text()
    table = text.split("## What is here", 1)[1].split("\n\n", 2)[1]
    commands: set[str] = set()
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        group = re.match(r"`([a-z-]+)`", cells[0])[1]
        items = re.findall(r"`([^`]+)`", cells[1])
        subcommands = [i for i in items if not i.startswith(("[", "-"))]
        if not subcommands:
            commands.add(group)
        for item in subcommands:
            words = item.split()
            names = [w for w in words if re.fullmatch(r"[a-z][a-z0-9-]*(\\\|[a-z][a-z0-9-]*)*", w)]
            *parents, last = names
            for name in last.split("\\|"):
                commands.add(" ".join([group, *parents, name]))
    return commands


def _cli_commands() -> set[str]:
    """Every visible command of the CLI, as full paths (alias groups are hidden)."""
    import typer

    from autotrader.cli.app import app

    def walk(command, path: tuple[str, ...]) -> set[str]:
        if hasattr(command, "commands"):  # a group (typer vendors its own click)
            found: set[str] = set()
            for name in command.list_commands(None):
                sub = command.get_command(None, name)  # a lazy group loads here
                if not sub.hidden:
                    found |= walk(sub, (*path, name))
            return found
        return {" ".join(path)}

    return walk(typer.main.get_command(app), ())


def test_every_cli_command_is_in_the_readme_table_and_every_listed_command_exists():
    readme, cli = _readme_commands(), _cli_commands()
    assert sorted(cli - readme) == [], "commands missing from the README's command table"
    assert sorted(readme - cli) == [], "README names commands the CLI does not have"
