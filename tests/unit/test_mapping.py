"""Declarative mappings: the mapping file is validated with its YAML paths, every export row
becomes a native row held to the CSV format's rules, every bad row is a precise reject."""

from __future__ import annotations

import doctest
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

import loaders.mapping
import loaders.mapping.units
from graph.sqlite.store import SQLiteStore
from loaders import parse_path, parse_paths
from loaders.mapping import MappingError, check_mapped, load_mapping, parse_mapped
from loaders.mapping.units import UnitError, convert
from loaders.mapping.values import read_number
from schema.kinds import EdgeType, NodeKind
from services import ingest

ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "mappings"

#: Every shipped mapping and the example export it reads.
EXAMPLES = {
    "erp-batch-where-used.yaml": "erp-batch-where-used.csv",
    "mes-work-order-genealogy.yaml": "mes-work-order-genealogy.xlsx",
    "mes-work-order-output.yaml": "mes-work-order-genealogy.xlsx",
    "lims-inspection-results.yaml": "lims-inspection-results.csv",
    "wms-shipment-list.yaml": "wms-shipment-list.csv",
    "wms-shipments.yaml": "wms-shipment-list.csv",
    "supplier-coa.yaml": "supplier-coa.xlsx",
}


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def mapping_problems(tmp_path: Path, text: str) -> list[tuple[str, str, int | None]]:
    with pytest.raises(MappingError) as caught:
        load_mapping(write(tmp_path / "m.yaml", text))
    return [(p.path, p.message, p.line) for p in caught.value.problems]


CONSUMPTION = """
    name: test
    source_system: erp
    target: consumption.csv
    timezone: Europe/Berlin
    columns:
      lot: {template: "lot:{Batch}"}
      work_order: {template: "wo:{Order}"}
      quantity:
        column: Qty
        decimal: ","
        unit: {to: [kg, ea], column: UoM}
      consumed_at: {column: Posted, format: "%d.%m.%Y %H:%M"}
"""


# -- the shipped mappings ------------------------------------------------------------------


def test_every_shipped_mapping_has_an_example() -> None:
    assert sorted(p.name for p in MAPPINGS.glob("*.yaml")) == sorted(EXAMPLES)


@pytest.mark.parametrize(("mapping", "export"), sorted(EXAMPLES.items()))
def test_shipped_examples_load_without_rejects(mapping: str, export: str) -> None:
    checked = check_mapped(MAPPINGS / "examples" / export, MAPPINGS / mapping)
    assert checked.result.rejects == []
    assert checked.accepted == checked.result.records > 0
    assert checked.result.nodes or checked.result.edges
    systems = {f.provenance.source_system for f in checked.result.nodes}
    systems |= {f.provenance.source_system for f in checked.result.edges}
    assert systems == {load_mapping(MAPPINGS / mapping).spec.source_system}


def test_erp_example_converts_units_and_local_times() -> None:
    checked = check_mapped(MAPPINGS / "examples" / "erp-batch-where-used.csv", MAPPINGS / "erp-batch-where-used.yaml")
    assert checked.skipped == 1  # the total line
    first, second, pieces = checked.result.edges[:3]
    assert (first.source, first.target, first.props) == (
        "lot:R-000123",
        "wo:WO-000153",
        {"quantity": 12.5, "unit": "kg"},
    )
    assert first.at == datetime(2024, 3, 4, 5, 25, tzinfo=UTC)  # 06:25 in Berlin
    assert first.provenance.line == 4  # two title lines, then the header
    assert second.props == {"quantity": 1.25, "unit": "kg"}  # 1.250,0 G
    assert pieces.props == {"quantity": 2000, "unit": "ea"}  # 2.000 ST


def test_coa_example_becomes_incoming_inspections_with_measurements() -> None:
    result = parse_mapped(MAPPINGS / "examples" / "supplier-coa.xlsx", MAPPINGS / "supplier-coa.yaml")
    failed = next(n for n in result.nodes if n.props["result"] == "fail")
    assert failed.key == "inspection:COA-PC-COA-24-0912" and failed.kind is NodeKind.INSPECTION
    assert failed.props["target"] == "lot:R-000207" and failed.props["type"] == "incoming"
    assert failed.props["measurements"] == {"shore_a": 86, "melt_flow_g_10min": 13.2, "density_g_cm3": 1.24}
    assert failed.props["at"] == "2024-01-18T23:00:00Z"  # Excel serial 45310, midnight in Berlin
    assert failed.provenance.source == "supplier-coa.xlsx!CoA" and failed.provenance.line == 3
    untested = next(n for n in result.nodes if n.key.endswith("0955"))
    assert "melt_flow_g_10min" not in untested.props["measurements"]


