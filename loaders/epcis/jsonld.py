"""EPCIS 2.0 JSON-LD documents (capture, query results, bare events) -> event trees.

The JSON is turned into the XML data model (:mod:`loaders.epcis.tree`): arrays become
repeated elements with their XML item names, ``{"type": "po", "bizTransaction": "…"}``
becomes a ``bizTransaction`` element with a ``type`` child (the XML attribute), and
extension keys (``example:myField``) are expanded to Clark names with the ``@context``.

JSON-LD is not processed as RDF: remote contexts are never fetched. The standard EPCIS
context's prefixes and vocabularies are known (:mod:`loaders.epcis.vocab`); other prefixes
must be declared inline, as every EPCIS example does.
"""

from __future__ import annotations

from typing import Any

import orjson

from loaders.epcis.tree import Element, Problem, RawDocument, RawEvent, clark
from loaders.epcis.vocab import EVENT_TYPES, STANDARD_PREFIXES

_STRING_FIELDS = frozenset(
    {
        "eventTime",
        "recordTime",
        "eventTimeZoneOffset",
        "eventID",
        "action",
        "bizStep",
        "disposition",
        "parentID",
        "transformationID",
    }
)
_ID_LISTS = frozenset({"epcList", "childEPCs", "inputEPCList", "outputEPCList"})
_QUANTITY_LISTS = frozenset({"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"})
_TYPED_LISTS = {"bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination"}
_OBJECTS = frozenset({"readPoint", "bizLocation", "ilmd", "errorDeclaration", "persistentDisposition"})
_NUMBERS = frozenset({"quantity", "value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"})
#: Keys that annotate rather than describe (comments, JSON-LD machinery).
_SKIPPED = frozenset({"@context", "rdfs:comment", "comment", "#text"})
_QUERY_PARAMETER_PREFIXES = ("EQ_", "GE_", "GT_", "LE_", "LT_", "MATCH_", "EXISTS_", "HASATTR_", "EQATTR_", "WD_")
_RECORD_CHARS = 2000


