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
