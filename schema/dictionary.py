"""The data dictionary: every node kind, edge type and fact field, with meaning, type and unit.

``tracegraph dictionary`` prints it as Markdown (committed as
docs/reference/data-dictionary.md, which a test regenerates and compares) or as a JSON
Schema. It is generated from the schema itself: the enums of :mod:`schema.kinds`, the
pydantic models of :mod:`schema.model`, the key forms of :mod:`schema.identifiers`
(each example is canonicalised while generating, so the table cannot drift), and the
columns of the native CSV format. ``schema`` imports nothing else of the project, so the
CSV files are handed in by the caller (any objects shaped like ``loaders.csvset.CsvFile``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from schema.identifiers import canonical_key, key_kind
from schema.kinds import (
    EVIDENCE_EDGES,
    FLOW_EDGES,
    INTERVAL_EDGES,
    KEY_PREFIXES,
    TERMINAL_KINDS,
    EdgeType,
    NodeKind,
)
from schema.model import EdgeFact, EdgeOp, NodeFact, Provenance

__all__ = ["EDGE_TYPES", "NODE_KINDS", "ColumnDoc", "EdgeDoc", "FileDoc", "json_schema", "markdown"]


class ColumnDoc(Protocol):
    """What the dictionary reads of a CSV column (``loaders.csvset.Column``)."""

    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def required(self) -> bool: ...
    @property
    def meaning(self) -> str: ...
    @property
    def example(self) -> str: ...
    @property
    def kinds(self) -> tuple[NodeKind, ...]: ...
    @property
    def choices(self) -> tuple[str, ...]: ...
    @property
    def type_text(self) -> str: ...


class FileDoc(Protocol):
    """What the dictionary reads of a CSV file (``loaders.csvset.CsvFile``)."""

    @property
    def name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def row(self) -> str: ...
    @property
    def facts(self) -> str: ...
    @property
    def columns(self) -> Sequence[ColumnDoc]: ...


# ------------------------------------------------------------------------------- meanings

NODE_KINDS: dict[NodeKind, str] = {
    NodeKind.SUPPLIER: "A company that supplies raw materials or components",
    NodeKind.PART: "A part number of the item master (raw material, component, subassembly, finished device), "
    "or a GS1 trade item (GTIN) or HIBCC/MA device identifier without lot or serial",
    NodeKind.MATERIAL_LOT: "A received lot of a raw material or purchased component",
    NodeKind.PRODUCT_LOT: "A lot made by a work order: an internal component or subassembly lot, or a finished "
    "device lot (GS1/HIBCC/MA lot)",
    NodeKind.DEVICE: "One serialised unit (GTIN + serial, or HIBCC/MA + serial)",
    NodeKind.CONTAINER: "A logistic unit that holds items for a while: a case or pallet (SSCC), or a serialised "
    "item other records show holding items",
    NodeKind.EQUIPMENT: "A machine, tool or instrument work orders run on",
    NodeKind.WORK_ORDER: "A production order: consumes lots, runs on equipment, produces lots or devices",
    NodeKind.INSPECTION: "A quality inspection or calibration record, with result and measurements",
    NodeKind.PROCESS_RUN: "A recorded process parameter series (for drift and SPC signals)",
    NodeKind.SHIPMENT: "A shipment from a site to a consignee",
    NodeKind.CONSIGNEE: "A location or party: a site, distributor warehouse, hospital (GLN or code)",
    NodeKind.COMPLAINT: "A complaint about a device",
    NodeKind.NONCONFORMANCE: "A recorded nonconformance",
    NodeKind.CAPA: "A corrective and preventive action",
    NodeKind.CHANGE_RECORD: "A change to a part, process or equipment",
    NodeKind.EVENT: "A source event (EPCIS or other) kept as evidence of the facts it states",
    NodeKind.ALERT: "An early-warning alert raised by a rule over risk signals",
    NodeKind.TASK: "An assigned task that follows up an alert",
}


class EdgeDoc(typing.NamedTuple):
    meaning: str
    source: str
    target: str


EDGE_TYPES: dict[EdgeType, EdgeDoc] = {
    EdgeType.SUPPLIED: EdgeDoc(
        "The supplier delivered the lot (at: received); props quantity, unit", "Supplier", "MaterialLot"
    ),
    EdgeType.CONSUMED_BY: EdgeDoc(
        "The lot was issued to the work order (at: consumed); props quantity, unit",
        "MaterialLot, ProductLot",
        "WorkOrder",
    ),
    EdgeType.USED_IN: EdgeDoc("The work order ran on the equipment from at until until", "Equipment", "WorkOrder"),
    EdgeType.PRODUCED: EdgeDoc(
        "The work order made the lot or device (at: produced); prop quantity", "WorkOrder", "ProductLot, Device"
    ),
    EdgeType.INCLUDES: EdgeDoc("The lot includes the unit: a lot reaches its devices", "ProductLot", "Device"),
    EdgeType.TRANSFORMED_INTO: EdgeDoc("EPCIS transformation: inputs became outputs", "any item", "any item"),
    EdgeType.PACKED_IN: EdgeDoc(
        "The item was inside the container from at (packing) until until (unpacking)", "Device, Container", "Container"
    ),
    EdgeType.SHIPPED_IN: EdgeDoc(
        "The item left in the shipment (at: shipped); prop quantity for bulk lots",
        "Container, Device, ProductLot",
        "Shipment",
    ),
    EdgeType.DELIVERED_TO: EdgeDoc("The shipment arrived at the consignee (at: delivered)", "Shipment", "Consignee"),
    EdgeType.INSPECTED: EdgeDoc(
        "The inspection or calibration looked at the target (at: inspected)", "Inspection", "any"
    ),
    EdgeType.CONCERNS: EdgeDoc("The complaint is about the device (at: received)", "Complaint", "Device"),
    EdgeType.AFFECTS: EdgeDoc("The change affects the part or equipment", "ChangeRecord", "Part, Equipment"),
    EdgeType.OF_PART: EdgeDoc("The lot is a lot of the part (catalogue)", "MaterialLot, ProductLot", "Part"),
    EdgeType.COMPONENT_OF: EdgeDoc(
        "Bill of materials: the part goes into the parent part; props quantity_per, unit", "Part", "Part"
    ),
    EdgeType.RECORDED_BY: EdgeDoc("The thing is named by the source event that records it", "any", "Event"),
}

EDGE_OPS: dict[EdgeOp, str] = {
    EdgeOp.ASSERT: "States the edge (again: support from another record)",
    EdgeOp.CLOSE: "Ends the open interval of an interval edge: an unpacking, the end of equipment use",
    EdgeOp.RETRACT: "Withdraws an earlier fact (an EPCIS error declaration, a corrected source row)",
}

#: Meaning and unit of the model fields that carry no ``description`` of their own.
_FIELD_NOTES: dict[tuple[str, str], tuple[str, str]] = {
    ("NodeFact", "key"): ("Canonical key of the thing (see Keys)", ""),
    ("NodeFact", "kind"): ("What the thing is", ""),
    ("NodeFact", "props"): ("What the source says about it; a later fact adds to or overrides earlier props", ""),
    ("NodeFact", "provenance"): ("Where the fact comes from", ""),
    ("EdgeFact", "type"): ("What the relationship is", ""),
    ("EdgeFact", "source"): ("Canonical key of the upstream end (material flows source → target)", ""),
    ("EdgeFact", "target"): ("Canonical key of the downstream end", ""),
    ("EdgeFact", "at"): ("When it happened; for interval edges when the interval began (packing)", "UTC"),
    ("EdgeFact", "until"): ("When an interval ended (unpacking, end of use); absent while open", "UTC"),
    ("EdgeFact", "props"): ("Details, e.g. quantity and unit of a consumption", ""),
    ("EdgeFact", "op"): ("What the record does to the edge", ""),
    ("EdgeFact", "provenance"): ("Where the fact comes from", ""),
    ("Provenance", "line"): ("Line number in the file, or index of the event in the document", "1-based"),
    ("Provenance", "record_hash"): ("SHA-256 of the source record as read", "hex"),
}

#: The key forms of DESIGN.md's identity table; each example must be canonical.
_KEY_FORMS: tuple[tuple[str, str, str], ...] = (
    ("serialised unit", "01/{GTIN-14}/21/{serial}", "01/09506000134352/21/S%2F1"),
    ("lot of a GTIN", "01/{GTIN-14}/10/{lot}", "01/07612345000107/10/L240305-01"),
    ("trade item (class)", "01/{GTIN-14}", "01/07612345000107"),
    ("logistic unit (case, pallet)", "00/{SSCC-18}", "00/076123450000001234"),
    ("location", "414/{GLN}, 414/{GLN}/254/{ext} (ext not 0)", "414/4012345000016"),
    ("party", "417/{GLN}", "417/4012345000016"),
    ("HIBCC unit", "hibc/{LIC}{product}{unit}/21/{serial}", "hibc/A99912345/21/77DEFG45"),
    ("HIBCC lot", "hibc/{LIC}{product}{unit}/10/{lot}", "hibc/A99912345/10/10X3"),
    ("MA (China IDcode) unit", "ma/{DI}/21/{serial}", "ma/MA.156.M0.100204.13351764/21/0042"),
    ("MA (China IDcode) lot", "ma/{DI}/10/{lot}", "ma/MA.156.M0.100204.13351764/10/2020"),
)

_KEY_RULES = (
    "Every interface prints canonical keys and accepts any form of them: EPC URNs, GS1 element strings "
    "(bracketed or raw with GS), GS1 Digital Link URIs, HIBCC and MA barcodes.",
    "GTINs are zero-padded to 14 digits; check digits of GTIN, SSCC and GLN are verified.",
    "Serials, lots and extensions are kept exactly and percent-encoded as a Digital Link path segment "
    "(everything but A-Z a-z 0-9 - . _ ~); at most 20 characters of GS1's set 82 after (10) and (21).",
    "A serial wins over a lot: GTIN + lot + serial is the unit's key; the lot is a property.",
    "Natural keys are trimmed, never case-folded; the kind prefix is lower-cased. A bare number is "
    "refused (GTIN or GLN?).",
)


# ------------------------------------------------------------------------------ rendering


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type_text(annotation: Any) -> str:
    """A model field's type, as the dictionary prints it."""
    if annotation is type(None):
        return "null"
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_text(a) for a in typing.get_args(annotation))
    if origin is dict:
        return "object"
    if origin is tuple:
        return f"list of {_type_text(typing.get_args(annotation)[0])}"
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return f"`{annotation.__name__}`"
        if issubclass(annotation, BaseModel):
            return f"`{annotation.__name__}`"
        if issubclass(annotation, datetime):
            return "time (ISO 8601)"
        return {str: "text", int: "integer", float: "number", bool: "boolean"}.get(annotation, annotation.__name__)
    return str(annotation)


