"""The EPCIS 2.0 ``SimpleEventQuery`` parameters this server answers, over Event nodes.

The EPCIS loader keeps every event as an Event node whose properties are the event's fields;
these functions decide whether one event matches a query. Identifiers are compared by their
canonical keys, so an EPC URN, a Digital Link URI or a canonical key in the query all match the
same event; CBV values are compared by their bare word, so ``shipping``,
``urn:epcglobal:cbv:bizstep:shipping`` and ``https://ref.gs1.org/cbv/BizStep-shipping`` agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from schema.errors import InvalidInputError, TraceGraphError
from schema.identifiers import canonical_key
from schema.model import utc

#: Where MATCH_epc looks (EPCIS 2.0 §8.2.7.1); MATCH_anyEPC looks at parentID too.
EPC_FIELDS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
QUANTITY_FIELDS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")

_CBV_WEB = re.compile(r"^(?:https://ref\.gs1\.org/cbv/|cbv:)[A-Za-z]+-(?P<word>.+)$")
_CBV_URN = re.compile(r"^urn:epcglobal:cbv:[a-z]+:(?P<word>.+)$")


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


def _matches_identity(candidate: str, wanted: str) -> bool:
    # A whole-GTIN pattern (urn:epc:idpat:sgtin:P.I.*) keys to 01/{GTIN}: it matches every
    # serial and lot of that GTIN.
    return candidate == wanted or candidate.startswith(wanted + "/")


def split_values(values: Iterable[str] | None) -> list[str]:
    """Repeated parameters, each possibly a comma-separated list."""
    return [v.strip() for value in values or () for v in value.split(",") if v.strip()]


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
    #: A canonical key the event must name somewhere: an EPC, a class, or the parent.
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

    def matches(self, event: Mapping[str, Any]) -> bool:
        if self.event_types and event_type(event) not in self.event_types:
            return False
        when = event_time(event)
        if self.ge_event_time and (when is None or when < self.ge_event_time):
            return False
        if self.lt_event_time and (when is None or when >= self.lt_event_time):
            return False
        if self.biz_steps and cbv_word(_text(event.get("bizStep"))) not in self.biz_steps:
            return False
        if self.dispositions and cbv_word(_text(event.get("disposition"))) not in self.dispositions:
            return False
        parent = [identity(p) for p in _identifiers(event.get("parentID"))]
        checks = (
            (self.epcs, _epcs(event, EPC_FIELDS)),
            (self.any_epcs, [*_epcs(event, EPC_FIELDS), *parent]),
            (self.epc_classes, _classes(event)),
            (self.parent_ids, parent),
            (self.biz_locations, [identity(v) for v in _identifiers(event.get("bizLocation"))]),
            ((self.involving,) if self.involving else (), [*_epcs(event, EPC_FIELDS), *parent, *_classes(event)]),
        )
        return all(
            not wanted or any(_matches_identity(c, w) for c in candidates for w in wanted)
            for wanted, candidates in checks
        )


def event_type(event: Mapping[str, Any]) -> str:
    return _text(event.get("type") or event.get("eventType") or event.get("isA"))


def event_time(event: Mapping[str, Any]) -> datetime | None:
    text = _text(event.get("eventTime"))
    if not text:
        return None
    try:
        return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _identifiers(value: Any) -> Iterator[str]:
    """Identifiers under a field, whether written as a string, a list, or ``{"id": ...}``."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        yield from _identifiers(value.get("id") or value.get("epc"))
    elif isinstance(value, list):
        for item in value:
            yield from _identifiers(item)


def _epcs(event: Mapping[str, Any], fields: Iterable[str]) -> list[str]:
    return [identity(v) for f in fields for v in _identifiers(event.get(f))]


def _classes(event: Mapping[str, Any]) -> list[str]:
    return [
        identity(item["epcClass"])
        for f in QUANTITY_FIELDS
        for item in event.get(f) or ()
        if isinstance(item, Mapping) and isinstance(item.get("epcClass"), str)
    ]
