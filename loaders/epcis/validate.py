"""What makes an EPCIS event acceptable: the rules of the EPCIS 2.0 schemas, on the tree.

Every problem is reported (field and reason), not just the first, so a sender can fix an
event in one round. Element order is not checked: it carries no meaning, and GS1's own
reference data (the event-hash ``expected_equal`` set, openepcis ``JumbledFieldsOrder``)
relies on documents that list fields out of XSD order.
"""

from __future__ import annotations

import re

from loaders.epcis.tree import Element, Problem, split_clark
from loaders.epcis.values import is_decimal, is_hex, is_offset, is_uri, parse_datetime
from loaders.epcis.vocab import (
    ACTIONS,
    BIZ_STEP,
    BIZ_TRANSACTION_TYPE,
    DISPOSITION,
    ERROR_REASON,
    SOURCE_DESTINATION_TYPE,
    Vocabulary,
)

_COMMON = frozenset(
    {
        "eventTime", "recordTime", "eventTimeZoneOffset", "eventID", "errorDeclaration", "certificationInfo",
        "bizStep", "disposition", "persistentDisposition", "readPoint", "bizLocation", "bizTransactionList",
        "sourceList", "destinationList", "sensorElementList",
    }
)  # fmt: skip
EVENT_FIELDS: dict[str, frozenset[str]] = {
    "ObjectEvent": _COMMON | {"epcList", "quantityList", "action", "ilmd"},
    "AggregationEvent": _COMMON | {"parentID", "childEPCs", "childQuantityList", "action"},
    "TransactionEvent": _COMMON | {"parentID", "epcList", "quantityList", "action"},
    "TransformationEvent": _COMMON
    | {"inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList", "transformationID", "ilmd"},
    "AssociationEvent": _COMMON | {"parentID", "childEPCs", "childQuantityList", "action"},
}
#: Fields an event may hold only once (certificationInfo may repeat).
_SINGLE = (_COMMON - {"certificationInfo"}) | {
    "epcList", "quantityList", "action", "ilmd", "parentID", "childEPCs", "childQuantityList", "inputEPCList",
    "inputQuantityList", "outputEPCList", "outputQuantityList", "transformationID",
}  # fmt: skip