def test_lims_and_mes_examples_build_gs1_lot_keys() -> None:
    lims = parse_mapped(
        MAPPINGS / "examples" / "lims-inspection-results.csv", MAPPINGS / "lims-inspection-results.yaml"
    )
    assert {e.target for e in lims.edges} == {"01/07612345000107/10/L240305-01", "01/07612345000107/10/L240305-02"}
    assert [n.props["result"] for n in lims.nodes] == ["pass", "pass", "fail", "marginal"]
    mes = parse_mapped(MAPPINGS / "examples" / "mes-work-order-genealogy.xlsx", MAPPINGS / "mes-work-order-output.yaml")
    assert {n.key for n in mes.nodes} == {"01/07612345000107/10/L240305-01", "01/07612345000107/10/L240305-02"}
    assert {e.type for e in mes.edges} == {EdgeType.PRODUCED, EdgeType.OF_PART}


# -- the mapping file ----------------------------------------------------------------------


def test_mapping_problems_name_their_yaml_path_and_line(tmp_path: Path) -> None:
    problems = mapping_problems(
        tmp_path,
        """
        name: test
        source_system: erp
        target: consumption.csv
        columns:
          lot: {template: "lot:{Batch"}
          work_order: {column: Order, formatt: x}
          quantity: {column: Qty, unit: {to: lbs, from: g}}
          consumed_at: {column: Posted, format: "dd.mm.yyyy"}
          colour: Colour
        """,
    )
    assert ("columns.work_order.formatt", "unknown option (misspelt?)", 6) in problems
    paths = {path: (message, line) for path, message, line in problems}
    assert (
        paths["columns.quantity.unit.to[0]"][1] == 7 and "unknown unit 'lbs'" in paths["columns.quantity.unit.to[0]"][0]
    )
    assert "unmatched '{'" in paths["columns.lot.template"][0] and paths["columns.lot.template"][1] == 5
    assert "strptime" in paths["columns.consumed_at.format"][0]
    assert "no column 'colour'" in paths["columns.colour"][0]


def test_mapping_problems_found_by_meaning(tmp_path: Path) -> None:
    problems = mapping_problems(
        tmp_path,
        """
        name: test
        source_system: lims
        target: inspections.csv
        timezone: Mars/Olympus
        columns:
          inspection: {template: "inspection:{Id}"}
          target: {constant: "R-1"}
          inspection_type: {constant: incomming}
          result: {column: Result, decimal: ","}
          inspected_at: {column: At, timezone: Europe/Berlin, unit: {to: kg, from: g}}
        """,
    )
    messages = {path: message for path, message, _ in problems}
    assert "unknown time zone" in messages["timezone"]
    assert "target does not accept 'R-1'" in messages["columns.target.constant"]
    assert "unknown value 'incomming'" in messages["columns.inspection_type.constant"]
    assert "'decimal' applies to numbers" in messages["columns.result.decimal"]
    assert "'unit' converts quantities" in messages["columns.inspected_at.unit"]


def test_required_columns_must_be_mapped_and_exactly_one_source_given(tmp_path: Path) -> None:
    problems = mapping_problems(
        tmp_path,
        """
        name: test
        source_system: erp
        target: consumption.csv
        columns:
          lot: {column: Batch, constant: "lot:X"}
          work_order: {udi: lot, template: "wo:{A}"}
        """,
    )
    messages = [(path, message) for path, message, _ in problems]
    assert ("columns.lot", "give exactly one of column, constant, template or measurements (got column, constant)") in (
        messages
    )
    assert ("columns.work_order", "'udi' reads a barcode from a column: give 'column' with it") in messages


def test_missing_required_columns_are_listed(tmp_path: Path) -> None:
    problems = mapping_problems(
        tmp_path,
        """
        name: test
        source_system: erp
        target: consumption.csv
        columns:
          lot: Batch
        """,
    )
    assert {message for _, message, _ in problems} == {
        "consumption.csv requires column 'work_order': map it",
        "consumption.csv requires column 'quantity': map it",
        "consumption.csv requires column 'consumed_at': map it",
    }