class _Reader:
    """Converts one event, collecting problems instead of stopping at the first."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = prefixes
        self.problems: list[Problem] = []

    def problem(self, field: str, reason: str) -> None:
        self.problems.append(Problem(field, reason))

    def name(self, key: str, path: str) -> str | None:
        """A standard field keeps its name; ``prefix:local`` and IRIs become Clark names."""
        if ":" not in key:
            return key
        if "://" in key or key.startswith("urn:"):
            cut = max(key.rfind("/"), key.rfind("#"), key.rfind(":")) + 1
            return clark(key[:cut], key[cut:])
        prefix, local = key.split(":", 1)
        if prefix not in self.prefixes:
            self.problem(path, f"namespace prefix {prefix!r} of {key!r} is not declared in @context")
            return None
        return clark(self.prefixes[prefix], local)

    def text(self, value: Any, path: str) -> str | None:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(value) if isinstance(value, float) else str(value)
        if isinstance(value, str):
            return value.strip()
        self.problem(path, f"must be a single value, not {type(value).__name__}")
        return None

    def string(self, value: Any, path: str) -> str | None:
        if not isinstance(value, str):
            self.problem(path, f"must be a string, not {_json_type(value)}")
            return None
        return value.strip()

    def objects(self, value: Any, path: str) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.problem(path, "must be a list of objects")
            return []
        return value

    def strings(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.problem(path, "must be a list of URIs (strings)")
            return []
        return [item.strip() for item in value]

    # -- structures ------------------------------------------------------------------
    def members(self, obj: dict[str, Any], path: str) -> list[Element]:
        """The generic conversion: objects nest, arrays repeat, scalars are text."""
        elements: list[Element] = []
        for key, value in obj.items():
            if key in _SKIPPED or key.startswith("@") or value is None:
                continue
            name = self.name(key, f"{path}.{key}")
            if name is None:
                continue
            elements.extend(self.values(name, value, f"{path}.{key}"))
        return elements

    def values(self, name: str, value: Any, path: str) -> list[Element]:
        if name == "correctiveEventIDs":
            ids = self.strings(value, path)
            return [Element(name, children=[Element("correctiveEventID", v) for v in ids])]
        if name in _NUMBERS and not (isinstance(value, int | float) and not isinstance(value, bool)):
            self.problem(path, f"must be a number, not {_json_type(value)}")
            return []
        items = value if isinstance(value, list) else [value]
        elements = []
        for item in items:
            if isinstance(item, dict):
                elements.append(Element(name, children=self.members(item, path)))
            elif (text := self.text(item, path)) is not None:
                elements.append(Element(name, text))
        return elements

    def typed(self, item: dict[str, Any], name: str, path: str) -> Element:
        """``{"type": t, name: v, …}`` -> ``<name type="t">v</name>``."""
        rest = {k: v for k, v in item.items() if k not in ("type", name)}
        kind = self.text(item["type"], f"{path}.type") if "type" in item else None
        children = [Element("type", kind)] if kind else []
        value = self.text(item.get(name), f"{path}.{name}") if name in item else None
        return Element(name, value or "", children + self.members(rest, path))

    def field(self, key: str, value: Any) -> list[Element]:
        """One top-level event field in its XML shape."""
        if key in _STRING_FIELDS:
            text = self.string(value, key)
            return [Element(key, text)] if text is not None else []
        if key in _ID_LISTS:
            return [Element(key, children=[Element("epc", v) for v in self.strings(value, key)])]
        if key in _QUANTITY_LISTS:
            items = self.objects(value, key)
            return [Element(key, children=[Element("quantityElement", children=self.members(q, key)) for q in items])]
        if key in _TYPED_LISTS:
            item_name = _TYPED_LISTS[key]
            items = self.objects(value, key)
            return [Element(key, children=[self.typed(item, item_name, key) for item in items])]
        if key == "sensorElementList":
            items = self.objects(value, key)
            return [Element(key, children=[Element("sensorElement", children=self.members(s, key)) for s in items])]
        if key == "certificationInfo":
            infos = [value] if isinstance(value, str) else self.strings(value, key)
            return [Element(key, info.strip()) for info in infos]
        if key in _OBJECTS:
            if not isinstance(value, dict):
                self.problem(key, f"must be an object, not {_json_type(value)}")
                return []
            return [Element(key, children=self.members(value, key))]
        return self.values(key, value, key)

    def event(self, obj: dict[str, Any]) -> Element:
        children: list[Element] = []
        for key, value in obj.items():
            if key == "type" or key in _SKIPPED or key.startswith("@") or value is None:
                continue
            name = self.name(key, key)
            if name is not None:
                children.extend(self.field(name, value) if name == key else self.values(name, value, key))
        return Element(str(obj.get("type", "")), children=children)


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def context_prefixes(context: Any, inherited: dict[str, str]) -> dict[str, str]:
    """Prefixes an ``@context`` (string, object or list of them) declares, over ``inherited``."""
    prefixes = dict(inherited)
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, dict):
            prefixes.update({k: v for k, v in entry.items() if isinstance(v, str) and not k.startswith("@")})
    return prefixes


def _record(obj: Any) -> str:
    text = orjson.dumps(obj).decode()
    return text if len(text) <= _RECORD_CHARS else text[:_RECORD_CHARS] + "…"


def _raw_event(index: int, obj: Any, prefixes: dict[str, str]) -> RawEvent:
    if not isinstance(obj, dict):
        return RawEvent(index, Element(""), [Problem(None, "an event must be a JSON object")], _record(obj))
    reader = _Reader(context_prefixes(obj.get("@context"), prefixes))
    element = reader.event(obj)
    if element.name not in EVENT_TYPES:
        reader.problems.insert(
            0, Problem("type", f"unknown event type {obj.get('type')!r} (expected one of {', '.join(EVENT_TYPES)})")
        )
    return RawEvent(index, element, reader.problems, _record(obj), reader.prefixes)


def _ignore_fields(holders: list[Any], prefixes: dict[str, str]) -> frozenset[str]:
    reader = _Reader(prefixes)
    names: set[str] = set()
    for holder in holders:
        if not isinstance(holder, dict):
            continue
        for key, value in holder.items():
            if key.rsplit(":", 1)[-1] == "ignoreFields" and isinstance(value, list):
                names.update(n for v in value if isinstance(v, str) and (n := reader.name(v, key)))
    return frozenset(names)


def _is_query(top: dict[str, Any]) -> bool:
    return any(
        k in ("queryName", "eventType", "subscriptionID") or k.startswith(_QUERY_PARAMETER_PREFIXES) for k in top
    )


def _event_list(top: dict[str, Any]) -> tuple[Any, list[Any], str | None]:
    """(events, holders of ignoreFields, problem) of a document object."""
    kind = top.get("type")
    body = top.get("epcisBody")
    if kind == "EPCISDocument":
        if not isinstance(body, dict):
            return None, [], "EPCISDocument without epcisBody"
        events = body["eventList"] if "eventList" in body else [body["event"]] if "event" in body else None
        return events, [top], None if events is not None else "epcisBody without eventList"
    if kind == "EPCISQueryDocument":
        results = body.get("queryResults") if isinstance(body, dict) else None
        results_body = results.get("resultsBody") if isinstance(results, dict) else None
        if not isinstance(results_body, dict):
            return None, [], "an EPCIS query document without queryResults/resultsBody: it carries no events to load"
        return results_body.get("eventList"), [top, results], None
    if kind in EVENT_TYPES:
        return [top], [], None
    if _is_query(top):
        return None, [], "an EPCIS query, not a document with events"
    return None, [], f"type {kind!r} is not an EPCIS document, query document or event"


def read_json(data: bytes) -> RawDocument:
    """Every event of an EPCIS JSON-LD document (or the one bare event it is), in order."""
    try:
        top = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return RawDocument(problem=f"not valid JSON: {exc}")
    if not isinstance(top, dict):
        return RawDocument(problem="an EPCIS JSON-LD document must be a JSON object")
    events, holders, problem = _event_list(top)
    if problem is not None:
        return RawDocument(problem=problem)
    if "@context" not in top:
        return RawDocument(problem="no @context: EPCIS 2.0 JSON-LD must declare the EPCIS context")
    if not isinstance(events, list):
        return RawDocument(problem="eventList must be a list of events")
    prefixes = context_prefixes(top["@context"], STANDARD_PREFIXES)
    if top.get("type") in EVENT_TYPES:  # a bare event's own @context is the document's
        return RawDocument(events=[_raw_event(1, top, prefixes)])
    return RawDocument(
        events=[_raw_event(i, obj, prefixes) for i, obj in enumerate(events, start=1)],
        ignore_fields=_ignore_fields(holders, prefixes),
    )
