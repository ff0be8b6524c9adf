"""The data dictionary is generated from the schema, complete, and committed current."""

from __future__ import annotations

from pathlib import Path

from loaders.csvset import CSV_FILES
from schema.dictionary import EDGE_TYPES, NODE_KINDS, json_schema, markdown
from schema.kinds import EdgeType, NodeKind

DOC = Path(__file__).resolve().parents[2] / "docs" / "reference" / "data-dictionary.md"


def test_the_committed_dictionary_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(CSV_FILES), (
        "docs/reference/data-dictionary.md is stale: run "
        "`tracegraph dictionary --format md > docs/reference/data-dictionary.md`"
    )


def test_every_kind_and_type_has_a_meaning() -> None:
    assert set(NODE_KINDS) == set(NodeKind)
    assert set(EDGE_TYPES) == set(EdgeType)
    text = markdown(CSV_FILES)
    for member in [*NodeKind, *EdgeType]:
        assert f"| `{member.value}` |" in text


def test_every_csv_column_is_listed_with_its_unit_and_rule() -> None:
    text = markdown(CSV_FILES)
    for spec in CSV_FILES.values():
        assert f"### `{spec.name}`" in text
        for column in spec.columns:
            assert f"| `{column.name}` | {column.type_text.replace('|', chr(92) + '|')} |" in text
    assert "| `quantity` | quantity | yes | in `unit` |" in text
    assert "| `received_at` | time | yes | UTC (ISO 8601; no offset means UTC) |" in text
    assert "any key form of a Supplier; stored canonical" in text


def test_json_schema_describes_facts_enums_and_rows() -> None:
    schema = json_schema(CSV_FILES)
    defs = schema["$defs"]
    assert schema["$schema"].endswith("2020-12/schema")
    assert {c["const"] for c in defs["NodeKind"]["oneOf"]} == {k.value for k in NodeKind}
    assert all(c["description"] for c in defs["EdgeType"]["oneOf"])
    assert defs["NodeFact"]["properties"]["kind"] == {"$ref": "#/$defs/NodeKind", "description": "What the thing is"}
    assert defs["EdgeFact"]["properties"]["at"]["description"].endswith("(UTC)")
    receipts = defs["receipts.csv"]
    assert receipts["required"] == list(CSV_FILES["receipts.csv"].required)
    assert receipts["properties"]["supplier"]["x-node-kinds"] == ["Supplier"]
    assert receipts["properties"]["expiry"]["format"] == "date"
    assert defs["inspections.csv"]["properties"]["result"]["enum"] == ["pass", "fail", "marginal"]
    # The documented example of every column satisfies its own row schema's simple constraints.
    for name, spec in CSV_FILES.items():
        for column in spec.columns:
            prop = defs[name]["properties"][column.name]
            assert column.example in prop["examples"]
            if "enum" in prop:
                assert column.example in prop["enum"]
