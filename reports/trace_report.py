"""The trace report: one UDI, lot or any key, its genealogy (backward) or reach (forward) as a
tree and a timeline, with the suppliers, equipment, inspections, complaints and changes met,
every line citing the source records that prove it. Written as PDF, CSV and JSON.

The report is built from two service calls: ``Services.trace`` for the subgraph, and
``Services.node`` for every node in it, which gives each node's and each relationship's
recorded versions with their provenance — the citations.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from reports.pdf import Citations, PdfReport, TreeLine, cite_text
from schema.identifiers import canonical_key
from schema.kinds import TRACED_EDGES, EdgeType, NodeKind
from schema.model import EdgeView, FactVersion, NodeView, TraceDirection, TraceQuery, iso
from services import csvsafe
from services.app import Services
from services.version import software

#: Relationships listed per node when fetching citations; past it a node's edges are truncated
#: and the report says which relationships it could not cite.
EDGE_LIMIT = 10_000

#: Nodes a report lists by default (the total reached is always stated).
DEFAULT_LIMIT = 5_000

#: What each relationship means on a timeline: the event at ``at``, and for intervals the one at ``until``.
EVENTS: dict[EdgeType, tuple[str, str | None]] = {
    EdgeType.SUPPLIED: ("received", None),
    EdgeType.CONSUMED_BY: ("consumed", None),
    EdgeType.USED_IN: ("equipment in use", "equipment use ended"),
    EdgeType.PRODUCED: ("produced", None),
    EdgeType.INCLUDES: ("produced in lot", None),
    EdgeType.TRANSFORMED_INTO: ("transformed", None),
    EdgeType.PACKED_IN: ("packed", "unpacked"),
    EdgeType.SHIPPED_IN: ("shipped", None),
    EdgeType.DELIVERED_TO: ("delivered", None),
    EdgeType.INSPECTED: ("inspected", None),
    EdgeType.CONCERNS: ("complained", None),
    EdgeType.AFFECTS: ("changed", None),
}

#: The evidence sections, in order: a title and the kinds it lists.
SECTIONS: tuple[tuple[str, tuple[NodeKind, ...]], ...] = (
    ("Suppliers", (NodeKind.SUPPLIER,)),
    ("Equipment", (NodeKind.EQUIPMENT,)),
    ("Inspections and process data", (NodeKind.INSPECTION, NodeKind.PROCESS_RUN)),
    ("Complaints, nonconformances and CAPAs", (NodeKind.COMPLAINT, NodeKind.NONCONFORMANCE, NodeKind.CAPA)),
    ("Changes", (NodeKind.CHANGE_RECORD,)),
    ("Consignees", (NodeKind.CONSIGNEE,)),
)

FILES = {
    "pdf": "trace-report.pdf",
    "json": "trace-report.json",
    "nodes": "trace-nodes.csv",
    "timeline": "trace-timeline.csv",
    "sources": "trace-sources.csv",
}


@dataclass(frozen=True)
class ReportRequest:
    """What a trace report answers: one key (any accepted form), a direction, a moment."""

    key: str
    direction: TraceDirection = TraceDirection.BACKWARD
    as_of: datetime | None = None
    max_depth: int | None = None
    limit: int | None = DEFAULT_LIMIT
    ignore_time: bool = False

    def to_json(self, start: str) -> dict[str, Any]:
        return {
            "report": "trace",
            "key": self.key,
            "start": start,
            "direction": self.direction.value,
            "as_of": iso(self.as_of),
            "max_depth": self.max_depth,
            "limit": self.limit,
            "ignore_time": self.ignore_time,
        }


@dataclass
class ReportNode:
    key: str
    kind: NodeKind
    props: dict[str, Any]
    degree: int
    path: tuple[str, ...]
    via: EdgeType | None
    cites: list[int]
    link_cites: list[int] = field(default_factory=list)

    @property
    def parent(self) -> str | None:
        return self.path[-2] if len(self.path) > 1 else None

    @property
    def name(self) -> str:
        return str(self.props.get("name") or "")

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind.value,
            "hops": self.degree,
            "parent": self.parent,
            "via": self.via.value if self.via else None,
            "path": list(self.path),
            "props": self.props,
            "sources": self.cites,
            "link_sources": self.link_cites,
        }


@dataclass
class TimelineEvent:
    at: datetime | None
    event: str
    edge: EdgeView
    scope: str  # "trace": on the traced subgraph; "start": the start's own history
    cites: list[int]

    def to_json(self) -> dict[str, Any]:
        return {
            "at": iso(self.at),
            "event": self.event,
            "type": self.edge.type.value,
            "source": self.edge.source,
            "target": self.edge.target,
            "props": self.edge.props,
            "retracted": self.edge.retracted,
            "scope": self.scope,
            "sources": self.cites,
        }


@dataclass
class TraceReport:
    request: ReportRequest
    start: ReportNode
    generated_at: datetime
    generated_by: str
    software: str
    store_backend: str
    store_location: str
    total: int
    truncated: bool
    is_partial: bool
    nodes: list[ReportNode]
    timeline: list[TimelineEvent]
    citations: Citations
    views: dict[str, NodeView]
    edges: list[EdgeView]
    limitations: list[str] = field(default_factory=list)

    @property
    def query(self) -> dict[str, Any]:
        return self.request.to_json(self.start.key)

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for n in self.nodes:
            counts[n.kind.value] += 1
        return dict(sorted(counts.items()))

    def cited_facts(self) -> dict[int, list[dict[str, Any]]]:
        """For every cited record (by number): the fact versions it is the provenance of."""
        numbers = {p: n for n, p in self.citations}
        facts: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for view in self.views.values():
            for v in view.versions:
                if v.provenance in numbers:
                    facts[numbers[v.provenance]].append(
                        {"fact": "node", "key": view.key, "kind": view.kind.value, **_version(v)}
                    )
        for e in self.edges:
            for v in e.versions:
                if v.provenance in numbers:
                    facts[numbers[v.provenance]].append({"fact": "edge", **_edge_id(e), **_version(v)})
        return facts


# -- building --------------------------------------------------------------------------


def build_trace_report(services: Services, request: ReportRequest) -> TraceReport:
    """Trace, then read every node of the subgraph with its history, numbering the source records."""
    start = canonical_key(request.key)
    result = services.trace(
        TraceQuery(
            starts=(start,),
            direction=request.direction,
            max_depth=request.max_depth,
            as_of=request.as_of,
            ignore_time=request.ignore_time,
            limit=request.limit,
        )
    )
    limitations: list[str] = []
    if result.truncated:
        limitations.append(
            f"The trace reached {result.total} nodes; this report lists the {len(result.nodes)} nearest "
            "(raise --limit to list more)."
        )
    if result.is_partial:
        limitations.append("A server budget stopped the trace before it finished: more nodes may be reachable.")

    keys = [start, *(n.key for n in result.nodes)]
    views = {key: services.node(key, as_of=request.as_of, edge_limit=EDGE_LIMIT) for key in keys}
    traced = {(e.type, e.source, e.target) for e in result.edges}

    # Every relationship of the subgraph, as either end knows it (deduplicated), with its history.
    found: dict[tuple[EdgeType, str, str, datetime | None], tuple[EdgeView, str]] = {}
    for key, view in views.items():
        for e in (*view.edges_out, *view.edges_in):
            ident = (e.type, e.source, e.target)
            if ident in traced:
                found.setdefault((*ident, e.at), (e, "trace"))
            elif key == start and e.type in TRACED_EDGES:
                found.setdefault((*ident, e.at), (e, "start"))
    missing = traced - {(t, s, d) for t, s, d, _ in found}
    for t, s, d in sorted(missing):
        limitations.append(
            f"The records of {t.value} {s} -> {d} were not read: both ends have more than {EDGE_LIMIT} relationships."
        )
    truncated_views = sorted(k for k, v in views.items() if v.edges_truncated)
    if truncated_views and not missing:
        limitations.append(
            f"{len(truncated_views)} node(s) have more than {EDGE_LIMIT} relationships; every relationship of "
            "the trace was still read from its other end."
        )

    citations = Citations()
    # Number the records in reading order: the start, then the nodes by distance, then the timeline.
    node_cites = {key: citations.cite_all(v.provenance for v in views[key].versions) for key in keys}
    edges_by_pair: dict[tuple[str, str], list[EdgeView]] = defaultdict(list)
    for e, _scope in found.values():
        edges_by_pair[(e.source, e.target)].append(e)

    def link(parent: str, child: str) -> tuple[EdgeType | None, list[int]]:
        pair = (parent, child) if request.direction is TraceDirection.FORWARD else (child, parent)
        edges = sorted(
            edges_by_pair.get(pair, []), key=lambda e: (e.type.value, e.at or datetime.min.replace(tzinfo=UTC))
        )
        if not edges:
            return None, []
        return edges[0].type, citations.cite_all(v.provenance for e in edges for v in e.versions)

    start_view = views[start]
    start_node = ReportNode(start, start_view.kind, start_view.props, 0, (start,), None, node_cites[start])
    nodes = []
    for n in result.nodes:
        via, link_cites = link(n.path[-2], n.key) if len(n.path) > 1 else (None, [])
        nodes.append(
            ReportNode(n.key, n.kind, views[n.key].props, n.degree, n.path, via, node_cites[n.key], link_cites)
        )

    timeline: list[TimelineEvent] = []
    for e, scope in found.values():
        began, ended = EVENTS.get(e.type, (e.type.value.lower(), None))
        cites = citations.cite_all(v.provenance for v in e.versions)
        timeline.append(TimelineEvent(e.at, began, e, scope, cites))
        if ended and e.until is not None:
            timeline.append(TimelineEvent(e.until, ended, e, scope, cites))
    timeline.sort(key=_timeline_order)

    return TraceReport(
        request=request,
        start=start_node,
        generated_at=datetime.now(UTC),
        generated_by=services.actor,
        software=software(),
        store_backend=services.store.backend,
        store_location=services.store.location,
        total=result.total,
        truncated=result.truncated,
        is_partial=result.is_partial,
        nodes=nodes,
        timeline=timeline,
        citations=citations,
        views=views,
        edges=sorted((e for e, _ in found.values()), key=_edge_order),
        limitations=limitations,
    )


def _timeline_order(t: TimelineEvent) -> tuple[bool, float, str, str, str]:
    return (t.at is None, t.at.timestamp() if t.at else 0.0, t.edge.source, t.edge.target, t.event)


def _edge_order(e: EdgeView) -> tuple[str, str, str, float]:
    return (e.source, e.target, e.type.value, e.at.timestamp() if e.at else float("-inf"))


# -- JSON shapes, shared with evidence packages ---------------------------------------


def _version(v: FactVersion) -> dict[str, Any]:
    return {
        "recorded_at": iso(v.recorded_at),
        "batch": v.batch_id,
        "provenance": v.provenance.model_dump(),
        "props": v.props,
        "at": iso(v.at),
        "until": iso(v.until),
        "retracted": v.retracted,
    }


def _edge_id(e: EdgeView) -> dict[str, Any]:
    return {"type": e.type.value, "source": e.source, "target": e.target, "at": iso(e.at)}


def node_json(view: NodeView) -> dict[str, Any]:
    """A node with its full version history (as of the report's moment)."""
    return {
        "key": view.key,
        "kind": view.kind.value,
        "props": view.props,
        "versions": [_version(v) for v in view.versions],
    }


def edge_json(e: EdgeView) -> dict[str, Any]:
    """A relationship with its full version history (as of the report's moment)."""
    return {
        **_edge_id(e),
        "until": iso(e.until),
        "props": e.props,
        "retracted": e.retracted,
        "versions": [_version(v) for v in e.versions],
    }


def report_json(report: TraceReport) -> dict[str, Any]:
    return {
        "report": "trace",
        "query": report.query,
        "generated_at": iso(report.generated_at),
        "generated_by": report.generated_by,
        "software": report.software,
        "store": {"backend": report.store_backend, "location": report.store_location},
        "result": {
            "total": report.total,
            "listed": len(report.nodes),
            "truncated": report.truncated,
            "is_partial": report.is_partial,
            "by_kind": report.by_kind(),
        },
        "start": report.start.to_json(),
        "nodes": [n.to_json() for n in report.nodes],
        "timeline": [t.to_json() for t in report.timeline],
        "sources": [{"n": n, **p.model_dump()} for n, p in report.citations],
        "limitations": report.limitations,
    }


# -- rendering -------------------------------------------------------------------------


def _props_text(props: dict[str, Any], *, skip: Iterable[str] = ("name",), limit: int = 300) -> str:
    text = "; ".join(f"{k}={_value(v)}" for k, v in sorted(props.items()) if k not in set(skip))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _value(v: Any) -> str:
    return v if isinstance(v, str) else orjson.dumps(v).decode()


def _label(node: ReportNode) -> str:
    return f"{node.kind.value} {node.key}" + (f" ({node.name})" if node.name else "")


def _arrow(e: EdgeView) -> str:
    return f"{e.source} -> {e.target}"


_MEANING = {
    TraceDirection.BACKWARD: "genealogy: what stands behind it",
    TraceDirection.FORWARD: "impact: what it reached",
}


def _parameters(report: TraceReport) -> list[tuple[str, str]]:
    r = report.request
    return [
        (
            "Start",
            f"{report.start.key} ({report.start.kind.value})"
            + (f", given as {r.key}" if r.key != report.start.key else ""),
        ),
        ("Direction", f"{r.direction.value} ({_MEANING[r.direction]})"),
        ("As of", iso(r.as_of) or "now (everything recorded)"),
        ("Depth", "unlimited" if r.max_depth is None else str(r.max_depth)),
        (
            "Time rules",
            "ignored (plain reachability)" if r.ignore_time else "containment bounds time (docs/reference/trace.md)",
        ),
        (
            "Nodes reached",
            f"{report.total}"
            + (f", {len(report.nodes)} listed" if report.truncated else "")
            + (" (partial)" if report.is_partial else ""),
        ),
        ("Generated at", iso(report.generated_at) or ""),
        ("Generated by", report.generated_by),
        ("Software", report.software),
        ("Store", f"{report.store_backend} {report.store_location}"),
    ]


def tree_lines(report: TraceReport) -> list[TreeLine]:
    """The explaining paths as a tree: each node under the node it was reached from."""
    children: dict[str, list[ReportNode]] = defaultdict(list)
    for n in report.nodes:
        if n.parent is not None:
            children[n.parent].append(n)
    lines = [TreeLine(0, _label(report.start), report.start.cites)]
    stack = [(c, 1) for c in reversed(sorted(children[report.start.key], key=lambda n: (n.kind.value, n.key)))]
    while stack:
        node, depth = stack.pop()
        via = f"{node.via.value}: " if node.via else ""
        lines.append(TreeLine(depth, via + _label(node), node.link_cites or node.cites))
        stack.extend((c, depth + 1) for c in reversed(sorted(children[node.key], key=lambda n: (n.kind.value, n.key))))
    return lines


def render_pdf(report: TraceReport, target: Path | io.BytesIO) -> None:
    title = f"Trace report: {report.start.key}"
    pdf = PdfReport(
        title,
        footer=f"{report.software} - trace report {report.start.key} - generated {iso(report.generated_at)}",
        author=report.generated_by,
        subject=f"{report.request.direction.value} trace of {report.start.key}",
    )
    pdf.title_block("Trace report", _parameters(report), subtitle=_label(report.start))
    pdf.key_values([("Properties", _props_text(report.start.props, skip=()), report.start.cites)])
    counts = report.by_kind()
    if counts:
        pdf.heading("Reached, by kind")
        pdf.key_values([(kind, str(count)) for kind, count in counts.items()])
    pdf.notes(report.limitations, title="Limitations")

    pdf.heading("Genealogy" if report.request.direction is TraceDirection.BACKWARD else "Reach")
    pdf.paragraph("Each node under the node it was reached from, with the relationship and the records proving it.")
    pdf.tree(tree_lines(report))

    pdf.heading("Timeline")
    pdf.paragraph(
        "Every relationship of the trace in time order (and, marked 'start', the start's own history outside it); "
        "intervals (packing, equipment use) appear at their start and their end."
    )
    pdf.data_table(
        ["time (UTC)", "event", "relationship", "from", "to", "details"],
        [
            [
                iso(t.at) or "time unknown",
                t.event + (" (retracted)" if t.edge.retracted else "") + (" [start]" if t.scope == "start" else ""),
                t.edge.type.value,
                t.edge.source,
                t.edge.target,
                _props_text(t.edge.props, skip=()),
            ]
            for t in report.timeline
        ],
        cites=[t.cites for t in report.timeline],
        widths=[1.3, 1.1, 1.1, 1.9, 1.9, 1.4],
    )

    for title_, kinds in SECTIONS:
        listed = [n for n in report.nodes if n.kind in kinds]
        if not listed:
            continue
        pdf.heading(title_)
        pdf.data_table(
            ["key", "kind", "name", "hops", "properties"],
            [[n.key, n.kind.value, n.name, str(n.degree), _props_text(n.props)] for n in listed],
            cites=[n.cites for n in listed],
            widths=[2.0, 1.0, 1.4, 0.4, 3.2],
        )

    pdf.heading("All nodes reached")
    pdf.data_table(
        ["hops", "kind", "key", "reached from", "via"],
        [[str(n.degree), n.kind.value, n.key, n.parent or "", n.via.value if n.via else ""] for n in report.nodes],
        cites=[n.cites for n in report.nodes],
        widths=[0.4, 1.0, 2.4, 2.4, 1.1],
    )
    pdf.sources(report.citations)
    pdf.paragraph(
        "Record SHA-256: the hash of the source record as it was read at load time. Any record can be shown "
        "as the store held it at a moment with `tracegraph show KEY --as-of T`."
    )
    pdf.write(target)


def _sources_text(report: TraceReport, numbers: Sequence[int]) -> str:
    by_number = dict(report.citations)
    return " | ".join(f"[{n}] {cite_text(by_number[n])}" for n in numbers)


def render_csvs(report: TraceReport) -> dict[str, str]:
    """The three CSV files: nodes, timeline, sources; every row names its source records in full."""
    out: dict[str, str] = {}

    def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
        buffer = io.StringIO()
        writer = csvsafe.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        return buffer.getvalue()

    everyone = [report.start, *report.nodes]
    out["nodes"] = table(
        ["hops", "kind", "key", "name", "reached_from", "via", "properties", "sources", "source_records"],
        (
            [
                n.degree,
                n.kind.value,
                n.key,
                n.name,
                n.parent or "",
                n.via.value if n.via else "",
                orjson.dumps(n.props, option=orjson.OPT_SORT_KEYS).decode(),
                " ".join(map(str, n.cites)),
                _sources_text(report, n.cites),
            ]
            for n in everyone
        ),
    )
    out["timeline"] = table(
        ["at", "event", "type", "source", "target", "properties", "retracted", "scope", "sources", "source_records"],
        (
            [
                iso(t.at) or "",
                t.event,
                t.edge.type.value,
                t.edge.source,
                t.edge.target,
                orjson.dumps(t.edge.props, option=orjson.OPT_SORT_KEYS).decode(),
                "yes" if t.edge.retracted else "",
                t.scope,
                " ".join(map(str, t.cites)),
                _sources_text(report, t.cites),
            ]
            for t in report.timeline
        ),
    )
    out["sources"] = table(
        ["n", "source_system", "source", "line", "record_id", "record_hash"],
        (
            [n, p.source_system, p.source, "" if p.line is None else p.line, p.record_id or "", p.record_hash or ""]
            for n, p in report.citations
        ),
    )
    return out


def write_trace_report(report: TraceReport, out_dir: Path) -> list[Path]:
    """Write the PDF, the JSON and the three CSVs into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    pdf_path = out_dir / FILES["pdf"]
    render_pdf(report, pdf_path)
    written.append(pdf_path)
    json_path = out_dir / FILES["json"]
    json_path.write_bytes(orjson.dumps(report_json(report), option=orjson.OPT_INDENT_2) + b"\n")
    written.append(json_path)
    for name, text in render_csvs(report).items():
        path = out_dir / FILES[name]
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
