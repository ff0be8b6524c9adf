"""``tracegraph sign alert|release|report|list|verify``: electronic signatures (21 CFR 11.50, 11.70).

Signing asks for the signer's API key again (re-authentication), typed at a hidden prompt; the
key's name is the printed name and its role decides what it may sign (quality engineers: alert
closures and release decisions; recall managers: recall reports). Signatures are appended to the
audit trail and bound to the SHA-256 of what they sign.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from cli.commands.audit import EXIT_INTEGRITY
from cli.context import console, domain_errors, err_console, fail, print_json, services_for
from reports.publish import SignatureRequest, package_recall_report, sign_recall_report, verify_recall_signatures
from reports.recall_report import read_recall_report, record_key
from services.access import AccessControl
from services.app import Services
from services.signatures import Meaning, Signature, SignatureCheck, Signatures, SignedKind, parse_meaning

app = typer.Typer(
    help="Electronic signatures: sign an alert closure, a release decision or a recall report; list and verify.",
    no_args_is_help=True,
)

MEANINGS = ", ".join(m.value for m in Meaning)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="sign")


@contextmanager
def access_of(services: Services) -> Iterator[AccessControl]:
    """The access file beside the services' store (where ``tracegraph keys`` keeps the keys)."""
    access = AccessControl.for_settings(services.settings, audit=services.audit_trail())
    try:
        yield access
    finally:
        access.close()


def signature_request(meaning: str, reason: str | None) -> SignatureRequest:
    """Check the meaning and reason, then ask for the signer's API key (hidden)."""
    with domain_errors():
        parsed = parse_meaning(meaning)
    if not reason or not reason.strip():
        fail("a signature needs --reason: what the signer attests")
    api_key = typer.prompt("API key of the signer (re-enter to sign)", hide_input=True, err=True)
    return SignatureRequest(api_key=api_key, meaning=parsed, reason=reason)


def _meaning_option() -> str:
    option: str = typer.Option(..., "--meaning", help=f"What signing means: {MEANINGS}")
    return option


def _show(signature: Signature) -> None:
    console.print(f"signed: {escape(signature.manifestation())}", highlight=False)
    console.print(f"signature {signature.id}, audit trail entry {signature.audit_seq}", highlight=False)


@app.command("alert")
def sign_alert(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="A closed alert's key"),
    meaning: str = _meaning_option(),
    reason: str = typer.Option(..., "--reason", help="What the signer attests"),
) -> None:
    """Sign an alert's closure."""
    request = signature_request(meaning, reason)
    with services_for(ctx) as services, domain_errors(), access_of(services) as access:
        signature = Signatures(services, access).sign_alert_closure(
            key, meaning=request.meaning, api_key=request.api_key, reason=request.reason
        )
    _show(signature)


@app.command("release")
def sign_release(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="The closed task whose disposition released the held stock"),
    meaning: str = _meaning_option(),
    reason: str = typer.Option(..., "--reason", help="What the signer attests"),
) -> None:
    """Sign a release decision (a closed task and the stock it released)."""
    request = signature_request(meaning, reason)
    with services_for(ctx) as services, domain_errors(), access_of(services) as access:
        signature = Signatures(services, access).sign_release(
            key, meaning=request.meaning, api_key=request.api_key, reason=request.reason
        )
    _show(signature)


@app.command("report")
def sign_report(
    ctx: typer.Context,
    report: Path = typer.Argument(..., help="A recall report's directory (or its recall-report.json)"),
    meaning: str = _meaning_option(),
    reason: str = typer.Option(..., "--reason", help="What the signer attests"),
    package: Path | None = typer.Option(None, "--package", help="Then write an evidence package (ZIP) here"),
) -> None:
    """Sign a recall report; its PDF, CSV and JSON are rewritten with the signature shown."""
    out_dir = report if report.is_dir() else report.parent
    request = signature_request(meaning, reason)
    with services_for(ctx) as services, domain_errors(), access_of(services) as access:
        signature, files = sign_recall_report(services, Signatures(services, access), out_dir, request)
        built = package_recall_report(services, read_recall_report(out_dir), files, package) if package else None
    _show(signature)
    if built is not None:
        console.print(f"evidence package {escape(str(built.path))}; manifest SHA-256 {built.manifest_sha256}")


@app.command("list")
def list_signatures(
    ctx: typer.Context,
    record: str | None = typer.Option(None, "--record", help="Only the signatures on this record"),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON array"),
) -> None:
    """Every signature in the audit trail, oldest first."""
    with services_for(ctx) as services, domain_errors(), access_of(services) as access:
        found = Signatures(services, access).all(record=record)
    if as_json:
        print_json([s.to_json() for s in found])
        return
    if not found:
        err_console.print("no signatures")
        return
    table = Table("id", "kind", "record", "printed name", "signed at (UTC)", "meaning", "entry")
    for s in found:
        table.add_row(
            s.id, s.kind.value, escape(s.record), escape(s.printed_name), s.signed_at.isoformat(), s.meaning.value,
            str(s.audit_seq),
        )  # fmt: skip
    console.print(table)


@app.command("verify")
def verify_signatures(
    ctx: typer.Context,
    kind: SignedKind = typer.Argument(..., help="alert-closure, release or recall-report"),
    target: str = typer.Argument(..., help="The alert key, task key, or recall report directory"),
    as_json: bool = typer.Option(False, "--json", help="Print the checks as JSON"),
) -> None:
    """Check the signatures on a record against the record as it is now: exit 0 when every one
    verifies, 6 naming each that does not (moved, altered, or the record changed)."""
    with services_for(ctx) as services, domain_errors(), access_of(services) as access:
        signatures = Signatures(services, access)
        if kind is SignedKind.ALERT_CLOSURE:
            checks = signatures.verify_alert_closure(target)
        elif kind is SignedKind.RELEASE:
            checks = signatures.verify_release(target)
        else:
            doc = read_recall_report(Path(target))
            checks = verify_recall_signatures(signatures, doc)
            target = record_key(doc)
    _report_checks(target, checks, as_json=as_json)


def _report_checks(target: str, checks: Sequence[SignatureCheck], *, as_json: bool) -> None:
    if as_json:
        print_json({"record": target, "signatures": [c.to_json() for c in checks]})
    elif not checks:
        err_console.print(f"{escape(target)}: not signed")
    for check in checks:
        if as_json:
            continue
        if check.valid:
            console.print(f"valid: {escape(check.signature.manifestation())}", highlight=False)
        else:
            err_console.print(f"[bold red]invalid:[/] {escape(check.problem or '')}", highlight=False)
    if any(not c.valid for c in checks):
        raise typer.Exit(EXIT_INTEGRITY)
