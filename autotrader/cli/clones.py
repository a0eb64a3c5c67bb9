"""``autotrader clones``: strategy actors — model, entitlements, strategy graph, context."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer

from autotrader.cli import clones_pipeline
from autotrader.cli._context import clock, open_store
from autotrader.cli._options import (
    DbOption,
    JsonOption,
    choice,
    count_option,
    decimal_option,
    id_argument,
    id_option,
    parse_symbol,
)
from autotrader.cli._render import out, print_json, say, table

if TYPE_CHECKING:
    from autotrader.clones.management import CloneView

app = typer.Typer(
    help="Clones: models, entitlements, strategy graphs, context.", no_args_is_help=True
)
app.add_typer(clones_pipeline.app, name="pipeline")
models_app = typer.Typer(help="The model registry (strength tiers, prices).", no_args_is_help=True)
app.add_typer(models_app, name="models")
entitlements_app = typer.Typer(help="What a clone may use.", no_args_is_help=True)
app.add_typer(entitlements_app, name="entitlements")
owners_app = typer.Typer(
    help="Who clones belong to and the address they pay from.", no_args_is_help=True
)
app.add_typer(owners_app, name="owners")

CloneIdOption = Annotated[int, id_option("--clone-id", "The clone's id, e.g. 42.")]


def render_clone(clone: CloneView, *, as_json: bool) -> None:
    if as_json:
        print_json(clone)
        return
    rows = [(k, v) for k, v in clone.__dict__.items()]
    out.print(table(f"Clone {clone.id}", ["field", "value"], rows))


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="Unique name.")],
    model: Annotated[str, typer.Option("--model", help="A registry model.")] = "gpt-5-mini",
    variant: Annotated[
        str | None,
        typer.Option(
            "--variant",
            help="A strategy variant: Apex, Trendsurfer, Contrarian or Sovereign (one trading "
            "clone per model and variant).",
        ),
    ] = None,
    clone_id: Annotated[int | None, id_option("--id", "Pick the id (default next).")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    description: Annotated[str | None, typer.Option("--description")] = None,
    owner: Annotated[
        str, typer.Option("--owner", help="The owner's handle (created when new).")
    ] = "local",
    owner_address: Annotated[
        str | None,
        typer.Option("--owner-address", help="The EVM address the owner pays fees from."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a clone with default entitlements, owned by --owner, optionally running a
    strategy variant.

    Example: autotrader clones create --name apex-mini --model gpt-5-mini --variant Apex --id 42
    """
    from autotrader.clones.management import create_clone

    clone = create_clone(
        open_store(ctx, db),
        clock(ctx),
        name=name,
        model=model,
        variant=variant,
        clone_id=clone_id,
        owner=owner,
        owner_address=owner_address,
        display_name=display_name,
        description=description,
    )
    render_clone(clone, as_json=as_json)