ID_LISTS = frozenset({"epcList", "childEPCs", "inputEPCList", "outputEPCList"})
QUANTITY_LISTS = frozenset({"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"})
SENSOR_METADATA = frozenset(
    {"time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules"}
)
SENSOR_REPORT = frozenset(
    {
        "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time", "microorganism",
        "chemicalSubstance", "value", "component", "stringValue", "booleanValue", "hexBinaryValue", "uriValue",
        "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem",
        "bizRules",  # not in the 2.0 XSD, but in GS1's and openepcis' own sensor examples
    }
)  # fmt: skip
SENSOR_NUMBERS = frozenset({"value", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue"})
SENSOR_TIMES = frozenset({"time", "startTime", "endTime"})

#: The plain (standard) children each standard structure may have; extensions may be anywhere.
_STRUCTURE: dict[str, frozenset[str]] = {
    "readPoint": frozenset({"id"}),
    "bizLocation": frozenset({"id"}),
    **{name: frozenset({"epc"}) for name in ID_LISTS},
    **{name: frozenset({"quantityElement"}) for name in QUANTITY_LISTS},
    "quantityElement": frozenset({"epcClass", "quantity", "uom"}),
    "bizTransactionList": frozenset({"bizTransaction"}),
    "sourceList": frozenset({"source"}),
    "destinationList": frozenset({"destination"}),
    "bizTransaction": frozenset({"type"}),
    "source": frozenset({"type"}),
    "destination": frozenset({"type"}),
    "sensorElementList": frozenset({"sensorElement"}),
    "sensorElement": frozenset({"sensorMetadata", "sensorReport"}),
    "sensorMetadata": SENSOR_METADATA,
    "sensorReport": SENSOR_REPORT,
    "errorDeclaration": frozenset({"declarationTime", "reason", "correctiveEventIDs"}),
    "correctiveEventIDs": frozenset({"correctiveEventID"}),
    "persistentDisposition": frozenset({"set", "unset"}),
    "ilmd": frozenset(),
}
_UOM = re.compile(r"[A-Z0-9]{2,3}")


class _Checker:
    def __init__(self, event: Element) -> None:
        self.event = event
        self.problems: list[Problem] = []

    def add(self, field: str | None, reason: str) -> None:
        self.problems.append(Problem(field, reason))

    # -- values ------------------------------------------------------------------------
    def time(self, field: str, text: str) -> None:
        if parse_datetime(text) is None:
            self.add(field, f"{text!r} is not an ISO 8601 date-time such as 2024-05-01T10:00:00.000+02:00")

    def uri(self, field: str, text: str) -> None:
        if not text:
            self.add(field, "is empty")
        elif not is_uri(text):
            self.add(field, f"{text!r} is not a URI (an EPC URN, a GS1 Digital Link or another URI)")

    def vocabulary(self, field: str, text: str, vocabulary: Vocabulary) -> None:
        problem = vocabulary.problem(text)
        if problem:
            self.add(field, problem)

    def decimal(self, field: str, text: str) -> None:
        if not is_decimal(text):
            self.add(field, f"{text!r} is not a number")

    # -- structure -----------------------------------------------------------------------
    def structure(self, element: Element, path: str) -> None:
        """Unknown plain children of standard structures, at any depth."""
        allowed = _STRUCTURE.get(element.name)
        for child in element.children:
            if child.is_extension:
                continue
            if allowed is not None and child.name not in allowed:
                if element.name == "ilmd":
                    self.add(f"{path}.{child.name}", "ILMD fields need a namespace (e.g. cbvmda:lotNumber)")
                else:
                    self.add(f"{path}.{child.name}", f"unknown field {child.name!r} in {element.name}")
            self.structure(child, f"{path}.{child.name}")

    def fields(self) -> None:
        allowed = EVENT_FIELDS[self.event.name]
        seen: set[str] = set()
        for child in self.event.children:
            if child.is_extension:
                namespace, _ = split_clark(child.name)
                if not namespace:
                    self.add(child.name, "an extension field needs a namespace")
                continue
            if child.name not in allowed:
                self.add(child.name, f"unknown field {child.name!r} in {self.event.name}")
            elif child.name in seen and child.name in _SINGLE:
                self.add(child.name, "appears more than once")
            seen.add(child.name)
            self.structure(child, child.name)

    # -- the standard fields ---------------------------------------------------------------
    def when(self) -> None:
        event_time = self.event.value("eventTime")
        if event_time is None:
            self.add("eventTime", "is required")
        else:
            self.time("eventTime", event_time)
        if (record_time := self.event.value("recordTime")) is not None:
            self.time("recordTime", record_time)
        offset = self.event.value("eventTimeZoneOffset")
        if offset is None:
            self.add("eventTimeZoneOffset", "is required")
        elif not is_offset(offset):
            self.add("eventTimeZoneOffset", f"{offset!r} is not an offset such as +02:00 or -05:00")

    def action(self) -> None:
        if self.event.name == "TransformationEvent":
            return
        action = self.event.value("action")
        if action is None:
            self.add("action", "is required (ADD, OBSERVE or DELETE)")
        elif action not in ACTIONS:
            self.add("action", f"{action!r} is not ADD, OBSERVE or DELETE")

    def why(self) -> None:
        if (biz_step := self.event.value("bizStep")) is not None:
            self.vocabulary("bizStep", biz_step, BIZ_STEP)
        if (disposition := self.event.value("disposition")) is not None:
            self.vocabulary("disposition", disposition, DISPOSITION)
        for persistent in self.event.all("persistentDisposition"):
            for change in persistent.children:
                if not change.is_extension:
                    self.vocabulary(f"persistentDisposition.{change.name}", change.text, DISPOSITION)
        if (event_id := self.event.value("eventID")) is not None:
            self.uri("eventID", event_id)

    def where(self) -> None:
        for name in ("readPoint", "bizLocation"):
            for place in self.event.all(name):
                self.uri(f"{name}.id", place.value("id") or "")

    def what(self) -> None:
        for name in ID_LISTS:
            for listed in self.event.all(name):
                for epc in listed.all("epc"):
                    self.uri(name, epc.text)
        if (parent := self.event.first("parentID")) is not None:
            self.uri("parentID", parent.text)
        for name in QUANTITY_LISTS:
            for listed in self.event.all(name):
                for element in listed.all("quantityElement"):
                    self.quantity(name, element)

    def quantity(self, field: str, element: Element) -> None:
        self.uri(f"{field}.epcClass", element.value("epcClass") or "")
        if (quantity := element.value("quantity")) is not None:
            self.decimal(f"{field}.quantity", quantity)
        if (uom := element.value("uom")) is not None:
            if quantity is None:
                self.add(f"{field}.uom", "a unit of measure needs a quantity")
            if not _UOM.fullmatch(uom):
                self.add(f"{field}.uom", f"{uom!r} is not a UN/ECE Rec 20 unit code such as KGM")

    def transactions(self) -> None:
        for name, item, vocabulary in (
            ("bizTransactionList", "bizTransaction", BIZ_TRANSACTION_TYPE),
            ("sourceList", "source", SOURCE_DESTINATION_TYPE),
            ("destinationList", "destination", SOURCE_DESTINATION_TYPE),
        ):
            for listed in self.event.all(name):
                for entry in listed.all(item):
                    self.uri(f"{name}.{item}", entry.text)
                    kind = entry.value("type")
                    if kind is not None:
                        self.vocabulary(f"{name}.{item}.type", kind, vocabulary)
                    elif item != "bizTransaction":
                        self.add(f"{name}.{item}.type", "is required")
        if self.event.name == "TransactionEvent" and not any(
            listed.all("bizTransaction") for listed in self.event.all("bizTransactionList")
        ):
            self.add("bizTransactionList", "a TransactionEvent needs at least one business transaction")

    def sensors(self) -> None:
        for listed in self.event.all("sensorElementList"):
            for element in listed.all("sensorElement"):
                for metadata in element.all("sensorMetadata"):
                    self.sensor_fields("sensorMetadata", metadata)
                if not element.all("sensorReport"):
                    self.add("sensorElementList.sensorElement", "needs at least one sensorReport")
                for report in element.all("sensorReport"):
                    self.sensor_fields("sensorReport", report)

    def sensor_fields(self, where: str, element: Element) -> None:
        for field in element.children:
            path = f"sensorElementList.{where}.{field.name}"
            if field.name in SENSOR_TIMES:
                self.time(path, field.text)
            elif field.name in SENSOR_NUMBERS:
                self.decimal(path, field.text)
            elif field.name == "booleanValue" and field.text not in ("true", "false", "1", "0"):
                self.add(path, f"{field.text!r} is not true or false")
            elif field.name == "hexBinaryValue" and not is_hex(field.text):
                self.add(path, f"{field.text!r} is not hexadecimal")
        # Measurement types, exceptions and components are not checked against a list: the
        # GS1 web vocabulary grows (and renamed MT-Temperature to Temperature) faster than
        # senders update, and a sensor reading is never wrong for its type's name.

    def error_declaration(self) -> None:
        for declaration in self.event.all("errorDeclaration"):
            declared = declaration.value("declarationTime")
            if declared is None:
                self.add("errorDeclaration.declarationTime", "is required")
            else:
                self.time("errorDeclaration.declarationTime", declared)
            if (reason := declaration.value("reason")) is not None:
                self.vocabulary("errorDeclaration.reason", reason, ERROR_REASON)
            for ids in declaration.all("correctiveEventIDs"):
                for corrective in ids.all("correctiveEventID"):
                    self.uri("errorDeclaration.correctiveEventIDs", corrective.text)

    def shape(self) -> None:
        """What each event type must say about what it is about."""
        event, action = self.event, self.event.value("action")

        def listed(*names: str) -> bool:
            return any(c.children for name in names for c in event.all(name))

        if event.name == "ObjectEvent":
            if not (event.all("epcList") or listed("quantityList", "sensorElementList")):
                self.add("epcList", "an ObjectEvent needs an epcList, a quantityList or sensor data")
        elif event.name in ("AggregationEvent", "AssociationEvent"):
            if event.first("parentID") is None and (action in ("ADD", "DELETE") or event.name == "AssociationEvent"):
                self.add("parentID", f"is required in an {event.name} {action}")
            if action != "DELETE" and not listed("childEPCs", "childQuantityList"):
                self.add("childEPCs", f"an {event.name} {action} needs childEPCs or a childQuantityList")
        elif event.name == "TransactionEvent":
            if (
                action != "DELETE"
                and not (event.all("epcList") or listed("quantityList"))
                and event.first("parentID") is None
            ):
                self.add("epcList", "a TransactionEvent needs an epcList, a quantityList or a parentID")
        elif event.name == "TransformationEvent" and not listed(
            "inputEPCList", "inputQuantityList", "outputEPCList", "outputQuantityList"
        ):
            self.add("inputEPCList", "a TransformationEvent needs inputs or outputs")


def validate(event: Element) -> list[Problem]:
    """Every reason ``event`` (normalised, of a known type) cannot be accepted."""
    checker = _Checker(event)
    checker.fields()
    checker.when()
    checker.action()
    checker.why()
    checker.where()
    checker.what()
    checker.transactions()
    checker.sensors()
    checker.error_declaration()
    checker.shape()
    return checker.problems
