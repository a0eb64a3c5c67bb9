"""Live execution: prop accounts on the Hyperliquid testnet and real venues, through ccxt."""
