"""Validated EPCIS events -> graph facts (DESIGN.md, "The graph").

Every event becomes an Event node, evidence for everything it names (RECORDED_BY). On top:

- a commissioning (ADD with an ILMD lot) puts each new unit in its lot: lot INCLUDES unit;
- packing (AggregationEvent ADD) opens PACKED_IN child -> parent, unpacking (DELETE)
  closes it; with no children listed, it closes everything inside the parent;
- a TransformationEvent links every input to every output (TRANSFORMED_INTO);
- despatch and receipt (bizStep shipping/departing, receiving/arriving/accepting, or any
  event with a source or destination list) put what moved in a Shipment (SHIPPED_IN),
  named by its despatch advice, else bill of lading, else purchase order, else the event,
  and deliver the Shipment to each destination party or location (DELIVERED_TO).

Where an event happened (readPoint, bizLocation) is recorded on the Event, never as a
path: a trace must not flow through a warehouse to everything else that passed by.
An AssociationEvent (a sensor or tag attached to an asset) and a TransactionEvent (things
linked to a purchase order) move no material: they are kept as Event evidence only.

Every fact cites its event: ``Provenance.line`` is the event's position, ``record_id``
its declared eventID (else its canonical ID), ``record_hash`` its canonical ID. An error
declaration retracts the facts of the event it declares erroneous (``retract_records``);
its own Event node, and the history, remain.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from loaders.epcis.digital_link import canonical_dl
from loaders.epcis.event import EpcisEvent, Quantity, Typed
from loaders.epcis.tree import Problem
from loaders.epcis.vocab import (
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    DISPOSITION,
    ERROR_REASON,
    SOURCE_DESTINATION_TYPE,
    short,
)
from schema.errors import InvalidInputError, InvalidKeyError, UnsupportedFormatError
from schema.identifiers import canonical_key, decode_key_value, gtin_key, key_kind
from schema.kinds import EdgeType, NodeKind
from schema.model import ANY_SOURCE, EdgeFact, EdgeOp, NodeFact, Provenance, iso

SOURCE_SYSTEM = "epcis"

SHIPPING_STEPS = frozenset({"shipping", "departing"})
RECEIVING_STEPS = frozenset({"receiving", "arriving", "accepting"})
#: Business transactions that name a shipment, most specific first.
SHIPMENT_DOCUMENTS = ("desadv", "bol", "po")
_CBV_BT = "urn:epcglobal:cbv:bt:"
_DL_HOST = "https://id.gs1.org/"
#: Kinds that stand for instances (a unit, a lot, a logistic unit), not catalogue entries.
_THING_KINDS = frozenset({NodeKind.DEVICE, NodeKind.PRODUCT_LOT, NodeKind.CONTAINER, NodeKind.EQUIPMENT})
#: GS1 keys TraceGraph has no canonical key for, but whose things still matter here.
_ASSET_KEYS = {"8003/": ("container", NodeKind.CONTAINER), "8004/": ("equipment", NodeKind.EQUIPMENT)}


class IdentifierProblem(Exception):
    """An identifier that claims to be an EPC but is malformed: the event is rejected."""


@dataclass(frozen=True)
class Thing:
    key: str
    kind: NodeKind
    props: dict[str, Any]


def key_props(key: str) -> dict[str, Any]:
    """What a GS1 key says about its thing: GTIN and serial or lot, SSCC, GLN."""
    parts = key.split("/")
    if parts[0] == "01" and len(parts) == 4:
        return {"gtin": parts[1], "serial" if parts[2] == "21" else "lot": decode_key_value(parts[3])}
    if parts[0] == "00":
        return {"sscc": parts[1]}
    if parts[0] in ("414", "417"):
        return {"gln": parts[1]} | ({"gln_extension": decode_key_value(parts[3])} if len(parts) == 4 else {})
    return {}


class Identities:
    """Turns identifiers into node keys and kinds, the same way for a whole document.

    A packing parent is a Container even when it is a serialised trade item (a case with
    its own GTIN): containment is what bounds a trace in time, and a case is not a device
    to recall. ``containers`` holds the keys that are packing parents in the document.
    """

    def __init__(self) -> None:
        self.containers: set[str] = set()
        self._cache: dict[str, tuple[str, NodeKind] | None] = {}

    def _resolve(self, uri: str) -> tuple[str, NodeKind] | None:
        try:
            key: str | None = canonical_key(uri)
        except UnsupportedFormatError:
            return self._asset(uri)
        except InvalidKeyError as exc:
            key = self._via_digital_link(uri)
            if key is None and uri.lower().startswith(("urn:epc:id:", "urn:epc:class:")):
                raise IdentifierProblem(str(exc)) from exc
        if key is None:
            return None  # a pattern, or another URI scheme: nothing we key
        kind = key_kind(key)
        return (key, kind) if kind is not None else None

    @staticmethod
    def _via_digital_link(uri: str) -> str | None:
        """A second reading through the hash's Digital Link form, for EPC layouts the key
        parser does not take (a 12-digit company prefix leaves an SGLN/PGLN reference empty)."""
        link = canonical_dl(uri)
        if link is None or link == uri:
            return None
        try:
            return canonical_key(link)
        except (InvalidKeyError, UnsupportedFormatError):
            return None

    @staticmethod
    def _asset(uri: str) -> tuple[str, NodeKind] | None:
        path = (canonical_dl(uri) or "").removeprefix(_DL_HOST)
        for ai, (prefix, kind) in _ASSET_KEYS.items():
            if path.startswith(ai):
                return f"{prefix}:{path}", kind
        return None

    def resolve(self, uri: str) -> tuple[str, NodeKind] | None:
        if uri not in self._cache:
            self._cache[uri] = self._resolve(uri)
        return self._cache[uri]

    def thing(self, uri: str) -> Thing | None:
        """The instance ``uri`` names, or None (catalogue entries, places, foreign URIs)."""
        resolved = self.resolve(uri)
        if resolved is None:
            return None
        key, kind = resolved
        if key in self.containers:
            kind = NodeKind.CONTAINER
        if kind not in _THING_KINDS:
            return None
        return Thing(key, kind, key_props(key))

    def parent(self, uri: str) -> Thing:
        """A packing parent: always a Container, under ``container:{uri}`` if nothing else."""
        thing = self.thing(uri)
        if thing is not None:
            return thing
        return Thing(canonical_key(f"container:{uri}"), NodeKind.CONTAINER, {})

    def place(self, uri: str | None) -> str | None:
        """A location or party as its key when it has one (414/…, 417/…), else as written."""
        if uri is None:
            return None
        try:
            resolved = self.resolve(uri)
        except IdentifierProblem:
            return uri
        if resolved is not None and resolved[1] is NodeKind.CONSIGNEE:
            return resolved[0]
        return uri


@dataclass
class Facts:
    nodes: list[NodeFact] = field(default_factory=list)
    edges: list[EdgeFact] = field(default_factory=list)
    retract_records: list[str] = field(default_factory=list)


def event_key(event: EpcisEvent) -> str:
    # Already canonical: an ni URI has neither spaces nor control characters.
    return f"event:{event.event_id}"


def transaction_id(value: str) -> str:
    """A CBV business transaction ID without its URN prefix (``{GLN}:{document}``)."""
    return value.removeprefix(_CBV_BT)


class _EventMapper:
    """The facts of one event, all citing it."""

    def __init__(self, event: EpcisEvent, source: str, identities: Identities) -> None:
        self.event = event
        self.ids = identities
        self.at = event.event_time
        self.provenance = Provenance(
            source_system=SOURCE_SYSTEM,
            source=source,
            line=event.index,
            record_id=event.record_id,
            record_hash=event.event_id,
        )
        self.facts = Facts()
        self.unmapped: list[str] = []

    # -- building blocks -----------------------------------------------------------------
    def node(self, key: str, kind: NodeKind, props: dict[str, Any]) -> None:
        self.facts.nodes.append(NodeFact(key=key, kind=kind, props=props, provenance=self.provenance))

    def edge(self, type_: EdgeType, source: str, target: str, **kwargs: Any) -> None:
        self.facts.edges.append(
            EdgeFact(type=type_, source=source, target=target, provenance=self.provenance, **kwargs)
        )

    def things(self, uris: Iterable[str]) -> list[Thing]:
        found: list[Thing] = []
        for uri in uris:
            thing = self.ids.thing(uri)
            if thing is None:
                self.unmapped.append(uri)
            else:
                found.append(thing)
        return found

    def classes(self, quantities: Iterable[Quantity]) -> list[tuple[Thing, Quantity]]:
        """Quantities of a lot (an EPC class with a lot); whole-GTIN classes name no thing."""
        found: list[tuple[Thing, Quantity]] = []
        for quantity in quantities:
            thing = self.ids.thing(quantity.epc_class)
            if thing is None:
                self.unmapped.append(quantity.epc_class)
            else:
                found.append((thing, quantity))
        return found

    # -- the rules ---------------------------------------------------------------------
    def map(self) -> Facts:
        event = self.event
        if event.error is not None:
            # An error declaration only declares: its facts would be the erroneous ones again.
            self.facts.retract_records.extend(dict.fromkeys(i for i in (event.declared_id, event.event_id) if i))
            self.node(event_key(event), NodeKind.EVENT, self.event_props())
            return self.facts
        involved = self.involved()
        self.ilmd_lot(involved)
        if event.type == "AggregationEvent":
            self.aggregation()
        elif event.type == "TransformationEvent":
            self.transformation()
        shipment = self.shipment(involved) if self.is_despatch_or_receipt() else None
        self.node(event_key(event), NodeKind.EVENT, self.event_props() | ({"shipment": shipment} if shipment else {}))
        for thing in _unique(involved):
            self.node(thing.key, thing.kind, thing.props)
            self.edge(EdgeType.RECORDED_BY, thing.key, event_key(event), at=self.at)
        return self.facts

    def involved(self) -> list[Thing]:
        """Every instance the event names, parent first."""
        event = self.event
        parent = [self.ids.parent(event.parent)] if event.parent and event.type == "AggregationEvent" else []
        named = [event.parent] if event.parent and event.type != "AggregationEvent" else []
        uris = [*named, *event.epcs, *event.children, *event.inputs, *event.outputs]
        quantities = [*event.quantities, *event.child_quantities, *event.input_quantities, *event.output_quantities]
        return parent + self.things(uris) + [thing for thing, _ in self.classes(quantities)]

    def ilmd_lot(self, involved: list[Thing]) -> None:
        """New units of a lot: the lot INCLUDES each; ILMD describes units and lot alike."""
        event = self.event
        if event.type == "ObjectEvent" and event.action == "ADD":
            created = [*event.epcs, *(q.epc_class for q in event.quantities)]
        elif event.type == "TransformationEvent":
            created = [*event.outputs, *(q.epc_class for q in event.output_quantities)]
        else:
            return
        if not event.ilmd:
            return
        described = _ilmd_props(event.ilmd)
        created_keys = {thing.key for uri in created if (thing := self.ids.thing(uri)) is not None}
        lot = event.ilmd.get("lotNumber")
        lots: dict[str, list[str]] = {}  # lot key -> its new units
        for index, thing in enumerate(involved):
            if thing.key not in created_keys:
                continue
            involved[index] = Thing(thing.key, thing.kind, thing.props | described)
            if isinstance(lot, str) and lot and "serial" in thing.props:
                lots.setdefault(gtin_key(thing.props["gtin"], lot=lot), []).append(thing.key)
        for lot_key, units in lots.items():
            self.node(lot_key, NodeKind.PRODUCT_LOT, key_props(lot_key) | described)
            for unit in dict.fromkeys(units):
                self.edge(EdgeType.INCLUDES, lot_key, unit, at=self.at)

    def aggregation(self) -> None:
        event = self.event
        if not event.parent:
            return  # an OBSERVE without parent: evidence only
        parent = self.ids.parent(event.parent)
        children = [(thing, None) for thing in self.things(event.children)] + self.classes(event.child_quantities)
        if event.action == "ADD":
            for child, quantity in children:
                self.edge(EdgeType.PACKED_IN, child.key, parent.key, at=self.at, props=_quantity_props(quantity))
        elif event.action == "DELETE":
            sources = [child.key for child, _ in children] or [ANY_SOURCE]
            for source in sources:
                self.edge(EdgeType.PACKED_IN, source, parent.key, until=self.at, op=EdgeOp.CLOSE)

    def transformation(self) -> None:
        event = self.event
        inputs = [(thing, None) for thing in self.things(event.inputs)] + self.classes(event.input_quantities)
        outputs = self.things(event.outputs) + [thing for thing, _ in self.classes(event.output_quantities)]
        for source, quantity in inputs:
            for target in outputs:
                self.edge(
                    EdgeType.TRANSFORMED_INTO, source.key, target.key, at=self.at, props=_quantity_props(quantity)
                )

    # -- shipments ---------------------------------------------------------------------
    def is_despatch_or_receipt(self) -> bool:
        event = self.event
        step = short(event.biz_step, BIZ_STEP)
        return event.action != "DELETE" and (
            step in SHIPPING_STEPS or step in RECEIVING_STEPS or bool(event.sources) or bool(event.destinations)
        )

    def shipment_key(self) -> tuple[str, str]:
        """(key, name): by despatch advice, else bill of lading, else order, else the event."""
        by_type: dict[str, str] = {}
        for transaction in self.event.biz_transactions:
            kind = short(transaction.type, BIZ_TRANSACTION_TYPE) if transaction.type else None
            if kind in SHIPMENT_DOCUMENTS and kind not in by_type:
                by_type[kind] = transaction_id(transaction.value)
        for kind in SHIPMENT_DOCUMENTS:
            if kind in by_type:
                return canonical_key(f"shipment:{kind}:{by_type[kind]}"), f"{kind} {by_type[kind]}"
        return canonical_key(f"shipment:event:{self.event.event_id}"), f"shipment of event {self.event.index}"

    def shipment(self, involved: list[Thing]) -> str:
        event = self.event
        key, name = self.shipment_key()
        step = short(event.biz_step, BIZ_STEP)
        role = "receipt" if step in RECEIVING_STEPS else "despatch"
        if event.type == "TransformationEvent":  # what leaves is what was made
            moved = self.things(event.outputs) + [thing for thing, _ in self.classes(event.output_quantities)]
        else:
            moved = involved
        self.node(key, NodeKind.SHIPMENT, {
            "name": name,
            "biz_transactions": self.transactions_props(),
            ("received_at" if role == "receipt" else "shipped_at"): iso(self.at),
        })  # fmt: skip
        for thing in _unique(moved):
            self.edge(EdgeType.SHIPPED_IN, thing.key, key, at=self.at, props={"role": role})
        for destination in event.destinations:
            place = self.ids.place(destination.value)
            if place is not None and key_kind(place) is NodeKind.CONSIGNEE:
                kind = short(destination.type, SOURCE_DESTINATION_TYPE)
                self.node(place, NodeKind.CONSIGNEE, key_props(place))
                self.edge(EdgeType.DELIVERED_TO, key, place, at=self.at, props={"destination_type": kind})
        return key

    # -- the Event node ------------------------------------------------------------------
    def transactions_props(self) -> list[dict[str, str | None]]:
        return [{"type": short(t.type, BIZ_TRANSACTION_TYPE), "id": t.value} for t in self.event.biz_transactions]

    def parties(self, entries: Sequence[Typed]) -> list[dict[str, str | None]]:
        return [{"type": short(e.type, SOURCE_DESTINATION_TYPE), "id": self.ids.place(e.value)} for e in entries]

    def event_props(self) -> dict[str, Any]:
        event = self.event
        step = short(event.biz_step, BIZ_STEP)
        props: dict[str, Any] = {
            "name": " ".join(p for p in (event.type, step, iso(event.event_time)) if p),
            "event_type": event.type,
            "event_id": event.event_id,
            "declared_event_id": event.declared_id,
            "action": event.action,
            "event_time": iso(event.event_time),
            "event_time_zone_offset": event.time_zone_offset,
            "record_time": iso(event.record_time),
            "biz_step": step,
            "disposition": short(event.disposition, DISPOSITION),
            "read_point": self.ids.place(event.read_point),
            "biz_location": self.ids.place(event.biz_location),
            "parent_id": event.parent,
            "transformation_id": event.transformation_id,
            "biz_transactions": self.transactions_props(),
            "sources": self.parties(event.sources),
            "destinations": self.parties(event.destinations),
            "quantities": _quantities_props(event),
            "measurements": list(event.measurements),
            "ilmd": event.ilmd,
            "persistent_disposition": {
                change: [short(d, DISPOSITION) for d in dispositions]
                for change, dispositions in event.persistent_disposition.items()
            },
            "certification_info": list(event.certification_info),
            "error_declaration": _error_props(event),
            "unmapped_ids": list(dict.fromkeys(self.unmapped)),
            "extensions": event.extensions,
        }
        # Absent and empty fields are left out: a later event must not blank earlier ones.
        return {k: v for k, v in props.items() if v not in (None, "", [], {})}


def _unique(things: Iterable[Thing]) -> list[Thing]:
    return list({thing.key: thing for thing in things}.values())


def _quantity_props(quantity: Quantity | None) -> dict[str, Any]:
    if quantity is None:
        return {}
    return {k: v for k, v in (("quantity", quantity.quantity), ("uom", quantity.uom)) if v is not None}


def _quantities_props(event: EpcisEvent) -> list[dict[str, Any]]:
    roles = (
        ("quantity", event.quantities),
        ("child", event.child_quantities),
        ("input", event.input_quantities),
        ("output", event.output_quantities),
    )
    return [
        {"role": role, "epc_class": q.epc_class} | _quantity_props(q) for role, quantities in roles for q in quantities
    ]


#: ILMD fields with a well-known meaning, under the names TraceGraph uses everywhere.
_ILMD_NAMES = {
    "lotNumber": "lot",
    "itemExpirationDate": "expiry",
    "bestBeforeDate": "best_before",
    "sellByDate": "sell_by",
}


def _ilmd_props(ilmd: dict[str, Any]) -> dict[str, Any]:
    named = {_ILMD_NAMES[k]: v for k, v in ilmd.items() if k in _ILMD_NAMES and isinstance(v, str)}
    return named | {"ilmd": ilmd}


def _error_props(event: EpcisEvent) -> dict[str, Any] | None:
    error = event.error
    if error is None:
        return None
    return {
        "declaration_time": iso(error.declaration_time),
        "reason": short(error.reason, ERROR_REASON),
        "corrective_event_ids": list(error.corrective_event_ids),
    }


def _identifiers(event: EpcisEvent) -> Iterable[tuple[str, str]]:
    """(field, identifier) of everything the event names."""
    yield from (("parentID", uri) for uri in [event.parent] if uri)
    for field_name, uris in (
        ("epcList", event.epcs),
        ("childEPCs", event.children),
        ("inputEPCList", event.inputs),
        ("outputEPCList", event.outputs),
    ):
        yield from ((field_name, uri) for uri in uris)
    for field_name, quantities in (
        ("quantityList", event.quantities),
        ("childQuantityList", event.child_quantities),
        ("inputQuantityList", event.input_quantities),
        ("outputQuantityList", event.output_quantities),
    ):
        yield from ((f"{field_name}.epcClass", q.epc_class) for q in quantities)


def identifier_problems(event: EpcisEvent, identities: Identities) -> list[Problem]:
    """Malformed EPCs: an event naming one is rejected rather than half-mapped."""
    problems = []
    for field_name, uri in _identifiers(event):
        try:
            identities.resolve(uri)
        except IdentifierProblem as exc:
            problems.append(Problem(field_name, str(exc)))
    return problems


def map_events(events: Sequence[EpcisEvent], source: str) -> tuple[Facts, list[tuple[int, Problem]]]:
    """The facts of ``events`` (in document order) and the events rejected while mapping."""
    identities = Identities()
    problems: list[tuple[int, Problem]] = []
    mappable: list[EpcisEvent] = []
    for event in events:
        found = identifier_problems(event, identities)
        if found:
            problems.extend((event.index, problem) for problem in found)
            continue
        mappable.append(event)
        if event.type == "AggregationEvent" and event.parent and event.error is None:
            identities.containers.add(identities.parent(event.parent).key)
    facts = Facts()
    for event in mappable:
        try:
            mapped = _EventMapper(event, source, identities).map()
        except InvalidInputError as exc:  # a lot or transaction ID no key can hold
            problems.append((event.index, Problem(None, str(exc))))
            continue
        facts.nodes.extend(mapped.nodes)
        facts.edges.extend(mapped.edges)
        facts.retract_records.extend(mapped.retract_records)
    return facts, problems
