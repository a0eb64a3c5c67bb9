"""Settling a finished race: the races job's pass over races whose end has come.

1. **claim** — live → settling, with the worker and the time (``store.claim``): a worker that
   dies mid-settlement leaves a claim the next one takes over once it is stale;
2. **final mark and finalize** — the race accounts are marked to market as of now, then each
   is finalized through ``prop.admin`` (open positions flattened at the latest price); both are
   idempotent, so a rerun after a crash skips what was done;
3. **rank** — by the race metric from the ledger's own leaderboard computation
   (``ledger.leaderboard.account_rows``, as auditions are judged), ties broken by
   ``arena.ranking``;
4. **settle** — *one transaction*: tickets still pending are expired (the pool closes), the
   result snapshot is written to the entrants, the pool is split (``arena.parimutuel``) and
   booked in the economy ledger (``arena.booking``) with its rows, the strikes are given (and
   retirements made), and the race becomes settled. It re-reads the race under the write lock
   first, so a race is settled once whatever happens: a crash inside it leaves nothing, a rerun
   completes it, a second settler finds it settled and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from autotrader.arena import booking, strikes
from autotrader.arena.models import ArenaPolicy
from autotrader.arena.parimutuel import PoolSplit, Stake, split_pool
from autotrader.arena.races import decode, require_race
from autotrader.arena.ranking import finishing_order
from autotrader.arena.repo import races as repo
from autotrader.arena.repo import settlements as settlements_repo
from autotrader.arena.repo import tickets as tickets_repo
from autotrader.arena.vocabulary import EntrantStatus, PayoutKind, RaceStatus
from autotrader.clones.owners import owner_of_clone
from autotrader.core.clock import Clock, iso_utc
from autotrader.core.db import Store
from autotrader.core.errors import ConflictError
from autotrader.prop import repo as prop_repo
from autotrader.prop.vocabulary import AccountStatus

if TYPE_CHECKING:
    from autotrader.prop.gates import Precision


@dataclass
class SettledRace:
    race_id: int
    split: PoolSplit
    finish: list[int]  # clone ids, winner first
    struck: list[int]
    retired: list[int]


@dataclass
class SettleReport:
    claimed: int = 0
    settled: list[SettledRace] = field(default_factory=list)

    def summary(self) -> str:
        pool = sum((s.split.pool for s in self.settled), Decimal(0))
        return f"{len(self.settled)} races settled ({pool} USDC paid out) of {self.claimed} claimed"


def require_settleable(store: Store, race_id: int, now_ms: int) -> dict:
    """The race, when it may be settled now; ``ConflictError`` otherwise — settling a race
    that has not ended (or never launched, or is settled) is refused."""
    race = require_race(store, race_id)
    if race["status"] in (RaceStatus.LIVE, RaceStatus.SETTLING) and race["ends_at"] <= now_ms:
        return race
    if race["status"] == RaceStatus.LIVE:
        raise ConflictError(
            f"race {race_id} is live until {iso_utc(race['ends_at'])}: it cannot be settled early"
        )
    raise ConflictError(f"race {race_id} is {race['status']}: there is nothing to settle")


class RaceSettler:
    """Settles finished races, one claimed race at a time (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        precision: Precision,
        policy: ArenaPolicy,
        *,
        worker_id: str,
        stale_after_ms: int,
    ) -> None:
        self.store = store
        self.clock = clock
        self.precision = precision
        self.policy = policy
        self.worker_id = worker_id
        self.stale_after_ms = stale_after_ms

    def settle_due(self, *, race_id: int | None = None) -> SettleReport:
        """Claim and settle every finished race (or only ``race_id``)."""
        report = SettleReport()
        while True:
            now = self.clock.now_ms()
            claimed = repo.claim_finished(
                self.store,
                now_ms=now,
                worker_id=self.worker_id,
                stale_before_ms=now - self.stale_after_ms,
                limit=1,
                race_id=race_id,
            )
            if not claimed:
                return report
            report.claimed += 1
            settled = self._settle(decode(claimed[0]))
            if settled is not None:
                report.settled.append(settled)
            if race_id is not None:
                return report

    def _settle(self, race: dict) -> SettledRace | None:
        from autotrader.ledger.leaderboard import account_rows
        from autotrader.prop.mtm import MarkToMarket

        racing = [
            e for e in repo.entrants(self.store, race["id"])
            if e["status"] in (EntrantStatus.RACING, EntrantStatus.FINISHED)
        ]  # fmt: skip
        accounts = [e["account_id"] for e in racing]
        MarkToMarket(self.store, self.clock, self.precision).run(accounts)
        for account_id in accounts:
            self._finalize(race["id"], account_id)
        now = self.clock.now_ms()
        rows = account_rows(self.store, accounts, now_ms=now)
        finishers = finishing_order(racing, rows)
        owners = {e["clone_id"]: owner_of_clone(self.store, e["clone_id"]).handle for e in racing}
        with self.store.atomic():
            if require_race(self.store, race["id"])["status"] != RaceStatus.SETTLING:
                return None  # another worker settled it meanwhile
            tickets_repo.expire_pending_of_race(
                self.store, race["id"], reason=f"unpaid when race {race['id']} settled",
                now_ms=now,
            )  # fmt: skip
            for position, entrant in enumerate(finishers, start=1):
                row = rows[entrant["account_id"]]
                repo.record_finish(self.store, entrant["id"], finish=position, equity=row.equity,
                                   pnl=row.pnl, return_pct=row.return_pct,
                                   max_drawdown_pct=row.max_drawdown_pct,
                                   trades=row.trades)  # fmt: skip
            stakes = [
                Stake(owner, clone_id, Decimal(amount))
                for _, owner, clone_id, amount in tickets_repo.paid_stakes(self.store, race["id"])
            ]
            finish = [e["clone_id"] for e in finishers]
            split = split_pool(stakes, finish, owners, race["terms"])
            txn = booking.book_settlement(self.store, race["id"], split, now_ms=now)
            settlements_repo.insert_settlement(
                self.store,
                race_id=race["id"],
                tickets=len(stakes),
                split=split_columns(split),
                finish=finish,
                txn=txn,
                now_ms=now,
            )
            struck = strikes.strike_bottom(self.store, self.clock, race["id"], finishers,
                                           self.policy, actor=self.worker_id)  # fmt: skip
            repo.set_status(self.store, race["id"], RaceStatus.SETTLED,
                            expected=RaceStatus.SETTLING, now_ms=now, settled_at=now,
                            claimed_by=None, claimed_at=None)  # fmt: skip
        return SettledRace(race["id"], split, finish, struck.struck, struck.retired)

    def _finalize(self, race_id: int, account_id: int) -> None:
        """Flatten and finalize a race account, unless a crashed pass already did."""
        from autotrader.prop.admin import admin_action

        with self.store.atomic():
            account = prop_repo.get_account(self.store, account_id)
            if account["status"] == AccountStatus.FINALIZED:
                return
            admin_action(self.store, self.clock, self.precision, account_id=account_id,
                         action="finalize", reason=f"race {race_id} ended")  # fmt: skip


def split_columns(split: PoolSplit) -> dict[str, Decimal]:
    """A split as its settlement row records it: the parts and what the rows paid of each."""
    return {
        "pool": split.pool,
        "rake": split.rake,
        "creator_pool": split.creator_pool,
        "distribution_pool": split.distribution_pool,
        "royalties": split.total(PayoutKind.ROYALTY),
        "payouts": split.total(PayoutKind.PAYOUT),
        "unclaimed": split.total(PayoutKind.UNCLAIMED),
        "dust": split.dust,
    }
