"""``tracegraph report trace KEY``: a regulator-ready trace report (PDF, CSV, JSON) and evidence package."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape

from cli.context import console, domain_errors, parse_time, services_for
from reports.publish import publish_trace_report
from reports.trace_report import DEFAULT_LIMIT, ReportRequest
from schema.model import TraceDirection

app = typer.Typer(help="Regulator-ready reports, with every line citing its source records.", no_args_is_help=True)


class Direction(StrEnum):
    backward = "backward"
    forward = "forward"


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="report")


@app.command("trace")
def trace_report(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="A UDI, lot or any key, in any accepted form"),
    direction: Direction = typer.Option(
        Direction.backward, "--direction", help="backward (genealogy, the default) or forward (impact)"
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="As the store knew it then (ISO 8601)"),
    depth: int | None = typer.Option(None, "--depth", min=0, help="Maximum hops"),
    limit: int = typer.Option(DEFAULT_LIMIT, "--limit", min=1, help="List at most N nodes (the total stays exact)"),
    ignore_time: bool = typer.Option(False, "--ignore-time", help="Plain reachability, for comparison"),
    out: Path = typer.Option(..., "--out", help="Directory for the PDF, JSON and CSV files"),
    package: Path | None = typer.Option(None, "--package", help="Also write an evidence package (ZIP) here"),
) -> None:
    """Trace report for one key: genealogy tree, timeline, evidence, and the source record of every line."""
    when = parse_time(as_of, "--as-of")
    request = ReportRequest(
        key=key,
        direction=TraceDirection(direction.value),
        as_of=when,
        max_depth=depth,
        limit=limit,
        ignore_time=ignore_time,
    )
    with services_for(ctx) as services, domain_errors():
        published = publish_trace_report(services, request, out, package=package)
    report = published.report
    console.print(
        f"trace report for {escape(report.start.key)}: {report.total} node(s), {len(report.timeline)} timeline "
        f"event(s), {len(report.citations)} source record(s) cited",
        highlight=False,
    )
    for path in published.files:
        console.print(f"  {escape(str(path))}", highlight=False)
    if published.package is not None:
        signed = "signed" if published.package.signed else "unsigned (set TRACEGRAPH_SIGNING_KEY to sign)"
        console.print(
            f"evidence package {escape(str(published.package.path))} ({signed}); manifest SHA-256 "
            f"{published.package.manifest_sha256}",
            highlight=False,
        )
    for note in report.limitations:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
