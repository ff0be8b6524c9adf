"""The trace report: the right nodes, a timeline of events, and every line citing its source record,
in the PDF (read back with pypdf), the CSVs and the JSON."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from pypdf import PdfReader

from reports.pdf import Citations, PdfReport, TreeLine, cite_marks, register_cid_font
from reports.trace_report import (
    FILES,
    ReportRequest,
    TraceReport,
    build_trace_report,
    render_csvs,
    report_json,
    tree_lines,
    write_trace_report,
)
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import EdgeFact, NodeFact, Provenance, TraceDirection, iso
from services.app import Services
from services.settings import Settings
from tests.conformance.plants import (
    CASE_A,
    CASE_B,
    D1,
    EXTRUDER,
    HOSPITAL_1,
    INSPECTION,
    LOT,
    RESIN_LOT,
    SUPPLIER,
    WO,
    repack_plant,
)
from tests.factories import batch, t

COMPLAINT = "complaint:C-1"
CHANGE = "change:CR-1"


def evidence_batch() -> tuple[NodeFact | EdgeFact, ...]:
    """A complaint about D1 and a change to the extruder, from a QMS export with record hashes."""

    def prov(line: int) -> Provenance:
        return Provenance(
            source_system="qms", source="qms-export.csv", line=line, record_id=f"QMS-{line}", record_hash=f"{line:064x}"
        )

    return (
        NodeFact(key=COMPLAINT, kind=K.COMPLAINT, props={"summary": "leak at the luer"}, provenance=prov(2)),
        NodeFact(key=CHANGE, kind=K.CHANGE_RECORD, props={"title": "new die"}, provenance=prov(3)),
        EdgeFact(type=E.CONCERNS, source=COMPLAINT, target=D1, at=t(20), provenance=prov(2)),
        EdgeFact(type=E.AFFECTS, source=CHANGE, target=EXTRUDER, at=t(-1), provenance=prov(3)),
    )


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    path = tmp_path_factory.mktemp("report") / "store.db"
    services = Services.build(Settings(store=f"sqlite:///{path}"), migrate=True, actor="auditor@example")
    services.store.apply(repack_plant())
    services.store.apply(batch(*evidence_batch(), source="qms"))
    yield services
    services.close()


@pytest.fixture(scope="module")
def report(services: Services) -> TraceReport:
    return build_trace_report(services, ReportRequest(key=D1))


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_text(path: Path | bytes) -> str:
    reader = PdfReader(io.BytesIO(path) if isinstance(path, bytes) else path)
    return "\n".join(page.extract_text() for page in reader.pages)


def test_backward_report_holds_the_genealogy_and_the_evidence(report: TraceReport) -> None:
    keys = {n.key for n in report.nodes}
    assert {LOT, WO, RESIN_LOT, SUPPLIER, EXTRUDER, INSPECTION, COMPLAINT, CHANGE} <= keys
    assert HOSPITAL_1 not in keys and report.total == len(report.nodes) and not report.truncated
    assert report.start.key == D1 and report.generated_by == "auditor@example"
    by_key = {n.key: n for n in report.nodes}
    assert by_key[RESIN_LOT].parent == WO and by_key[RESIN_LOT].via is E.CONSUMED_BY
    assert by_key[CHANGE].parent == EXTRUDER and by_key[CHANGE].via is E.AFFECTS


def test_the_timeline_has_every_event_in_time_order(report: TraceReport) -> None:
    events = [(t_.event, t_.edge.source, t_.edge.target) for t_ in report.timeline]
    for expected in (
        ("received", SUPPLIER, RESIN_LOT),
        ("inspected", INSPECTION, RESIN_LOT),
        ("changed", CHANGE, EXTRUDER),
        ("consumed", RESIN_LOT, WO),
        ("equipment in use", EXTRUDER, WO),
        ("equipment use ended", EXTRUDER, WO),
        ("produced", WO, LOT),
        ("produced in lot", LOT, D1),
        ("packed", D1, CASE_A),
        ("unpacked", D1, CASE_A),
        ("packed", D1, CASE_B),
        ("complained", COMPLAINT, D1),
    ):
        assert expected in events, expected
    times = [t_.at for t_ in report.timeline if t_.at is not None]
    assert times == sorted(times)
    # D1's own packing is not on a backward trace: it is listed as the start's history.
    packed = next(t_ for t_ in report.timeline if t_.event == "packed" and t_.edge.target == CASE_B)
    assert packed.scope == "start"


def test_every_line_cites_the_records_of_its_facts(report: TraceReport) -> None:
    by_number = dict(report.citations)
    for event in report.timeline:
        assert event.cites, event
        assert {v.provenance for v in event.edge.versions} == {by_number[n] for n in event.cites}
    for node in [report.start, *report.nodes]:
        assert node.cites and {v.provenance for v in report.views[node.key].versions} == {
            by_number[n] for n in node.cites
        }
    complaint = next(t_ for t_ in report.timeline if t_.event == "complained")
    assert [by_number[n].record_id for n in complaint.cites] == ["QMS-2"]


def test_pdf_shows_every_cited_line_and_every_source_record(report: TraceReport, tmp_path: Path) -> None:
    written = write_trace_report(report, tmp_path)
    assert [p.name for p in written] == list(FILES.values())
    text = pdf_text(tmp_path / FILES["pdf"])
    flat = compact(text)
    # The title block: the query and how the report was made.
    for needle in ("Trace report", D1, "backward", "Generated by", "auditor@example", report.software, "sqlite"):
        assert compact(needle) in flat, needle
    assert compact(iso(report.generated_at) or "") in flat
    # Every timeline line with its citation marks.
    for e in report.timeline:
        when = f"{iso(e.at) or 'time unknown'}{e.event}"
        assert compact(when) in flat, when
        assert compact(f"{e.edge.type.value}{e.edge.source}{e.edge.target}") in flat
        assert compact(cite_marks(e.cites)) in flat
    # Every tree line with its marks.
    for tree_line in tree_lines(report):
        assert compact(tree_line.text + cite_marks(tree_line.cites)) in flat, tree_line
    # Every cited source record in full: number, system, file, line, record id, SHA-256.
    assert len(report.citations) > 10
    for n, p in report.citations:
        row = f"[{n}]{p.source_system}{p.source}{p.line or ''}{p.record_id or ''}{p.record_hash or ''}"
        assert compact(row) in flat, row
    assert "page 1 of" in text


def test_csvs_name_the_source_records_of_every_row(report: TraceReport) -> None:
    files = render_csvs(report)
    timeline = list(csv.DictReader(io.StringIO(files["timeline"])))
    assert len(timeline) == len(report.timeline)
    assert all(row["sources"] and row["source_records"] for row in timeline)
    complaint = next(row for row in timeline if row["event"] == "complained")
    assert "qms:qms-export.csv:2 #QMS-2 sha256:" in complaint["source_records"]
    nodes = list(csv.DictReader(io.StringIO(files["nodes"])))
    assert nodes[0]["key"] == D1 and nodes[0]["hops"] == "0" and len(nodes) == len(report.nodes) + 1
    sources = list(csv.DictReader(io.StringIO(files["sources"])))
    assert [int(r["n"]) for r in sources] == list(range(1, len(report.citations) + 1))


def test_json_carries_query_result_and_sources(report: TraceReport) -> None:
    data = orjson.loads(orjson.dumps(report_json(report)))
    assert data["query"] == {
        "report": "trace",
        "key": D1,
        "start": D1,
        "direction": "backward",
        "as_of": None,
        "max_depth": None,
        "limit": 5000,
        "ignore_time": False,
    }
    assert data["result"]["total"] == report.total and data["store"]["backend"] == "sqlite"
    assert len(data["sources"]) == len(report.citations) and data["sources"][0]["n"] == 1


def test_forward_and_as_of(services: Services) -> None:
    forward = build_trace_report(services, ReportRequest(key=RESIN_LOT, direction=TraceDirection.FORWARD))
    assert HOSPITAL_1 in {n.key for n in forward.nodes}
    assert any(e.event == "delivered" and e.edge.target == HOSPITAL_1 for e in forward.timeline)
    # Before the QMS batch was recorded, neither the complaint nor the change was known.
    qms_recorded = min(v.recorded_at for v in services.node(COMPLAINT).versions)
    plant_recorded = min(v.recorded_at for v in services.node(D1).versions)
    assert plant_recorded < qms_recorded
    then = build_trace_report(services, ReportRequest(key=D1, as_of=plant_recorded))
    assert COMPLAINT not in {n.key for n in then.nodes} and CHANGE not in {n.key for n in then.nodes}
    assert then.query["as_of"] == iso(plant_recorded)


def test_a_limited_report_says_so(services: Services) -> None:
    limited = build_trace_report(services, ReportRequest(key=D1, limit=2))
    assert limited.truncated and len(limited.nodes) == 2 and limited.total > 2
    assert any("lists the 2 nearest" in note for note in limited.limitations)


def test_building_blocks_escape_text_and_take_a_cjk_font() -> None:
    fonts = register_cid_font("STSong-Light")
    cites = Citations()
    n = cites.cite(Provenance(source_system="erp", source="收货单.csv", line=3))
    assert cites.cite(Provenance(source_system="erp", source="收货单.csv", line=3)) == n
    pdf = PdfReport("召回报告", fonts=fonts, footer="召回")
    pdf.title_block("召回报告 <b>not bold</b> & more", [("查询", "lot:R-1")])
    pdf.key_values([("批次", "R-1", [n])])
    pdf.data_table(["键", "类型"], [["lot:R-1", "物料批次"]], cites=[[n]])
    pdf.tree([TreeLine(0, "根"), TreeLine(1, "子", [n])])
    pdf.notes(["注意"], title="说明")
    pdf.sources(cites)
    out = io.BytesIO()
    pdf.write(out)
    text = pdf_text(out.getvalue())
    assert "<b>not bold</b> & more" in text
    assert "收货单.csv" in text and "物料批次" in text


def test_doctests() -> None:
    import doctest

    import reports.pdf

    assert doctest.testmod(reports.pdf).failed == 0