@app.command("list")
def list_clones(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """List clones with model, variant, trading switch and pipeline version.

    Example: autotrader clones list --json
    """
    from autotrader.clones.management import list_clones as rows

    clones = rows(open_store(ctx, db, readonly=True))
    if as_json:
        print_json(clones)
        return
    if not clones:
        say("no clones yet; create one with `autotrader clones create --name NAME`")
        return
    body = [
        (
            c.id,
            c.name,
            c.model,
            c.model_strength,
            c.variant,
            "on" if c.trading_enabled else "off",
            c.pipeline_version or "",
            f"{c.max_model_strength}/{c.max_active_assets}",
        )
        for c in clones
    ]
    columns = ["id", "name", "model", "tier", "variant", "trading", "pipeline"]
    columns += ["entitled tier/assets"]
    out.print(table("Clones", columns, body))


@app.command("show")
def show(
    ctx: typer.Context,
    clone_id: Annotated[int, id_argument("Clone id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one clone. Example: autotrader clones show 42"""
    from autotrader.clones.management import require_clone

    render_clone(require_clone(open_store(ctx, db, readonly=True), clone_id), as_json=as_json)


@app.command("set-model")
def set_model(
    ctx: typer.Context,
    clone_id: CloneIdOption,
    model: Annotated[str, typer.Option("--model", help="A registry model.")],
    db: DbOption = None,
) -> None:
    """Switch a clone's model (refused above its entitled strength).

    Example: autotrader clones set-model --clone-id 42 --model gpt-5-mini
    """
    from autotrader.clones.management import set_model as change

    clone = change(open_store(ctx, db), clock(ctx), clone_id, model)
    say(f"clone {clone.id} now uses {clone.model} (strength {clone.model_strength})")


@app.command("enable")
def enable(ctx: typer.Context, clone_id: CloneIdOption, db: DbOption = None) -> None:
    """Turn trading on. Example: autotrader clones enable --clone-id 42"""
    from autotrader.clones.management import set_trading

    set_trading(open_store(ctx, db), clock(ctx), clone_id, True)
    say(f"clone {clone_id}: trading on")


@app.command("disable")
def disable(ctx: typer.Context, clone_id: CloneIdOption, db: DbOption = None) -> None:
    """Turn trading off (no new decisions). Example: autotrader clones disable --clone-id 42"""
    from autotrader.clones.management import set_trading

    set_trading(open_store(ctx, db), clock(ctx), clone_id, False)
    say(f"clone {clone_id}: trading off")


@app.command("context")
def context(
    ctx: typer.Context,
    clone_id: CloneIdOption,
    asset: Annotated[str, typer.Option("--asset", help="The asset decided, e.g. BTC.")],
    strategy: Annotated[
        str | None, typer.Option("--strategy", help="Trading prompt node id.")
    ] = None,
    account: Annotated[
        int | None, id_option("--account", "Prop account (default: the clone's active one).")
    ] = None,
    budget: Annotated[int, count_option("--budget", "Prompt token budget.", low=200)] = 6000,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Build the context packet and prompt a decision on ASSET would read now.

    Example: autotrader clones context --clone-id 42 --asset BTC --json
    """
    from autotrader.context.assemble import context_for

    store = open_store(ctx, db, readonly=True)
    packet = context_for(
        store,
        clock(ctx),
        clone_id,
        parse_symbol(asset, name="--asset"),
        strategy_id=strategy,
        account_id=account,
        budget_tokens=budget,
    )
    if as_json:
        from autotrader.context.packet import packet_to_json
        from autotrader.core.safe_text import json_text

        out.print(json_text(packet_to_json(packet)), soft_wrap=True)
        return
    out.print(packet.prompt, soft_wrap=True)
    out.rule()
    trims = "; ".join(str(t) for t in packet.trimmed) or "none"
    say(
        f"~{packet.token_estimate} tokens of {packet.budget}; trimmed: {trims}; "
        f"sha256 {packet.prompt_hash[:16]}"
    )


@models_app.command("list")
def models_list(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """The model registry. Example: autotrader clones models list"""
    from autotrader.clones.repo import list_models

    models = list_models(open_store(ctx, db, readonly=True))
    if as_json:
        print_json(models)
        return
    body = [
        (
            m["name"],
            m["provider"],
            m["api_model"],
            m["api"],
            m["base_url_setting"],
            m["strength"],
            m["input_usd_per_mtok"],
            m["output_usd_per_mtok"],
        )
        for m in models
    ]
    columns = ["name", "provider", "api model", "api", "base URL", "strength"]
    columns += ["$/1M in", "$/1M out"]
    out.print(table("Models", columns, body))


@models_app.command("stats")
def models_stats(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Per-model runtime: decision runs and failed ones, model calls, failed tool calls (outputs
    that could not become an action), tokens, minutes and USD.

    Example: autotrader clones models stats --json
    """
    from autotrader.decisions.model_stats import model_stats

    stats = model_stats(open_store(ctx, db, readonly=True))
    if as_json:
        print_json(stats)
        return
    if not stats:
        say("no model has run a decision yet")
        return
    body = [
        (s.model, s.runs, s.failed_runs, s.invocations, s.cached, s.failed_tool_calls,
         s.tool_calls, s.input_tokens, s.output_tokens, s.model_minutes, s.cost_usd)
        for s in stats
    ]  # fmt: skip
    columns = ["model", "runs", "failed runs", "calls", "cached", "failed tool calls"]
    columns += ["tool calls", "tokens in", "tokens out", "minutes", "USD"]
    out.print(table("Model runtime", columns, body))


@models_app.command("add")
def models_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name")],
    api_model: Annotated[str, typer.Option("--api-model", help="Name the API expects.")],
    strength: Annotated[int, count_option("--strength", "Tier 0–10.", low=0)],
    provider: Annotated[str, typer.Option("--provider")] = "openai",
    api: Annotated[str, typer.Option("--api", help="responses or chat.")] = "chat",
    base_url_setting: Annotated[
        str,
        typer.Option(
            "--base-url-setting",
            help="The setting that holds its server's base URL: OPENAI_BASE_URL (hosted or a "
            "router), OLLAMA_BASE_URL or VLLM_BASE_URL (local; unset, OPENAI_BASE_URL's).",
        ),
    ] = "OPENAI_BASE_URL",
    input_price: Annotated[
        Decimal, decimal_option("--input-usd-per-mtok", "USD per million input tokens.")
    ] = Decimal(0),
    output_price: Annotated[
        Decimal, decimal_option("--output-usd-per-mtok", "USD per million output tokens.")
    ] = Decimal(0),
    db: DbOption = None,
) -> None:
    """Add or update a model in the registry.

    Example: autotrader clones models add --name qwen2.5-7b --api-model qwen2.5:7b
    --provider ollama --base-url-setting OLLAMA_BASE_URL --strength 1
    """
    from autotrader.clones.management import add_model
    from autotrader.clones.vocabulary import BaseUrlSetting

    model = add_model(
        open_store(ctx, db),
        clock(ctx),
        name=name,
        provider=provider,
        api_model=api_model,
        api=api,
        base_url_setting=choice(
            base_url_setting, name="--base-url-setting", allowed=BaseUrlSetting
        ),
        strength=strength,
        input_usd_per_mtok=input_price,
        output_usd_per_mtok=output_price,
    )
    say(
        f"model {model['name']} ({model['api_model']}, {model['api']} at "
        f"{model['base_url_setting']}) strength {model['strength']}"
    )


@entitlements_app.command("show")
def entitlements_show(
    ctx: typer.Context, clone_id: CloneIdOption, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """A clone's entitlements. Example: autotrader clones entitlements show --clone-id 42"""
    from autotrader.clones.management import require_clone

    clone = require_clone(open_store(ctx, db, readonly=True), clone_id)
    data = {
        "clone_id": clone.id,
        "max_model_strength": clone.max_model_strength,
        "max_active_assets": clone.max_active_assets,
        "model": clone.model,
        "model_strength": clone.model_strength,
    }
    if as_json:
        print_json(data)
        return
    out.print(table(f"Entitlements of clone {clone.id}", ["", ""], list(data.items())))


@entitlements_app.command("grant")
def entitlements_grant(
    ctx: typer.Context,
    clone_id: CloneIdOption,
    max_model_strength: Annotated[
        int | None, count_option("--max-model-strength", "Tier 0–10.", low=0)
    ] = None,
    max_active_assets: Annotated[
        int | None, count_option("--max-active-assets", "1 to 1000 assets.")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    db: DbOption = None,
) -> None:
    """Change a clone's entitlements (what lifecycle promotions grant).

    Example: autotrader clones entitlements grant --clone-id 42 --max-active-assets 25
    """
    from autotrader.clones.management import grant_entitlements

    clone = grant_entitlements(
        open_store(ctx, db),
        clock(ctx),
        clone_id,
        max_model_strength=max_model_strength,
        max_active_assets=max_active_assets,
        reason=reason,
    )
    say(
        f"clone {clone.id}: max model strength {clone.max_model_strength}, "
        f"max active assets {clone.max_active_assets}"
    )


@owners_app.command("list")
def owners_list(ctx: typer.Context, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every owner, the address it pays from and how many clones it has.

    Example: autotrader clones owners list --json
    """
    from autotrader.clones.owners import list_owners

    owners = list_owners(open_store(ctx, db))
    if as_json:
        print_json(owners)
        return
    rows = [(o.handle, o.evm_address or "(none)", o.clones) for o in owners]
    out.print(table("Owners", ["handle", "address", "clones"], rows))


@owners_app.command("set")
def owners_set(
    ctx: typer.Context,
    handle: Annotated[str, typer.Argument(help="The owner's handle.")],
    address: Annotated[str, typer.Option("--address", help="EVM address, EIP-55 checked.")],
    db: DbOption = None,
) -> None:
    """Record the EVM address an owner pays from (fees requested earlier keep theirs).

    Example: autotrader clones owners set alice --address 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed
    """
    from autotrader.clones.owners import set_owner_address

    owner = set_owner_address(open_store(ctx, db), clock(ctx), handle, address)
    say(f"owner {owner.handle} pays from {owner.evm_address}")
