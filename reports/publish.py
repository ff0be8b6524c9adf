"""Generate a report end to end, as the CLI and the API ask for it: build it, write its files,
optionally sign it and package it as evidence, and record each step in the audit trail."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from reports.evidence import Package, audit_anchor, build_package, write_package
from reports.recall_report import (
    RecallRequest,
    build_recall_report,
    package_manifest,
    package_parts,
    read_recall_report,
    record_key,
    signed_content,
    write_recall_report,
)
from reports.trace_report import ReportRequest, TraceReport, build_trace_report, write_trace_report
from risk.recall import RecallScope
from schema.audit import AuditAction
from services.access import AccessControl, Principal
from services.app import Services
from services.signatures import Meaning, Signature, SignatureCheck, Signatures, SignedKind


@dataclass
class Published:
    report: TraceReport
    files: list[Path]
    package: Package | None


def publish_trace_report(
    services: Services, request: ReportRequest, out_dir: Path, *, package: Path | None = None
) -> Published:
    report = build_trace_report(services, request)
    files = write_trace_report(report, out_dir)
    _record_files(
        services,
        AuditAction.REPORT,
        f"report:trace:{report.start.key}",
        files,
        query=report.query,
        nodes=report.total,
        sources=len(report.citations),
    )
    built = None
    if package is not None:
        trail = services.audit_trail()
        key = services.settings.signing_key
        built = build_package(
            report,
            files,
            package,
            signing_key=key.get_secret_value() if key is not None else None,
            audit=audit_anchor(trail.path, trail.head()),
        )
        _record_package(services, package, built, query=report.query)
    return Published(report, files, built)


@dataclass
class PublishedRecall:
    report: dict[str, Any]
    files: list[Path]
    package: Package | None
    signature: Signature | None = None


@dataclass(frozen=True)
class SignatureRequest:
    """Sign the report as it is generated: the signer's re-entered API key, meaning and reason."""

    api_key: str
    meaning: Meaning | str
    reason: str
    signed_in: Principal | None = None


def publish_recall_report(
    services: Services,
    request: RecallRequest,
    out_dir: Path,
    *,
    package: Path | None = None,
    sign: SignatureRequest | None = None,
    access: AccessControl | None = None,
    scope: RecallScope | None = None,
) -> PublishedRecall:
    """Build the recall report, write it, sign it when asked (before packaging, so the package
    carries the signature), package it when asked; each step is recorded in the audit trail."""
    doc = build_recall_report(services, request, scope=scope)
    files = write_recall_report(doc, out_dir)
    _record_files(services, AuditAction.REPORT, record_key(doc), files, query=doc["query"], summary=doc["summary"])
    signature = None
    if sign is not None:
        if access is None:
            raise ValueError("signing needs the access file (AccessControl)")
        signature, files = sign_recall_report(services, Signatures(services, access), out_dir, sign)
        doc = read_recall_report(out_dir)
    built = package_recall_report(services, doc, files, package) if package is not None else None
    return PublishedRecall(doc, files, built, signature)


def sign_recall_report(
    services: Services, signatures: Signatures, out_dir: Path, sign: SignatureRequest
) -> tuple[Signature, list[Path]]:
    """Sign the recall report in ``out_dir`` and re-render it with the signature's manifestation;
    what was signed (the document without its signatures) is unchanged."""
    doc = read_recall_report(out_dir)
    signature = signatures.sign(
        SignedKind.RECALL_REPORT,
        record_key(doc),
        signed_content(doc),
        meaning=sign.meaning,
        api_key=sign.api_key,
        reason=sign.reason,
        signed_in=sign.signed_in,
    )
    doc["signatures"] = [*doc.get("signatures", []), signature.to_json()]
    files = write_recall_report(doc, out_dir)
    return signature, files


def verify_recall_signatures(signatures: Signatures, doc: dict[str, Any]) -> list[SignatureCheck]:
    """Every signature printed on a recall report, checked against the audit trail and the report."""
    return [
        signatures.check(s, SignedKind.RECALL_REPORT, record_key(doc), signed_content(doc))
        for s in doc.get("signatures", [])
    ]


def package_recall_report(services: Services, doc: dict[str, Any], files: list[Path], package: Path) -> Package:
    trail = services.audit_trail()
    key = services.settings.signing_key
    graph, records, cites = package_parts(doc)
    built = write_package(
        package_manifest(doc, audit_anchor(trail.path, trail.head())),
        files,
        graph,
        records,
        cites,
        package,
        at=datetime.fromisoformat(doc["generated_at"].replace("Z", "+00:00")),
        signing_key=key.get_secret_value() if key is not None else None,
        signatures=doc.get("signatures", []),
    )
    _record_package(
        services,
        package,
        built,
        query=doc["query"],
        report=record_key(doc),
        signatures=[s["id"] for s in doc.get("signatures", [])],
    )
    return built


def _record_files(services: Services, action: AuditAction, subject: str, files: list[Path], **extra: Any) -> None:
    services.record(
        action,
        subject,
        new={"files": {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}, **extra},
    )


def _record_package(services: Services, package: Path, built: Package, **extra: Any) -> None:
    """The audit entry for an evidence package written at ``package``."""
    services.record(
        AuditAction.PACKAGE,
        f"package:{package.name}",
        new={
            "path": str(package),
            "manifest_sha256": built.manifest_sha256,
            "package_sha256": hashlib.sha256(package.read_bytes()).hexdigest(),
            "signed": built.signed,
            **extra,
        },
    )
