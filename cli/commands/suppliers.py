"""``tracegraph suppliers scorecard``."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.context import console, domain_errors, parse_time, print_json, services_for
from i18n import gettext as _

app = typer.Typer(help="Supplier performance.", no_args_is_help=True)


@app.command("scorecard")
def scorecard(
    ctx: typer.Context,
    as_of: str | None = typer.Option(None, "--as-of", help="Answer as the store knew it then"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Per supplier: lots, incoming rejects, late and short deliveries, reject trend and grade."""
    with services_for(ctx) as services, domain_errors():
        scores = services.supplier_scorecard(as_of=parse_time(as_of, "--as-of"))
    if as_json:
        print_json({"suppliers": [s.model_dump() for s in scores]})
        return
    table = Table(
        _("grade"),
        _("supplier"),
        _("name"),
        _("lots"),
        _("rejected"),
        _("reject rate"),
        _("late"),
        _("short"),
        "EWMA",
        "p",
    )
    for s in scores:
        table.add_row(
            s.grade,
            s.supplier,
            s.name or "",
            str(s.lots),
            f"{s.rejected}/{s.inspected}",
            f"{s.reject_rate:.1%}",
            str(s.late) if s.with_delivery_data else "-",
            str(s.short) if s.with_delivery_data else "-",
            f"{s.ewma_reject:.3f}",
            f"{s.p_value:.3g}",
        )
    console.print(table)
