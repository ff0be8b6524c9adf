"""``tracegraph trace forward|backward KEY...``."""

from __future__ import annotations

from enum import StrEnum

import typer
from rich.table import Table

from cli.context import console, domain_errors, parse_time, print_json, services_for
from i18n import gettext as _
from schema.kinds import parse_kinds
from schema.model import TimeWindow, TraceDirection, TraceQuery


class Direction(StrEnum):
    forward = "forward"
    backward = "backward"


def register(app: typer.Typer) -> None:
    app.command("trace")(trace)


def trace(
    ctx: typer.Context,
    direction: Direction = typer.Argument(..., help="forward (impact) or backward (genealogy)"),
    keys: list[str] = typer.Argument(
        ..., help="Start keys, in any accepted form (key, EPC URN, barcode, Digital Link)"
    ),
    depth: int | None = typer.Option(None, "--depth", min=0, help="Maximum hops"),
    kinds: str | None = typer.Option(None, "--kinds", help="Only list these kinds, e.g. Device,Consignee"),
    start: str | None = typer.Option(None, "--from", help="Start window begins (ISO 8601)"),
    end: str | None = typer.Option(None, "--to", help="Start window ends (ISO 8601)"),
    as_of: str | None = typer.Option(None, "--as-of", help="Answer as the store knew it then"),
    ignore_time: bool = typer.Option(False, "--ignore-time", help="Plain reachability, for comparison"),
    limit: int | None = typer.Option(None, "--limit", min=0, help="List at most N nodes (totals stay exact)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Trace forward (impact) or backward (genealogy) from one or more keys."""
    window = None
    if start or end:
        window = TimeWindow(start=parse_time(start, "--from"), end=parse_time(end, "--to"))
    with domain_errors():
        query = TraceQuery(
            starts=tuple(keys),
            direction=TraceDirection(direction.value),
            max_depth=depth,
            kinds=parse_kinds([kinds] if kinds else None),
            window=window,
            as_of=parse_time(as_of, "--as-of"),
            ignore_time=ignore_time,
            limit=limit,
        )
    with services_for(ctx) as services, domain_errors():
        result = services.trace(query)
    if as_json:
        print_json(result.to_json())
        return
    counts = result.counts_by_kind() if not result.truncated else None
    heading = _("forward trace") if result.direction is TraceDirection.FORWARD else _("backward trace")
    console.print(
        f"[bold]{heading}[/] "
        + _("from {starts}: {total} node(s) reached").format(starts=", ".join(result.starts), total=result.total)
        + (" [yellow](" + _("partial: a server budget stopped it") + ")[/]" if result.is_partial else "")
    )
    summary = Table(_("kind"), _("count"), title=_("by kind"), title_justify="left")
    for kind, count in (counts or {}).items():
        summary.add_row(kind, str(count))
    if counts:
        console.print(summary)
    rows = Table(_("hops"), _("kind"), _("key"), _("via"))
    for node in result.nodes:
        rows.add_row(str(node.degree), node.kind.value, node.key, node.path[-2] if len(node.path) > 1 else "")
    console.print(rows)
    if result.truncated:
        listed = _("listed {listed} of {total}; raise --limit to see more").format(
            listed=len(result.nodes), total=result.total
        )
        console.print(f"[yellow]{listed}[/]")
