"""The CSV format loader: every file parses, every bad record is rejected precisely."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loaders.base import ParseResult
from loaders.csvset import CSV_FILES, CsvFile, parse_csv_path, parse_csv_text
from loaders.csvset.fields import plain_gs1_key
from loaders.csvset.reference import file_section
from schema.errors import InvalidKeyError
from schema.identifiers import canonical_key, gs1_check_digit
from schema.kinds import EdgeType, NodeKind
from schema.model import EdgeFact, NodeFact

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "csv-format.md"
SPECS = list(CSV_FILES.values())


def csv_text(header: list[str], *rows: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def example(spec: CsvFile, **changes: str) -> str:
    """The file's documented example row (header + one row), with some fields changed."""
    values = {c.name: c.example for c in spec.columns}
    values.update(changes)
    return csv_text(list(values), list(values.values()))


def parse_example(name: str, **changes: str) -> ParseResult:
    return parse_csv_text(name, example(CSV_FILES[name], **changes))


def only_reject(result: ParseResult) -> tuple[int | None, str | None, str]:
    assert len(result.rejects) == 1, [str(r) for r in result.rejects]
    reject = result.rejects[0]
    return reject.line, reject.field, reject.reason


def key_error(text: str) -> str:
    with pytest.raises(InvalidKeyError) as caught:
        canonical_key(text)
    return str(caught.value)


# -- every file, from its documented example --------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_file_parses_its_documented_example(spec: CsvFile) -> None:
    result = parse_csv_text(spec.name, example(spec))
    assert result.rejects == []
    assert result.records == 1
    facts: list[NodeFact | EdgeFact] = [*result.nodes, *result.edges]
    assert facts
    assert {(f.provenance.source_system, f.provenance.source, f.provenance.line) for f in facts} == {
        ("csv", spec.name, 2)
    }


#: What each file's example row becomes: nodes (kind, key) and edges (type, source, target).
EXPECTED_FACTS: dict[str, tuple[list[tuple[NodeKind, str]], list[tuple[EdgeType, str, str]]]] = {
    "suppliers.csv": ([(NodeKind.SUPPLIER, "supplier:SUP-001")], []),
    "parts.csv": ([(NodeKind.PART, "part:FG-IVS")], []),
    "bom.csv": ([], [(EdgeType.COMPONENT_OF, "part:CMP-DCH", "part:SA-DCA")]),
    "receipts.csv": (
        [(NodeKind.MATERIAL_LOT, "lot:R-000123")],
        [
            (EdgeType.SUPPLIED, "supplier:SUP-001", "lot:R-000123"),
            (EdgeType.OF_PART, "lot:R-000123", "part:RM-PVC"),
        ],
    ),
    "equipment.csv": ([(NodeKind.EQUIPMENT, "equipment:EXT-01")], []),
    "calibrations.csv": (
        [(NodeKind.INSPECTION, "inspection:CAL-000042")],
        [(EdgeType.INSPECTED, "inspection:CAL-000042", "equipment:EXT-01")],
    ),
    "work_orders.csv": ([(NodeKind.WORK_ORDER, "wo:WO-000153")], []),
    "consumption.csv": ([], [(EdgeType.CONSUMED_BY, "lot:R-000123", "wo:WO-000153")]),
    "equipment_use.csv": ([], [(EdgeType.USED_IN, "equipment:EXT-01", "wo:WO-000153")]),
    "product_lots.csv": (
        [(NodeKind.PRODUCT_LOT, "01/07612345000107/10/L240305-01")],
        [
            (EdgeType.PRODUCED, "wo:WO-000153", "01/07612345000107/10/L240305-01"),
            (EdgeType.OF_PART, "01/07612345000107/10/L240305-01", "part:FG-IVS"),
        ],
    ),
    "devices.csv": (
        [(NodeKind.DEVICE, "01/07612345000107/21/IVS000012345")],
        [
            (EdgeType.INCLUDES, "01/07612345000107/10/L240305-01", "01/07612345000107/21/IVS000012345"),
            (EdgeType.PRODUCED, "wo:WO-000153", "01/07612345000107/21/IVS000012345"),
        ],
    ),
    "packing.csv": (
        [(NodeKind.CONTAINER, "00/076123450000001234")],
        [(EdgeType.PACKED_IN, "01/07612345000107/21/IVS000012345", "00/076123450000001234")],
    ),
    "shipments.csv": (
        [(NodeKind.SHIPMENT, "shipment:SH-0000042")],
        [(EdgeType.DELIVERED_TO, "shipment:SH-0000042", "414/4012345000016")],
    ),
    "shipment_contents.csv": ([], [(EdgeType.SHIPPED_IN, "00/076123450000009872", "shipment:SH-0000042")]),
    "consignees.csv": ([(NodeKind.CONSIGNEE, "414/4012345000016")], []),
    "inspections.csv": (
        [(NodeKind.INSPECTION, "inspection:INC-000017")],
        [(EdgeType.INSPECTED, "inspection:INC-000017", "lot:R-000123")],
    ),
    "complaints.csv": (
        [(NodeKind.COMPLAINT, "complaint:CMP-000007")],
        [(EdgeType.CONCERNS, "complaint:CMP-000007", "01/07612345000107/21/IVS000012345")],
    ),
    "process_data.csv": (
        [(NodeKind.PROCESS_RUN, "run:PR-000001")],
        [
            (EdgeType.INSPECTED, "run:PR-000001", "equipment:EXT-01"),
            (EdgeType.INSPECTED, "run:PR-000001", "wo:WO-000153"),
        ],
    ),
}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_each_file_maps_to_the_facts_of_the_design(spec: CsvFile) -> None:
    result = parse_csv_text(spec.name, example(spec))
    nodes, edges = EXPECTED_FACTS[spec.name]
    assert [(n.kind, n.key) for n in result.nodes] == nodes
    assert [(e.type, e.source, e.target) for e in result.edges] == edges


