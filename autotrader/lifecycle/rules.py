"""The lifecycle's rules in one view: what a fee costs and grants, the audition account, the
pass criteria, retries and the arena — each with the setting it comes from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from autotrader.lifecycle.fees import FeePolicy
from autotrader.lifecycle.models import AuditionRules

if TYPE_CHECKING:
    from autotrader.core.settings import Settings


def rules_view(settings: Settings) -> dict[str, Any]:
    """``{"audition": AuditionRules, "fee": FeePolicy, "rows": [(rule, value, setting)]}``."""
    rules = AuditionRules.from_settings(settings)
    fee = FeePolicy.from_settings(settings)
    c = rules.criteria
    s = settings
    rows = [
        ("audition fee", f"{fee.amount} USDC", "AUDITION_FEE_USDC"),
        ("fee expires after", f"{s.audition_fee_expiry_hours:g} h", "AUDITION_FEE_EXPIRY_HOURS"),
        ("treasury", s.treasury_address or "(none: manual verification)", "TREASURY_ADDRESS"),
        ("a verified fee grants: model tier", str(fee.max_model_strength),
         "AUDITION_MAX_MODEL_STRENGTH"),
        ("a verified fee grants: assets", str(fee.max_active_assets), "AUDITION_MAX_ACTIVE_ASSETS"),
        ("starting balance", f"{rules.starting_balance} USDC", "AUDITION_BALANCE"),
        ("max leverage", f"{rules.max_leverage}x", "AUDITION_MAX_LEVERAGE"),
        ("drawdown that fails early", f"{rules.max_drawdown:.0%}", "AUDITION_MAX_DRAWDOWN"),
        ("allowed symbols", ", ".join(rules.allowed_symbols) or "any", "AUDITION_SYMBOLS"),
        ("duration", f"{s.audition_duration_hours:g} h", "AUDITION_DURATION_HOURS"),
        ("pass: return", f">= {c.min_return_pct} %", "AUDITION_PASS_RETURN_PCT"),
        ("pass: max drawdown", f"<= {c.max_drawdown_pct} %", "AUDITION_PASS_MAX_DRAWDOWN_PCT"),
        ("pass: Sharpe", "not judged" if c.min_sharpe is None else f">= {c.min_sharpe:g}",
         "AUDITION_PASS_SHARPE"),
        ("pass: trades", f">= {c.min_trades}", "AUDITION_MIN_TRADES"),
        ("attempts", f"at most {s.audition_max_attempts}", "AUDITION_MAX_ATTEMPTS"),
        ("cooldown after a failure", f"{s.audition_cooldown_hours:g} h", "AUDITION_COOLDOWN_HOURS"),
        ("arena slots", str(s.arena_slots), "ARENA_SLOTS"),
    ]  # fmt: skip
    return {
        "audition": rules,
        "fee": fee,
        "rows": [(rule, value, f"AUTOTRADER_{setting}") for rule, value, setting in rows],
    }
