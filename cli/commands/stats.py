"""``tracegraph stats``."""

from __future__ import annotations

import typer
from rich.table import Table

from cli.context import console, print_json, services_for
from i18n import gettext as _
from schema.model import iso


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)


def stats(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print one JSON object")) -> None:
    """Counts of nodes by kind and edges by type, and load history."""
    with services_for(ctx) as services:
        s = services.stats()
    if as_json:
        print_json(
            {
                "backend": s.backend,
                "location": s.location,
                "schema_version": s.schema_version,
                "nodes": s.nodes,
                "edges": s.edges,
                "nodes_by_kind": s.nodes_by_kind,
                "edges_by_type": s.edges_by_type,
                "batches": s.batches,
                "last_loaded_at": iso(s.last_loaded_at),
            }
        )
        return
    console.print(
        f"[bold]{s.backend}[/] "
        + _("store at {location} (schema {schema}), {batches} batch(es)").format(
            location=s.location, schema=s.schema_version, batches=s.batches
        )
    )
    table = Table(_("nodes"), _("count"))
    for kind, n in s.nodes_by_kind.items():
        table.add_row(kind, str(n))
    table.add_row("[bold]" + _("total") + "[/]", str(s.nodes))
    console.print(table)
    table = Table(_("edges"), _("count"))
    for etype, n in s.edges_by_type.items():
        table.add_row(etype, str(n))
    table.add_row("[bold]" + _("total") + "[/]", str(s.edges))
    console.print(table)
