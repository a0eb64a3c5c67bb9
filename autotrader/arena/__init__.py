"""The arena: races among arena clones, tickets on them, exact parimutuel settlement (rake,
creator royalties, payouts, dust) in the lifecycle's economy ledger, retirement strikes and the
Hall of Fame."""