def _model_rows(model: type[BaseModel]) -> list[tuple[str, str, bool, str, str]]:
    """(field, type, required, unit, meaning) of each field of ``model``."""
    rows = []
    for name, info in model.model_fields.items():
        meaning, unit = _FIELD_NOTES.get((model.__name__, name), (info.description or "", ""))
        if not meaning:
            raise ValueError(f"{model.__name__}.{name} has no meaning: give it a description or a _FIELD_NOTES entry")
        rows.append((name, _type_text(info.annotation), info.is_required(), unit, meaning))
    return rows


def _column_unit(column: ColumnDoc, siblings: Sequence[str]) -> str:
    """The unit of a CSV column's values, from its type and name."""
    match column.type:
        case "time":
            return "UTC (ISO 8601; no offset means UTC)"
        case "date":
            return "calendar date, YYYY-MM-DD"
        case "quantity":
            return "in `unit`" if "unit" in siblings else "in the part's unit"
        case "integer":
            return "days" if column.name.endswith("_days") else "count"
        case "measurements":
            return "as each name says (`_mm`, `_kpa`, …)"
    return ""


def _column_rule(column: ColumnDoc) -> str:
    """The identifier rule of a key or GTIN column."""
    if column.type == "key":
        names = " or ".join(k.value for k in column.kinds) or "anything"
        return f"any key form of a {names}; stored canonical"
    if column.type == "GTIN":
        return "8, 12, 13 or 14 digits, valid check digit; stored as GTIN-14"
    return ""


