"""GraphQL over HTTP: trace, genealogy, search, node(s), neighbours, evidence, ingest, errors, limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from api.graphql.schema import printed
from tests.conformance.plants import (
    CASE_A,
    D1,
    D2,
    D3,
    EXTRUDER,
    HOSPITAL_1,
    INSPECTION,
    LOT,
    RESIN_LOT,
    SUPPLIER,
    WO,
)
from tests.e2e.api_client import Api, error_code, running_api

pytestmark = pytest.mark.anyio

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"

TRACE = """
query Trace($starts: [String!]!, $first: Int!, $after: String, $kinds: [NodeKind!]) {
  trace(starts: $starts, first: $first, after: $after, kinds: $kinds) {
    total truncated isPartial
    nodes { totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
            edges { cursor node { key kind degree path } } }
    edges { source target type }
  }
}
"""


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(tmp_path) as running:
        yield running


def keys(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["key"] for edge in connection["edges"]]


def test_committed_schema_is_the_printed_schema() -> None:
    assert SCHEMA_FILE.read_text() == printed(), "regenerate: python -m api.graphql.schema > schema.graphql"


async def test_trace_pages_through_every_node_with_exact_totals(api: Api) -> None:
    seen: list[str] = []
    after = None
    while True:
        body = await api.graphql(TRACE, starts=[SUPPLIER], first=5, after=after)
        trace = body["data"]["trace"]
        assert trace["total"] == 14 and trace["nodes"]["totalCount"] == 14
        seen += keys(trace["nodes"])
        info = trace["nodes"]["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if not info["hasNextPage"]:
            assert trace["truncated"] is False
            break
        after = info["endCursor"]
    assert len(seen) == len(set(seen)) == 14
    assert HOSPITAL_1 in seen


async def test_trace_kinds_and_count(api: Api) -> None:
    body = await api.graphql(TRACE, starts=[RESIN_LOT], first=100, kinds=["DEVICE"])
    assert set(keys(body["data"]["trace"]["nodes"])) == {D1, D2, D3}
    assert all(e["node"]["kind"] == "DEVICE" for e in body["data"]["trace"]["nodes"]["edges"])
    count = await api.graphql(
        "query($s: String!) { traceCount(starts: [$s], kinds: [DEVICE, CONSIGNEE]) { total isPartial } }", s=RESIN_LOT
    )
    assert count["data"]["traceCount"] == {"total": 5, "isPartial": False}


async def test_trace_window_as_of_and_ignore_time(api: Api) -> None:
    query = """query($s: String!, $w: TimeWindowInput, $t: Boolean!) {
      trace(starts: [$s], window: $w, ignoreTime: $t, asOf: "2100-01-01T00:00:00Z") { total } }"""
    used = {"start": "2024-01-01T00:10:00Z", "end": "2024-01-01T00:20:00Z"}
    inside = await api.graphql(query, s=EXTRUDER, w=used, t=False)
    outside = await api.graphql(query, s=EXTRUDER, w={"start": "2024-01-02T00:00:00Z"}, t=False)
    ignored = await api.graphql(query, s=EXTRUDER, w={"start": "2024-01-02T00:00:00Z"}, t=True)
    assert inside["data"]["trace"]["total"] > 0
    assert outside["data"]["trace"]["total"] == 0
    # Plain reachability also follows the emptied case to hospital 2.
    assert ignored["data"]["trace"]["total"] > inside["data"]["trace"]["total"]


async def test_genealogy_is_a_tree_with_the_edge_to_each_parent(api: Api) -> None:
    body = await api.graphql(
        """query($k: String!) { genealogy(key: $k, depth: 4) {
              total truncated isPartial
              root { key kind children { key via parent children { key via children { key via } } } }
              nodes { key parent } } }""",
        k=D1,
    )
    tree = body["data"]["genealogy"]
    assert tree["root"] == {
        "key": D1,
        "kind": "DEVICE",
        "children": [
            {"key": LOT, "via": "INCLUDES", "parent": D1, "children": [
                {"key": WO, "via": "PRODUCED", "children": [
                    {"key": EXTRUDER, "via": "USED_IN"},
                    {"key": RESIN_LOT, "via": "CONSUMED_BY"},
                ]},
            ]},
        ],
    }  # fmt: skip
    assert {n["key"]: n["parent"] for n in tree["nodes"]}[SUPPLIER] == RESIN_LOT
    assert tree["total"] == len(tree["nodes"]) - 1


async def test_search_by_partial_name_and_by_any_identifier_form(api: Api) -> None:
    query = """query($t: String!, $after: String) { search(text: $t, first: 1, after: $after) {
        pageInfo { hasNextPage endCursor } edges { node { key kind label node { props } } } } }"""
    by_name = await api.graphql(query, t="acme")
    hit = by_name["data"]["search"]["edges"][0]["node"]
    assert (hit["key"], hit["label"], hit["node"]["props"]["name"]) == (SUPPLIER, "Acme Polymers", "Acme Polymers")
    by_urn = await api.graphql(query, t="urn:epc:id:sgtin:9506000.013001.S2")
    assert by_urn["data"]["search"]["edges"][0]["node"]["key"] == D2
    pages = await api.graphql(query, t="resin")
    assert pages["data"]["search"]["pageInfo"]["hasNextPage"] is True
    second = await api.graphql(query, t="resin", after=pages["data"]["search"]["pageInfo"]["endCursor"])
    assert {keys(pages["data"]["search"])[0], keys(second["data"]["search"])[0]} == {RESIN_LOT, "lot:RESIN-8"}


async def test_node_and_nodes(api: Api) -> None:
    one = await api.graphql('{ node(key: "urn:epc:id:sgtin:9506000.013001.S1") { key kind props } }')
    assert one["data"]["node"] == {"key": D1, "kind": "DEVICE", "props": {}}
    many = await api.graphql("query($k: [String!]!) { nodes(keys: $k) { key } }", k=[RESIN_LOT, "wo:WO-404", CASE_A])
    assert many["data"]["nodes"] == [{"key": RESIN_LOT}, None, {"key": CASE_A}]
    assert (await api.graphql('{ node(key: "wo:WO-404") { key } }'))["data"]["node"] is None


async def test_neighbours_are_batched_into_one_store_query(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    original = api.services.neighbours

    def counting(keys: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(list(keys))
        return original(keys, *args, **kwargs)

    monkeypatch.setattr(api.services, "neighbours", counting)
    body = await api.graphql(
        """query($s: String!) { trace(starts: [$s], first: 3, kinds: [DEVICE]) { nodes { edges { node { node {
               neighbours(types: [PACKED_IN]) { type until node { key kind } } } } } } } }""",
        s=LOT,
    )
    devices = body["data"]["trace"]["nodes"]["edges"]
    assert len(devices) == 3
    for edge in devices:
        assert {n["node"]["key"] for n in edge["node"]["node"]["neighbours"]} >= {CASE_A}
    assert len(calls) == 1 and sorted(calls[0]) == sorted([D1, D2, D3])


async def test_neighbours_backward_and_by_type(api: Api) -> None:
    body = await api.graphql(
        "query($k: String!) { node(key: $k) { neighbours(direction: BACKWARD) { type node { key } } } }", k=WO
    )
    found = {(n["type"], n["node"]["key"]) for n in body["data"]["node"]["neighbours"]}
    assert found == {("CONSUMED_BY", RESIN_LOT), ("USED_IN", EXTRUDER)}


async def test_evidence_lists_inspections_with_provenance(api: Api) -> None:
    body = await api.graphql(
        """query($k: String!) { node(key: $k) { evidence { truncated
              inspections { type at node { key kind props } versions { provenance { sourceSystem source line } } }
              complaints { key: source } events { target }
              sources { recordedAt provenance { source } } } } }""",
        k=RESIN_LOT,
    )
    evidence = body["data"]["node"]["evidence"]
    [inspection] = evidence["inspections"]
    assert inspection["node"] == {"key": INSPECTION, "kind": "INSPECTION", "props": {"result": "fail"}}
    assert inspection["versions"][0]["provenance"]["sourceSystem"] == "test"
    assert evidence["complaints"] == [] and evidence["events"] == []
    assert evidence["sources"][0]["provenance"]["source"] == "test.csv"


async def test_ingest_mutation_is_strict_then_loads(api: Api) -> None:
    mutation = """mutation($doc: String!, $partial: Boolean!) {
        ingest(document: $doc, format: CSV, mapping: "suppliers.csv", partial: $partial) {
          records applied rejects { line field reason } batch { nodesAdded alreadyLoaded } } }"""
    bad = "supplier,name,country,status\nsupplier:G-1,Good,DE,approved\nsupplier:B-1,Bad,DE,banned\n"
    strict = await api.graphql(mutation, doc=bad, partial=False)
    assert error_code(strict) == "REJECTED_RECORDS"
    assert strict["errors"][0]["extensions"]["rejects"][0]["line"] == 3
    assert (await api.graphql('{ node(key: "supplier:G-1") { key } }'))["data"]["node"] is None
    loaded = await api.graphql(mutation, doc=bad, partial=True)
    report = loaded["data"]["ingest"]
    assert report["applied"] is True and report["batch"]["nodesAdded"] == 1
    assert report["rejects"][0]["field"] == "status"
    needs_mapping = await api.graphql('mutation { ingest(document: "a,b", format: CSV) { applied } }')
    assert error_code(needs_mapping) == "INVALID_INPUT"


# -- errors and limits ---------------------------------------------------------------------


async def test_domain_errors_carry_their_code(api: Api) -> None:
    assert error_code(await api.graphql('{ node(key: "nonsense:x") { key } }')) == "INVALID_KEY"
    missing = await api.graphql('{ trace(starts: ["wo:WO-404"]) { total } }')
    assert error_code(missing) == "NOT_FOUND" and "wo:WO-404" in missing["errors"][0]["message"]
    query = """query($s: String!, $f: Int!, $a: String, $d: Int) {
        trace(starts: [$s], first: $f, after: $a, maxDepth: $d) { total } }"""
    assert error_code(await api.graphql(query, s=LOT, f=10**9)) == "LIMIT_EXCEEDED"
    assert error_code(await api.graphql(query, s=LOT, f=1, a="bogus")) == "INVALID_INPUT"
    assert error_code(await api.graphql(query, s=LOT, f=1, d=-1)) == "INVALID_INPUT"


async def test_unexpected_errors_are_masked(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def bug(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret store detail")

    monkeypatch.setattr(api.services, "search", bug)
    body = await api.graphql('{ search(text: "x") { edges { cursor } } }')
    assert error_code(body) == "INTERNAL_SERVER_ERROR"
    assert "secret" not in str(body)


async def test_depth_alias_and_token_limits(tmp_path: Path) -> None:
    async with running_api(tmp_path, graphql_max_depth=4, graphql_max_aliases=2, graphql_max_tokens=60) as api:
        deep = """query($k: String!) {
            node(key: $k) { neighbours { node { neighbours { node { neighbours { type } } } } } } }"""
        assert "exceeds maximum operation depth" in (await api.graphql(deep, k=WO))["errors"][0]["message"]
        aliases = "query($k: String!) { a: node(key: $k) { key } b: node(key: $k) { key } c: node(key: $k) { key } }"
        assert "aliases" in (await api.graphql(aliases, k=D1))["errors"][0]["message"]
        long = "{ " + " ".join(f"n{i}: __typename" for i in range(40)) + " }"
        assert "token" in (await api.graphql(long))["errors"][0]["message"].lower()
        fine = await api.graphql("query($k: String!) { node(key: $k) { key } }", k=D1)
        assert fine["data"]["node"]["key"] == D1


async def test_graphiql_is_served_in_development_mode_only(api: Api, tmp_path: Path) -> None:
    assert (await api.client.get("/graphql", headers={"accept": "text/html"})).status_code == 404
    async with running_api(tmp_path / "dev", environment="development") as dev:
        page = await dev.client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200 and "graphiql" in page.text.lower()
