"""``tracegraph signals``: the anomaly signals the store's records raise, with their ids."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.context import console, domain_errors, parse_time, print_json, services_for
from i18n import gettext as _


def register(app: typer.Typer) -> None:
    app.command("signals")(signals)


def signals(
    ctx: typer.Context,
    rule: str | None = typer.Option(None, "--rule", help="Only rules starting with this, e.g. spc or complaints"),
    node: str | None = typer.Option(None, "--node", help="Only signals on this key"),
    as_of: str | None = typer.Option(None, "--as-of", help="Answer as the store knew it then"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """List anomaly signals (SPC, inspections, calibration, complaints, suppliers, changes, labels)."""
    with services_for(ctx) as services, domain_errors():
        found = services.signals(as_of=parse_time(as_of, "--as-of"))
    found = [s for s in found if (rule is None or s.rule.startswith(rule)) and (node is None or s.node == node)]
    if as_json:
        print_json({"signals": [s.to_json() for s in found]})
        return
    table = Table("id", _("severity"), "P", _("rule"), _("node"), _("summary"))
    for s in found:
        table.add_row(s.id, s.severity.value, f"{s.probability:.2f}", s.rule, s.node, s.summary)
    console.print(table)
    console.print(_("{count} signal(s); scope one with: tracegraph recall --signal ID").format(count=len(found)))