def test_interval_and_event_times_land_on_the_edges() -> None:
    packing = parse_example("packing.csv").edges[0]
    assert packing.at == datetime(2024, 3, 6, 8, tzinfo=UTC)
    assert packing.until == datetime(2024, 3, 11, 13, 20, tzinfo=UTC)
    use = parse_example("equipment_use.csv").edges[0]
    assert (use.at, use.until) == (datetime(2024, 3, 4, 6, 20, tzinfo=UTC), datetime(2024, 3, 4, 18, 5, tzinfo=UTC))
    still_inside = parse_example("packing.csv", unpacked_at="").edges[0]
    assert still_inside.until is None
    delivered = parse_example("shipments.csv").edges[0]
    assert delivered.at == datetime(2024, 3, 10, 9, 30, tzinfo=UTC)
    consumed = parse_example("consumption.csv").edges[0]
    assert consumed.props == {"quantity": 12.5, "unit": "kg"}


def test_calibrations_are_inspections_of_type_calibration() -> None:
    result = parse_example("calibrations.csv", result="Out-of-Tolerance")
    assert result.nodes[0].props["type"] == "calibration"
    assert result.nodes[0].props["result"] == "out_of_tolerance"
    assert result.nodes[0].props["next_due"] == "2024-07-30"


def test_props_leave_out_what_is_not_given() -> None:
    # An empty optional field must not erase what another source said about the node.
    result = parse_example("suppliers.csv", country="", status="")
    assert result.nodes[0].props == {"name": "Polymed Compounds GmbH"}


def test_inspection_measurements_are_read_as_numbers() -> None:
    result = parse_example("inspections.csv", measurements=" od_mm = 4.10 ; flash=0 ;")
    assert result.nodes[0].props["measurements"] == {"od_mm": 4.1, "flash": 0}


def test_a_container_is_stated_once_per_file() -> None:
    spec = CSV_FILES["packing.csv"]
    text = csv_text(
        list(spec.column_names),
        ["01/07612345000107/21/A1", "00/076123450000001234", "2024-03-06T08:00:00Z", "", "case"],
        ["01/07612345000107/21/A2", "00/076123450000001234", "2024-03-06T08:00:00Z", "", "case"],
        ["01/07612345000107/21/A3", "00/076123450000001234", "2024-03-06T08:00:00Z", "", ""],
    )
    result = parse_csv_text("packing.csv", text)
    assert [n.key for n in result.nodes] == ["00/076123450000001234"]
    assert len(result.edges) == 3


