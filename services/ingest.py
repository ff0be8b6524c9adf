"""Ingest: parse inputs with ``loaders``, then write them to the store as one batch.

Strict by default: if any record is rejected nothing is written and every reject is
reported. With ``partial`` the accepted records are written and the rejects reported.
The batch is identified by the hash of its inputs, so loading the same input twice is a
no-op; and facts are idempotent, so overlapping inputs add only what is new.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from graph.port import GraphStore
from loaders import parse_paths
from loaders.base import ParseResult, Reject
from schema.errors import RejectedRecordsError
from schema.model import BatchResult, FactBatch
from services import csvsafe
from services.alerts import evaluate_after_load


@dataclass
class LoadReport:
    sources: list[str]
    records: int
    nodes: int
    edges: int
    rejects: list[Reject] = field(default_factory=list)
    result: BatchResult | None = None
    #: For the audit trail: the batch's input hash and the source records it retracted.
    content_hash: str | None = None
    retracted_records: list[str] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return self.result is not None and not self.result.already_loaded


def inputs_hash(
    paths: Sequence[Path], *, partial: bool, mapping: Path | None = None, epcis_any_order: bool = False
) -> str:
    """SHA-256 over every input file's name and bytes, in a stable order; and over the
    mapping's bytes, since the same export read through another mapping is other facts."""
    digest = hashlib.sha256(b"partial" if partial else b"strict")
    if epcis_any_order:  # it changes what is accepted, so it is another batch
        digest.update(b"\0epcis-any-order\0")
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    for file in files:
        digest.update(file.name.encode())
        try:
            with file.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError:
            digest.update(b"<unreadable>")
    if mapping is not None:
        digest.update(b"\0mapping\0" + mapping.read_bytes())
    return digest.hexdigest()


def write_reject_report(rejects: Sequence[Reject], target: Path) -> None:
    """The rejects as CSV: source, line, field, reason, record."""
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csvsafe.writer(handle)
        writer.writerow(["source", "line", "field", "reason", "record"])
        for r in rejects:
            writer.writerow([r.source, r.line or "", r.field or "", r.reason, r.record or ""])


def load_parsed(
    store: GraphStore, parsed: ParseResult, *, source: str, content_hash: str | None, partial: bool = False
) -> LoadReport:
    report = LoadReport(
        sources=[source],
        records=parsed.records,
        nodes=len(parsed.nodes),
        edges=len(parsed.edges),
        rejects=list(parsed.rejects),
        content_hash=content_hash,
        retracted_records=list(parsed.retract_records),
    )
    if parsed.rejects and not partial:
        raise RejectedRecordsError(
            f"{len(parsed.rejects)} record(s) rejected; nothing was loaded (load in partial mode to keep the rest)",
            parsed.rejects,
        )
    batch = FactBatch(
        source=source,
        content_hash=content_hash,
        nodes=tuple(parsed.nodes),
        edges=tuple(parsed.edges),
        retract_records=tuple(parsed.retract_records),
    )
    report.result = store.apply(batch)
    evaluate_after_load(store, report.result)
    return report


def load_paths(
    store: GraphStore,
    paths: Sequence[Path],
    *,
    fmt: str = "auto",
    partial: bool = False,
    reject_report: Path | None = None,
    on_phase: Callable[[str], None] | None = None,
    mapping: Path | None = None,
    epcis_any_order: bool = False,
) -> LoadReport:
    """Load ``paths`` as one batch. Raises RejectedRecordsError in strict mode when anything
    was rejected (nothing written); the reject report is written in either mode.
    ``mapping`` reads the paths as exports through that mapping file (loaders.mapping)."""
    if on_phase:
        on_phase("reading")
    parsed = parse_paths(paths, fmt=fmt, mapping=mapping, epcis_any_order=epcis_any_order)
    if reject_report is not None:
        write_reject_report(parsed.rejects, reject_report)
    if on_phase:
        on_phase("writing")
    return load_parsed(
        store,
        parsed,
        source=", ".join(str(p) for p in paths),
        content_hash=inputs_hash(paths, partial=partial, mapping=mapping, epcis_any_order=epcis_any_order),
        partial=partial,
    )