def _key_forms() -> list[tuple[str, str, str, str]]:
    """(thing, form, kind, example), each example verified canonical and of its kind."""
    rows = []
    for thing, form, example in _KEY_FORMS:
        if canonical_key(example) != example:
            raise ValueError(f"key example {example} is not canonical")
        kind = key_kind(example)
        rows.append((thing, form, kind.value if kind else "-", example))
    return rows


def _edge_class(edge_type: EdgeType) -> str:
    if edge_type in FLOW_EDGES:
        return "flow (interval)" if edge_type in INTERVAL_EDGES else "flow"
    return "evidence" if edge_type in EVIDENCE_EDGES else "catalogue, provenance"


def markdown(csv_files: Mapping[str, FileDoc]) -> str:
    """The data dictionary as Markdown."""
    lines = [
        "# Data dictionary",
        "",
        "<!-- Generated by `tracegraph dictionary --format md` from schema/ and loaders/csvset; do not edit. "
        "A unit test regenerates it and fails when it is not current. -->",
        "",
        "Every node kind, relationship type and fact field of TraceGraph, with meaning, type, unit and",
        "identifier rules. The same content as a JSON Schema: `tracegraph dictionary --format json-schema`.",
        "",
        "## Node kinds",
        "",
        "| kind | meaning | key prefix | traces |",
        "|---|---|---|---|",
    ]
    prefixes = {kind: prefix for prefix, kind in KEY_PREFIXES.items()}
    for kind in NodeKind:
        traces = "reached, never passed through" if kind in TERMINAL_KINDS else "passed through"
        lines.append(f"| `{kind.value}` | {_cell(NODE_KINDS[kind])} | `{prefixes[kind]}:` | {traces} |")
    lines += [
        "",
        "## Relationship types",
        "",
        "Flow relationships point downstream (material moves with them); interval relationships hold from "
        "`at` until `until`. Evidence relationships are traced as leaves; catalogue and provenance "
        "relationships are never followed by a trace.",
        "",
        "| type | class | from | to | meaning |",
        "|---|---|---|---|---|",
    ]
    for edge_type in EdgeType:
        doc = EDGE_TYPES[edge_type]
        lines.append(
            f"| `{edge_type.value}` | {_edge_class(edge_type)} | {doc.source} | {doc.target} | {_cell(doc.meaning)} |"
        )
    lines += ["", "## Keys", "", "| thing | canonical key | kind | example |", "|---|---|---|---|"]
    for thing, form, kind_name, example in _key_forms():
        lines.append(f"| {_cell(thing)} | `{form}` | {kind_name} | `{example}` |")
    lines += ["", "Everything else has a natural key with its kind as prefix, `{prefix}:{natural key}`:", ""]
    lines += ["| prefix | kind |", "|---|---|"]
    lines += [f"| `{prefix}:` | `{kind.value}` |" for prefix, kind in KEY_PREFIXES.items()]
    lines += ["", *(f"- {rule}" for rule in _KEY_RULES), "", "## Facts", ""]
    lines += [
        "Loaders produce facts; stores keep every version with the batch that recorded it "
        "(`recorded_at`, UTC), so any question can be asked as of a past moment.",
        "",
    ]
    for model in (NodeFact, EdgeFact, Provenance):
        lines += [f"### `{model.__name__}`", "", _cell((model.__doc__ or "").strip().splitlines()[0]), ""]
        lines += ["| field | type | required | unit | meaning |", "|---|---|---|---|---|"]
        for name, type_text, required, unit, meaning in _model_rows(model):
            lines.append(
                f"| `{name}` | {_cell(type_text)} | {'yes' if required else 'no'} | {unit} | {_cell(meaning)} |"
            )
        lines.append("")
    lines += ["### `EdgeOp`", "", "| op | meaning |", "|---|---|"]
    lines += [f"| `{op.value}` | {_cell(meaning)} |" for op, meaning in EDGE_OPS.items()]
    lines += [
        "",
        "## CSV columns",
        "",
        "The native CSV format (docs/reference/csv-format.md); mapped exports (docs/reference/mappings.md) "
        "become these rows.",
        "",
    ]
    for spec in csv_files.values():
        names = [c.name for c in spec.columns]
        lines += [f"### `{spec.name}` — {spec.title}", "", f"One row: {spec.row}. Facts: {spec.facts}.", ""]
        lines += ["| column | type | required | unit | identifier rule | meaning |", "|---|---|---|---|---|---|"]
        for column in spec.columns:
            lines.append(
                f"| `{column.name}` | {_cell(column.type_text)} | {'yes' if column.required else 'no'} "
                f"| {_cell(_column_unit(column, names))} | {_cell(_column_rule(column))} | {_cell(column.meaning)} |"
            )
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- JSON Schema


