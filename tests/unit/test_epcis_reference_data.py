"""Acceptance: our EPCIS loader against public reference documents written by others.

``shared/data/epcis`` (see ``shared/data/SOURCES.md``) holds the openepcis test resources
(valid and intentionally invalid EPCIS 2.0 JSON-LD/XML and 1.2 XML documents) and the GS1
event-hash reference examples with their expected canonical event IDs. Every valid
document must load without a reject, every invalid one must be rejected with a reason,
every expected hash must be computed, and the US pharma example must trace end to end.

Two groups of files are treated apart, each listed below with why, so the lists stay true:
query requests are not event documents, and one "invalid" file contradicts the valid ones.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from graph.sqlite.store import SQLiteStore
from loaders.epcis import parse_epcis, read_events
from schema.identifiers import canonical_key
from schema.kinds import NodeKind
from schema.model import FactBatch, TraceDirection, TraceQuery


def _shared_data() -> Path:
    override = os.environ.get("TRACEGRAPH_SHARED_DATA")
    if override:
        return Path(override)
    # The checkout is <root>/main; shared data sits beside it in <root>/shared/data.
    return Path(__file__).resolve().parents[3] / "shared" / "data"


EPCIS = _shared_data() / "epcis"
pytestmark = pytest.mark.skipif(
    not EPCIS.is_dir(), reason=f"EPCIS reference data not found at {EPCIS} (set TRACEGRAPH_SHARED_DATA)"
)

DOCUMENT_SUFFIXES = (".xml", ".json", ".jsonld")

#: Poll requests and query parameter sets (``…/Query/Queries/``) ask for events; they carry
#: none, so the loader refuses them (asserted below) instead of loading them.
QUERY_REQUESTS = "Queries"

#: Valid reference documents whose fields are deliberately out of the EPCIS XML schema's
#: order: inputs of openepcis' XML-to-JSON conversion tests and of the event-hash
#: generator's proof that the hash ignores order (tools that read any order and do not
#: validate against the XSD). Both GS1 XSDs (EPCglobal-epcis-2_0.xsd and its _alt variant,
#: and 1.2) define every event type as an ``xsd:sequence`` extending EPCISEventType's, so
#: they break the schema exactly as ``Invalid/ObjectEvent_with_wrong_element_order.xml``
#: (openepcis' XSD-validation negative case) does: a common field (eventTime,
#: eventTimeZoneOffset) after an event type's own field. That Invalid document is faulty in
#: nothing else (it loads with the order check off, asserted below), so no rule faithful
#: to the XSD loads these four and refuses it: they are refused by default and load with
#: the order check off (``tracegraph load --epcis-any-order``).
JUMBLED = {
    "openepcis/2.0/EPCIS/XML/Capture/Documents/JumbledFieldsOrder.xml",
    "openepcis/2.0/EPCIS/XML/Query/JumbledFieldsOrder.xml",
    "openepcis/1.2/EPCIS/XML/Capture/Documents/Jumbled_attributes_order.xml",
    "event-hash-generator/expected_equal/differentRepresentationsOfAggregationEvent.xml",
}

PHARMA = "openepcis/1.2/EPCIS/XML/Capture/Documents/GS1_US_Pharma_Example_2_2_1_1.xml"


def _documents() -> list[Path]:
    if not EPCIS.is_dir():
        return []
    return sorted(p for p in EPCIS.rglob("*") if p.suffix in DOCUMENT_SUFFIXES)


def _name(path: Path) -> str:
    return path.relative_to(EPCIS).as_posix()


def _is_invalid(path: Path) -> bool:
    return "Invalid" in path.relative_to(EPCIS).parts


def _is_query_request(path: Path) -> bool:
    return QUERY_REQUESTS in path.relative_to(EPCIS).parts


VALID = [p for p in _documents() if not _is_invalid(p) and not _is_query_request(p) and _name(p) not in JUMBLED]
INVALID = [p for p in _documents() if _is_invalid(p)]
QUERIES = [p for p in _documents() if _is_query_request(p) and not _is_invalid(p)]
HASHED = sorted(EPCIS.rglob("*.hashes")) if EPCIS.is_dir() else []


@pytest.mark.parametrize("path", VALID, ids=_name)
def test_every_valid_document_loads_without_rejects(path: Path) -> None:
    result = parse_epcis(path.read_bytes(), source=path.name)
    assert [str(r) for r in result.rejects] == []
    assert result.records > 0 and len(result.nodes) >= result.records  # an Event node per event, at least


@pytest.mark.parametrize("path", INVALID, ids=_name)
def test_every_invalid_document_is_rejected_with_a_reason(path: Path) -> None:
    result = parse_epcis(path.read_bytes(), source=path.name)
    assert result.rejects, "accepted an invalid document"
    assert all(r.source == path.name and r.reason for r in result.rejects)


@pytest.mark.parametrize("path", QUERIES, ids=_name)
def test_query_requests_are_refused_as_carrying_no_events(path: Path) -> None:
    (reject,) = parse_epcis(path.read_bytes(), source=path.name).rejects
    assert "query" in reject.reason and reject.line is None


@pytest.mark.parametrize("name", sorted(JUMBLED))
def test_jumbled_documents_are_refused_for_order_and_load_without_the_check(name: str) -> None:
    data = (EPCIS / name).read_bytes()
    rejects = parse_epcis(data, source=name).rejects
    assert rejects and all(r.field and "EPCIS XML schema puts the common event fields" in r.reason for r in rejects)
    assert all(r.source == name and r.line is not None for r in rejects)  # file, event index, field, reason
    lenient = parse_epcis(data, source=name, check_order=False)
    assert lenient.rejects == [] and lenient.records > 0


def test_the_element_order_document_is_rejected_naming_event_and_field() -> None:
    name = "openepcis/2.0/EPCIS/XML/Capture/Invalid/ObjectEvent_with_wrong_element_order.xml"
    (reject,) = parse_epcis((EPCIS / name).read_bytes(), source="order.xml").rejects
    assert (reject.source, reject.line, reject.field) == ("order.xml", 1, "eventTime")
    assert "<eventTime> comes after the ObjectEvent field <action>" in reject.reason
    # Order is its only fault, the same as the jumbled valid documents': nothing else tells them apart.
    assert parse_epcis((EPCIS / name).read_bytes(), source="order.xml", check_order=False).rejects == []


def _hashed_documents() -> list[tuple[Path, Path]]:
    pairs = []
    for hashes in HASHED:
        for suffix in DOCUMENT_SUFFIXES:
            document = hashes.with_suffix(suffix)
            if document.exists():
                pairs.append((hashes, document))
    return pairs


@pytest.mark.parametrize(("hashes", "document"), _hashed_documents(), ids=lambda p: _name(p))
def test_canonical_event_ids_equal_the_reference_hashes(hashes: Path, document: Path) -> None:
    events, problems = read_events(document.read_bytes(), check_order=_name(document) not in JUMBLED)
    assert problems == []
    assert [e.event_id for e in events] == hashes.read_text().split()


def test_every_hashes_file_has_a_document() -> None:
    covered = {hashes for hashes, _ in _hashed_documents()}
    assert covered == set(HASHED)


EXPECTED_EQUAL = sorted((EPCIS / "event-hash-generator" / "expected_equal").glob("*")) if EPCIS.is_dir() else []


@pytest.mark.parametrize("document", EXPECTED_EQUAL, ids=_name)
def test_different_serialisations_of_one_event_hash_identically(document: Path) -> None:
    events, problems = read_events(document.read_bytes(), check_order=_name(document) not in JUMBLED)
    assert problems == [] and len(events) >= 2
    assert len({e.event_id for e in events}) == 1


# -- the US pharma example, end to end ---------------------------------------------------------

ITEM = canonical_key("urn:epc:id:sgtin:030001.0012345.11")
CASE = canonical_key("urn:epc:id:sgtin:030001.1012345.110")
PALLET = canonical_key("urn:epc:id:sscc:030001.41234567890")
WHOLESALER = canonical_key("urn:epc:id:sgln:039999.999999.0")  # owning party of the destination
WHOLESALER_DC = canonical_key("urn:epc:id:sgln:039999.345678.0")
SHIPMENT = "shipment:desadv:0300011111215:DEL100"  # named by its despatch advice


@pytest.fixture
def pharma_store(tmp_path: Path) -> SQLiteStore:
    path = EPCIS / PHARMA
    result = parse_epcis(path.read_bytes(), source=path.name)
    assert not result.rejects
    store = SQLiteStore(tmp_path / "t.db")
    store.migrate()
    store.apply(
        FactBatch(
            source=path.name,
            nodes=tuple(result.nodes),
            edges=tuple(result.edges),
            retract_records=tuple(result.retract_records),
        )
    )
    return store


def test_an_item_traces_forward_to_its_case_pallet_shipment_and_wholesaler(pharma_store: SQLiteStore) -> None:
    trace = pharma_store.trace(TraceQuery(starts=(ITEM,), direction=TraceDirection.FORWARD))
    found = {n.key: n for n in trace.nodes}
    assert {CASE, PALLET, SHIPMENT, WHOLESALER, WHOLESALER_DC} <= set(found)
    assert found[WHOLESALER].path == (ITEM, CASE, PALLET, SHIPMENT, WHOLESALER)
    assert found[CASE].kind is found[PALLET].kind is NodeKind.CONTAINER
    assert found[WHOLESALER].kind is NodeKind.CONSIGNEE


@pytest.mark.parametrize("start", [WHOLESALER, SHIPMENT])
def test_the_wholesaler_and_the_shipment_trace_back_to_all_twelve_items(pharma_store: SQLiteStore, start: str) -> None:
    trace = pharma_store.trace(TraceQuery(starts=(start,), direction=TraceDirection.BACKWARD))
    items = {n.key for n in trace.nodes if n.kind is NodeKind.DEVICE}
    assert items == {canonical_key(f"urn:epc:id:sgtin:030001.0012345.{serial}") for serial in range(11, 23)}
    assert {CASE, PALLET} <= {n.key for n in trace.nodes}
