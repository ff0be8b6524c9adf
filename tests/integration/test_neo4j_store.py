"""The Neo4j store through the CLI against the real server: choosing it, and clear failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.context import EXIT_STORE
from cli.main import app
from graph.neo4j.server import Neo4jServer
from graph.sqlite.store import SQLiteStore
from tests.conformance.plants import D1, HOSPITAL_1, HOSPITAL_2, repack_plant
from tests.support.neo4j import clear_database

pytestmark = pytest.mark.neo4j
runner = CliRunner()


def test_cli_against_neo4j_migrate_copy_trace(neo4j_server: Neo4jServer, tmp_path: Path) -> None:
    clear_database(neo4j_server)
    url = neo4j_server.store_url
    code = runner.invoke(app, ["--store", url, "trace", "forward", D1])
    assert code.exit_code == EXIT_STORE and "tracegraph --store URL migrate" in code.stderr

    assert runner.invoke(app, ["--store", url, "migrate"]).exit_code == 0
    assert runner.invoke(app, ["--store", url, "migrate"]).exit_code == 0  # idempotent

    source = SQLiteStore(tmp_path / "s.db")
    source.migrate()
    source.apply(repack_plant())
    source.close()
    copied = runner.invoke(app, ["copy", "--from", f"sqlite:///{tmp_path / 's.db'}", "--to", url])
    assert copied.exit_code == 0, copied.stderr
    assert "verified" in copied.stdout

    traced = runner.invoke(app, ["--store", url, "trace", "forward", D1, "--json"])
    keys = {n["key"] for n in json.loads(traced.stdout)["nodes"]}
    assert HOSPITAL_1 in keys and HOSPITAL_2 not in keys


def test_routing_uri_scheme_works(neo4j_server: Neo4jServer) -> None:
    url = neo4j_server.store_url.replace("bolt://", "neo4j://")
    result = runner.invoke(app, ["--store", url, "migrate"])
    assert result.exit_code == 0, result.stderr


def test_wrong_password_is_named(neo4j_server: Neo4jServer) -> None:
    url = f"bolt://neo4j:wrong-password@127.0.0.1:{neo4j_server.port}"
    result = runner.invoke(app, ["--store", url, "stats"])
    assert result.exit_code == EXIT_STORE
    assert "refused the credentials" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_unreachable_server_is_named() -> None:
    result = runner.invoke(app, ["--store", "bolt://neo4j:secret@127.0.0.1:9", "stats"])
    assert result.exit_code == EXIT_STORE
    assert "cannot reach Neo4j" in result.stderr
