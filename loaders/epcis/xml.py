"""EPCIS 1.2 and 2.0 XML documents (capture, query results, bare events) -> event trees.

Parsing is safe by construction: no network, no DTD loading, no entity expansion, no huge
trees; a document that declares a DOCTYPE is refused outright (EPCIS never needs one, and
entity tricks are how XML parsers get attacked).

EPCIS 1.2 nests newer fields in ``<extension>``/``<baseExtension>`` wrappers (and
TransformationEvent/AssociationEvent in an ``<extension>`` of the event list); they are
unwrapped, so 1.2 and 2.0 give the same tree for the same event.
"""

from __future__ import annotations

from lxml import etree

from loaders.epcis.tree import Element, Problem, RawDocument, RawEvent, clark
from loaders.epcis.vocab import EPCIS_XML_NAMESPACES, EVENT_TYPES, XML_VALUE_PREFIXES

_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_WRAPPERS = frozenset({"extension", "baseExtension"})
_QUERY_REQUESTS = frozenset(
    {
        "Poll",
        "Subscribe",
        "Unsubscribe",
        "GetQueryNames",
        "GetSubscriptionIDs",
        "GetStandardVersion",
        "GetVendorVersion",
    }
)
_RECORD_CHARS = 2000
_DOCUMENT_ATTRIBUTES = frozenset({"schemaVersion", "creationDate"})


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _name(node: etree._Element) -> str:
    """Standard EPCIS names plain, everything else in Clark notation."""
    qname = etree.QName(node)
    namespace = qname.namespace or ""
    return qname.localname if namespace in EPCIS_XML_NAMESPACES else clark(namespace, qname.localname)


def _attribute_name(name: str) -> str | None:
    if name.startswith("{"):
        namespace, local = name[1:].split("}", 1)
        return None if namespace == _XSI else clark(namespace, local)
    return name


def _children(node: etree._Element) -> list[Element]:
    """Child elements with 1.2 extension wrappers unwrapped."""
    result: list[Element] = []
    for child in node:
        if not isinstance(child.tag, str):
            continue  # entity references left unexpanded, and the like
        if _name(child) in _WRAPPERS:
            result.extend(_children(child))
        else:
            result.append(to_element(child))
    return result


def to_element(node: etree._Element) -> Element:
    attributes = [
        Element(name, str(value).strip()) for raw, value in node.attrib.items() if (name := _attribute_name(str(raw)))
    ]
    return Element(_name(node), (node.text or "").strip(), attributes + _children(node))


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname


def _find(node: etree._Element | None, *path: str) -> etree._Element | None:
    """Follow child local names, whatever their namespace."""
    for step in path:
        if node is None:
            return None
        node = next((c for c in node if isinstance(c.tag, str) and _local(c) == step), None)
    return node


def _event_nodes(event_list: etree._Element) -> list[etree._Element]:
    nodes: list[etree._Element] = []
    for child in event_list:
        if not isinstance(child.tag, str):
            continue
        if _name(child) in _WRAPPERS:
            nodes.extend(_event_nodes(child))
        else:
            nodes.append(child)
    return nodes


def _record(node: etree._Element) -> str:
    text = etree.tostring(node, encoding="unicode", with_tail=False)
    return text if len(text) <= _RECORD_CHARS else text[:_RECORD_CHARS] + "…"


#: The fields every event type inherits (EPCISEventType), in XSD order. EPCIS 1.2 keeps
#: eventID and errorDeclaration in a <baseExtension>, which is not placed here.
_BASE_ORDER = ("eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration")
_BASE_RANK = {name: rank for rank, name in enumerate(_BASE_ORDER)}


_ANY_ORDER_HINT = " (`tracegraph load --epcis-any-order` accepts events in any order)"


def _order_problem(node: etree._Element, event_type: str) -> Problem | None:
    """The first field out of the order the EPCIS XML schema prescribes, if any.

    Every event type extends EPCISEventType, so its common fields come first, in their
    order, and the event type's own fields after them. Only that is checked: the order
    among an event type's own fields differs between valid reference documents (GS1's
    and openepcis' examples place persistentDisposition, ilmd and sensorElementList
    variously), and extension fields in other namespaces may stand anywhere."""
    own_field: str | None = None
    previous: str | None = None
    for child in node:
        if not isinstance(child.tag, str) or (etree.QName(child).namespace or "") not in EPCIS_XML_NAMESPACES:
            continue
        name = _local(child)
        if name == "baseExtension":
            continue
        if name not in _BASE_RANK:
            own_field = own_field or name
            continue
        if own_field is not None:
            return Problem(
                name,
                f"<{name}> comes after the {event_type} field <{own_field}>, but the EPCIS XML schema puts the "
                f"common event fields ({', '.join(_BASE_ORDER)}) first{_ANY_ORDER_HINT}",
            )
        if previous is not None and _BASE_RANK[name] < _BASE_RANK[previous]:
            return Problem(
                name,
                f"<{name}> comes after <{previous}>, but the EPCIS XML schema orders the common event fields "
                f"{', '.join(_BASE_ORDER)}{_ANY_ORDER_HINT}",
            )
        previous = name
    return None


