"""Data governance: findings about what the sources say, and a quality score per source.

Findings are reported, never "fixed": a lot spelled two ways may be two lots, and only the
people who own the sources can say. Each finding names the keys and the source records
involved, so it can be taken back to the export row or EPCIS event that caused it.

Checks (docs/reference/mappings.md, "Data quality"):

- ``key_variants``: one natural key spelled differently (``lot:R-2`` and ``lot:R-02``):
  keys that agree once case, spaces and separators are dropped and leading zeros of every
  number are removed;
- ``consumed_not_received``: a material lot consumed by a work order but never received;
- ``over_consumed``: a material lot of which more was consumed than was received;
- ``units_incomparable``: a lot whose receipt and consumption units cannot be converted;
- ``out_of_order``: events in an impossible order (packed or shipped before produced, a
  container shipped before anything was packed into it, unpacked before packed, consumed
  before received or produced, delivered before shipped);
- ``device_without_lot``: a device no lot includes.

Score of a source = ``round(100 × (1 − Σ weight / records))``: ``records`` are the distinct
source records (file and line, or record id) the source contributed facts from, and each
record a finding cites weighs 1 for an error, 0.5 for a warning, 0 for information (the
heaviest finding counts, once per record).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson

from graph.history import Version, VersionOp, replay
from loaders.mapping.units import UnitError, to_base
from schema.identifiers import decode_key_value
from schema.kinds import EdgeType, NodeKind
from schema.model import EdgeOp, FactBatch, Provenance, from_epoch, iso, to_epoch

Severity = Literal["error", "warning", "info"]
WEIGHTS: dict[Severity, float] = {"error": 1.0, "warning": 0.5, "info": 0.0}

#: Rounding slack when sums of quantities are compared (they come from decimal exports).
_RELATIVE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    message: str
    keys: tuple[str, ...]
    records: tuple[Provenance, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "keys": list(self.keys),
            "records": [r.model_dump(exclude_none=True) for r in self.records],
        }


@dataclass(frozen=True)
class SourceScore:
    source_system: str
    source: str
    records: int
    affected: int
    findings: int
    score: int

    def to_json(self) -> dict[str, Any]:
        return {
            "source_system": self.source_system,
            "source": self.source,
            "records": self.records,
            "affected_records": self.affected,
            "findings": self.findings,
            "score": self.score,
        }


@dataclass(frozen=True)
class QualityReport:
    findings: tuple[Finding, ...]
    sources: tuple[SourceScore, ...]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for finding in self.findings:
            counts[finding.check] += 1
        return dict(sorted(counts.items()))

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "sources": [s.to_json() for s in self.sources],
            "findings": [f.to_json() for f in self.findings],
        }


# ------------------------------------------------------------------------------ snapshot


def record_identity(provenance: Provenance) -> tuple[Any, ...]:
    """One source record within its source: its record id (an EPCIS event), else its line
    and hash (a row); all facts of one row share it."""
    if provenance.record_id is not None:
        return (provenance.record_id,)
    return (provenance.line, provenance.record_hash)


@dataclass
class _Node:
    kind: NodeKind
    records: list[Provenance] = field(default_factory=list)
    props: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Edge:
    type: EdgeType
    source: str
    target: str
    at: datetime | None
    until: datetime | None
    props: dict[str, Any]
    records: tuple[Provenance, ...]


@dataclass
class Snapshot:
    """The graph as known now, with the source records behind each fact."""

    nodes: dict[str, _Node] = field(default_factory=dict)
    edges: list[_Edge] = field(default_factory=list)
    out: dict[str, list[_Edge]] = field(default_factory=lambda: defaultdict(list))
    into: dict[str, list[_Edge]] = field(default_factory=lambda: defaultdict(list))
    #: (source_system, source) -> the distinct records it contributed (record_identity).
    records: dict[tuple[str, str], set[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(set))

    @classmethod
    def from_batches(cls, batches: Iterable[FactBatch]) -> Snapshot:
        """Fold every fact version (``GraphStore.export_batches``) into the current state,
        replaying edge histories as the stores do (graph.history)."""
        snapshot = cls()
        versions: dict[tuple[Any, ...], list[tuple[Version, Provenance]]] = defaultdict(list)
        withdrawn: set[str] = set()
        for batch in batches:
            withdrawn.update(batch.retract_records)
            for node in batch.nodes:
                known = snapshot.nodes.setdefault(node.key, _Node(node.kind))
                known.kind = node.kind
                known.props.update(node.props)
                known.records.append(node.provenance)
                snapshot._count(node.provenance)
            for edge in batch.edges:
                ident = (edge.type, edge.source, edge.target, edge.at)
                op = _VERSION_OPS[edge.op]
                version = Version(
                    op, to_epoch(edge.until), orjson.dumps(edge.props).decode(), edge.provenance.record_id
                )
                versions[ident].append((version, edge.provenance))
                snapshot._count(edge.provenance)
        for (etype, source, target, at), history in versions.items():
            state = replay((v for v, _ in history), withdrawn)
            if not state.present:
                continue
            records = tuple(
                p for v, p in history if v.op != _VERSION_OPS[EdgeOp.RETRACT] and v.record_id not in withdrawn
            )
            props = orjson.loads(state.props) if state.props else {}
            snapshot._add(_Edge(etype, source, target, at, from_epoch(state.until), props, records))
        return snapshot

    def _count(self, provenance: Provenance) -> None:
        self.records[(provenance.source_system, provenance.source)].add(record_identity(provenance))

    def _add(self, edge: _Edge) -> None:
        self.edges.append(edge)
        self.out[edge.source].append(edge)
        self.into[edge.target].append(edge)

    def kind(self, key: str) -> NodeKind | None:
        node = self.nodes.get(key)
        return node.kind if node else None

    def edges_out(self, key: str, etype: EdgeType) -> list[_Edge]:
        return [e for e in self.out.get(key, ()) if e.type is etype]

    def edges_in(self, key: str, etype: EdgeType) -> list[_Edge]:
        return [e for e in self.into.get(key, ()) if e.type is etype]

    def keys_of(self, kind: NodeKind) -> list[str]:
        return [key for key, node in self.nodes.items() if node.kind is kind]


#: EdgeOp -> the version op graph.history replays (export_batches writes supports as asserts).
_VERSION_OPS = {EdgeOp.ASSERT: VersionOp.ASSERT, EdgeOp.CLOSE: VersionOp.CLOSE, EdgeOp.RETRACT: VersionOp.RETRACT}


# -------------------------------------------------------------------------------- checks

_NUMBER = re.compile(r"[0-9]+")
_SEPARATORS = re.compile(r"[\s\-_./]+")
_NATURAL = re.compile(r"([a-z]+):(.*)", re.DOTALL)


def fold(value: str) -> str:
    """The form two spellings of one natural key share: case, spaces and separators
    dropped, leading zeros of every number removed.

    >>> fold("R-02") == fold("r 2") == fold("R_002")
    True
    >>> fold("L240305-01") == fold("L240305-1"), fold("R-2") == fold("R-20")
    (True, False)
    """
    text = unicodedata.normalize("NFKC", value).casefold()
    # Zeros first, separators second: "240305-01" must stay two numbers, not become "24030501".
    text = _NUMBER.sub(lambda m: str(int(m.group())), text)
    return _SEPARATORS.sub("", text)


def variant_group(key: str) -> tuple[str, str] | None:
    """(what the key is of, its folded natural part), or None for keys without one."""
    natural = _NATURAL.fullmatch(key)
    if natural:
        return natural.group(1), fold(natural.group(2))
    segments = key.split("/")
    if len(segments) == 4 and segments[0] in ("01", "hibc", "ma") and segments[2] in ("10", "21"):
        return "/".join(segments[:3]), fold(decode_key_value(segments[3]))
    return None


def key_variants(snapshot: Snapshot) -> list[Finding]:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for key in snapshot.nodes:
        group = variant_group(key)
        if group is not None and group[1]:
            groups[group].append(key)
    findings = []
    for keys in groups.values():
        if len(keys) < 2:
            continue
        keys.sort()
        records = tuple(r for key in keys for r in snapshot.nodes[key].records)
        sources = sorted({r.source for r in records})
        findings.append(
            Finding(
                "key_variants",
                "warning",
                f"{len(keys)} spellings of what may be one {snapshot.nodes[keys[0]].kind.value}: "
                f"{', '.join(keys)} (from {', '.join(sources)})",
                tuple(keys),
                records,
            )
        )
    return findings


def _quantity(props: dict[str, Any], fallback_unit: str | None) -> tuple[float, str | None] | None:
    value = props.get("quantity")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    unit = props.get("unit")
    return float(value), unit if isinstance(unit, str) else fallback_unit


def _total(quantities: list[tuple[float, str | None]]) -> tuple[float, str | None]:
    """Sum of quantities in the base unit of their dimension; raises UnitError when they
    cannot be added. Quantities without a unit are taken to be in the others' unit."""
    units = {u for _, u in quantities if u is not None}
    if not units:
        return sum(q for q, _ in quantities), None
    total, dimension = 0.0, None
    for quantity, unit in quantities:
        base, dim = to_base(quantity, unit or next(iter(units)))
        if dimension is not None and dim != dimension:
            raise UnitError(f"{dimension} and {dim} cannot be added")
        total, dimension = total + base, dim
    return total, dimension


