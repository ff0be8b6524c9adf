"""EPCIS documents -> facts, one mapping rule at a time, on small hand-written documents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from graph.sqlite.store import SQLiteStore
from loaders.base import ParseResult
from loaders.epcis import detect_epcis, parse_epcis, read_events
from loaders.epcis.digital_link import canonical_dl
from loaders.epcis.hashing import canonical_time, canonical_value
from schema.identifiers import canonical_key
from schema.kinds import EdgeType, NodeKind
from schema.model import ANY_SOURCE, EdgeFact, EdgeOp, FactBatch, NodeFact, TraceDirection, TraceQuery

CONTEXT = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"example": "https://ns.example.com/epcis/"},
]

UNIT_1 = "urn:epc:id:sgtin:0614141.107346.2017"
UNIT_2 = "urn:epc:id:sgtin:0614141.107346.2018"
CASE = "urn:epc:id:sgtin:0614141.207346.100"  # a serialised case: its own GTIN
PALLET = "urn:epc:id:sscc:0614141.1234567890"
LOT_CLASS = "urn:epc:class:lgtin:4012345.012345.998877"
PLANT = "urn:epc:id:sgln:0614141.07346.0"
DOCK = "urn:epc:id:sgln:0614141.07346.1234"
CUSTOMER = "urn:epc:id:pgln:0012345.11111"
CUSTOMER_DC = "urn:epc:id:sgln:0012345.11111.0"


def key(identifier: str) -> str:
    return canonical_key(identifier)


def json_event(kind: str, hour: int = 10, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "eventTime": f"2024-05-02T{hour:02d}:00:00.000+02:00",
        "eventTimeZoneOffset": "+02:00",
        **fields,
    }


def json_document(*events: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "@context": CONTEXT,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2024-05-02T12:00:00Z",
            "epcisBody": {"eventList": list(events)},
        }
    )


def xml_document(events: str, *, version: int = 2) -> bytes:
    return (
        f'<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:{version}" '
        'xmlns:cbvmda="urn:epcglobal:cbv:mda" xmlns:example="https://ns.example.com/epcis/" '
        f'schemaVersion="{version}.{"2" if version == 1 else "0"}" creationDate="2024-05-02T12:00:00Z">'
        f"<EPCISBody><EventList>{events}</EventList></EPCISBody></epcis:EPCISDocument>"
    ).encode()


def parse(data: bytes, source: str = "doc.json") -> ParseResult:
    result = parse_epcis(data, source=source)
    assert not result.rejects, [str(r) for r in result.rejects]
    return result


def edges(result: ParseResult, type_: EdgeType) -> list[EdgeFact]:
    return [e for e in result.edges if e.type is type_]


def nodes(result: ParseResult, kind: NodeKind) -> list[NodeFact]:
    return [n for n in result.nodes if n.kind is kind]


def apply(store: SQLiteStore, *results: ParseResult) -> None:
    for number, result in enumerate(results):
        store.apply(
            FactBatch(
                source=f"doc{number}",
                nodes=tuple(result.nodes),
                edges=tuple(result.edges),
                retract_records=tuple(result.retract_records),
            )
        )


def reached(store: SQLiteStore, start: str, direction: TraceDirection = TraceDirection.FORWARD) -> set[str]:
    return {n.key for n in store.trace(TraceQuery(starts=(start,), direction=direction)).nodes}


def at(hour: int) -> datetime:
    return datetime(2024, 5, 2, hour - 2, tzinfo=UTC)  # the documents' times are +02:00


COMMISSIONING = json_event(
    "ObjectEvent",
    8,
    epcList=[UNIT_1, UNIT_2],
    action="ADD",
    bizStep="commissioning",
    disposition="active",
    readPoint={"id": DOCK},
    bizLocation={"id": PLANT},
    ilmd={"cbvmda:lotNumber": "L42", "cbvmda:itemExpirationDate": "2026-05-31", "example:line": "3"},
)


# -- every event: an Event node, evidence for what it names --------------------------------------


def test_every_event_becomes_an_event_node_that_its_things_are_recorded_by() -> None:
    result = parse(json_document(COMMISSIONING))
    (event,) = nodes(result, NodeKind.EVENT)
    assert event.key.startswith("event:ni:///sha-256;") and event.key.endswith("?ver=CBV2.0")
    assert event.props["event_type"] == "ObjectEvent"
    assert event.props["action"] == "ADD"
    assert event.props["biz_step"] == "commissioning"
    assert event.props["disposition"] == "active"
    assert event.props["event_time"] == "2024-05-02T06:00:00Z"
    assert event.props["event_time_zone_offset"] == "+02:00"
    recorded = {(e.source, e.target) for e in edges(result, EdgeType.RECORDED_BY)}
    assert recorded == {(key(UNIT_1), event.key), (key(UNIT_2), event.key)}


def test_facts_cite_their_event_by_position_and_canonical_id() -> None:
    second = json_event("ObjectEvent", 9, epcList=[UNIT_1], action="OBSERVE", eventID="urn:uuid:5e1a-declared")
    result = parse(json_document(COMMISSIONING, second), source="plant.jsonld")
    (first_id, second_id) = (e.event_id for e in read_events(json_document(COMMISSIONING, second))[0])
    provenances = [n.provenance for n in result.nodes] + [e.provenance for e in result.edges]
    first_facts = [p for p in provenances if p.line == 1]
    assert first_facts and all(
        p.source_system == "epcis" and p.source == "plant.jsonld" and p.record_id == p.record_hash == first_id
        for p in first_facts
    )
    # A declared eventID is what an error declaration repeats: it is the record's id.
    second_facts = [f for f in result.edges if f.provenance.line == 2]
    assert second_facts and all(
        f.provenance.record_id == "urn:uuid:5e1a-declared" and f.provenance.record_hash == second_id
        for f in second_facts
    )


def test_read_point_and_business_location_are_where_it_happened_not_a_path() -> None:
    result = parse(json_document(COMMISSIONING))
    (event,) = nodes(result, NodeKind.EVENT)
    assert event.props["read_point"] == key(DOCK)
    assert event.props["biz_location"] == key(PLANT)
    named = {k for e in result.edges for k in (e.source, e.target)}
    assert key(DOCK) not in named and key(PLANT) not in named


# -- commissioning into a lot ------------------------------------------------------------------


def test_commissioning_with_an_ilmd_lot_puts_each_new_unit_in_its_lot() -> None:
    result = parse(json_document(COMMISSIONING))
    lot = key("(01)10614141073464(10)L42")
    (lot_node,) = nodes(result, NodeKind.PRODUCT_LOT)
    assert lot_node.key == lot
    assert lot_node.props["lot"] == "L42" and lot_node.props["expiry"] == "2026-05-31"
    assert {(e.source, e.target) for e in edges(result, EdgeType.INCLUDES)} == {(lot, key(UNIT_1)), (lot, key(UNIT_2))}
    units = {n.key: n for n in nodes(result, NodeKind.DEVICE)}
    assert units[key(UNIT_1)].props["serial"] == "2017"
    assert units[key(UNIT_1)].props["expiry"] == "2026-05-31"
    assert units[key(UNIT_1)].props["ilmd"]["{https://ns.example.com/epcis/}line"] == "3"


def test_observing_units_with_no_ilmd_makes_no_lot() -> None:
    result = parse(json_document(json_event("ObjectEvent", epcList=[UNIT_1], action="OBSERVE", bizStep="inspecting")))
    assert not edges(result, EdgeType.INCLUDES) and not nodes(result, NodeKind.PRODUCT_LOT)


# -- aggregation: packing and unpacking --------------------------------------------------------

PACKING = """
<AggregationEvent>
  <eventTime>2024-05-02T{hour}:00:00+02:00</eventTime><eventTimeZoneOffset>+02:00</eventTimeZoneOffset>
  <parentID>{parent}</parentID>
  <childEPCs>{children}</childEPCs>
  <action>{action}</action><bizStep>urn:epcglobal:cbv:bizstep:{step}</bizStep>