# -- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "column", "written", "canonical"),
    [
        ("packing.csv", "item", "(01)07612345000107(21)IVS000012345", "01/07612345000107/21/IVS000012345"),
        ("packing.csv", "item", "urn:epc:id:sgtin:7612345.000010.IVS000012345", "01/07612345000107/21/IVS000012345"),
        (
            "packing.csv",
            "item",
            "https://id.gs1.org/01/07612345000107/21/IVS000012345",
            "01/07612345000107/21/IVS000012345",
        ),
        ("packing.csv", "container", "(00)076123450000001234", "00/076123450000001234"),
        ("packing.csv", "container", "urn:epc:id:sscc:7612345.0000000123", "00/076123450000001234"),
        ("consumption.csv", "lot", "(01)07612345000107(10)L240305-01", "01/07612345000107/10/L240305-01"),
        ("consumption.csv", "lot", "urn:epc:class:lgtin:7612345.000010.L240305-01", "01/07612345000107/10/L240305-01"),
        ("consignees.csv", "consignee", "(414)4012345000016", "414/4012345000016"),
        ("consignees.csv", "consignee", "urn:epc:id:sgln:4012345.00001.0", "414/4012345000016"),
        ("suppliers.csv", "supplier", "Supplier: SUP-001", "supplier:SUP-001"),
    ],
)
def test_any_accepted_key_form_is_stored_canonical(file: str, column: str, written: str, canonical: str) -> None:
    result = parse_example(file, **{column: written})
    assert result.rejects == []
    keys = {n.key for n in result.nodes} | {k for e in result.edges for k in (e.source, e.target)}
    assert canonical in keys
    assert written not in keys


@pytest.mark.parametrize(
    ("file", "column", "written"),
    [
        ("packing.csv", "container", "00/076123450000001235"),  # SSCC check digit
        ("packing.csv", "item", "01/07612345000108/21/X"),  # GTIN check digit
        ("shipments.csv", "consignee", "414/4012345000017"),  # GLN check digit
        ("consumption.csv", "lot", "batch:42"),  # unknown prefix
        ("work_orders.csv", "work_order", "WO-000153"),  # bare code
    ],
)
def test_a_bad_key_is_rejected_with_the_identifier_error(file: str, column: str, written: str) -> None:
    line, field, reason = only_reject(parse_example(file, **{column: written}))
    assert (line, field) == (2, column)
    assert reason.startswith(key_error(written))


def test_a_bare_code_gets_a_hint_with_the_columns_kind() -> None:
    _line, _field, reason = only_reject(parse_example("work_orders.csv", work_order="WO-000153"))
    assert reason.endswith("(a natural key carries its kind, e.g. wo:WO-000153)")


def test_a_key_of_the_wrong_kind_is_rejected() -> None:
    line, field, reason = only_reject(parse_example("receipts.csv", supplier="lot:R-000001"))
    assert (line, field) == (2, "supplier")
    assert reason == "lot:R-000001 is a MaterialLot key; this column takes a Supplier"


def test_a_serial_outside_gs1_rules_is_rejected() -> None:
    line, field, reason = only_reject(parse_example("devices.csv", serial="S" * 21))
    assert (line, field) == (2, "serial")
    assert "(21)" in reason


def test_a_serial_with_reserved_characters_is_kept_exactly() -> None:
    result = parse_example("devices.csv", serial="A/B+1")
    assert result.rejects == []
    assert result.nodes[0].key == "01/07612345000107/21/A%2FB%2B1"
    assert result.nodes[0].props["serial"] == "A/B+1"


_GS1_VALUE = st.text(alphabet="ABCxyz019._-", min_size=1, max_size=22)


@given(
    body=st.text(alphabet="0123456789", min_size=13, max_size=13),
    value=_GS1_VALUE,
    ai=st.sampled_from(["21", "10"]),
    wrong=st.booleans(),
)
def test_the_plain_gs1_fast_path_agrees_with_canonical_key(body: str, value: str, ai: str, wrong: bool) -> None:
    check = gs1_check_digit(body)
    if wrong:
        check = str((int(check) + 1) % 10)
    for text in (f"01/{body}{check}/{ai}/{value}", f"00/{body}{check}0000", f"414/{body[:12]}{check}"):
        fast = plain_gs1_key(text)
        if fast is None:
            continue
        assert canonical_key(text) == fast