def material_balance(snapshot: Snapshot) -> list[Finding]:
    """``consumed_not_received``, ``over_consumed`` and ``units_incomparable``."""
    findings = []
    for lot in snapshot.keys_of(NodeKind.MATERIAL_LOT):
        consumed = snapshot.edges_out(lot, EdgeType.CONSUMED_BY)
        if not consumed:
            continue
        received = snapshot.edges_in(lot, EdgeType.SUPPLIED)
        records = tuple(r for e in consumed for r in e.records)
        if not received:
            orders = sorted({e.target for e in consumed})
            findings.append(
                Finding(
                    "consumed_not_received",
                    "error",
                    f"{lot} was consumed by {', '.join(orders)} but never received from a supplier",
                    (lot, *orders),
                    records,
                )
            )
            continue
        node_props = snapshot.nodes[lot].props
        lot_unit = node_props.get("unit") if isinstance(node_props.get("unit"), str) else None
        ins = [q for e in received if (q := _quantity(e.props, lot_unit)) is not None]
        if not ins and (q := _quantity(node_props, lot_unit)) is not None:
            ins = [q]
        outs = [q for e in consumed if (q := _quantity(e.props, lot_unit)) is not None]
        if not ins or not outs:
            continue  # nothing to compare: quantities are optional
        involved = records + tuple(r for e in received for r in e.records)
        try:
            total_in, dim_in = _total(ins)
            total_out, dim_out = _total(outs)
            if None not in (dim_in, dim_out) and dim_in != dim_out:
                raise UnitError(f"received in {dim_in}, consumed in {dim_out}")
        except UnitError as exc:
            findings.append(
                Finding(
                    "units_incomparable",
                    "info",
                    f"{lot}: receipts and consumption cannot be compared ({exc})",
                    (lot,),
                    involved,
                )
            )
            continue
        if total_out > total_in * (1 + _RELATIVE_TOLERANCE):
            unit = {"mass": "kg", "volume": "L", "count": "pcs"}.get(dim_in or "", ins[0][1] or "")
            findings.append(
                Finding(
                    "over_consumed",
                    "error",
                    f"{lot}: {_amount(total_out)} {unit} consumed by {len(consumed)} issue(s), "
                    f"but {_amount(total_in)} {unit} received".replace("  ", " "),
                    (lot, *sorted({e.target for e in consumed})),
                    involved,
                )
            )
    return findings