def test_yaml_scalars_stay_text_and_duplicate_keys_are_refused(tmp_path: Path) -> None:
    # YAML 1.1 would read yes/no as booleans and 2024-01-05 as a date.
    mapping = load_mapping(
        write(
            tmp_path / "m.yaml",
            """
            name: test
            source_system: lims
            target: inspections.csv
            columns:
              inspection: {template: "inspection:{Id}"}
              target: {template: "lot:{Lot}"}
              inspection_type: {constant: final}
              result: {column: Released, values: {yes: pass, no: fail}}
              inspected_at: {column: At}
              notes: {constant: 2024-01-05}
            """,
        )
    )
    assert mapping.spec.columns["result"].values == {"yes": "pass", "no": "fail"}
    assert mapping.spec.columns["notes"].constant == "2024-01-05"
    problems = mapping_problems(tmp_path, "name: a\nname: b\nsource_system: x\ntarget: suppliers.csv\ncolumns: {}\n")
    assert ("name", "key appears twice", 2) in problems


def test_not_yaml_or_not_a_mapping(tmp_path: Path) -> None:
    assert mapping_problems(tmp_path, "name: [unclosed\n")[0][1].startswith("not valid YAML")
    assert mapping_problems(tmp_path, "- a list\n")[0][1].startswith("a mapping is a YAML mapping")
    with pytest.raises(MappingError, match="no such file"):
        load_mapping(tmp_path / "absent.yaml")


# -- values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [("12,5", ",", 12.5), ("1.234,5", ",", 1234.5), ("2.000", ",", 2000), ("1,234.5", ".", 1234.5), ("7", ".", 7)],
)
def test_numbers_with_either_decimal_separator(text: str, decimal: str, expected: float) -> None:
    assert read_number(text, decimal, "Qty") == expected


def test_ambiguous_numbers_are_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="decimal separator ','"):
        read_number("1.5", ",", "Qty")  # with a decimal comma, is this 15 or 1.5?
    with pytest.raises(ValueError, match="not a number"):
        read_number("12,5", ".", "Qty")


def test_unit_conversion() -> None:
    assert convert(1500, "G", "kg") == 1.5
    assert convert(250, "mL", "L") == 0.25
    assert convert(3, "ST", "ea") == 3
    assert convert(0.1, "KGM", "mg") == 100_000
    with pytest.raises(UnitError, match="cannot convert"):
        convert(1, "kg", "L")
    with pytest.raises(UnitError, match="unknown unit 'lbs'"):
        convert(1, "lbs", "kg")


# -- reading exports -----------------------------------------------------------------------


