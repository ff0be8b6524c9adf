"""Values as JSON-LD means them: CURIEs and bare CBV words expanded to URIs.

``"bizStep": "shipping"`` in JSON-LD and ``<bizStep>cbv:BizStep-shipping</bizStep>`` in XML
both mean ``https://ref.gs1.org/cbv/BizStep-shipping``; after this pass the tree says so,
for the hash and for mapping alike. Bare words are expanded only in fields whose
vocabulary the EPCIS context declares, and only when they belong to it: anything else is
left for validation to name.
"""

from __future__ import annotations

from loaders.epcis.tree import Element
from loaders.epcis.vocab import expand_curie, vocabulary_of


def normalise_values(event: Element, prefixes: dict[str, str]) -> None:
    """Expand, in place, the values of every element under ``event``."""
    _normalise_children(event, prefixes)


def _normalise_children(parent: Element, prefixes: dict[str, str]) -> None:
    for child in parent.children:
        if child.text:
            text = expand_curie(child.text, prefixes)
            vocabulary = vocabulary_of(parent.name, child.name)
            if vocabulary is not None and text in vocabulary.values:
                text = vocabulary.web_prefix + text
            child.text = text
        _normalise_children(child, prefixes)