# -- field values --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "column", "written", "reason"),
    [
        (
            "packing.csv",
            "packed_at",
            "yesterday",
            "not an ISO 8601 time: 'yesterday' (write e.g. 2024-03-05T14:30:00Z)",
        ),
        ("packing.csv", "packed_at", "2024-03-06", "'2024-03-06' is a date without a time of day"),
        ("receipts.csv", "quantity", "-5", "negative quantity: -5"),
        ("receipts.csv", "quantity", "lots", "not a number: 'lots'"),
        ("receipts.csv", "quantity", "inf", "not a finite number: 'inf'"),
        ("equipment.csv", "calibration_interval_days", "1.5", "not a whole number: '1.5'"),
        (
            "calibrations.csv",
            "result",
            "drifted",
            "unknown value 'drifted'; expected one of pass, fail, out_of_tolerance",
        ),
        ("inspections.csv", "inspection_type", "audit", "unknown value 'audit'; expected one of incoming, in_process"),
        ("complaints.csv", "severity", "urgent", "unknown value 'urgent'; expected one of low, medium, high, critical"),
        ("inspections.csv", "measurements", "od_mm", "measurement 'od_mm' is not written name=value"),
        ("inspections.csv", "measurements", "od_mm=thin", "measurement 'od_mm' has a value that is not a number"),
        ("inspections.csv", "measurements", "a=1;a=2", "measurement 'a' is given twice"),
        ("product_lots.csv", "manufactured", "05.03.2024", "not a date written YYYY-MM-DD: '05.03.2024'"),
        ("product_lots.csv", "manufactured", "2024-02-30", "not a valid date: '2024-02-30'"),
        ("devices.csv", "gtin", "07612345000108", "GTIN 07612345000108 has check digit 8, expected 7"),
        ("devices.csv", "gtin", "761234500010", "GTIN 761234500010 has check digit 0"),
        ("parts.csv", "gtin", "0761234500010A", "GTIN '0761234500010A' must contain only the digits 0-9"),
    ],
)
def test_a_bad_field_is_rejected_with_line_column_and_reason(file: str, column: str, written: str, reason: str) -> None:
    result = parse_example(file, **{column: written})
    line, field, found = only_reject(result)
    assert (line, field) == (2, column)
    assert found.startswith(reason)
    assert result.nodes == [] and result.edges == []


@pytest.mark.parametrize(
    ("spec", "column"),
    [(s, c.name) for s in SPECS for c in s.columns if c.required],
    ids=lambda v: v.name if isinstance(v, CsvFile) else v,
)
def test_a_missing_required_value_is_rejected(spec: CsvFile, column: str) -> None:
    result = parse_csv_text(spec.name, example(spec, **{column: "  "}))
    assert only_reject(result) == (2, column, "missing value")
    assert result.nodes == [] and result.edges == []


@pytest.mark.parametrize(
    ("file", "changes", "field", "reason"),
    [
        (
            "packing.csv",
            {"unpacked_at": "2024-03-06T07:59:59Z"},
            "unpacked_at",
            "unpacked_at 2024-03-06T07:59:59Z is before packed_at 2024-03-06T08:00:00Z",
        ),
        ("equipment_use.csv", {"to": "2024-03-04T06:00:00Z"}, "to", "to 2024-03-04T06:00:00Z is before from"),
        (
            "shipments.csv",
            {"delivered_at": "2024-03-08T15:00:00+00:00"},
            "delivered_at",
            "delivered_at 2024-03-08T15:00:00Z is before shipped_at 2024-03-08T16:00:00Z",
        ),
        ("work_orders.csv", {"finished_at": "2024-03-04T06:00:00Z"}, "finished_at", "finished_at"),
        ("work_orders.csv", {"planned_finish": "2024-03-03T06:00:00Z"}, "planned_finish", "planned_finish"),
        ("product_lots.csv", {"expiry": "2024-03-04"}, "expiry", "expiry 2024-03-04 is before manufactured 2024-03-05"),
        ("devices.csv", {"expiry": "2024-01-01"}, "expiry", "expiry 2024-01-01 is before manufactured 2024-03-04"),
        (
            "calibrations.csv",
            {"next_due": "2024-01-31"},
            "next_due",
            "next_due 2024-01-31 is before calibrated_at 2024-02-01",
        ),
        (
            "packing.csv",
            {"item": "00/076123450000001234"},
            "container",
            "00/076123450000001234 cannot be packed into itself",
        ),
        ("bom.csv", {"part": "part:SA-DCA"}, "part", "part:SA-DCA cannot be a component of itself"),
    ],
)
def test_a_row_whose_fields_contradict_each_other_is_rejected(
    file: str, changes: dict[str, str], field: str, reason: str
) -> None:
    result = parse_example(file, **changes)
    line, found_field, found = only_reject(result)
    assert (line, found_field) == (2, field)
    assert found.startswith(reason)
    assert result.nodes == [] and result.edges == []