def test_every_bad_row_is_rejected_at_its_line_and_column(tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.yaml", CONSUMPTION)
    export = write(
        tmp_path / "export.csv",
        """
        Batch,Order,Qty,UoM,Posted
        R-1,WO-1,"12,5",kg,04.03.2024 06:25
        R-2,WO-1,"3,0",lbs,04.03.2024 06:25
        ,WO-1,1,kg,04.03.2024 06:25
        R-4,WO-1,-2,kg,2024-03-04
        R-5,WO-1,"1,5",L,04.03.2024 06:25
        """,
    )
    checked = check_mapped(export, mapping)
    rejects = [(r.source, r.line, r.field, r.reason) for r in checked.result.rejects]
    assert rejects[0][:3] == ("export.csv", 3, "UoM") and "unknown unit 'lbs'" in rejects[0][3]
    assert ("export.csv", 4, "Batch", "missing value") in rejects
    assert ("export.csv", 5, "Qty", "negative quantity: -2") in rejects
    assert ("export.csv", 5, "Posted", "'2024-03-04' does not match the format '%d.%m.%Y %H:%M'") in rejects
    assert rejects[-1][:3] == ("export.csv", 6, "UoM") and "cannot convert L to kg or ea" in rejects[-1][3]
    assert checked.accepted == 1 and checked.result.records == 5
    assert checked.result.rejects[0].record == 'R-2,WO-1,"3,0",lbs,04.03.2024 06:25'
    assert len(checked.result.edges) == 1


def test_row_rules_of_the_native_file_apply_to_mapped_rows(tmp_path: Path) -> None:
    # packing.csv refuses an item packed into itself and unpacking before packing; the
    # reject names the export column the native column came from.
    mapping = write(
        tmp_path / "m.yaml",
        """
        name: test
        source_system: wms
        target: packing.csv
        columns:
          item: {template: "00/{Child SSCC}"}
          container: {template: "00/{Parent SSCC}"}
          packed_at: Packed
          unpacked_at: Unpacked
        """,
    )
    export = write(
        tmp_path / "export.csv",
        """
        Child SSCC,Parent SSCC,Packed,Unpacked
        076123450000001234,076123450000001234,2024-03-06T08:00:00Z,
        076123450000001234,076123450000009872,2024-03-06T08:00:00Z,2024-03-05T08:00:00Z
        """,
    )
    rejects = [(r.line, r.field, r.reason) for r in parse_mapped(export, mapping).rejects]
    assert rejects == [
        (2, "Parent SSCC", "00/076123450000001234 cannot be packed into itself"),
        (3, "Unpacked", "unpacked_at 2024-03-05T08:00:00Z is before packed_at 2024-03-06T08:00:00Z"),
    ]


def test_missing_export_columns_are_reported_once_and_no_row_is_read(tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.yaml", CONSUMPTION)
    export = write(tmp_path / "export.csv", "Batch,ORDER ,qty\nR-1,WO-1,1\n")
    checked = check_mapped(export, mapping)
    assert [(r.line, r.field) for r in checked.result.rejects] == [(1, "UoM"), (1, "Posted")]
    assert "the export has: Batch, ORDER , qty" in checked.result.rejects[0].reason
    assert checked.accepted == 0 and checked.result.records == 1 and not checked.result.edges


def test_templates_percent_encode_key_paths_and_barcodes_give_keys(tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "m.yaml",
        """
        name: test
        source_system: mes
        target: devices.csv
        columns:
          gtin: {column: UDI, udi: gtin}
          serial: {column: UDI, udi: serial}
          lot: {column: UDI, udi: lot}
          work_order: {template: "wo:{Order}"}
          manufactured: {column: UDI, udi: manufactured}
        """,
    )
    export = write(
        tmp_path / "export.csv",
        """
        UDI,Order
        (01)09506000134352(11)240304(10)L/1(21)S1,WO-1
        (01)09506000134352(10)L1,WO-1
        (01)09506000134353(21)S3,WO-1
        """,
    )
    result = parse_mapped(export, mapping)
    device = result.nodes[0]
    assert device.key == "01/09506000134352/21/S1" and device.props["manufactured"] == "2024-03-04"
    assert result.edges[0].source == "01/09506000134352/10/L%2F1"  # INCLUDES from the lot
    rejects = [(r.line, r.field, r.reason) for r in result.rejects]
    assert rejects[0] == (3, "UDI", "the barcode '(01)09506000134352(10)L1' has no serial")
    assert rejects[1][:2] == (4, "UDI") and "check digit" in rejects[1][2]

    product_lots = write(
        tmp_path / "lots.yaml",
        """
        name: test
        source_system: mes
        target: product_lots.csv
        columns:
          lot: {template: "01/{GTIN}/10/{Lot}"}
          part: {constant: "part:FG-1"}
          work_order: {constant: "wo:WO-1"}
          manufactured: {column: Made, format: "%d/%m/%Y"}
        """,
    )
    export = write(tmp_path / "lots.csv", "GTIN,Lot,Made\n9506000134352,A/B-1,05/03/2024\n")
    lot = parse_mapped(export, product_lots).nodes[0]
    assert lot.key == "01/09506000134352/10/A%2FB-1" and lot.props["lot"] == "A/B-1"


def test_skip_rules_and_header_row(tmp_path: Path) -> None:
    text = CONSUMPTION.replace(
        "    columns:",
        "    source:\n      header_row: 2\n      skip:\n        - {column: Order, values: [cancelled]}\n"
        "        - {column: Batch}\n    columns:",
    )
    export = write(
        tmp_path / "export.csv",
        """
        Report title,,,,
        Batch,Order,Qty,UoM,Posted
        R-1,WO-1,1,kg,04.03.2024 06:25
        R-2,CANCELLED,1,kg,04.03.2024 06:25
        ,WO-1,3,kg,
        ,,,,
        """,
    )
    checked = check_mapped(export, write(tmp_path / "m2.yaml", text))
    assert (checked.result.records, checked.skipped, checked.result.rejects) == (1, 2, [])
    assert checked.result.edges[0].provenance.line == 3


def test_malformed_csv_records_are_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.yaml", CONSUMPTION)
    export = write(tmp_path / "export.csv", 'Batch,Order,Qty,UoM,Posted\nR-1,"WO-1"x,1,kg,04.03.2024 06:25\n')
    rejects = parse_mapped(export, mapping).rejects
    assert len(rejects) == 1 and rejects[0].line == 2 and rejects[0].reason.startswith("malformed CSV")


def test_xlsx_rejects_name_sheet_and_row(tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Issues"
    sheet.append(["Batch", "Order", "Qty", "UoM", "Posted"])
    sheet.append(["R-1", "WO-1", 12.5, "KG", datetime(2024, 3, 4, 6, 25)])
    sheet.append(["R-2", "WO-1", "zwölf", "KG", datetime(2024, 3, 4, 6, 25)])
    sheet.append(["R-3", 153, 2, "KG", 45355.25])  # a serial date where the format wants text
    workbook.save(tmp_path / "export.xlsx")
    mapping = write(tmp_path / "m.yaml", CONSUMPTION.replace(', format: "%d.%m.%Y %H:%M"', ""))
    checked = check_mapped(tmp_path / "export.xlsx", mapping)
    assert checked.source == "export.xlsx!Issues"
    first = checked.result.edges[0]
    assert first.at == datetime(2024, 3, 4, 5, 25, tzinfo=UTC) and first.props == {"quantity": 12.5, "unit": "kg"}
    rejects = [(r.source, r.line, r.field) for r in checked.result.rejects]
    assert rejects == [("export.xlsx!Issues", 3, "Qty"), ("export.xlsx!Issues", 4, "Posted")]
    assert str(checked.result.rejects[0]).startswith("export.xlsx!Issues:3 [Qty]: not a number")

    excel = write(tmp_path / "excel.yaml", CONSUMPTION.replace('format: "%d.%m.%Y %H:%M"', "format: excel"))
    edges = parse_mapped(tmp_path / "export.xlsx", excel).edges
    assert edges[-1].at == datetime(2024, 3, 4, 5, 0, tzinfo=UTC) and edges[-1].target == "wo:153"


def test_unreadable_exports_are_one_reject(tmp_path: Path) -> None:
    mapping = write(tmp_path / "m.yaml", CONSUMPTION.replace("    columns:", "    source: {sheet: Nope}\n    columns:"))
    Workbook().save(tmp_path / "export.xlsx")
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    assert "no sheet 'Nope'" in parse_mapped(tmp_path / "export.xlsx", mapping).rejects[0].reason
    assert "not a readable XLSX workbook" in parse_mapped(tmp_path / "broken.xlsx", mapping).rejects[0].reason
    (tmp_path / "latin1.csv").write_bytes("Batch;Größe\n".encode("latin-1"))
    assert "not utf-8-sig text" in parse_mapped(tmp_path / "latin1.csv", mapping).rejects[0].reason
    assert parse_mapped(tmp_path / "absent.csv", mapping).rejects[0].reason == "no such file"
    assert "not a directory" in parse_mapped(tmp_path, mapping).rejects[0].reason


# -- through loaders and ingest -------------------------------------------------------------


def test_parse_paths_reads_the_mapping_once_and_refuses_a_bad_one(tmp_path: Path) -> None:
    export = MAPPINGS / "examples" / "wms-shipment-list.csv"
    result = parse_paths([export, export], mapping=MAPPINGS / "wms-shipment-list.yaml")
    assert len(result.edges) == 6 and not result.rejects
    with pytest.raises(MappingError):
        parse_paths([export], mapping=write(tmp_path / "bad.yaml", "name: x\n"))
    assert "--mapping" in parse_path(MAPPINGS / "examples" / "supplier-coa.xlsx").rejects[0].reason


def test_the_batch_hash_includes_the_mapping(tmp_path: Path) -> None:
    export = MAPPINGS / "examples" / "wms-shipment-list.csv"
    one = ingest.inputs_hash([export], partial=False, mapping=MAPPINGS / "wms-shipment-list.yaml")
    other = ingest.inputs_hash([export], partial=False, mapping=MAPPINGS / "wms-shipments.yaml")
    assert len({one, other, ingest.inputs_hash([export], partial=False)}) == 3

    store = SQLiteStore(tmp_path / "s.db")
    store.migrate()
    try:
        first = ingest.load_paths(store, [export], mapping=MAPPINGS / "wms-shipment-list.yaml")
        again = ingest.load_paths(store, [export], mapping=MAPPINGS / "wms-shipment-list.yaml")
        second = ingest.load_paths(store, [export], mapping=MAPPINGS / "wms-shipments.yaml")
        assert first.applied and not again.applied and second.applied
        assert store.stats().edges_by_type == {"DELIVERED_TO": 2, "SHIPPED_IN": 3}
    finally:
        store.close()


@pytest.mark.parametrize("module", [loaders.mapping, loaders.mapping.units])
def test_doctests(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


def test_the_reference_lists_every_shipped_mapping() -> None:
    text = (ROOT / "docs" / "reference" / "mappings.md").read_text(encoding="utf-8")
    for name in EXAMPLES:
        assert f"| `{name}` |" in text