def _raw_event(index: int, node: etree._Element, *, check_order: bool = True) -> RawEvent:
    element = to_element(node)
    problems = []
    if element.name not in EVENT_TYPES:
        problems.append(
            Problem(None, f"unknown event type <{_local(node)}> (expected one of {', '.join(EVENT_TYPES)})")
        )
    elif check_order and (problem := _order_problem(node, element.name)) is not None:
        problems.append(problem)
    return RawEvent(index, element, problems, _record(node), dict(XML_VALUE_PREFIXES))


def _ignore_fields(*holders: etree._Element | None) -> frozenset[str]:
    """Names listed by ``ignoreFields`` elements (any namespace) directly under ``holders``."""
    names: set[str] = set()
    for holder in holders:
        if holder is None:
            continue
        for child in holder:
            if isinstance(child.tag, str) and _local(child) == "ignoreFields":
                names.update(_name(field) for field in child if isinstance(field.tag, str))
    return frozenset(names)


#: Where query results keep their events; documents in the wild omit levels.
_RESULT_PATHS = (
    ("EPCISBody", "QueryResults", "resultsBody", "EventList"),
    ("QueryResults", "resultsBody", "EventList"),
    ("resultsBody", "EventList"),
)


def _query_results(root: etree._Element) -> tuple[etree._Element | None, frozenset[str], str | None]:
    for path in _RESULT_PATHS:
        event_list = _find(root, *path)
        if event_list is not None:
            holder = _find(root, *path[:-2]) if len(path) > 2 else root
            return event_list, _ignore_fields(root, holder), None
    body = _find(root, "EPCISBody")
    request = next((_local(c) for c in body if isinstance(c.tag, str)), "nothing") if body is not None else "nothing"
    return (
        None,
        frozenset(),
        f"an EPCIS query document holding {request}, not query results: it carries no events to load",
    )


def _events_of(root: etree._Element) -> tuple[etree._Element | None, frozenset[str], str | None]:
    """(event list, ignored fields, problem) of a document root."""
    kind = _local(root)
    if kind == "EPCISDocument":
        event_list = _find(root, "EPCISBody", "EventList")
        if event_list is None:
            return None, frozenset(), "EPCISDocument without EPCISBody/EventList"
        return event_list, _ignore_fields(root), None
    if kind == "EPCISQueryDocument":
        return _query_results(root)
    if kind in _QUERY_REQUESTS:
        return None, frozenset(), f"an EPCIS query request ({kind}), not a document with events"
    return None, frozenset(), f"<{kind}> is not an EPCIS document, query document or event"


def read_xml(data: bytes, *, check_order: bool = True) -> RawDocument:
    """Every event of an EPCIS XML document (or the one bare event it is), in order.

    With ``check_order`` (the default) an event whose fields break the element order of
    the EPCIS XML schema is a problem, as a schema-validating repository would refuse it;
    without, order is ignored (it carries no meaning), for producers known to jumble it."""
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        return RawDocument(problem=f"not well-formed XML: {exc.msg}")
    if root.getroottree().docinfo.internalDTD is not None:  # any DOCTYPE, internal or external
        return RawDocument(problem="XML with a DOCTYPE declaration is refused: EPCIS documents never need one")
    if _name(root) in EVENT_TYPES:
        bare = _raw_event(1, root, check_order=check_order)
        # A bare event carries the document's own attributes; they are not event fields.
        bare.element.children = [c for c in bare.element.children if c.name not in _DOCUMENT_ATTRIBUTES]
        return RawDocument(events=[bare])
    event_list, ignored, problem = _events_of(root)
    if event_list is None:
        return RawDocument(problem=problem)
    events = [_raw_event(i, node, check_order=check_order) for i, node in enumerate(_event_nodes(event_list), start=1)]
    return RawDocument(events=events, ignore_fields=ignored)
