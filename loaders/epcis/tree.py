"""The format-neutral shape of an EPCIS event: the XML data model, whatever the syntax.

Both readers (:mod:`loaders.epcis.xml`, :mod:`loaders.epcis.jsonld`) produce the same
:class:`Element` tree for the same event, because the CBV 2.0 event hash must not depend on
the syntax, and mapping should not either. The tree is the XML model: attributes are
children, JSON arrays are repeated children, list items get their XML names (``epc``,
``quantityElement``), standard EPCIS fields keep their plain names and user extensions are
named ``{namespace}localName`` (Clark notation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass
class Element:
    name: str
    text: str = ""
    children: list[Element] = field(default_factory=list)

    @property
    def is_extension(self) -> bool:
        """A user extension: anything in a namespace of its own."""
        return self.name.startswith("{")

    def first(self, name: str) -> Element | None:
        return next((c for c in self.children if c.name == name), None)

    def all(self, name: str) -> list[Element]:
        return [c for c in self.children if c.name == name]

    def value(self, name: str) -> str | None:
        """Text of the first child called ``name``; None when absent or empty."""
        child = self.first(name)
        return child.text if child is not None and child.text else None

    def copy(self) -> Element:
        return Element(self.name, self.text, [c.copy() for c in self.children])


class Problem(NamedTuple):
    """Why an event cannot be accepted: the field at fault (None: the whole event) and why."""

    field: str | None
    reason: str


@dataclass
class RawEvent:
    """One event as read from a document, before validation."""

    index: int  # 1-based position in the document: the provenance "line" of its facts
    element: Element
    #: Problems only the reader can see (JSON types, undeclared prefixes, unknown event types).
    problems: list[Problem] = field(default_factory=list)
    #: The event's source text, shortened, for rejects.
    record: str | None = None
    #: CURIE prefixes the event's values may use (JSON-LD: its @context; XML: gs1, cbv).
    prefixes: dict[str, str] = field(default_factory=dict)


@dataclass
class RawDocument:
    """What a reader found in one document."""

    events: list[RawEvent] = field(default_factory=list)
    #: Extension fields the document asks hashers to ignore (``ignoreFields``), Clark names.
    ignore_fields: frozenset[str] = frozenset()
    #: Set when the document as a whole cannot be read: nothing in it is loaded.
    problem: str | None = None


def clark(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


def split_clark(name: str) -> tuple[str, str]:
    """``{ns}local`` -> (ns, local); a plain name has the empty namespace."""
    if name.startswith("{") and "}" in name:
        namespace, local = name[1:].split("}", 1)
        return namespace, local
    return "", name
