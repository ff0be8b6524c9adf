"""A validated EPCIS event as typed fields: what mapping reads.

:func:`read_event` normalises a raw event's values, validates it and, when it is
acceptable, returns an :class:`EpcisEvent` carrying its canonical event ID.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loaders.epcis.hashing import event_id
from loaders.epcis.normalise import normalise_values
from loaders.epcis.tree import Element, Problem, RawEvent, split_clark
from loaders.epcis.validate import SENSOR_NUMBERS, validate
from loaders.epcis.values import to_datetime
from loaders.epcis.vocab import CBV_MDA_NAMESPACES, MEASUREMENT_TYPE, SENSOR_COMPONENT, SENSOR_EXCEPTION, short

JsonValue = Any  # what orjson can store: str, float, bool, lists and dicts of them


@dataclass(frozen=True)
class Quantity:
    epc_class: str
    quantity: float | None
    uom: str | None


@dataclass(frozen=True)
class Typed:
    """A business transaction, source or destination: a URI with an optional type URI."""

    type: str | None
    value: str


@dataclass(frozen=True)
class ErrorDeclaration:
    declaration_time: datetime
    reason: str | None
    corrective_event_ids: tuple[str, ...]


@dataclass(frozen=True)
class EpcisEvent:
    index: int
    type: str
    #: The CBV 2.0 canonical event ID (``ni:///sha-256;…?ver=CBV2.0``).
    event_id: str
    event_time: datetime
    time_zone_offset: str
    action: str | None = None
    record_time: datetime | None = None
    declared_id: str | None = None
    biz_step: str | None = None
    disposition: str | None = None
    read_point: str | None = None
    biz_location: str | None = None
    epcs: tuple[str, ...] = ()
    quantities: tuple[Quantity, ...] = ()
    parent: str | None = None
    children: tuple[str, ...] = ()
    child_quantities: tuple[Quantity, ...] = ()
    inputs: tuple[str, ...] = ()
    input_quantities: tuple[Quantity, ...] = ()
    outputs: tuple[str, ...] = ()
    output_quantities: tuple[Quantity, ...] = ()
    transformation_id: str | None = None
    biz_transactions: tuple[Typed, ...] = ()
    sources: tuple[Typed, ...] = ()
    destinations: tuple[Typed, ...] = ()
    ilmd: dict[str, JsonValue] = field(default_factory=dict)
    measurements: tuple[dict[str, JsonValue], ...] = ()
    error: ErrorDeclaration | None = None
    persistent_disposition: dict[str, list[str]] = field(default_factory=dict)
    certification_info: tuple[str, ...] = ()
    extensions: dict[str, JsonValue] = field(default_factory=dict)

    @property
    def record_id(self) -> str:
        """The record this event's facts cite: its declared eventID, else its canonical ID.

        An error declaration repeats the erroneous event with the same declared eventID,
        or without one (its canonical ID is then the same, errorDeclaration not being
        hashed), so either way it names the facts to retract.
        """
        return self.declared_id or self.event_id


def _ids(event: Element, name: str) -> tuple[str, ...]:
    return tuple(epc.text for listed in event.all(name) for epc in listed.all("epc"))


def _quantities(event: Element, name: str) -> tuple[Quantity, ...]:
    return tuple(
        Quantity(
            element.value("epcClass") or "",
            float(quantity) if (quantity := element.value("quantity")) is not None else None,
            element.value("uom"),
        )
        for listed in event.all(name)
        for element in listed.all("quantityElement")
    )


def _typed(event: Element, list_name: str, item: str) -> tuple[Typed, ...]:
    return tuple(
        Typed(entry.value("type"), entry.text) for listed in event.all(list_name) for entry in listed.all(item)
    )


def _place(event: Element, name: str) -> str | None:
    place = event.first(name)
    return place.value("id") if place is not None else None


def extension_value(element: Element, *, ilmd: bool = False) -> JsonValue:
    """An extension's content: its text, or an object of its children (repeats as lists)."""
    if not element.children:
        return element.text
    content: dict[str, JsonValue] = {}
    for child in element.children:
        name = extension_name(child.name) if ilmd else child.name
        value = extension_value(child, ilmd=ilmd)
        if name in content:
            previous = content[name]
            content[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            content[name] = value
    return content


def extension_name(name: str) -> str:
    """CBV master-data fields by their plain name (``lotNumber``), others in Clark notation."""
    namespace, local = split_clark(name)
    return local if namespace in CBV_MDA_NAMESPACES else name


def _ilmd(event: Element) -> dict[str, JsonValue]:
    found: dict[str, JsonValue] = {}
    for ilmd in event.all("ilmd"):
        value = extension_value(ilmd, ilmd=True)
        if isinstance(value, dict):
            found.update(value)
    return found


def _measurement_value(name: str, text: str) -> JsonValue:
    if name in SENSOR_NUMBERS:
        return float(text)
    if name == "booleanValue":
        return text in ("true", "1")
    if name == "type":
        return short(text, MEASUREMENT_TYPE)
    if name == "exception":
        return short(text, SENSOR_EXCEPTION)
    if name == "component":
        return short(text, SENSOR_COMPONENT)
    return text


def _measurements(event: Element) -> tuple[dict[str, JsonValue], ...]:
    """One record per sensor report, with its element's metadata (the report's own wins)."""
    found: list[dict[str, JsonValue]] = []
    for listed in event.all("sensorElementList"):
        for element in listed.all("sensorElement"):
            metadata: dict[str, JsonValue] = {}
            for meta in element.all("sensorMetadata"):
                metadata.update({c.name: _measurement_value(c.name, c.text) for c in meta.children if c.text})
            for report in element.all("sensorReport"):
                values = {c.name: _measurement_value(c.name, c.text) for c in report.children if c.text}
                found.append({**metadata, **values})
    return tuple(found)


def _error(event: Element) -> ErrorDeclaration | None:
    declaration = event.first("errorDeclaration")
    if declaration is None:
        return None
    declared = to_datetime(declaration.value("declarationTime") or "")
    assert declared is not None  # validated
    corrective = tuple(c.text for ids in declaration.all("correctiveEventIDs") for c in ids.all("correctiveEventID"))
    return ErrorDeclaration(declared, declaration.value("reason"), corrective)


def _persistent(event: Element) -> dict[str, list[str]]:
    changes: dict[str, list[str]] = {}
    for persistent in event.all("persistentDisposition"):
        for change in persistent.children:
            if not change.is_extension:
                changes.setdefault(change.name, []).append(change.text)
    return changes


def _build(index: int, event: Element, canonical_id: str) -> EpcisEvent:
    event_time = to_datetime(event.value("eventTime") or "")
    assert event_time is not None  # validated
    record_time = event.value("recordTime")
    return EpcisEvent(
        index=index,
        type=event.name,
        event_id=canonical_id,
        event_time=event_time,
        time_zone_offset=event.value("eventTimeZoneOffset") or "",
        action=event.value("action"),
        record_time=to_datetime(record_time) if record_time else None,
        declared_id=event.value("eventID"),
        biz_step=event.value("bizStep"),
        disposition=event.value("disposition"),
        read_point=_place(event, "readPoint"),
        biz_location=_place(event, "bizLocation"),
        epcs=_ids(event, "epcList"),
        quantities=_quantities(event, "quantityList"),
        parent=event.value("parentID"),
        children=_ids(event, "childEPCs"),
        child_quantities=_quantities(event, "childQuantityList"),
        inputs=_ids(event, "inputEPCList"),
        input_quantities=_quantities(event, "inputQuantityList"),
        outputs=_ids(event, "outputEPCList"),
        output_quantities=_quantities(event, "outputQuantityList"),
        transformation_id=event.value("transformationID"),
        biz_transactions=_typed(event, "bizTransactionList", "bizTransaction"),
        sources=_typed(event, "sourceList", "source"),
        destinations=_typed(event, "destinationList", "destination"),
        ilmd=_ilmd(event),
        measurements=_measurements(event),
        error=_error(event),
        persistent_disposition=_persistent(event),
        certification_info=tuple(c.text for c in event.all("certificationInfo") if c.text),
        extensions={c.name: extension_value(c) for c in event.children if c.is_extension},
    )


def read_event(raw: RawEvent, ignore_fields: frozenset[str] = frozenset()) -> EpcisEvent | list[Problem]:
    """The event, or every problem that keeps it from being accepted."""
    if raw.problems:
        return raw.problems
    element = raw.element.copy()
    normalise_values(element, raw.prefixes)
    problems = validate(element)
    if problems:
        return problems
    return _build(raw.index, element, event_id(element, ignore_fields))