def _amount(value: float) -> str:
    return f"{value:.12g}"


def _earliest(edges: list[_Edge]) -> _Edge | None:
    timed = [e for e in edges if e.at is not None]
    return min(timed, key=lambda e: e.at or datetime.min) if timed else None


def _before(later: list[_Edge], earlier: _Edge | None, check: str, what: str) -> Iterable[Finding]:
    """A finding for every edge of ``later`` that happened before ``earlier``."""
    if earlier is None or earlier.at is None:
        return
    for edge in later:
        if edge.at is not None and edge.at < earlier.at:
            yield Finding(
                "out_of_order",
                "warning",
                f"{what}: {edge.source} {edge.type.value} {edge.target} at {iso(edge.at)}, before "
                f"{earlier.source} {earlier.type.value} {earlier.target} at {iso(earlier.at)} ({check})",
                (edge.source, edge.target, earlier.source, earlier.target),
                edge.records + earlier.records,
            )


def out_of_order(snapshot: Snapshot) -> list[Finding]:
    findings: list[Finding] = []
    for key in snapshot.nodes:
        produced = _earliest(snapshot.edges_in(key, EdgeType.PRODUCED))
        findings += _before(snapshot.edges_out(key, EdgeType.PACKED_IN), produced, "packed before produced", key)
        findings += _before(snapshot.edges_out(key, EdgeType.SHIPPED_IN), produced, "shipped before produced", key)
        findings += _before(snapshot.edges_out(key, EdgeType.CONSUMED_BY), produced, "consumed before produced", key)
        received = _earliest(snapshot.edges_in(key, EdgeType.SUPPLIED))
        findings += _before(snapshot.edges_out(key, EdgeType.CONSUMED_BY), received, "consumed before received", key)
        # A container shipped before its first content was packed left empty, or a clock is wrong.
        first_packed = _earliest(snapshot.edges_in(key, EdgeType.PACKED_IN))
        findings += _before(snapshot.edges_out(key, EdgeType.SHIPPED_IN), first_packed, "shipped before packed", key)
        first_loaded = _earliest(snapshot.edges_in(key, EdgeType.SHIPPED_IN))
        findings += _before(
            snapshot.edges_out(key, EdgeType.DELIVERED_TO), first_loaded, "delivered before shipped", key
        )
    for edge in snapshot.edges:
        if edge.type is EdgeType.PACKED_IN and edge.at and edge.until and edge.until < edge.at:
            findings.append(
                Finding(
                    "out_of_order",
                    "warning",
                    f"{edge.source} unpacked from {edge.target} at {iso(edge.until)}, before it was packed at "
                    f"{iso(edge.at)} (unpacked before packed)",
                    (edge.source, edge.target),
                    edge.records,
                )
            )
    return findings