def _described_enum(values: Mapping[str, str], description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "description": description,
        "oneOf": [{"const": value, "description": meaning} for value, meaning in values.items()],
    }


def _csv_property(column: ColumnDoc, siblings: Sequence[str]) -> dict[str, Any]:
    notes = [column.meaning, _column_rule(column), _column_unit(column, siblings)]
    schema: dict[str, Any] = {
        "type": "string",
        "description": ". ".join(n for n in notes if n),
        "examples": [column.example],
    }
    match column.type:
        case "date":
            schema["format"] = "date"
        case "integer":
            schema["pattern"] = "^[0-9]+$"
        case "GTIN":
            schema["pattern"] = "^([0-9]{8}|[0-9]{12,14})$"
        case "choice":
            schema["enum"] = list(column.choices)
    if column.type == "key" and column.kinds:
        schema["x-node-kinds"] = [k.value for k in column.kinds]
    return schema


def json_schema(csv_files: Mapping[str, FileDoc]) -> dict[str, Any]:
    """The data dictionary as a JSON Schema (draft 2020-12) whose ``$defs`` are the facts,
    the enums with their meanings, and one row schema per native CSV file."""
    _, generated = models_json_schema(
        [(NodeFact, "validation"), (EdgeFact, "validation"), (Provenance, "validation")],
        ref_template="#/$defs/{model}",
    )
    defs: dict[str, Any] = generated["$defs"]
    for model in (NodeFact, EdgeFact, Provenance):
        for name, _type, _required, unit, meaning in _model_rows(model):
            prop = defs[model.__name__]["properties"][name]
            prop["description"] = meaning + (f" ({unit})" if unit else "")
    defs["NodeKind"] = _described_enum({k.value: NODE_KINDS[k] for k in NodeKind}, "What a node is")
    defs["EdgeType"] = _described_enum(
        {t.value: f"{d.meaning} ({d.source} → {d.target}; {_edge_class(t)})" for t, d in EDGE_TYPES.items()},
        "What a relationship is",
    )
    defs["EdgeOp"] = _described_enum({op.value: meaning for op, meaning in EDGE_OPS.items()}, "What a record does")
    defs["Key"] = {
        "type": "string",
        "description": " ".join(_KEY_RULES),
        "examples": [example for _thing, _form, _kind, example in _key_forms()] + ["supplier:ACME-01", "wo:WO-1"],
    }
    for spec in csv_files.values():
        names = [c.name for c in spec.columns]
        defs[spec.name] = {
            "type": "object",
            "title": spec.title,
            "description": f"One row: {spec.row}. Facts: {spec.facts}.",
            "properties": {c.name: _csv_property(c, names) for c in spec.columns},
            "required": [c.name for c in spec.columns if c.required],
            "patternProperties": {"^x_": {"description": "The exporting system's own columns; ignored"}},
            "additionalProperties": False,
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "TraceGraph data dictionary",
        "description": "Facts, node kinds, relationship types, keys and native CSV rows of TraceGraph.",
        "$defs": defs,
    }


