"""Node labels and relationship types: the only names that ever reach query text."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from schema.errors import InvalidInputError


class NodeKind(StrEnum):
    SUPPLIER = "Supplier"
    PART = "Part"
    MATERIAL_LOT = "MaterialLot"
    PRODUCT_LOT = "ProductLot"
    DEVICE = "Device"
    CONTAINER = "Container"
    EQUIPMENT = "Equipment"
    WORK_ORDER = "WorkOrder"
    INSPECTION = "Inspection"
    PROCESS_RUN = "ProcessRun"
    SHIPMENT = "Shipment"
    CONSIGNEE = "Consignee"
    COMPLAINT = "Complaint"
    NONCONFORMANCE = "NonConformance"
    CAPA = "CAPA"
    CHANGE_RECORD = "ChangeRecord"
    EVENT = "Event"
    ALERT = "Alert"
    TASK = "Task"


class EdgeType(StrEnum):
    # Flow: material moves with these, downstream.
    SUPPLIED = "SUPPLIED"
    CONSUMED_BY = "CONSUMED_BY"
    USED_IN = "USED_IN"
    PRODUCED = "PRODUCED"
    INCLUDES = "INCLUDES"
    TRANSFORMED_INTO = "TRANSFORMED_INTO"
    PACKED_IN = "PACKED_IN"
    SHIPPED_IN = "SHIPPED_IN"
    DELIVERED_TO = "DELIVERED_TO"
    # Evidence: facts attached to things, traced as leaves into and out of.
    INSPECTED = "INSPECTED"
    CONCERNS = "CONCERNS"
    AFFECTS = "AFFECTS"
    # Catalogue and provenance: never followed by a trace.
    OF_PART = "OF_PART"
    COMPONENT_OF = "COMPONENT_OF"
    RECORDED_BY = "RECORDED_BY"


FLOW_EDGES = frozenset(
    {
        EdgeType.SUPPLIED,
        EdgeType.CONSUMED_BY,
        EdgeType.USED_IN,
        EdgeType.PRODUCED,
        EdgeType.INCLUDES,
        EdgeType.TRANSFORMED_INTO,
        EdgeType.PACKED_IN,
        EdgeType.SHIPPED_IN,
        EdgeType.DELIVERED_TO,
    }
)
EVIDENCE_EDGES = frozenset({EdgeType.INSPECTED, EdgeType.CONCERNS, EdgeType.AFFECTS})
TRACED_EDGES = FLOW_EDGES | EVIDENCE_EDGES

#: Edges that hold only over an interval (packing → unpacking, equipment use).
INTERVAL_EDGES = frozenset({EdgeType.PACKED_IN, EdgeType.USED_IN})

#: Parties, locations and catalogue entries: reached, never passed through (unless a start).
TERMINAL_KINDS = frozenset({NodeKind.SUPPLIER, NodeKind.CONSIGNEE, NodeKind.PART})

#: The ``{kind}:{natural key}`` prefixes of keys that are not GS1/HIBCC/MA identified.
KEY_PREFIXES: dict[str, NodeKind] = {
    "supplier": NodeKind.SUPPLIER,
    "part": NodeKind.PART,
    "lot": NodeKind.MATERIAL_LOT,
    "plot": NodeKind.PRODUCT_LOT,
    "device": NodeKind.DEVICE,
    "container": NodeKind.CONTAINER,
    "equipment": NodeKind.EQUIPMENT,
    "wo": NodeKind.WORK_ORDER,
    "inspection": NodeKind.INSPECTION,
    "run": NodeKind.PROCESS_RUN,
    "shipment": NodeKind.SHIPMENT,
    "consignee": NodeKind.CONSIGNEE,
    "complaint": NodeKind.COMPLAINT,
    "nc": NodeKind.NONCONFORMANCE,
    "capa": NodeKind.CAPA,
    "change": NodeKind.CHANGE_RECORD,
    "event": NodeKind.EVENT,
    "alert": NodeKind.ALERT,
    "task": NodeKind.TASK,
}


#: A thing first known as one kind may turn out to be another without contradiction: a
#: serialised trade item (a Device by its key) that other records show holding items is a
#: Container. Any other disagreement about a key's kind is a conflict.
_RECONCILED: dict[frozenset[NodeKind], NodeKind] = {
    frozenset({NodeKind.DEVICE, NodeKind.CONTAINER}): NodeKind.CONTAINER,
}


def reconcile_kinds(known: NodeKind, stated: NodeKind) -> NodeKind | None:
    """The kind a node has when the store knows ``known`` and a record says ``stated``;
    None when they contradict each other.

    >>> reconcile_kinds(NodeKind.DEVICE, NodeKind.CONTAINER)
    <NodeKind.CONTAINER: 'Container'>
    >>> reconcile_kinds(NodeKind.CONTAINER, NodeKind.DEVICE)
    <NodeKind.CONTAINER: 'Container'>
    >>> reconcile_kinds(NodeKind.MATERIAL_LOT, NodeKind.PRODUCT_LOT) is None
    True
    """
    if known is stated:
        return known
    return _RECONCILED.get(frozenset({known, stated}))


def parse_kinds(values: Iterable[str] | None) -> frozenset[NodeKind] | None:
    """``Device,Consignee`` or repeated values, any case, as ``--kinds`` and the API take them.

    >>> sorted(parse_kinds(["device, consignee"]))
    [<NodeKind.DEVICE: 'Device'>, <NodeKind.CONSIGNEE: 'Consignee'>]
    >>> parse_kinds(None) is None
    True
    """
    names = [n.strip() for v in values or () for n in v.split(",") if n.strip()]
    if not names:
        return None
    # Either spelling: "MaterialLot" or "material_lot".
    by_name = {k.value.lower(): k for k in NodeKind} | {k.name.lower(): k for k in NodeKind}
    unknown = [n for n in names if n.lower() not in by_name]
    if unknown:
        raise InvalidInputError(f"kinds: unknown kind '{unknown[0]}' (one of {', '.join(k.value for k in NodeKind)})")
    return frozenset(by_name[n.lower()] for n in names)
