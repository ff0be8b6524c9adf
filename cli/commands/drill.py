"""``tracegraph drill --from KEY``: a mock recall against the clock, logged for the time-to-trace trend."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from cli.commands.sign import access_of, signature_request
from cli.context import console, domain_errors, fail, print_json, services_for
from reports.publish import package_recall_report, sign_recall_report
from reports.recall_report import (
    RecallRequest,
    build_recall_report,
    load_facts,
    read_recall_report,
    write_recall_report,
)
from risk.recall import DEFAULT_THRESHOLD
from services.drills import DrillClock, run_drill
from services.signatures import Signatures


def register(app: typer.Typer) -> None:
    app.command("drill")(drill)


def drill(
    ctx: typer.Context,
    starts: list[str] = typer.Option(..., "--from", help="The key the recall question starts from (repeatable)"),
    threshold: float = typer.Option(DEFAULT_THRESHOLD, "--threshold", min=0.0, max=1.0, help="Recall threshold"),
    facts: Path | None = typer.Option(None, "--facts", help="YAML file of company facts for the report"),
    out: Path = typer.Option(..., "--out", help="Directory for the drill's recall report"),
    package: Path | None = typer.Option(None, "--package", help="Also write an evidence package (ZIP) here"),
    sign: str | None = typer.Option(
        "approval", "--sign", help="Meaning of the report's signature (review, approval, responsibility)"
    ),
    no_sign: bool = typer.Option(False, "--no-sign", help="Stop at the consignee list and report, unsigned"),
    reason: str = typer.Option("recall drill", "--reason", help="What the signer attests"),
    as_json: bool = typer.Option(False, "--json", help="Print the drill as JSON"),
) -> None:
    """Mock recall: time from the question to the complete consignee list and to the signed report.
    The drill is logged in the audit trail; `tracegraph kpis` shows the trend."""
    if not starts:
        fail("a drill starts from a key: --from KEY")
    with domain_errors():
        recall_facts = load_facts(facts)
    signing = None if no_sign or not sign else signature_request(sign, reason)
    request = RecallRequest(starts=tuple(starts), threshold=threshold, facts=recall_facts)

    with services_for(ctx) as services, domain_errors(), access_of(services) as access:

        def steps(clock: DrillClock) -> None:
            scope = services.recall_scope(**request.scope_arguments())
            clock.scoped()
            doc = build_recall_report(services, request, scope=scope)
            summary = doc["summary"]
            clock.consignee_list(
                devices=summary["devices"], consignees=summary["consignees"], deliveries=summary["deliveries"]
            )
            files = write_recall_report(doc, out)
            clock.drill.report = str(out)
            if signing is not None:
                _, files = sign_recall_report(services, Signatures(services, access), out, signing)
            clock.signed_report(signed=signing is not None)
            clock.drill.files = [str(p) for p in files]
            if package is not None:
                package_recall_report(services, read_recall_report(out), files, package)

        result = run_drill(services, starts, steps)
    if as_json:
        print_json(result.to_json())
        return
    console.print(
        f"drill {result.id}: {result.devices} device(s), {result.consignees} consignee(s), "
        f"{result.deliveries} deliveries",
        highlight=False,
    )
    console.print(f"  consignee list complete after {result.seconds_to_consignee_list:.2f} s", highlight=False)
    if result.seconds_to_signed_report is not None:
        console.print(f"  signed report after {result.seconds_to_signed_report:.2f} s", highlight=False)
    console.print(f"  report in {escape(str(out))}; logged as audit trail entry {result.audit_seq}", highlight=False)
