"""The EPCIS 2.0 ``SimpleEventQuery`` parameters this server answers, over Event nodes.

The EPCIS loader keeps every event as an Event node (its fields as properties: ``event_type``,
``event_time``, ``biz_step``, ...) and links every thing the event names to it (RECORDED_BY).
Identifiers are compared by canonical key, so an EPC URN, a Digital Link URI or a key in the
query all match the same event; CBV values by their bare word, so ``shipping``,
``urn:epcglobal:cbv:bizstep:shipping`` and ``https://ref.gs1.org/cbv/BizStep-shipping`` agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from schema.errors import InvalidInputError, TraceGraphError
from schema.identifiers import canonical_key, digital_link
from schema.kinds import EdgeType
from schema.model import NodeView, utc

_CBV_WEB = re.compile(r"^(?:https://ref\.gs1\.org/cbv/|cbv:)[A-Za-z]+-(?P<word>.+)$")
_CBV_URN = re.compile(r"^urn:epcglobal:cbv:[a-z]+:(?P<word>.+)$")

#: Where an event type lists the instances it names, when their roles are not recorded.
_EPC_LIST_OF = {"AggregationEvent": "childEPCs", "AssociationEvent": "childEPCs"}


def cbv_word(value: str) -> str:
    """The bare CBV word of a standard value in any of its three spellings; other values as given."""
    text = value.strip()
    match = _CBV_WEB.match(text) or _CBV_URN.match(text)
    return match.group("word") if match else text


@lru_cache(maxsize=65_536)
def identity(value: str) -> str:
    """The canonical key of an identifier, or the text itself when it is not one we key."""
    try:
        return canonical_key(value)
    except TraceGraphError:
        return value.strip()


def _names(candidate: str, wanted: str) -> bool:
    # A whole-GTIN pattern (urn:epc:idpat:sgtin:P.I.*) keys to 01/{GTIN}: it names every
    # serial and lot of that GTIN.
    return candidate == wanted or candidate.startswith(wanted + "/")


def split_values(values: Iterable[str] | None) -> list[str]:
    """Repeated parameters, each possibly a comma-separated list."""
    return [v.strip() for value in values or () for v in value.split(",") if v.strip()]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class EventRecord:
    """One Event node as queries see it."""

    key: str
    props: Mapping[str, Any]
    time: datetime | None
    parent: str | None  # canonical key of parentID
    classes: tuple[str, ...]  # canonical keys of the quantity lists' EPC classes
    instances: tuple[str, ...]  # canonical keys of the other things it names (epcList, childEPCs, ...)

    @classmethod
    def of(cls, view: NodeView) -> EventRecord:
        props = view.props
        parent = identity(props["parent_id"]) if isinstance(props.get("parent_id"), str) else None
        classes = tuple(
            identity(q["epc_class"])
            for q in props.get("quantities") or ()
            if isinstance(q, Mapping) and isinstance(q.get("epc_class"), str)
        )
        named = dict.fromkeys(e.source for e in view.edges_in if e.type is EdgeType.RECORDED_BY)
        instances = tuple(k for k in named if k != parent and k not in classes)
        time_text = _text(props.get("event_time"))
        try:
            time = utc(datetime.fromisoformat(time_text)) if time_text else None
        except ValueError:
            time = None
        return cls(view.key, props, time, parent, classes, instances)

    @property
    def type(self) -> str:
        return _text(self.props.get("event_type"))

    def to_json(self) -> dict[str, Any]:
        """The event in EPCIS 2.0 JSON-LD terms, from what the graph keeps of it. Identifiers are
        GS1 Digital Link URIs where they have one (EPCIS 2.0 accepts them), else keys."""
        p = self.props

        def uri(key: str) -> str:
            return digital_link(key) or key

        event: dict[str, Any] = {
            "type": self.type,
            "eventID": p.get("declared_event_id") or p.get("event_id"),
            "eventTime": p.get("event_time"),
            "eventTimeZoneOffset": p.get("event_time_zone_offset"),
            "recordTime": p.get("record_time"),
            "action": p.get("action"),
            "parentID": p.get("parent_id"),
            _EPC_LIST_OF.get(self.type, "epcList"): [uri(k) for k in self.instances],
            "bizStep": p.get("biz_step"),
            "disposition": p.get("disposition"),
            "readPoint": {"id": uri(p["read_point"])} if p.get("read_point") else None,
            "bizLocation": {"id": uri(p["biz_location"])} if p.get("biz_location") else None,
            "quantityList": [
                {
                    k: v
                    for k, v in (
                        ("epcClass", q.get("epc_class")),
                        ("quantity", q.get("quantity")),
                        ("uom", q.get("uom")),
                    )
                    if v is not None
                }
                for q in p.get("quantities") or ()
                if isinstance(q, Mapping)
            ],
            "errorDeclaration": p.get("error_declaration"),
        }
        return {k: v for k, v in event.items() if v not in (None, [], "")}


@dataclass(frozen=True)
class EventQuery:
    event_types: frozenset[str] = frozenset()
    ge_event_time: datetime | None = None
    lt_event_time: datetime | None = None
    biz_steps: frozenset[str] = frozenset()
    dispositions: frozenset[str] = frozenset()
    epcs: tuple[str, ...] = ()
    any_epcs: tuple[str, ...] = ()
    epc_classes: tuple[str, ...] = ()
    parent_ids: tuple[str, ...] = ()
    biz_locations: tuple[str, ...] = ()
    #: A canonical key the event must name somewhere: an instance, a class, or the parent.
    involving: str | None = None

    @classmethod
    def of(
        cls,
        *,
        event_types: Iterable[str] | None = None,
        ge_event_time: datetime | None = None,
        lt_event_time: datetime | None = None,
        biz_steps: Iterable[str] | None = None,
        dispositions: Iterable[str] | None = None,
        epcs: Iterable[str] | None = None,
        any_epcs: Iterable[str] | None = None,
        epc_classes: Iterable[str] | None = None,
        parent_ids: Iterable[str] | None = None,
        biz_locations: Iterable[str] | None = None,
    ) -> EventQuery:
        if ge_event_time and lt_event_time and utc(ge_event_time) >= utc(lt_event_time):
            raise InvalidInputError("GE_eventTime must be before LT_eventTime")

        def keys(values: Iterable[str] | None) -> tuple[str, ...]:
            return tuple(identity(v) for v in split_values(values))

        return cls(
            event_types=frozenset(split_values(event_types)),
            ge_event_time=utc(ge_event_time) if ge_event_time else None,
            lt_event_time=utc(lt_event_time) if lt_event_time else None,
            biz_steps=frozenset(cbv_word(v) for v in split_values(biz_steps)),
            dispositions=frozenset(cbv_word(v) for v in split_values(dispositions)),
            epcs=keys(epcs),
            any_epcs=keys(any_epcs),
            epc_classes=keys(epc_classes),
            parent_ids=keys(parent_ids),
            biz_locations=keys(biz_locations),
        )

    def anchors(self) -> tuple[str, ...] | None:
        """Keys every matching event must name (one of), when the query has such a condition:
        then the events to look at are the neighbours of these keys, not all events."""
        if self.involving:
            return (self.involving,)
        for keys in (self.epcs, self.any_epcs, self.parent_ids, self.epc_classes):
            # A pattern (01/{GTIN}) names things without naming a node events are linked to.
            if keys and all(k.count("/") != 1 or not k.startswith("01/") for k in keys):
                return keys
        return None

    def matches(self, event: EventRecord) -> bool:
        if self.event_types and event.type not in self.event_types:
            return False
        if self.ge_event_time and (event.time is None or event.time < self.ge_event_time):
            return False
        if self.lt_event_time and (event.time is None or event.time >= self.lt_event_time):
            return False
        if self.biz_steps and cbv_word(_text(event.props.get("biz_step"))) not in self.biz_steps:
            return False
        if self.dispositions and cbv_word(_text(event.props.get("disposition"))) not in self.dispositions:
            return False
        parent = (event.parent,) if event.parent else ()
        location = _text(event.props.get("biz_location"))
        checks = (
            (self.epcs, event.instances),
            (self.any_epcs, (*event.instances, *parent)),
            (self.epc_classes, event.classes),
            (self.parent_ids, parent),
            (self.biz_locations, (identity(location),) if location else ()),
            ((self.involving,) if self.involving else (), (*event.instances, *parent, *event.classes)),
        )
        return all(not wanted or any(_names(c, w) for c in candidates for w in wanted) for wanted, candidates in checks)
