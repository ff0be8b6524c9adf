"""NMPA UDI database (UDID) device-identifier records -> catalogue facts.

China's national UDI database (医疗器械唯一标识数据库, udi.nmpa.gov.cn) publishes one record per
device identifier (DI): the device's name, model and specification, its registrant and
registration number, its classification, the package hierarchy (package DI, level, how many
of the next level it holds) and which production identifiers its label carries. Its
downloads come as XML (``<udid><devices><device><zxxsdycpbs>…``) and, from the portal's
search, as Excel workbooks.

Each record becomes a ``Part`` node keyed by its DI, the same class key that the devices
and lots of that DI extend (``01/{GTIN-14}`` for GS1 codes, ``ma/{DI}`` for MA codes), so a
device scanned as ``01/{GTIN-14}/21/{serial}`` finds its UDID record by its DI. Each package
level becomes a ``Part`` node for the package DI and a ``COMPONENT_OF`` edge from the DI it
contains (prop ``quantity_per``). A record that cannot be read is rejected with its file,
row (the record's position) and reason; the others load.

Columns and XML elements use the database's own field names (``zxxsdycpbs``, ``ggxh`` …);
Excel headers may also be the Chinese labels (最小销售单元产品标识, 规格型号 …). See
docs/reference/udid.md.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from loaders.base import ParseResult, Reject
from schema.errors import InvalidKeyError
from schema.identifiers import ma_key, normalise_gtin
from schema.kinds import EdgeType, NodeKind
from schema.model import EdgeFact, NodeFact, Provenance

__all__ = ["DEVICE_FIELDS", "PACKING_FIELDS", "detect_udid", "parse_udid", "parse_udid_path"]

SOURCE_SYSTEM = "udid"

#: Device record fields: UDID field name -> (Chinese label, property written on the Part).
DEVICE_FIELDS: dict[str, tuple[str, str]] = {
    "zxxsdycpbs": ("最小销售单元产品标识", "di"),
    "cpbsbmtxmc": ("产品标识编码体系名称", "code_system"),
    "cpmctymc": ("产品名称/通用名称", "name"),
    "spmc": ("商品名称", "trade_name"),
    "ggxh": ("规格型号", "model"),
    "cpms": ("产品描述", "description"),
    "ylqxzcrbarmc": ("医疗器械注册人/备案人名称", "registrant"),
    "ylqxzcrbarywmc": ("医疗器械注册人/备案人英文名称", "registrant_en"),
    "tyshxydm": ("统一社会信用代码", "registrant_credit_code"),
    "zczbhhzbapzbh": ("注册证编号或者备案凭证编号", "registration_number"),
    "flbm": ("分类编码", "classification"),
    "qxlb": ("器械类别", "device_category"),
    "cplb": ("产品类别", "product_category"),
    "sydycpbs": ("使用单元产品标识", "use_unit_di"),
    "zxxsdyzsydydsl": ("最小销售单元中使用单元的数量", "use_units_per_sale_unit"),
    "scbssfbhph": ("生产标识是否包含批号", "label_has_lot"),
    "scbssfbhxlh": ("生产标识是否包含序列号", "label_has_serial"),
    "scbssfbhscrq": ("生产标识是否包含生产日期", "label_has_manufacture_date"),
    "scbssfbhsxrq": ("生产标识是否包含失效日期", "label_has_expiry_date"),
    "versionNumber": ("公开的版本号", "udid_version"),
    "versionTime": ("版本日期", "udid_version_time"),
}
#: Package hierarchy fields (``packingList/packing``, or an Excel sheet of packages).
PACKING_FIELDS: dict[str, tuple[str, str]] = {
    "bzcpbs": ("包装产品标识", "package_di"),
    "cpbzjb": ("产品包装级别", "packaging_level"),
    "bznhxyjbzcpbs": ("包装内含下一级包装产品标识", "contains_di"),
    "bznhxyjcpbssl": ("包装内含下一级产品标识数量", "quantity"),
}
#: Other spellings met in exports: header -> UDID field name.
_ALIASES = {
    "医疗器械唯一标识编码体系名称": "cpbsbmtxmc",
    "产品名称": "cpmctymc",
    "注册人/备案人名称": "ylqxzcrbarmc",
    "注册证编号": "zczbhhzbapzbh",
    "包装级别": "cpbzjb",
    "bznhxyjbzcpbssl": "bznhxyjcpbssl",
    "包装内含下一级包装产品标识数量": "bznhxyjcpbssl",
}
_LABEL_FIELDS = ("scbssfbhph", "scbssfbhxlh", "scbssfbhscrq", "scbssfbhsxrq")
_YES = frozenset({"是", "yes", "y", "true", "1"})
_NO = frozenset({"否", "no", "n", "false", "0"})
_HEADER_MARKERS = frozenset({"zxxsdycpbs", "最小销售单元产品标识"})
_ROOTS = frozenset({"udid", "devices", "device"})


def _field_names() -> dict[str, str]:
    """Every accepted header or element name (lower case) -> UDID field name."""
    names: dict[str, str] = {}
    for table in (DEVICE_FIELDS, PACKING_FIELDS):
        for field, (label, _prop) in table.items():
            names[field.lower()] = field
            names[label] = field
    names.update({alias.lower(): field for alias, field in _ALIASES.items()})
    return names


_NAMES = _field_names()


class UdidError(ValueError):
    """A record, or one of its values, that the loader cannot accept; says which field."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass
