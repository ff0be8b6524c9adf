"""Shared fixtures. ``store`` runs a test once per store backend: the conformance contract."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from graph.port import GraphStore
from graph.sqlite.store import SQLiteStore
from tests.support.neo4j import neo4j_server_fixture  # noqa: F401  (the session's real Neo4j)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Tests never assert wall-clock times, Hypothesis's per-example deadline included: on a
# loaded two-core machine a first example that imports or compiles can take a second.
settings.register_profile("tracegraph", deadline=None)
settings.load_profile("tracegraph")

BACKENDS = ["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)]


def shared_data() -> Path | None:
    """``../shared/data`` beside the checkout (or $TRACEGRAPH_SHARED_DATA), when present."""
    override = os.environ.get("TRACEGRAPH_SHARED_DATA")
    path = Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "data"
    return path if path.is_dir() else None


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "store.db")
    store.migrate()
    yield store
    store.close()


def make_store(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> GraphStore:
    if backend == "sqlite":
        store = SQLiteStore(tmp_path / "store.db")
    else:
        from tests.support.neo4j import fresh_neo4j_store

        store = fresh_neo4j_store(request)
    store.migrate()
    return store


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    s = make_store(request.param, request, tmp_path)
    yield s
    s.close()


@pytest.fixture(params=BACKENDS)
def fresh_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], GraphStore]]:
    """A factory of empty stores of one backend, for tests that need many (property tests)."""
    opened: list[GraphStore] = []

    def factory() -> GraphStore:
        for s in opened:
            s.close()
        opened.clear()
        sub = Path(tempfile.mkdtemp(dir=tmp_path))
        s = make_store(request.param, request, sub)
        opened.append(s)
        return s

    yield factory
    for s in opened:
        s.close()
