"""NMPA UDI database (UDID) exports: XML and Excel DI records -> Part nodes and packages."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from cli.main import app
from graph.sqlite.store import SQLiteStore
from loaders import detect_format, parse_path
from loaders.udid import parse_udid, parse_udid_path
from schema.kinds import EdgeType, NodeKind

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "udid"
XML = EXAMPLES / "udid-devices.xml"
XLSX = EXAMPLES / "udid-devices.xlsx"

SYRINGE = "01/06901234567892"
PACEMAKER = "ma/MA.156.M0.100204.13351764"


def _parts(path: Path) -> dict[str, dict[str, object]]:
    result = parse_udid_path(path)
    assert result.rejects == []
    assert all(node.kind is NodeKind.PART and node.provenance.source_system == "udid" for node in result.nodes)
    return {node.key: node.props for node in result.nodes}


def test_xml_records_become_parts_keyed_by_their_di() -> None:
    parts = _parts(XML)
    syringe = parts[SYRINGE]
    assert (syringe["name"], syringe["model"], syringe["registrant"]) == (
        "一次性使用无菌注射器 带针",
        "5ml 0.6×25TWLB",
        "示例医疗器械有限公司",
    )
    assert (syringe["registration_number"], syringe["classification"]) == ("浙械注准20230000001", "14-01-01")
    assert syringe["label_production_identifiers"] == "lot, manufacture_date, expiry_date"
    assert syringe["label_has_serial"] is False
    assert parts[PACEMAKER]["label_production_identifiers"] == "lot, serial, manufacture_date, expiry_date"


def test_the_package_hierarchy_links_each_level_to_what_it_holds() -> None:
    result = parse_udid_path(XML)
    packages = {(e.source, e.target): e.props for e in result.edges if e.type is EdgeType.COMPONENT_OF}
    assert packages == {
        (SYRINGE, "01/16901234567899"): {"quantity_per": 100, "packaging_level": "中包装"},
        ("01/16901234567899", "01/26901234567896"): {"quantity_per": 20, "packaging_level": "箱"},
    }


def test_excel_export_reads_as_the_xml_does() -> None:
    xml, excel = _parts(XML), _parts(XLSX)
    assert excel.keys() == xml.keys()
    for key, props in excel.items():
        shared = {name for name in props if name in xml[key]}
        assert {name: props[name] for name in shared} == {name: xml[key][name] for name in shared}
    assert {(e.source, e.target) for e in parse_udid_path(XLSX).edges} == {
        (e.source, e.target) for e in parse_udid_path(XML).edges
    }


def test_udid_files_are_recognised_beside_epcis_and_mapped_exports() -> None:
    assert detect_format(XML) == "udid" and detect_format(XLSX) == "udid"
    assert parse_path(XML).nodes and not parse_path(XML).rejects


def _bad_xml(**replacements: str) -> bytes:
    text = XML.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new, 1)
    return text.encode("utf-8")


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        ("06950123450012</zxxsdycpbs>", "06950123450013</zxxsdycpbs>", "zxxsdycpbs", "has check digit 3, expected 2"),
        ("MA.156.M0.100204.13351764<", "AHM0001<", "zxxsdycpbs", "AHM codes are not supported yet"),
        ("<scbssfbhxlh>否<", "<scbssfbhxlh>maybe<", "scbssfbhxlh", "must be 是 or 否"),
        ("<bznhxyjcpbssl>20<", "<bznhxyjcpbssl>zero<", "bznhxyjcpbssl", "whole number of at least 1"),
        ("<bzcpbs>26901234567896<", "<bzcpbs>26901234567897<", "bzcpbs", "has check digit 7, expected 6"),
    ],
)
def test_bad_records_are_rejected_with_file_row_field_and_reason(old: str, new: str, field: str, reason: str) -> None:
    result = parse_udid(_bad_xml(**{old: new}), source="export.xml")
    (reject,) = result.rejects
    assert (reject.source, reject.field) == ("export.xml", field)
    assert reject.line in (1, 2, 3) and reason in reject.reason
    assert len({n.key for n in result.nodes if n.props.get("source_catalogue")}) >= 2  # the other records load


def test_documents_that_are_not_udid_exports_are_refused() -> None:
    (reject,) = parse_udid(b"<catalogue/>", source="c.xml").rejects
    assert "not a UDID export" in reject.reason
    (reject,) = parse_udid(b"<udid", source="c.xml").rejects
    assert "not well-formed" in reject.reason
    (reject,) = parse_udid(b"not a workbook", source="c.xlsx", excel=True).rejects
    assert "not an Excel workbook" in reject.reason


def test_an_excel_sheet_without_the_di_column_is_refused(tmp_path: Path) -> None:
    book = Workbook()
    book.active.append(["产品名称/通用名称", "规格型号"])
    book.active.append(["注射器", "5ml"])
    path = tmp_path / "other.xlsx"
    book.save(path)
    assert detect_format(path) != "udid"
    (reject,) = parse_udid_path(path).rejects
    assert reject.field == "zxxsdycpbs" and "not a UDID export" in reject.reason


def test_excel_rows_are_numbered_as_excel_shows_them(tmp_path: Path) -> None:
    book = load_workbook(XLSX)
    book.worksheets[0]["A3"] = "MA.156.M0.10020.13351764"  # a 5-character registrant
    path = tmp_path / "bad.xlsx"
    book.save(path)
    (reject,) = parse_udid_path(path).rejects
    assert (reject.source, reject.line, reject.field) == ("bad.xlsx", 3, "zxxsdycpbs")


def test_loaded_records_are_found_by_the_di_of_a_scanned_device(tmp_path: Path) -> None:
    runner = CliRunner()
    store = ["--store", f"sqlite:///{tmp_path / 'tg.db'}"]
    loaded = runner.invoke(app, [*store, "load", str(XML)])
    assert loaded.exit_code == 0, loaded.stderr
    # A DI as scanned (a bare GS1 DataMatrix; an MA code in its XML form) finds its record.
    for scanned, name in (
        ("]d20106901234567892", "一次性使用无菌注射器"),
        ('<UDI IAC="MA">MA.156.M0.100204.13351764</UDI>', "植入式心脏起搏器"),
    ):
        shown = runner.invoke(app, [*store, "show", scanned])
        assert shown.exit_code == 0 and name in shown.stdout, shown.stdout + shown.stderr


def test_ma_coded_devices_are_traced_and_shown_from_their_scanned_codes(
    sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    from loaders.base import ParseResult
    from schema.model import EdgeFact, NodeFact, Provenance
    from services.ingest import load_parsed

    lot, unit = f"{PACEMAKER}/10/2020A", f"{PACEMAKER}/21/0042"
    made = Provenance(source_system="mes", source="pacemakers.csv", line=1)
    facts = ParseResult(
        nodes=[
            NodeFact(key=lot, kind=NodeKind.PRODUCT_LOT, provenance=made),
            NodeFact(key=unit, kind=NodeKind.DEVICE, provenance=made),
        ],
        edges=[EdgeFact(type=EdgeType.INCLUDES, source=lot, target=unit, provenance=made)],
        records=1,
    )
    load_parsed(sqlite_store, facts, source="pacemakers.csv", content_hash=None)
    load_parsed(sqlite_store, parse_udid_path(XML), source=XML.name, content_hash=None)
    runner = CliRunner()
    where = ["--store", f"sqlite:///{tmp_path / 'store.db'}"]
    scanned = "MA.156.M0.100204.13351764.M201231.S0042.L2020A.E20271231.C9"
    shown = runner.invoke(app, [*where, "show", scanned])
    assert shown.exit_code == 0 and unit in shown.stdout, shown.stdout + shown.stderr
    traced = runner.invoke(app, [*where, "trace", "backward", f"https://example.cn/?code={scanned}", "--json"])
    assert traced.exit_code == 0, traced.stderr
    assert lot in traced.stdout