# -------------------------------------------------------------------------- 中文 (Simplified Chinese)

NODE_KINDS_ZH: dict[NodeKind, str] = {
    NodeKind.SUPPLIER: "供应原材料或零部件的企业",
    NodeKind.PART: "物料主数据中的物料号（原材料、零部件、半成品、成品器械），或不含批号和序列号的 GS1 "
    "贸易项目（GTIN）、HIBCC/MA 产品标识",
    NodeKind.MATERIAL_LOT: "收到的原材料或外购零部件批次",
    NodeKind.PRODUCT_LOT: "由工单生产的批次：内部零部件或半成品批次，或成品器械批次（GS1/HIBCC/MA 批号）",
    NodeKind.DEVICE: "一件有序列号的产品（GTIN + 序列号，或 HIBCC/MA + 序列号）",
    NodeKind.CONTAINER: "一段时间内装有物品的物流单元：箱或托盘（SSCC），或其他记录显示装有物品的序列化物品",
    NodeKind.EQUIPMENT: "工单使用的机器、工装或仪器",
    NodeKind.WORK_ORDER: "生产工单：消耗批次，在设备上运行，生产批次或产品",
    NodeKind.INSPECTION: "质量检验或校准记录，含结果和测量值",
    NodeKind.PROCESS_RUN: "记录的过程参数序列（用于漂移和统计过程控制信号）",
    NodeKind.SHIPMENT: "从一个场所发往收货单位的一次发货",
    NodeKind.CONSIGNEE: "地点或单位：场所、经销商仓库、医院（GLN 或代码）",
    NodeKind.COMPLAINT: "关于一件产品的投诉",
    NodeKind.NONCONFORMANCE: "一项不合格记录",
    NodeKind.CAPA: "一项纠正和预防措施",
    NodeKind.CHANGE_RECORD: "对物料、工艺或设备的一项变更",
    NodeKind.EVENT: "作为其所述事实之证据保存的来源事件（EPCIS 或其他）",
    NodeKind.ALERT: "规则根据风险信号发出的预警",
    NodeKind.TASK: "跟进预警的指派任务",
}