def test_every_bad_field_of_a_row_is_reported() -> None:
    result = parse_example("packing.csv", item="", packed_at="soon", container="lot:R-1")
    assert sorted((r.line, r.field) for r in result.rejects) == [
        (2, "container"),
        (2, "item"),
        (2, "packed_at"),
    ]


def test_times_are_stored_in_utc() -> None:
    with_offset = parse_example("packing.csv", packed_at="2024-03-06T09:00:00+01:00", unpacked_at="")
    naive = parse_example("packing.csv", packed_at="2024-03-06 08:00", unpacked_at="")
    expected = datetime(2024, 3, 6, 8, tzinfo=UTC)
    assert with_offset.edges[0].at == naive.edges[0].at == expected


def test_choices_ignore_case_and_dashes() -> None:
    result = parse_example("inspections.csv", inspection_type="In-Process", result="PASS")
    assert (result.nodes[0].props["type"], result.nodes[0].props["result"]) == ("in_process", "pass")


# -- file structure -------------------------------------------------------------------------------


def test_a_missing_required_column_is_reported_once_and_no_row_loads() -> None:
    text = "item,packed_at\n" + "01/07612345000107/21/A1,2024-03-06T08:00:00Z\n" * 3
    result = parse_csv_text("packing.csv", text)
    assert [(r.line, r.field, r.reason) for r in result.rejects] == [(1, "container", "required column missing")]
    assert result.records == 3
    assert result.edges == []


def test_unknown_and_duplicate_columns_are_rejected_but_extension_columns_are_not() -> None:
    spec = CSV_FILES["suppliers.csv"]
    text = csv_text(
        ["supplier", "name", "contry", "x_erp_id", "name"], ["supplier:S1", "Acme", "DE", "4711", "Acme again"]
    )
    result = parse_csv_text(spec.name, text)
    assert [(r.line, r.field) for r in result.rejects] == [(1, "contry"), (1, "name")]
    assert result.rejects[0].reason.startswith("unknown column; expected supplier, name, country, status")
    assert result.rejects[1].reason == "column appears twice in the header"
    assert [n.props for n in result.nodes] == [{"name": "Acme"}]


def test_header_names_are_case_insensitive_in_any_order_and_optional_ones_may_be_left_out() -> None:
    result = parse_csv_text(
        "packing.csv", "Packed_At , ITEM,container\n2024-03-06T08:00:00Z,wo:W1,00/076123450000001234\n"
    )
    assert only_reject(result) == (2, "item", "wo:W1 is a WorkOrder key; this column takes a Device or Container")
    result = parse_csv_text(
        "packing.csv", "Packed_At , ITEM,container\n2024-03-06T08:00:00Z,00/076123450000009872,00/076123450000001234\n"
    )
    assert result.rejects == []
    assert result.edges[0].until is None


def test_a_row_with_the_wrong_number_of_fields_is_rejected() -> None:
    text = "supplier,name\nsupplier:S1,Acme,DE\nsupplier:S2\nsupplier:S3,Ok\n"
    result = parse_csv_text("suppliers.csv", text)
    assert [(r.line, r.reason) for r in result.rejects] == [
        (2, "the row has 3 fields, the header 2"),
        (3, "the row has 1 fields, the header 2"),
    ]
    assert [n.key for n in result.nodes] == ["supplier:S3"]


