"""``tracegraph show KEY``: a node, its facts, evidence and provenance."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from cli.context import console, domain_errors, parse_time, print_json, services_for
from i18n import gettext as _
from schema.model import EdgeView, FactVersion, NodeView, iso


def register(app: typer.Typer) -> None:
    app.command("show")(show)


def _version(v: FactVersion) -> dict[str, Any]:
    return {
        "recorded_at": iso(v.recorded_at),
        "batch": v.batch_id,
        "provenance": v.provenance.model_dump(),
        "props": v.props,
        **({"until": iso(v.until)} if v.until else {}),
        **({"retracted": True} if v.retracted else {}),
    }


def _edge(e: EdgeView) -> dict[str, Any]:
    return {
        "type": e.type.value,
        "source": e.source,
        "target": e.target,
        "at": iso(e.at),
        "until": iso(e.until),
        "props": e.props,
        "retracted": e.retracted,
        "versions": [_version(v) for v in e.versions],
    }


def node_json(view: NodeView) -> dict[str, Any]:
    return {
        "key": view.key,
        "kind": view.kind.value,
        "props": view.props,
        "versions": [_version(v) for v in view.versions],
        "edges_out": [_edge(e) for e in view.edges_out],
        "edges_in": [_edge(e) for e in view.edges_in],
        "edges_truncated": view.edges_truncated,
    }


def show(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="Any accepted key form"),
    as_of: str | None = typer.Option(None, "--as-of", help="As the store knew it then"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Show a node: its properties, relationships, and where every fact came from."""
    when = parse_time(as_of, "--as-of")
    with services_for(ctx) as services, domain_errors():
        view = services.node(key, as_of=when)
    if as_json:
        print_json(node_json(view))
        return
    console.print(f"[bold]{view.kind.value}[/] {view.key}")
    for name, value in sorted(view.props.items()):
        console.print(f"  {name}: {value}")
    sides = (
        (_("upstream"), view.edges_in, "source", _("source")),
        (_("downstream"), view.edges_out, "target", _("target")),
    )
    for title, edges, other, other_title in sides:
        if not edges:
            continue
        table = Table(
            _("type"), other_title, _("at"), _("until"), _("source record"), title=title, title_justify="left"
        )
        for e in edges:
            p = e.versions[-1].provenance if e.versions else None
            cite = f"{p.source_system}:{p.source}" + (f":{p.line}" if p and p.line else "") if p else ""
            table.add_row(
                e.type.value + (" (" + _("retracted") + ")" if e.retracted else ""),
                getattr(e, other),
                iso(e.at) or "",
                iso(e.until) or "",
                cite,
            )
        console.print(table)
    if view.edges_truncated:
        console.print("[yellow]" + _("more relationships exist than shown; use trace to list them all") + "[/]")
    table = Table(
        _("recorded at"), _("source"), _("line"), _("record hash"), title=_("provenance"), title_justify="left"
    )
    for v in view.versions:
        table.add_row(
            iso(v.recorded_at) or "",
            f"{v.provenance.source_system}:{v.provenance.source}",
            str(v.provenance.line or ""),
            (v.provenance.record_hash or "")[:16],
        )
    console.print(table)
