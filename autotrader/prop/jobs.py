"""The mark-to-market job: exits, funding, snapshots and drawdown freezes, once a minute."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from autotrader.core.worker import TickContext, TickReport

if TYPE_CHECKING:
    from autotrader.core.jobs import JobEnv
    from autotrader.prop.mtm import MarkToMarket


class MarkToMarketJob:
    def __init__(self, mtm: MarkToMarket, *, account_ids: Sequence[int] | None) -> None:
        self.mtm = mtm
        self.account_ids = list(account_ids) if account_ids else None

    def __call__(self, ctx: TickContext) -> TickReport:
        report = self.mtm.run(self.account_ids)
        return TickReport(
            summary=report.summary(),
            counts={"marked": report.marked, "exits": sum(report.exits.values())},
            idle=report.marked == 0,
            result=report,
        )


def mark_to_market_job(env: JobEnv) -> MarkToMarketJob:
    """Options: ``accounts`` (a list of account ids; default every active or frozen account)."""
    from autotrader.prop.factory import precision
    from autotrader.prop.mtm import MarkToMarket

    mtm = MarkToMarket(env.store, env.clock, precision(env.store, env.clock))
    return MarkToMarketJob(mtm, account_ids=env.option("accounts"))