def test_line_numbers_count_physical_lines_and_blank_lines_are_skipped() -> None:
    lines = [
        "\ufeffsupplier,name\n",  # 1: header, after a byte order mark
        'supplier:S1,"Acme\nwith a line break"\n',  # 2-3: one record on two lines
        "\n",  # 4: blank
        ",\n",  # 5: all fields empty
        "supplier:S2,Beta\r\n",  # 6
        "S3,Gamma\n",  # 7: a bad key
    ]
    text = "".join(lines)
    result = parse_csv_text("suppliers.csv", text)
    assert [(n.key, n.provenance.line) for n in result.nodes] == [("supplier:S1", 2), ("supplier:S2", 6)]
    assert [(r.line, r.field) for r in result.rejects] == [(7, "supplier")]
    assert result.rejects[0].record == "S3,Gamma"
    assert result.records == 3
    assert result.nodes[0].props["name"] == "Acme\nwith a line break"


def test_provenance_hashes_the_record_as_it_stands_in_the_file() -> None:
    text = 'supplier,name\nsupplier:S1,"Acme, Inc."\r\n'
    fact = parse_csv_text("suppliers.csv", text).nodes[0]
    assert fact.provenance.record_hash == hashlib.sha256(b'supplier:S1,"Acme, Inc."').hexdigest()
    assert fact.provenance.source_system == "csv"


def test_stray_and_unterminated_quotes_are_rejected() -> None:
    result = parse_csv_text("suppliers.csv", 'supplier,name\nsupplier:S1,"Ac"me\nsupplier:S2,Beta\nsupplier:S3,"Gam\n')
    assert [n.key for n in result.nodes] == ["supplier:S2"]
    assert [(r.line, r.reason) for r in result.rejects] == [
        (2, "malformed CSV: ',' expected after '\"'"),
        (4, "malformed CSV: unexpected end of data"),
    ]


def test_an_empty_file_is_rejected() -> None:
    assert only_reject(parse_csv_text("suppliers.csv", "")) == (
        1,
        None,
        "empty file: the header line is missing",
    )


# -- paths --------------------------------------------------------------------------------------------


def test_a_directory_loads_every_recognised_file_and_rejects_strangers(tmp_path: Path) -> None:
    (tmp_path / "suppliers.csv").write_text(example(CSV_FILES["suppliers.csv"]), encoding="utf-8")
    (tmp_path / "packing.csv").write_text(example(CSV_FILES["packing.csv"]), encoding="utf-8")
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / "README.md").write_text("notes", encoding="utf-8")
    (tmp_path / "device.csv").write_text("gtin,serial\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("", encoding="utf-8")
    result = parse_csv_path(tmp_path)
    assert sorted(r.source for r in result.rejects) == ["device.csv", "notes.txt"]
    assert all(r.reason.startswith("not a recognised file of the CSV format") for r in result.rejects)
    # Catalogue first, whatever the directory order.
    assert [n.kind for n in result.nodes] == [NodeKind.SUPPLIER, NodeKind.CONTAINER]
    assert result.records == 2


def test_a_single_file_loads_and_a_stranger_or_missing_path_is_a_reject(tmp_path: Path) -> None:
    path = tmp_path / "consignees.csv"
    path.write_text(example(CSV_FILES["consignees.csv"]), encoding="utf-8")
    assert [n.key for n in parse_csv_path(path).nodes] == ["414/4012345000016"]
    stranger = tmp_path / "customers.csv"
    stranger.write_text("x\n", encoding="utf-8")
    assert only_reject(parse_csv_path(stranger))[2].startswith("not a recognised file")
    assert only_reject(parse_csv_path(tmp_path / "nothing"))[2] == "no such file or directory"


def test_a_file_that_is_not_utf8_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "suppliers.csv").write_bytes("supplier,name\nsupplier:S1,Müller\n".encode("latin-1"))
    result = parse_csv_path(tmp_path / "suppliers.csv")
    assert result.rejects[0].reason.startswith("not UTF-8 text")


# -- the reference document -----------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_the_reference_document_shows_every_file_as_the_loader_reads_it(spec: CsvFile) -> None:
    assert file_section(spec) in DOC.read_text(encoding="utf-8"), (
        f"docs/reference/csv-format.md is out of date for {spec.name}: paste "
        "loaders.csvset.reference.file_section(CSV_FILES[name]) in"
    )