</AggregationEvent>"""


def aggregation(parent: str, children: Sequence[str], *, hour: int, action: str = "ADD") -> str:
    step = "packing" if action == "ADD" else "unpacking"
    listed = "".join(f"<epc>{c}</epc>" for c in children)
    return PACKING.format(hour=f"{hour:02d}", parent=parent, children=listed, action=action, step=step)


def shipping(epc: str, hour: int, transactions: str = "") -> str:
    return f"""
<ObjectEvent>
  <eventTime>2024-05-02T{hour:02d}:00:00+02:00</eventTime><eventTimeZoneOffset>+02:00</eventTimeZoneOffset>
  <epcList><epc>{epc}</epc></epcList><action>OBSERVE</action>
  <bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>
  <bizTransactionList>{transactions}</bizTransactionList>
  <destinationList><destination type="urn:epcglobal:cbv:sdt:owning_party">{CUSTOMER}</destination></destinationList>
</ObjectEvent>"""


def test_packing_opens_containment_from_child_to_parent_at_the_event_time() -> None:
    result = parse(xml_document(aggregation(PALLET, [UNIT_1, UNIT_2], hour=9)), "pack.xml")
    packed = edges(result, EdgeType.PACKED_IN)
    assert {(e.source, e.target, e.at, e.op) for e in packed} == {
        (key(UNIT_1), key(PALLET), at(9), EdgeOp.ASSERT),
        (key(UNIT_2), key(PALLET), at(9), EdgeOp.ASSERT),
    }
    kinds = {n.key: n.kind for n in result.nodes}
    assert kinds[key(PALLET)] is NodeKind.CONTAINER and kinds[key(UNIT_1)] is NodeKind.DEVICE


def test_a_serialised_case_used_as_a_parent_is_a_container_throughout_the_document() -> None:
    commissioned = json_event("ObjectEvent", 8, epcList=[CASE], action="ADD", bizStep="commissioning")
    packed = json_event("AggregationEvent", 9, parentID=CASE, childEPCs=[UNIT_1], action="ADD", bizStep="packing")
    result = parse(json_document(commissioned, packed))
    assert {n.kind for n in result.nodes if n.key == key(CASE)} == {NodeKind.CONTAINER}


def test_unpacking_closes_each_listed_child() -> None:
    result = parse(xml_document(aggregation(PALLET, [UNIT_1], hour=11, action="DELETE")), "unpack.xml")
    (closed,) = edges(result, EdgeType.PACKED_IN)
    assert (closed.source, closed.target, closed.until, closed.op) == (key(UNIT_1), key(PALLET), at(11), EdgeOp.CLOSE)


def test_unpacking_without_children_closes_everything_inside(sqlite_store: SQLiteStore) -> None:
    unpack_all = aggregation(PALLET, [], hour=11, action="DELETE").replace("<childEPCs></childEPCs>", "")
    result = parse(xml_document(aggregation(PALLET, [UNIT_1, UNIT_2], hour=9) + unpack_all + shipping(PALLET, 12)))
    (closed,) = [e for e in edges(result, EdgeType.PACKED_IN) if e.op is EdgeOp.CLOSE]
    assert (closed.source, closed.target, closed.until) == (ANY_SOURCE, key(PALLET), at(11))
    apply(sqlite_store, result)
    # Shipped after the unpacking: the units did not travel with the pallet.
    assert not any(k.startswith("shipment:") for k in reached(sqlite_store, key(UNIT_1)))
    assert key(PALLET) in reached(sqlite_store, key(UNIT_1))


def test_contents_shipped_while_packed_reach_the_customer(sqlite_store: SQLiteStore) -> None:
    doc = xml_document(aggregation(CASE, [UNIT_1], hour=8) + aggregation(PALLET, [CASE], hour=9) + shipping(PALLET, 10))
    apply(sqlite_store, parse(doc))
    forward = reached(sqlite_store, key(UNIT_1))
    assert {key(CASE), key(PALLET), key(CUSTOMER)} <= forward
    assert any(k.startswith("shipment:event:") for k in forward)
    assert key(UNIT_1) in reached(sqlite_store, key(CUSTOMER), TraceDirection.BACKWARD)


# -- transformation ----------------------------------------------------------------------------


def test_transformation_links_every_input_to_every_output() -> None:
    transformed = json_event(
        "TransformationEvent",
        inputEPCList=[UNIT_1],
        inputQuantityList=[{"epcClass": LOT_CLASS, "quantity": 2.5, "uom": "KGM"}],
        outputEPCList=[UNIT_2, CASE],
        bizStep="commissioning",
    )
    result = parse(json_document(transformed))
    links = {(e.source, e.target): e for e in edges(result, EdgeType.TRANSFORMED_INTO)}
    assert set(links) == {(i, o) for i in (key(UNIT_1), key(LOT_CLASS)) for o in (key(UNIT_2), key(CASE))}
    assert links[(key(LOT_CLASS), key(UNIT_2))].props == {"quantity": 2.5, "uom": "KGM"}
    assert {n.kind for n in result.nodes if n.key == key(LOT_CLASS)} == {NodeKind.PRODUCT_LOT}


def test_whole_gtin_quantities_name_no_thing_and_are_kept_on_the_event() -> None:
    whole_gtin = "urn:epc:idpat:sgtin:4012345.012345.*"
    observed = json_event("ObjectEvent", action="OBSERVE", quantityList=[{"epcClass": whole_gtin, "quantity": 5}])
    result = parse(json_document(observed))
    (event,) = nodes(result, NodeKind.EVENT)
    assert event.props["quantities"] == [{"role": "quantity", "epc_class": whole_gtin, "quantity": 5.0}]
    assert event.props["unmapped_ids"] == [whole_gtin]
    assert not edges(result, EdgeType.RECORDED_BY)


# -- shipments ---------------------------------------------------------------------------------

DESADV = '<bizTransaction type="urn:epcglobal:cbv:btt:desadv">urn:epcglobal:cbv:bt:0614141000005:ASN-7</bizTransaction>'
PO = '<bizTransaction type="urn:epcglobal:cbv:btt:po">urn:epcglobal:cbv:bt:0012345000005:PO-9</bizTransaction>'


def test_a_shipment_is_named_by_its_despatch_advice_and_delivered_to_the_destinations() -> None:
    locations = f'<destination type="urn:epcglobal:cbv:sdt:location">{CUSTOMER_DC}</destination></destinationList>'
    event = shipping(PALLET, 10, PO + DESADV).replace("</destinationList>", locations)
    result = parse(xml_document(event))
    shipment = "shipment:desadv:0614141000005:ASN-7"
    (node,) = nodes(result, NodeKind.SHIPMENT)
    assert node.key == shipment and node.props["shipped_at"] == "2024-05-02T08:00:00Z"
    assert [(e.source, e.target, e.at) for e in edges(result, EdgeType.SHIPPED_IN)] == [(key(PALLET), shipment, at(10))]
    delivered = {(e.target, e.props["destination_type"]) for e in edges(result, EdgeType.DELIVERED_TO)}
    assert delivered == {(key(CUSTOMER), "owning_party"), (key(CUSTOMER_DC), "location")}
    assert {n.key for n in nodes(result, NodeKind.CONSIGNEE)} == {key(CUSTOMER), key(CUSTOMER_DC)}


def test_without_despatch_advice_the_order_then_the_event_names_the_shipment() -> None:
    by_order = parse(xml_document(shipping(PALLET, 10, PO)))
    assert [n.key for n in nodes(by_order, NodeKind.SHIPMENT)] == ["shipment:po:0012345000005:PO-9"]
    by_event = parse(xml_document(shipping(PALLET, 10)))
    (event,) = nodes(by_event, NodeKind.EVENT)
    assert [n.key for n in nodes(by_event, NodeKind.SHIPMENT)] == [f"shipment:event:{event.props['event_id']}"]


def test_the_receiving_event_of_the_same_despatch_advice_joins_the_same_shipment() -> None:
    despatch = json_event(
        "ObjectEvent",
        10,
        epcList=[PALLET],
        action="OBSERVE",
        bizStep="departing",
        bizTransactionList=[{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:ASN-7"}],
    )
    receipt = despatch | {"eventTime": "2024-05-03T10:00:00.000+02:00", "bizStep": "receiving"}
    result = parse(json_document(despatch, receipt))
    assert {e.target for e in edges(result, EdgeType.SHIPPED_IN)} == {"shipment:desadv:0614141000005:ASN-7"}
    assert [e.props["role"] for e in edges(result, EdgeType.SHIPPED_IN)] == ["despatch", "receipt"]
    received = [n for n in nodes(result, NodeKind.SHIPMENT) if "received_at" in n.props]
    assert received and received[0].props["received_at"] == "2024-05-03T08:00:00Z"


def test_any_event_with_a_destination_list_is_a_despatch() -> None:
    moved = json_event(
        "TransactionEvent",
        epcList=[UNIT_1],
        action="ADD",
        bizTransactionList=[{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0012345000005:PO-9"}],
        destinationList=[{"type": "possessing_party", "destination": CUSTOMER}],
    )
    result = parse(json_document(moved))
    assert [e.target for e in edges(result, EdgeType.DELIVERED_TO)] == [key(CUSTOMER)]


def test_identifiers_are_keyed_when_they_can_be_and_kept_on_the_event_when_not() -> None:
    crate = "urn:epc:id:grai:0614141.12345.400"  # a returnable asset: packaging
    foreign = "https://example.com/things/42"
    party = "urn:epc:id:pgln:999999999999."  # a 12-digit company prefix leaves the reference empty
    observed = json_event(
        "ObjectEvent",
        epcList=[crate, foreign],
        action="OBSERVE",
        bizStep="shipping",
        destinationList=[{"type": "owning_party", "destination": party}],
    )
    result = parse(json_document(observed))
    kinds = {n.key: n.kind for n in result.nodes}
    assert kinds["container:8003/00614141123452400"] is NodeKind.CONTAINER
    assert kinds["417/9999999999994"] is NodeKind.CONSIGNEE
    (event,) = nodes(result, NodeKind.EVENT)
    assert event.props["unmapped_ids"] == [foreign]


def test_a_business_transaction_without_type_is_kept_and_hashed() -> None:
    untyped = json_event(
        "ObjectEvent",
        epcList=[UNIT_1],
        action="OBSERVE",
        bizTransactionList=[{"bizTransaction": "urn:epcglobal:cbv:bt:0012345000005:PO-9"}],
    )
    (event,) = nodes(parse(json_document(untyped)), NodeKind.EVENT)
    assert event.props["biz_transactions"] == [{"type": None, "id": "urn:epcglobal:cbv:bt:0012345000005:PO-9"}]
    typed = untyped | {
        "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0012345000005:PO-9"}]
    }
    assert read_events(json_document(untyped))[0][0].event_id != read_events(json_document(typed))[0][0].event_id


# -- association and transaction: evidence -----------------------------------------------------


def test_an_association_is_evidence_not_containment() -> None:
    sensor = "urn:epc:id:giai:4000001.111"
    associated = json_event("AssociationEvent", parentID=PALLET, childEPCs=[sensor], action="ADD", bizStep="assembling")
    result = parse(json_document(associated))
    assert not edges(result, EdgeType.PACKED_IN)
    recorded = {e.source for e in edges(result, EdgeType.RECORDED_BY)}
    assert recorded == {key(PALLET), "equipment:8004/4000001111"}
    assert {n.kind for n in result.nodes if n.key == "equipment:8004/4000001111"} == {NodeKind.EQUIPMENT}


def test_a_transaction_event_records_its_business_transactions_on_the_event() -> None:
    linked = json_event(
        "TransactionEvent",
        epcList=[UNIT_1],
        action="ADD",
        bizStep="holding",
        bizTransactionList=[{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0012345000005:PO-9"}],
    )
    result = parse(json_document(linked))
    (event,) = nodes(result, NodeKind.EVENT)
    assert event.props["biz_transactions"] == [{"type": "po", "id": "urn:epcglobal:cbv:bt:0012345000005:PO-9"}]
    assert [(e.source, e.target) for e in result.edges] == [(key(UNIT_1), event.key)]


def test_sensor_data_is_kept_as_measurements() -> None:
    sensed = json_event(
        "ObjectEvent",
        epcList=[UNIT_1],
        action="OBSERVE",
        bizStep="sensor_reporting",
        readPoint={"id": DOCK},
        sensorElementList=[
            {
                "sensorMetadata": {"time": "2024-05-02T09:55:00+02:00", "deviceID": "urn:epc:id:giai:4000001.111"},
                "sensorReport": [{"type": "Temperature", "value": 4.5, "uom": "CEL"}],
            }
        ],
    )
    (event,) = nodes(parse(json_document(sensed)), NodeKind.EVENT)
    assert event.props["measurements"] == [
        {"time": "2024-05-02T09:55:00+02:00", "deviceID": "urn:epc:id:giai:4000001.111", "type": "Temperature",
         "value": 4.5, "uom": "CEL"}
    ]  # fmt: skip


# -- error declarations ------------------------------------------------------------------------

ERRONEOUS = """
<ObjectEvent>
  <eventTime>2024-05-02T10:00:00+02:00</eventTime><eventTimeZoneOffset>+02:00</eventTimeZoneOffset>
  {declaration}
  <epcList><epc>{epc}</epc></epcList><action>OBSERVE</action>
  <bizStep>urn:epcglobal:cbv:bizstep:shipping</bizStep>
  <bizTransactionList>{transactions}</bizTransactionList>
