"""``python -m autotrader`` runs the CLI."""

from autotrader.cli.app import main

main()