def devices_without_lot(snapshot: Snapshot) -> list[Finding]:
    return [
        Finding(
            "device_without_lot",
            "warning",
            f"{key}: no lot includes this device, so a lot recall cannot reach it",
            (key,),
            tuple(snapshot.nodes[key].records),
        )
        for key in snapshot.keys_of(NodeKind.DEVICE)
        if not snapshot.edges_in(key, EdgeType.INCLUDES)
    ]


CHECKS = (key_variants, material_balance, out_of_order, devices_without_lot)


# -------------------------------------------------------------------------------- scores


def _matches(record: Provenance, source: str) -> bool:
    return source in (record.source, record.source_system)


def scores(snapshot: Snapshot, findings: Iterable[Finding]) -> list[SourceScore]:
    """The quality score of every source (module docstring)."""
    weights: dict[tuple[str, str], dict[tuple[Any, ...], float]] = defaultdict(dict)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for finding in findings:
        cited: set[tuple[str, str]] = set()
        for record in finding.records:
            where = (record.source_system, record.source)
            ident = record_identity(record)
            weights[where][ident] = max(weights[where].get(ident, 0.0), WEIGHTS[finding.severity])
            cited.add(where)
        for where in cited:
            counts[where] += 1
    result = []
    for where, records in sorted(snapshot.records.items()):
        affected = weights.get(where, {})
        score = round(100 * (1 - sum(affected.values()) / len(records))) if records else 100
        result.append(SourceScore(*where, len(records), len(affected), counts.get(where, 0), max(0, score)))
    return result


def assess(batches: Iterable[FactBatch], *, source: str | None = None) -> QualityReport:
    """Run every check over the facts of ``batches``; with ``source`` (a source name or
    source system) keep only its findings and score."""
    snapshot = Snapshot.from_batches(batches)
    # In check order, then by key, so that two runs over the same facts read the same.
    findings = [finding for check in CHECKS for finding in sorted(check(snapshot), key=lambda f: f.keys)]
    sources = scores(snapshot, findings)
    if source is not None:
        findings = [f for f in findings if any(_matches(r, source) for r in f.records)]
        sources = [s for s in sources if source in (s.source, s.source_system)]
    return QualityReport(tuple(findings), tuple(sources))