</ObjectEvent>"""
DECLARATION = """<baseExtension><errorDeclaration>
  <declarationTime>2024-05-03T09:00:00+02:00</declarationTime><reason>urn:epcglobal:cbv:er:incorrect_data</reason>
  <correctiveEventIDs><correctiveEventID>urn:uuid:corrective-1</correctiveEventID></correctiveEventIDs>
</errorDeclaration></baseExtension>"""


def erroneous(*, declared: bool, transactions: str = PO) -> str:
    return ERRONEOUS.format(declaration=DECLARATION if declared else "", epc=PALLET, transactions=transactions)


def test_an_error_declaration_retracts_the_facts_of_the_event_it_repeats(sqlite_store: SQLiteStore) -> None:
    original = parse(xml_document(erroneous(declared=False), version=1), "ship.xml")
    declaration = parse(xml_document(erroneous(declared=True), version=1), "correction.xml")
    (original_event,) = nodes(original, NodeKind.EVENT)
    (declared_event,) = nodes(declaration, NodeKind.EVENT)
    # errorDeclaration is not hashed: the declaring event has the erroneous event's ID.
    assert declared_event.key == original_event.key
    assert declaration.retract_records == [original_event.props["event_id"]]
    assert declaration.edges == []  # it re-asserts nothing
    assert declared_event.props["error_declaration"] == {
        "declaration_time": "2024-05-03T07:00:00Z",
        "reason": "incorrect_data",
        "corrective_event_ids": ["urn:uuid:corrective-1"],
    }
    apply(sqlite_store, original)
    assert "shipment:po:0012345000005:PO-9" in reached(sqlite_store, key(PALLET))
    apply(sqlite_store, declaration)
    assert "shipment:po:0012345000005:PO-9" not in reached(sqlite_store, key(PALLET))
    # The history remains: the event, and the retracted edge with its versions.
    shown = sqlite_store.node(original_event.key)
    assert shown.props["error_declaration"]["reason"] == "incorrect_data"
    (shipped,) = [e for e in sqlite_store.node(key(PALLET)).edges_out if e.type is EdgeType.SHIPPED_IN]
    assert shipped.retracted and len(shipped.versions) == 2


def test_an_error_declaration_names_the_event_by_its_declared_event_id() -> None:
    declared = erroneous(declared=True).replace("<epcList>", "<eventID>urn:uuid:original-1</eventID><epcList>")
    result = parse(xml_document(declared))
    (event,) = nodes(result, NodeKind.EVENT)
    assert result.retract_records == ["urn:uuid:original-1", event.props["event_id"]]


def test_an_erroneous_event_and_its_declaration_in_one_document(sqlite_store: SQLiteStore) -> None:
    corrective = erroneous(declared=False, transactions=PO.replace("PO-9", "PO-10")).replace(
        "<epcList>", "<baseExtension><eventID>urn:uuid:corrective-1</eventID></baseExtension><epcList>"
    )
    doc = xml_document(erroneous(declared=False) + erroneous(declared=True) + corrective, version=1)
    apply(sqlite_store, parse(doc))
    forward = reached(sqlite_store, key(PALLET))
    assert "shipment:po:0012345000005:PO-10" in forward
    assert "shipment:po:0012345000005:PO-9" not in forward


# -- identity of events and documents ----------------------------------------------------------


def test_recapturing_a_document_gives_identical_facts() -> None:
    doc = json_document(
        COMMISSIONING, json_event("AggregationEvent", 9, parentID=PALLET, childEPCs=[UNIT_1], action="ADD")
    )
    first, second = parse(doc), parse(doc)
    assert first.nodes == second.nodes and first.edges == second.edges


def test_the_same_event_in_json_and_xml_has_the_same_id_and_the_same_facts() -> None:
    as_json = json_document(
        json_event("AggregationEvent", 9, parentID=PALLET, childEPCs=[UNIT_2, UNIT_1], action="ADD", bizStep="packing")
    )
    as_xml = xml_document(aggregation(PALLET, [UNIT_1, UNIT_2], hour=9))
    (from_json,), _ = read_events(as_json)
    (from_xml,), _ = read_events(as_xml)
    assert from_json.event_id == from_xml.event_id
    json_edges = {(e.type, e.source, e.target, e.at) for e in parse(as_json).edges}
    assert json_edges == {(e.type, e.source, e.target, e.at) for e in parse(as_xml).edges}


@given(st.permutations([UNIT_1, UNIT_2, CASE, "urn:epc:id:sgtin:0614141.107346.2019"]))
def test_the_event_id_ignores_list_order_and_key_order(order: list[str]) -> None:
    reference = json_event("ObjectEvent", epcList=[UNIT_1, UNIT_2, CASE, "urn:epc:id:sgtin:0614141.107346.2019"],
                           action="OBSERVE", bizStep="inspecting")  # fmt: skip
    shuffled = dict(reversed(list((reference | {"epcList": order}).items())))
    (a,), _ = read_events(json_document(reference))
    (b,), _ = read_events(json_document(shuffled))
    assert a.event_id == b.event_id


def test_the_event_id_changes_with_any_field() -> None:
    base = json_event("ObjectEvent", epcList=[UNIT_1], action="OBSERVE", bizStep="inspecting")
    changed = [base | {"bizStep": "shipping"}, base | {"epcList": [UNIT_2]}, base | {"example:note": "x"}]
    ids = {read_events(json_document(e))[0][0].event_id for e in [base, *changed]}
    assert len(ids) == 4


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("2023-02-02T11:04:03.1415Z", "2023-02-02T11:04:03.142Z"),  # the 4th decimal rounds half up
        ("2023-02-02T11:04:03.1414Z", "2023-02-02T11:04:03.141Z"),
        ("2023-02-02T23:59:59.9996-01:00", "2023-02-03T01:00:00.000Z"),  # rounding carries over
        ("2022-04-13T12:35:29.017069617+02:00", "2022-04-13T10:35:29.017Z"),
        ("2006-11-07T13:00Z", "2006-11-07T13:00:00.000Z"),
    ],
)
def test_timestamps_hash_in_utc_to_the_millisecond(written: str, canonical: str) -> None:
    assert canonical_time(written) == canonical


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("26.0", "26"),
        ("0.50", "0.5"),
        ("urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017"),
        ("https://example.com/gtin/614141073467/ser/2017?linkType=all", "https://id.gs1.org/01/00614141073467/21/2017"),
        ("urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400"),
        ("geo:47.506694,11.104301", "geo:47.506694,11.104301"),
    ],
)
def test_values_hash_in_canonical_form(written: str, canonical: str) -> None:
    assert canonical_value(written) == canonical


def test_identifiers_outside_gs1_have_no_digital_link() -> None:
    assert canonical_dl("urn:uuid:8f93dd62-f7d5-4033-887a-e81e7596a988") is None


def test_ignore_fields_are_left_out_of_the_event_id() -> None:
    with_field = json_event("ObjectEvent", epcList=[UNIT_1], action="OBSERVE") | {"example:captureID": "c-1"}
    document = orjson.loads(json_document(with_field))
    document["example:ignoreFields"] = ["example:captureID"]
    (ignoring,), _ = read_events(orjson.dumps(document))
    (plain,), _ = read_events(json_document(json_event("ObjectEvent", epcList=[UNIT_1], action="OBSERVE")))
    assert ignoring.event_id == plain.event_id


# -- formats -----------------------------------------------------------------------------------


def test_epcis_1_2_extension_wrappers_are_unwrapped() -> None:
    transformation = f"""<extension><TransformationEvent>
      <eventTime>2024-05-02T10:00:00+02:00</eventTime><eventTimeZoneOffset>+02:00</eventTimeZoneOffset>
      <inputEPCList><epc>{UNIT_1}</epc></inputEPCList><outputEPCList><epc>{UNIT_2}</epc></outputEPCList>
      <ilmd><cbvmda:lotNumber>L7</cbvmda:lotNumber></ilmd>
    </TransformationEvent></extension>"""
    result = parse(xml_document(transformation, version=1))
    assert [(e.source, e.target) for e in edges(result, EdgeType.TRANSFORMED_INTO)] == [(key(UNIT_1), key(UNIT_2))]
    assert [e.source for e in edges(result, EdgeType.INCLUDES)] == [key("(01)10614141073464(10)L7")]


def test_a_bare_event_is_a_document_of_one_event() -> None:
    bare_json = orjson.dumps({"@context": CONTEXT} | json_event("ObjectEvent", epcList=[UNIT_1], action="OBSERVE"))
    bare_xml = (
        b'<ObjectEvent xmlns:epcis="urn:epcglobal:epcis:xsd:2" schemaVersion="2.0">'
        b"<eventTime>2024-05-02T10:00:00.000+02:00</eventTime><eventTimeZoneOffset>+02:00</eventTimeZoneOffset>"
        + f"<epcList><epc>{UNIT_1}</epc></epcList><action>OBSERVE</action></ObjectEvent>".encode()
    )
    assert parse(bare_json).records == parse(bare_xml).records == 1
    assert read_events(bare_json)[0][0].event_id == read_events(bare_xml)[0][0].event_id


def test_detect_epcis() -> None:
    assert detect_epcis(json_document(COMMISSIONING))
    assert detect_epcis(b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- shipment -->\n' + xml_document(shipping(PALLET, 10)))
    assert not detect_epcis(b"<html><body/></html>")
    assert not detect_epcis(b'{"rows": []}')
    assert not detect_epcis(b"gtin,serial\n")


# -- rejects -----------------------------------------------------------------------------------


def rejects_of(data: bytes) -> list[tuple[int | None, str | None, str]]:
    result = parse_epcis(data, source="bad.doc")
    assert all(r.source == "bad.doc" for r in result.rejects)
    return [(r.line, r.field, r.reason) for r in result.rejects]


@pytest.mark.parametrize(
    ("data", "line", "field", "reason"),
    [
        (b"{not json", None, None, "not valid JSON"),
        (b"\x00\x01", None, None, "neither XML nor JSON"),
        (b"<a><b></a>", None, None, "not well-formed XML"),
        (orjson.dumps({"type": "EPCISDocument", "epcisBody": {"eventList": []}}), None, None, "no @context"),
        (json_document(json_event("ObjectEvent", action="OBSERVE", epcList=[UNIT_1], bizStep="teleporting")), 1,
         "bizStep", "'teleporting' is neither a CBV business step nor a URI"),
        (json_document(json_event("ObjectEvent", action="SHIP", epcList=[UNIT_1])), 1, "action", "is not ADD"),
        (xml_document(shipping(PALLET, 10).replace("bizstep:shipping", "bizstep:shiping")), 1, "bizStep",
         "'shiping' is not a CBV business step"),
        (json_document({"type": "ObjectEvent", "action": "ADD", "epcList": [UNIT_1]}), 1, "eventTime", "is required"),
        (json_document(json_event("ObjectEvent", action="ADD", epcList=[UNIT_1], ilmd={"lotNumber": "L1"})), 1,
         "ilmd.lotNumber", "ILMD fields need a namespace"),
        (json_document(json_event("ObjectEvent", action="ADD", epcList=[UNIT_1]) | {"acme:x": 1}), 1, "acme:x",
         "prefix 'acme'"),
        (json_document(json_event("ObjectEvent", action="ADD", epcList=["urn:epc:id:sgtin:0614141.1073.1"])), 1,
         "epcList", "urn:epc:id:sgtin:0614141.1073.1: company prefix and reference have 11 digits together"),
        (json_document(json_event("ShippingEvent", action="ADD")), 1, "type", "unknown event type"),
        (xml_document(shipping(PALLET, 10).replace("<action>", "<colour>red</colour><action>")), 1, "colour",
         "unknown field 'colour'"),
        (xml_document(shipping(PALLET, 10).replace("<eventTimeZoneOffset>+02:00", "<eventTimeZoneOffset>2 hours")), 1,
         "eventTimeZoneOffset", "is not an offset"),
        (b'<epcisq:EPCISQueryDocument xmlns:epcisq="urn:epcglobal:epcis-query:xsd:2"><EPCISBody><epcisq:Poll/>'
         b"</EPCISBody></epcisq:EPCISQueryDocument>", None, None, "not query results"),
    ],
)  # fmt: skip
def test_invalid_input_is_rejected_with_where_and_why(
    data: bytes, line: int | None, field: str | None, reason: str
) -> None:
    found = rejects_of(data)
    assert any(r_line == line and r_field == field and reason in r_reason for r_line, r_field, r_reason in found), found


def test_xml_entities_and_doctypes_are_refused_without_being_resolved() -> None:
    attack = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2"><EPCISBody><EventList/></EPCISBody>'
        b"</epcis:EPCISDocument>"
    )
    assert rejects_of(attack) == [
        (None, None, "XML with a DOCTYPE declaration is refused: EPCIS documents never need one")
    ]


def test_a_bad_event_is_rejected_and_the_others_still_load() -> None:
    bad = json_event("ObjectEvent", action="MAYBE", epcList=[UNIT_2])
    result = parse_epcis(json_document(COMMISSIONING, bad), source="mixed.json")
    assert [(r.line, r.field) for r in result.rejects] == [(2, "action")]
    assert result.rejects[0].record is not None and "MAYBE" in result.rejects[0].record
    assert result.records == 2
    assert {f.provenance.line for f in result.nodes} == {1}
