"""The canonical event ID of GS1 CBV 2.0 (section 8.9): ``ni:///sha-256;{hex}?ver=CBV2.0``.

The pre-hash string lists an event's fields in a fixed order as ``name=value`` with values
canonicalised (timestamps to UTC milliseconds, numbers without padding, CBV values and
GS1 identifiers to web URIs), then everything the order does not name, sorted. Two
serialisations of the same event, XML or JSON-LD, give the same string.

Where the standard's text and the reference implementation (RalphTro/epcis-event-hash-
generator, whose published hashes are the acceptance data) differ, the reference wins,
because an event ID is only useful if everybody computes the same one:

- ``bizTransactionList``, ``sourceList`` and ``destinationList`` are not hashed in their
  place of the order but among the unordered rest (sorted by their rendered text);
- user extensions nested in a standard structure follow its standard fields when their
  namespace ends in ``/``; other leftovers re-list their parent among the rest;
- timestamps named ``*time*`` are normalised only where the order names them.

We do not use the ``epcis-event-hash-generator`` package itself: it fetches unknown JSON-LD
contexts over the network, keeps namespace prefixes in module state across documents,
parses XML with the standard library after editing it as text, drops events it cannot
hash (so hashes no longer line up with events), and does not know ``ignoreFields`` or
query documents. See docs/reference/epcis.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from loaders.epcis.digital_link import canonical_dl
from loaders.epcis.tree import Element
from loaders.epcis.values import is_decimal, parse_datetime

#: A property order: (field name, order of its children or None for a plain value).
Order = tuple[tuple[str, "Order | None"], ...]

_EPCS: Order = (("epc", None),)
_QUANTITIES: Order = (("quantityElement", (("epcClass", None), ("quantity", None), ("uom", None))),)
_SENSOR_METADATA: Order = tuple(
    (name, None)
    for name in (
        "time",
        "startTime",
        "endTime",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "bizRules",
    )
)
_SENSOR_REPORT: Order = tuple(
    (name, None)
    for name in (
        "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time",
        "microorganism", "chemicalSubstance", "value", "component", "stringValue", "booleanValue",
        "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue", "sDev", "percRank",
        "percValue", "uom", "coordinateReferenceSystem",
    )
)  # fmt: skip

#: CBV 2.0's canonical property order.
PROP_ORDER: Order = (
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("certificationInfo", None),
    ("parentID", None),
    ("epcList", _EPCS),
    ("inputEPCList", _EPCS),
    ("childEPCs", _EPCS),
    ("quantityList", _QUANTITIES),
    ("childQuantityList", _QUANTITIES),
    ("inputQuantityList", _QUANTITIES),
    ("outputEPCList", _EPCS),
    ("outputQuantityList", _QUANTITIES),
    ("action", None),
    ("transformationID", None),
    ("bizStep", None),
    ("disposition", None),
    ("persistentDisposition", (("set", None), ("unset", None))),
    ("readPoint", (("id", None),)),
    ("bizLocation", (("id", None),)),
    (
        "sensorElementList",
        (("sensorElement", (("sensorMetadata", _SENSOR_METADATA), ("sensorReport", _SENSOR_REPORT))),),
    ),
)

#: Never hashed: they identify or annotate the record, not the event.
EXCLUDED = frozenset({"recordTime", "eventID", "errorDeclaration"})

#: Old CBV URNs and their web-vocabulary equivalents.
_WEB_VOCABULARY = (
    ("urn:epcglobal:cbv:bizstep:", "https://ref.gs1.org/cbv/BizStep-"),
    ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
    ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
    ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
    ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
)
#: Elements hashed as ``type=…`` followed by ``name=value``.
_TYPED = frozenset({"bizTransaction", "source", "destination"})

_MILLISECOND = Decimal("0.001")


def canonical_time(text: str) -> str:
    """UTC, millisecond precision (the 4th decimal rounds half up), ``Z``; else unchanged."""
    parsed = parse_datetime(text)
    if parsed is None:
        return text
    whole, fraction = parsed
    milliseconds = int(fraction.quantize(_MILLISECOND, rounding=ROUND_HALF_UP) * 1000)
    moment = whole + timedelta(milliseconds=milliseconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _canonical_number(text: str) -> str:
    # The reference's Python float round trip: "26.0" -> "26", "0.50" -> "0.5", "1e3" -> "1000".
    number = float(text)
    return str(int(number)) if number.is_integer() else str(number)


def canonical_value(text: str) -> str:
    for old, new in _WEB_VOCABULARY:
        text = text.replace(old, new)
    if is_decimal(text):
        text = _canonical_number(text)
    return canonical_dl(text) or text


def _is_time_field(name: str) -> bool:
    lowered = name.lower()
    return "time" in lowered and "offset" not in lowered


def _ordered_field(element: Element, order: Order | None) -> str:
    """``name=value`` plus its ordered children; consumes what it hashes."""
    nested = _ordered(element.children, order) if order else ""
    text = element.text.strip()
    if text:
        text = "=" + (canonical_time(text) if _is_time_field(element.name) else canonical_value(text))
    return element.name + text + nested if text or nested else ""


def _nested_extensions(children: list[Element]) -> list[Element]:
    """User extensions inside a standard structure, taken out to follow its standard fields.

    As in the reference: only below the event itself (recognised by holding ``eventTime``
    or ``action``), only with siblings, and only namespaces that end in ``/``.
    """
    if len(children) <= 1 or any("eventTime" in c.name or "action" in c.name for c in children):
        return []
    taken = [c for c in children if c.name.startswith("{") and "/}" in c.name]
    for child in taken:
        children.remove(child)
    return taken


def _ordered(children: list[Element], order: Order) -> str:
    """The pre-hash of ``children`` in ``order``; removes every child fully hashed."""
    extensions = _nested_extensions(children)
    parts: list[str] = []
    for name, child_order in order:
        values = []
        for child in [c for c in children if c.name == name]:
            text = _ordered_field(child, child_order)
            if text:
                values.append(text)
            if not child.children:
                children.remove(child)
        parts.extend(sorted(values))
    return "".join(parts) + _rest(extensions)


def _typed(element: Element) -> str:
    """``type=T`` then ``bizTransaction=V`` (or source/destination), in that order."""
    kind = element.first("type")
    head = f"type={canonical_value(kind.text.strip())}" if kind is not None and kind.text.strip() else ""
    text = element.text.strip()
    body = element.name + (f"={canonical_value(text)}" if text else "")
    others = [c for c in element.children if c is not kind]
    return head + body + _rest(others)


def _rest(children: Iterable[Element]) -> str:
    """Everything the order did not consume: ``name=value`` and children, all sorted."""
    values = []
    for child in children:
        if child.name in _TYPED:
            values.append(_typed(child))
            continue
        text = child.text.strip()
        values.append(child.name + (f"={canonical_value(text)}" if text else "") + _rest(child.children))
    return "".join(sorted(values))


def prehash(event: Element, ignore_fields: frozenset[str] = frozenset()) -> str:
    """The canonical pre-hash string of ``event`` (left intact).

    ``ignore_fields`` are extension fields a document marks as not part of the event
    (``ignoreFields``), in Clark notation.
    """
    skip = EXCLUDED | ignore_fields
    children = [c.copy() for c in event.children if c.name not in skip]
    ordered = _ordered(children, PROP_ORDER)
    return f"eventType={event.name}{ordered}{_rest(children)}"


def event_id(event: Element, ignore_fields: frozenset[str] = frozenset()) -> str:
    """The CBV 2.0 canonical event ID (SHA-256) of ``event``."""
    digest = hashlib.sha256(prehash(event, ignore_fields).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"