EDGE_TYPES_ZH: dict[EdgeType, str] = {
    EdgeType.SUPPLIED: "供应商交付了该批次（at：收货时间）；属性 quantity、unit",
    EdgeType.CONSUMED_BY: "该批次发放给工单（at：消耗时间）；属性 quantity、unit",
    EdgeType.USED_IN: "工单从 at 至 until 在该设备上运行",
    EdgeType.PRODUCED: "工单生产了该批次或产品（at：生产时间）；属性 quantity",
    EdgeType.INCLUDES: "批次包含该产品：由批次到达其每件产品",
    EdgeType.TRANSFORMED_INTO: "EPCIS 转换事件：输入变为输出",
    EdgeType.PACKED_IN: "物品从 at（装箱）至 until（拆箱）在该容器内",
    EdgeType.SHIPPED_IN: "物品随该发货离开（at：发货时间）；散装批次有属性 quantity",
    EdgeType.DELIVERED_TO: "发货送达收货单位（at：送达时间）",
    EdgeType.INSPECTED: "检验或校准针对该对象（at：检验时间）",
    EdgeType.CONCERNS: "投诉涉及该产品（at：收到时间）",
    EdgeType.AFFECTS: "变更影响该物料或设备",
    EdgeType.OF_PART: "该批次属于该物料（目录关系）",
    EdgeType.COMPONENT_OF: "物料清单：该物料用于上级物料；属性 quantity_per、unit",
    EdgeType.RECORDED_BY: "该事物由记录它的来源事件指明",
}

EDGE_OPS_ZH: dict[EdgeOp, str] = {
    EdgeOp.ASSERT: "声明该关系（再次声明：另一记录的佐证）",
    EdgeOp.CLOSE: "结束区间关系的开放区间：拆箱、设备使用结束",
    EdgeOp.RETRACT: "撤回先前的事实（EPCIS 错误声明、更正的源数据行）",
}

