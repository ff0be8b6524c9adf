"""MA-coded (China IDcode) devices in the CSV format: ``devices.csv`` takes an MA DI instead of a
GTIN, and every file that names a device or lot takes its MA key or the scanned MA code."""

from __future__ import annotations

import csv
import io

import pytest

from loaders.base import ParseResult
from loaders.csvset import CSV_FILES, parse_csv_text
from schema.kinds import EdgeType, NodeKind

DI = "MA.156.M0.100888.100001017"
UNIT = f"ma/{DI}/21/IVS000000042"
LOT = f"ma/{DI}/10/24030501"
#: The unit's MA code as a scanner reads it off the label.
SCANNED = f"{DI}.SIVS000000042.M240305.L24030501.E270304"


def parse(name: str, **values: str) -> ParseResult:
    """One row of ``name``: the documented example with ``values`` changed (``""`` empties a field)."""
    row = {c.name: c.example for c in CSV_FILES[name].columns}
    row.update(values)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(list(row))
    writer.writerow(list(row.values()))
    return parse_csv_text(name, buffer.getvalue())


def test_a_device_with_an_ma_di_is_keyed_by_it() -> None:
    result = parse("devices.csv", gtin="", ma_di=DI.lower(), serial="IVS000000042", lot="24030501")
    assert result.rejects == []
    (device,) = result.nodes
    assert (device.kind, device.key) == (NodeKind.DEVICE, UNIT)
    assert device.props["di"] == DI and "gtin" not in device.props
    assert device.props["serial"] == "IVS000000042" and device.props["lot"] == "24030501"
    assert (EdgeType.INCLUDES, LOT, UNIT) in {(e.type, e.source, e.target) for e in result.edges}


@pytest.mark.parametrize(
    ("values", "field", "reason"),
    [
        ({"ma_di": DI}, "ma_di", "give the device identifier once: gtin or ma_di, not both"),
        ({"gtin": ""}, "gtin", "missing value: a device needs its gtin or, for an MA-coded device, its ma_di"),
        ({"gtin": "", "ma_di": "MA.156.M1.100888.100001017"}, "ma_di", "MA device identifier"),
        ({"gtin": "", "ma_di": "07612345000107"}, "ma_di", "MA device identifier '07612345000107' must look like"),
    ],
)
def test_a_device_needs_exactly_one_valid_identifier(values: dict[str, str], field: str, reason: str) -> None:
    result = parse("devices.csv", **values)
    assert result.nodes == [] and result.edges == []
    (reject,) = result.rejects
    assert (reject.source, reject.line, reject.field) == ("devices.csv", 2, field)
    assert reject.reason.startswith(reason), reject.reason


def test_an_ma_lot_carries_its_di_and_lot_number() -> None:
    result = parse("product_lots.csv", lot=LOT)
    assert result.rejects == []
    (lot,) = result.nodes
    assert (lot.kind, lot.key) == (NodeKind.PRODUCT_LOT, LOT)
    assert lot.props["di"] == DI and lot.props["lot"] == "24030501" and "gtin" not in lot.props


@pytest.mark.parametrize("written", [UNIT, SCANNED, f"ma/{DI.lower()}/21/IVS000000042"])
@pytest.mark.parametrize(
    ("name", "column", "edge"),
    [
        ("packing.csv", "item", EdgeType.PACKED_IN),
        ("shipment_contents.csv", "item", EdgeType.SHIPPED_IN),
        ("complaints.csv", "device", EdgeType.CONCERNS),
        ("inspections.csv", "target", EdgeType.INSPECTED),
    ],
)
def test_every_file_naming_a_device_takes_its_ma_key_or_scanned_code(
    name: str, column: str, edge: EdgeType, written: str
) -> None:
    result = parse(name, **{column: written})
    assert result.rejects == []
    (found,) = [e for e in result.edges if e.type is edge]
    assert UNIT in (found.source, found.target)


def test_a_scanned_lot_code_names_the_lot() -> None:
    result = parse("consumption.csv", lot=f"{DI}.L24030501")
    assert result.rejects == []
    assert [(e.type, e.source) for e in result.edges] == [(EdgeType.CONSUMED_BY, LOT)]
