"""GS1 EPCIS documents -> facts: EPCIS 2.0 JSON-LD and XML, EPCIS 1.2 XML.

``parse_epcis(data, source=…)`` reads a capture document, a query-results document or a
bare event, validates every event, computes its CBV 2.0 canonical event ID and maps it
onto the graph (:mod:`loaders.epcis.mapping`). It never raises on bad input: a document
that cannot be read is one reject, an event that breaks the standard is one reject per
problem (its index in the document is the reject's line), and the other events load.

See docs/reference/epcis.md for the mapping and the decisions behind it.
"""

from __future__ import annotations

import re

from loaders.base import ParseResult, Reject
from loaders.epcis.event import EpcisEvent, read_event
from loaders.epcis.jsonld import read_json
from loaders.epcis.mapping import map_events
from loaders.epcis.tree import Problem, RawDocument
from loaders.epcis.vocab import EVENT_TYPES
from loaders.epcis.xml import read_xml

__all__ = ["EpcisEvent", "detect_epcis", "parse_epcis", "read_document", "read_events"]

_SNIFF_BYTES = 65536
_BOM = b"\xef\xbb\xbf"
_ROOTS = ("EPCISDocument", "EPCISQueryDocument", *EVENT_TYPES)
_XML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(" + b"|".join(r.encode() for r in _ROOTS) + rb")[\s/>]")
_XML_PROLOG = re.compile(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>|\s+", re.DOTALL)
_JSON_TYPE = re.compile(rb'"type"\s*:\s*"(' + b"|".join(r.encode() for r in _ROOTS) + rb')"')


def _body(data: bytes) -> bytes:
    return data.removeprefix(_BOM).lstrip()


def detect_epcis(data: bytes) -> bool:
    """Whether ``data`` looks like an EPCIS document or event (XML or JSON-LD), cheaply."""
    head = _body(data[:_SNIFF_BYTES])
    if head.startswith(b"<"):
        position = 0
        while (prolog := _XML_PROLOG.match(head, position)) is not None and prolog.end() > position:
            position = prolog.end()  # skip the declaration, comments and blanks before the root
        return _XML_ROOT.match(head, position) is not None
    if head.startswith(b"{"):
        return _JSON_TYPE.search(head) is not None or b'"epcisBody"' in head
    return False


def read_document(data: bytes, *, check_order: bool = True) -> RawDocument:
    """The events of an XML or JSON-LD document, unvalidated but for XML element order
    (``check_order``, see :func:`loaders.epcis.xml.read_xml`)."""
    body = _body(data)
    if body.startswith(b"<"):
        return read_xml(data.removeprefix(_BOM), check_order=check_order)
    if body.startswith(b"{") or body.startswith(b"["):
        return read_json(body)
    return RawDocument(problem="neither XML nor JSON: not an EPCIS document")


def _validated(document: RawDocument) -> tuple[list[EpcisEvent], list[tuple[int, Problem]]]:
    accepted: list[EpcisEvent] = []
    problems: list[tuple[int, Problem]] = []
    for raw in document.events:
        read = read_event(raw, document.ignore_fields)
        if isinstance(read, EpcisEvent):
            accepted.append(read)
        else:
            problems.extend((raw.index, problem) for problem in read)
    return accepted, problems


def read_events(data: bytes, *, check_order: bool = True) -> tuple[list[EpcisEvent], list[tuple[int | None, Problem]]]:
    """The acceptable events of a document (each with its canonical ``event_id``), and every
    problem with the index of its event (None: the document as a whole)."""
    document = read_document(data, check_order=check_order)
    if document.problem is not None:
        return [], [(None, Problem(None, document.problem))]
    accepted, problems = _validated(document)
    return accepted, list(problems)


def parse_epcis(data: bytes, *, source: str, check_order: bool = True) -> ParseResult:
    """Facts of every acceptable event of an EPCIS document; a reject for every problem.

    XML events must keep the EPCIS schema's element order unless ``check_order`` is off."""
    document = read_document(data, check_order=check_order)
    if document.problem is not None:
        return ParseResult(rejects=[Reject(source=source, reason=document.problem)])
    accepted, problems = _validated(document)
    facts, mapping_problems = map_events(accepted, source)
    records = {raw.index: raw.record for raw in document.events}
    rejects = [
        Reject(source=source, line=index, field=problem.field, reason=problem.reason, record=records.get(index))
        for index, problem in sorted(problems + mapping_problems, key=lambda p: p[0])
    ]
    return ParseResult(
        nodes=facts.nodes,
        edges=facts.edges,
        retract_records=facts.retract_records,
        rejects=rejects,
        records=len(document.events),
    )