_FIELD_NOTES_ZH: dict[tuple[str, str], str] = {
    ("NodeFact", "key"): "该事物的规范键（见“键”）",
    ("NodeFact", "kind"): "该事物是什么",
    ("NodeFact", "props"): "来源对其的描述；后来的事实补充或覆盖先前的属性",
    ("NodeFact", "provenance"): "事实的来源",
    ("EdgeFact", "type"): "关系是什么",
    ("EdgeFact", "source"): "上游端的规范键（物料从 source 流向 target）",
    ("EdgeFact", "target"): "下游端的规范键",
    ("EdgeFact", "at"): "发生时间；区间关系为区间开始时间（装箱）",
    ("EdgeFact", "until"): "区间结束时间（拆箱、使用结束）；区间未结束时为空",
    ("EdgeFact", "props"): "细节，例如一次消耗的数量和单位",
    ("EdgeFact", "op"): "该记录对关系做了什么",
    ("EdgeFact", "provenance"): "事实的来源",
    ("Provenance", "source_system"): "来源系统：erp、mes、lims、wms、epcis、csv、synthetic 等",
    ("Provenance", "source"): "读取事实的文件名、消息编号或采集编号",
    ("Provenance", "line"): "文件中的行号，或文档中事件的序号",
    ("Provenance", "record_id"): "来源记录的标识，例如规范化的 EPCIS 事件编号",
    ("Provenance", "record_hash"): "所读来源记录的 SHA-256",
}

_KEY_THINGS_ZH = (
    "序列化产品",
    "GTIN 的批次",
    "贸易项目（类）",
    "物流单元（箱、托盘）",
    "地点",
    "单位",
    "HIBCC 产品",
    "HIBCC 批次",
    "MA（中国 IDcode）产品",
    "MA（中国 IDcode）批次",
)

_KEY_RULES_ZH = (
    "所有接口输出规范键，并接受其任何形式：EPC URN、GS1 元素串（带括号，或原始形式带 GS 分隔符）、"
    "GS1 数字链接 URI、HIBCC 和 MA 条码。",
    "GTIN 补零至 14 位；校验 GTIN、SSCC 和 GLN 的校验位。",
    "序列号、批号和扩展码原样保留，并按数字链接路径段的要求进行百分号编码（A-Z a-z 0-9 - . _ ~ 以外的字符）；"
    "(10) 和 (21) 之后至多 20 个 GS1 字符集 82 的字符。",
    "序列号优先于批号：GTIN + 批号 + 序列号时，键为产品的键，批号作为属性。",
    "自然键去除首尾空白，从不改变大小写；类别前缀转为小写。拒绝裸数字（是 GTIN 还是 GLN？）。",
)

_CSV_TITLES_ZH = {
    "suppliers.csv": "供应商",
    "parts.csv": "物料",
    "bom.csv": "物料清单",
    "receipts.csv": "物料批次与收货",
    "equipment.csv": "设备",
    "calibrations.csv": "校准",
    "work_orders.csv": "工单",
    "consumption.csv": "消耗",
    "equipment_use.csv": "设备使用",
    "product_lots.csv": "产品批次",
    "devices.csv": "产品",
    "packing.csv": "装箱",
    "shipments.csv": "发货",
    "shipment_contents.csv": "发货内容",
    "consignees.csv": "收货单位",
    "inspections.csv": "检验",
    "complaints.csv": "投诉",
    "process_data.csv": "过程数据",
}

_EDGE_CLASS_ZH = {
    "flow": "流转",
    "flow (interval)": "流转（区间）",
    "evidence": "证据",
    "catalogue, provenance": "目录、来源",
}


