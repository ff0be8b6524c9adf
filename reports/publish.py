"""Generate a report end to end, as the CLI (and later the API) asks for it: build it, write its
files, optionally package them as evidence, and record each in the audit trail."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from reports.evidence import Package, audit_anchor, build_package
from reports.trace_report import ReportRequest, TraceReport, build_trace_report, write_trace_report
from schema.audit import AuditAction
from services.app import Services


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
    services.record(
        AuditAction.REPORT,
        f"report:trace:{report.start.key}",
        new={
            "query": report.query,
            "files": {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files},
            "nodes": report.total,
            "sources": len(report.citations),
        },
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
        services.record(
            AuditAction.PACKAGE,
            f"package:{package.name}",
            new={
                "path": str(package),
                "manifest_sha256": built.manifest_sha256,
                "package_sha256": hashlib.sha256(package.read_bytes()).hexdigest(),
                "query": report.query,
                "signed": built.signed,
            },
        )
    return Published(report, files, built)
