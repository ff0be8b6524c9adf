"""The same random plants through both stores: every answer identical, paths included."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings

from graph.factory import open_store
from graph.neo4j.server import Neo4jServer
from graph.sqlite.store import SQLiteStore
from schema.model import TraceDirection, TraceQuery
from tests.conformance.reference import RefPlant
from tests.conformance.test_trace_properties import load, plants, things, unique_intervals
from tests.support.neo4j import clear_database

pytestmark = pytest.mark.neo4j


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plant=plants())
def test_sqlite_and_neo4j_give_identical_answers(neo4j_server: Neo4jServer, tmp_path: Path, plant: RefPlant) -> None:
    assume(unique_intervals(plant))
    clear_database(neo4j_server)
    neo = open_store(neo4j_server.store_url)
    lite = SQLiteStore(Path(tempfile.mkdtemp(dir=tmp_path)) / "s.db")
    try:
        for store in (neo, lite):
            store.migrate()
            load(store, plant)
        starts = sorted(lite.kinds(things(plant)))
        for start in starts:
            for direction in TraceDirection:
                for ignore_time in (False, True):
                    query = TraceQuery(starts=(start,), direction=direction, ignore_time=ignore_time)
                    assert neo.trace(query).to_json() == lite.trace(query).to_json(), (start, direction, ignore_time)
        together = TraceQuery(starts=tuple(starts), direction=TraceDirection.FORWARD)
        assert neo.trace(together).to_json() == lite.trace(together).to_json()
        assert neo.stats().nodes_by_kind == lite.stats().nodes_by_kind
        assert neo.stats().edges_by_type == lite.stats().edges_by_type
    finally:
        neo.close()
        lite.close()


def test_both_stores_find_the_same_sources(neo4j_server: Neo4jServer, tmp_path: Path) -> None:
    """A synthetic plant with a planted bad lot through both stores: ``likely_sources`` gives the
    same answer, candidates, statistics, paths, evidence and notes included."""
    from loaders.synthetic import Defect, generate_plant
    from services.app import Services
    from services.settings import Settings

    manifest = generate_plant(tmp_path / "plant", scale="small", seed=3, inject=[Defect(kind="bad_supplier_lot")])
    cases = list(manifest.defects[0].complaints)[:6]
    clear_database(neo4j_server)
    answers = []
    for url in (neo4j_server.store_url, f"sqlite:///{tmp_path / 's.db'}"):
        services = Services.build(Settings(store=url), migrate=True)
        try:
            services.load_paths([tmp_path / "plant"])
            answers.append(services.likely_sources(cases).to_json())
            answers.append(services.likely_sources(cases, statistic="fisher", kinds=None, limit=50).to_json())
        finally:
            services.close()
    assert answers[0]["candidates"], "the plant's defect has candidates"
    # Alerts are raised when each store is loaded: their time is the one thing that may differ.
    for answer in answers:
        for candidate in answer["candidates"]:
            for record in candidate["evidence"]:
                if record["kind"] == "Alert":
                    record["at"] = None
    assert answers[:2] == answers[2:]