def markdown_zh(csv_files: Mapping[str, FileDoc]) -> str:
    """The data dictionary as Markdown, in Simplified Chinese (``tracegraph dictionary --lang zh``).

    The same tables as :func:`markdown`; the meanings of the native CSV columns stay in English."""
    lines = [
        "# 数据字典",
        "",
        "<!-- 由 `tracegraph dictionary --lang zh` 从 schema/ 与 loaders/csvset 生成；请勿手工编辑。 -->",
        "",
        "TraceGraph 的每种节点类别、关系类型和事实字段，及其含义、类型、单位和标识规则。",
        "同样内容的 JSON Schema：`tracegraph dictionary --format json-schema`。",
        "",
        "## 节点类别",
        "",
        "| 类别 | 含义 | 键前缀 | 追溯 |",
        "|---|---|---|---|",
    ]
    prefixes = {kind: prefix for prefix, kind in KEY_PREFIXES.items()}
    for kind in NodeKind:
        traces = "可到达，不穿过" if kind in TERMINAL_KINDS else "穿过"
        lines.append(f"| `{kind.value}` | {_cell(NODE_KINDS_ZH[kind])} | `{prefixes[kind]}:` | {traces} |")
    lines += [
        "",
        "## 关系类型",
        "",
        "流转关系指向下游（物料随之移动）；区间关系在 `at` 至 `until` 之间成立。证据关系作为叶子被追溯；"
        "目录与来源关系从不被追溯。",
        "",
        "| 类型 | 分类 | 从 | 到 | 含义 |",
        "|---|---|---|---|---|",
    ]
    for edge_type in EdgeType:
        doc = EDGE_TYPES[edge_type]
        edge_class = _EDGE_CLASS_ZH[_edge_class(edge_type)]
        lines.append(
            f"| `{edge_type.value}` | {edge_class} | {doc.source} | {doc.target} | {_cell(EDGE_TYPES_ZH[edge_type])} |"
        )
    lines += ["", "## 键", "", "| 事物 | 规范键 | 类别 | 示例 |", "|---|---|---|---|"]
    for thing, (_thing, form, kind_name, example) in zip(_KEY_THINGS_ZH, _key_forms(), strict=True):
        lines.append(f"| {_cell(thing)} | `{form}` | {kind_name} | `{example}` |")
    lines += ["", "其他事物使用以类别为前缀的自然键，`{前缀}:{自然键}`：", ""]
    lines += ["| 前缀 | 类别 |", "|---|---|"]
    lines += [f"| `{prefix}:` | `{kind.value}` |" for prefix, kind in KEY_PREFIXES.items()]
    lines += ["", *(f"- {rule}" for rule in _KEY_RULES_ZH), "", "## 事实", ""]
    lines += [
        "加载器产生事实；存储保留每个版本及记录它的批次（`recorded_at`，UTC），",
        "因此任何问题都可按过去某一时刻提问。",
        "",
    ]
    for model in (NodeFact, EdgeFact, Provenance):
        lines += [f"### `{model.__name__}`", ""]
        lines += ["| 字段 | 类型 | 必填 | 单位 | 含义 |", "|---|---|---|---|---|"]
        for name, type_text, required, unit, meaning in _model_rows(model):
            zh = _FIELD_NOTES_ZH.get((model.__name__, name), meaning)
            lines.append(f"| `{name}` | {_cell(type_text)} | {'是' if required else '否'} | {unit} | {_cell(zh)} |")
        lines.append("")
    lines += ["### `EdgeOp`", "", "| 操作 | 含义 |", "|---|---|"]
    lines += [f"| `{op.value}` | {_cell(EDGE_OPS_ZH[op])} |" for op in EDGE_OPS]
    lines += ["", "## CSV 列", "", "原生 CSV 格式（docs/reference/csv-format.md）；列的含义为英文。", ""]
    for spec in csv_files.values():
        names = [c.name for c in spec.columns]
        lines += [f"### `{spec.name}` — {_CSV_TITLES_ZH.get(spec.name, spec.title)}", ""]
        lines += ["| 列 | 类型 | 必填 | 单位 | 标识规则 | 含义 |", "|---|---|---|---|---|---|"]
        for column in spec.columns:
            lines.append(
                f"| `{column.name}` | {_cell(column.type_text)} | {'是' if column.required else '否'} "
                f"| {_cell(_column_unit(column, names))} | {_cell(_column_rule(column))} | {_cell(column.meaning)} |"
            )
        lines.append("")
    return "\n".join(lines)
