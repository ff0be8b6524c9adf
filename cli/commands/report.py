"""``tracegraph report trace KEY`` and ``tracegraph report recall --from KEY``: regulator-ready reports
(PDF, CSV, JSON), optionally signed, and their evidence packages."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape

from cli.commands.sign import access_of, signature_request
from cli.context import console, domain_errors, fail, parse_time, services_for
from reports.evidence import Package
from reports.publish import publish_recall_report, publish_trace_report
from reports.recall_report import RecallFacts, RecallRequest, load_facts
from reports.trace_report import DEFAULT_LIMIT, ReportRequest
from risk.recall import DEFAULT_THRESHOLD
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
        _print_package(published.package)
    for note in report.limitations:
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


@app.command("recall")
def recall_report(
    ctx: typer.Context,
    starts: list[str] = typer.Option([], "--from", help="A key known or suspected to be bad (repeatable)"),
    signals: list[str] = typer.Option([], "--signal", help="A signal id from `tracegraph signals` (repeatable)"),
    threshold: float = typer.Option(
        DEFAULT_THRESHOLD, "--threshold", min=0.0, max=1.0, help="Recall devices with P(affected) at least this"
    ),
    as_of: str | None = typer.Option(None, "--as-of", help="As the store knew it then (ISO 8601)"),
    facts: Path | None = typer.Option(
        None,
        "--facts",
        help="YAML file of company facts (examples/recall-facts.yaml); what it lacks is listed as missing",
    ),
    out: Path = typer.Option(..., "--out", help="Directory for the PDF, JSON and CSV files"),
    package: Path | None = typer.Option(None, "--package", help="Also write an evidence package (ZIP) here"),
    sign: str | None = typer.Option(
        None, "--sign", help="Sign it as generated, with this meaning: review, approval or responsibility"
    ),
    reason: str | None = typer.Option(None, "--reason", help="With --sign: what the signer attests"),
) -> None:
    """Recall report (21 CFR 806.10(c) and EU Field Safety Notice) from a recall scope: PDF, CSV, JSON,
    and the consignee list (one row per device per consignee)."""
    if not starts and not signals:
        fail("say where the anomaly starts: --from KEY or --signal ID")
    request = RecallRequest(
        starts=tuple(starts),
        signals=tuple(signals),
        threshold=threshold,
        as_of=parse_time(as_of, "--as-of"),
        facts=_facts(facts),
    )
    signing = signature_request(sign, reason) if sign else None
    with services_for(ctx) as services, domain_errors():
        if signing is None:
            published = publish_recall_report(services, request, out, package=package)
        else:
            with access_of(services) as access:
                published = publish_recall_report(services, request, out, package=package, sign=signing, access=access)
    summary = published.report["summary"]
    console.print(
        f"recall report: {summary['devices']} device(s) in {summary['lots']} lot(s), {summary['consignees']} "
        f"consignee(s), {summary['deliveries']} device deliveries; {len(published.report['missing'])} item(s) "
        "of missing information",
        highlight=False,
    )
    for path in published.files:
        console.print(f"  {escape(str(path))}", highlight=False)
    if published.signature is not None:
        console.print(escape(published.signature.manifestation()), highlight=False)
    if published.package is not None:
        _print_package(published.package)
    if summary["is_partial"]:
        console.print("[yellow]note:[/] a server limit cut a trace short: the scope may be incomplete")


def _facts(path: Path | None) -> RecallFacts:
    with domain_errors():
        return load_facts(path)


def _print_package(package: Package) -> None:
    signed = "signed" if package.signed else "unsigned (set TRACEGRAPH_SIGNING_KEY to sign)"
    console.print(
        f"evidence package {escape(str(package.path))} ({signed}); manifest SHA-256 {package.manifest_sha256}",
        highlight=False,
    )