class Record:
    """One DI record as read, with where it was read from."""

    row: int
    values: dict[str, str]
    packing: list[dict[str, str]]
    text: str


# ------------------------------------------------------------------------- detection


def detect_udid(path: Path) -> bool:
    """Whether ``path`` is a UDID export: an XML file whose root is ``udid``, ``devices`` or
    ``device``, or a workbook whose first sheet has a ``zxxsdycpbs`` (最小销售单元产品标识) column."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".xml":
            with path.open("rb") as handle:
                for _event, element in etree.iterparse(
                    handle, events=("start",), resolve_entities=False, no_network=True
                ):
                    return etree.QName(element).localname in _ROOTS
        if suffix in (".xlsx", ".xlsm"):
            header = next(_sheet_rows(path.read_bytes(), first_only=True), [])
            return any(_header_name(cell) in _HEADER_MARKERS or cell.strip() in _HEADER_MARKERS for cell in header)
    except (OSError, etree.XMLSyntaxError, zipfile.BadZipFile, KeyError, ValueError):
        return False
    return False


def _header_name(cell: str) -> str:
    return cell.strip().lower()


# ------------------------------------------------------------------------------ read


def parse_udid_path(path: Path) -> ParseResult:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return ParseResult(rejects=[Reject(source=path.name, reason=f"cannot read: {exc.strerror}")])
    return parse_udid(data, source=path.name, excel=path.suffix.lower() in (".xlsx", ".xlsm"))


def parse_udid(data: bytes, *, source: str, excel: bool = False) -> ParseResult:
    """Facts of every acceptable DI record of a UDID export; a reject for every other."""
    try:
        records = list(_excel_records(data) if excel else _xml_records(data))
    except UdidError as exc:
        return ParseResult(rejects=[Reject(source=source, field=exc.field, reason=exc.reason)])
    result = ParseResult(records=len(records))
    for record in records:
        try:
            nodes, edges = _facts(record, source)
        except UdidError as exc:
            result.rejects.append(
                Reject(source=source, line=record.row, field=exc.field, reason=exc.reason, record=record.text[:2000])
            )
            continue
        result.nodes.extend(nodes)
        result.edges.extend(edges)
    return result


def _xml_records(data: bytes) -> Iterator[Record]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise UdidError(None, f"not well-formed XML: {exc.msg}") from exc
    if root.getroottree().docinfo.internalDTD is not None:
        raise UdidError(None, "XML with a DOCTYPE declaration is refused: UDID exports never need one")
    kind = etree.QName(root).localname
    if kind not in _ROOTS:
        raise UdidError(None, f"<{kind}> is not a UDID export (expected <udid>, <devices> or <device>)")
    devices = [root] if kind == "device" else [e for e in root.iter() if _local(e) == "device"]
    for row, device in enumerate(devices, start=1):
        values = {}
        for child in device:
            name = _NAMES.get(_local(child).lower())
            if name in DEVICE_FIELDS:
                values[name] = (child.text or "").strip()
        packing = [
            {field: (child.text or "").strip() for child in package if (field := _NAMES.get(_local(child).lower()))}
            for package in device.iter()
            if _local(package) == "packing"
        ]
        yield Record(row, values, packing, etree.tostring(device, encoding="unicode"))


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _sheet_rows(data: bytes, *, first_only: bool = False) -> Iterator[list[str]]:
    """Rows of the first sheet (or, with ``first_only``, only its header) as text."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True, max_row=1 if first_only else None):
            yield [_cell(value) for value in values]
    finally:
        workbook.close()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel keeps numbers as floats: a DI typed as a number
    return str(value).strip()


def _header(row: list[str], sheet: str) -> list[str | None]:
    header = [_NAMES.get(_header_name(cell)) or _NAMES.get(cell.strip()) for cell in row]
    if "zxxsdycpbs" not in header:
        raise UdidError(
            "zxxsdycpbs", f"sheet {sheet!r} has no zxxsdycpbs (最小销售单元产品标识) column: not a UDID export"
        )
    return header


def _excel_records(data: bytes) -> Iterator[Record]:
    """The device sheet (the first), and a package sheet (named 包装信息 or packing) if any,
    whose rows name their record by its zxxsdycpbs."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise UdidError(None, f"not an Excel workbook (.xlsx): {exc}") from exc
    try:
        sheets = workbook.worksheets
        devices = [[_cell(v) for v in row] for row in sheets[0].iter_rows(values_only=True)]
        packing_sheet = next((s for s in sheets[1:] if "包装" in s.title or "packing" in s.title.lower()), None)
        packages = (
            [[_cell(v) for v in row] for row in packing_sheet.iter_rows(values_only=True)] if packing_sheet else []
        )
    finally:
        workbook.close()
    if not devices:
        raise UdidError(None, "the workbook's first sheet is empty")
    by_di: dict[str, list[dict[str, str]]] = {}
    if packages:
        assert packing_sheet is not None
        header = _header(packages[0], packing_sheet.title)
        for row in packages[1:]:
            values = {name: value for name, value in zip(header, row, strict=False) if name and value}
            if values:
                by_di.setdefault(values.get("zxxsdycpbs", ""), []).append(values)
    header = _header(devices[0], sheets[0].title)
    for number, row in enumerate(devices[1:], start=2):  # row 1 is the header: rows as Excel numbers them
        if not any(row):
            continue
        values = {name: value for name, value in zip(header, row, strict=False) if name in DEVICE_FIELDS and value}
        packing = by_di.get(values.get("zxxsdycpbs", ""), [])
        yield Record(number, values, packing, "\t".join(row))


# ----------------------------------------------------------------------------- facts


def _di_key(di: str, code_system: str, field: str) -> str:
    """The class key of a DI in the code system the record names (GS1, MA; AHM refused)."""
    system = code_system.strip().upper()
    if not di:
        raise UdidError(field, "no device identifier")
    if system.startswith("AHM") or di.upper().startswith("AHM"):
        raise UdidError(field, f"AHM DI {di!r}: AHM codes are not supported yet (the format is not public)")
    try:
        if system.startswith("MA") or di.startswith("MA."):
            return ma_key(di)
        if system in ("", "GS1", "GS1 CHINA") and di.isdigit():
            return f"01/{normalise_gtin(di)}"
    except InvalidKeyError as exc:
        raise UdidError(field, f"{di!r}: {exc}") from exc
    raise UdidError(field, f"DI {di!r} in code system {code_system or 'unnamed'!r} (expected a GS1 GTIN or an MA code)")


def _flag(field: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _YES:
        return True
    if lowered in _NO:
        return False
    raise UdidError(field, f"{field} ({DEVICE_FIELDS[field][0]}) must be 是 or 否, got {value!r}")


def _count(field: str, value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise UdidError(
            field,
            f"{field} ({PACKING_FIELDS.get(field, DEVICE_FIELDS.get(field, ('',)))[0]}) "
            f"must be a whole number of at least 1, got {value!r}",
        )
    return count


def _facts(record: Record, source: str) -> tuple[list[NodeFact], list[EdgeFact]]:
    values = record.values
    code_system = values.get("cpbsbmtxmc", "")
    key = _di_key(values.get("zxxsdycpbs", ""), code_system, "zxxsdycpbs")
    props: dict[str, object] = {"source_catalogue": "NMPA UDID"}
    for field, (_label, prop) in DEVICE_FIELDS.items():
        value = values.get(field)
        if not value:
            continue
        if field in _LABEL_FIELDS:
            props[prop] = _flag(field, value)
        elif field == "zxxsdyzsydydsl":
            props[prop] = _count(field, value)
        else:
            props[prop] = value
    props["label_production_identifiers"] = ", ".join(
        name
        for field, name in zip(_LABEL_FIELDS, ("lot", "serial", "manufacture_date", "expiry_date"), strict=True)
        if props.get(DEVICE_FIELDS[field][1]) is True
    )
    provenance = Provenance(
        source_system=SOURCE_SYSTEM,
        source=source,
        line=record.row,
        record_id=values.get("zxxsdycpbs"),
        record_hash=hashlib.sha256(record.text.encode("utf-8")).hexdigest(),
    )
    nodes = [NodeFact(key=key, kind=NodeKind.PART, props=props, provenance=provenance)]
    edges: list[EdgeFact] = []
    for package in record.packing:
        package_key = _di_key(package.get("bzcpbs", ""), code_system, "bzcpbs")
        contains = package.get("bznhxyjbzcpbs") or values.get("zxxsdycpbs", "")
        contains_key = _di_key(contains, code_system, "bznhxyjbzcpbs")
        quantity = _count("bznhxyjcpbssl", package.get("bznhxyjcpbssl", ""))
        level = package.get("cpbzjb", "")
        nodes.append(
            NodeFact(
                key=package_key,
                kind=NodeKind.PART,
                props={"source_catalogue": "NMPA UDID", "packaging_level": level, "package_of": key},
                provenance=provenance,
            )
        )
        edges.append(
            EdgeFact(
                type=EdgeType.COMPONENT_OF,
                source=contains_key,
                target=package_key,
                props={"quantity_per": quantity, "packaging_level": level},
                provenance=provenance,
            )
        )
    return nodes, edges
