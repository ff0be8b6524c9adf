"""The Neo4j adapter's retry settings and its message when the server never answers (no server
needed: a closed loopback port refuses every connection, as a restarting server does)."""

from __future__ import annotations

import re
import socket

import pytest

from graph.neo4j.store import CHUNK_ENV, RETRY_ENV, Neo4jStore, chunk_facts_from_env, retry_time_from_env
from schema.errors import InvalidInputError, StoreUnavailableError


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: connecting is refused


@pytest.mark.parametrize(("raw", "seconds"), [("", 30.0), ("0", 0.0), ("2.5", 2.5), (" 90 ", 90.0)])
def test_retry_time_setting(monkeypatch: pytest.MonkeyPatch, raw: str, seconds: float) -> None:
    monkeypatch.setenv(RETRY_ENV, raw)
    assert retry_time_from_env() == seconds


@pytest.mark.parametrize("raw", ["soon", "-1", "inf", "nan"])
def test_a_bad_retry_time_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(RETRY_ENV, raw)
    with pytest.raises(InvalidInputError, match=RETRY_ENV):
        retry_time_from_env()


@pytest.mark.parametrize("raw", ["0", "-5", "1e3", "many"])
def test_a_bad_chunk_size_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(CHUNK_ENV, raw)
    with pytest.raises(InvalidInputError, match=CHUNK_ENV):
        chunk_facts_from_env()


def test_a_server_that_never_answers_fails_after_the_retry_time_saying_so() -> None:
    store = Neo4jStore(f"bolt://127.0.0.1:{closed_port()}", ("neo4j", "secret-password"), retry_time=1.0)
    try:
        with pytest.raises(StoreUnavailableError) as raised:
            store.stats()
    finally:
        store.close()
    message = str(raised.value)
    assert message.startswith("cannot reach Neo4j at bolt://127.0.0.1:")
    attempts = re.search(r"gave up after (\d+) attempts in 1 s", message)
    assert attempts and int(attempts.group(1)) > 1, message  # it did retry
    assert RETRY_ENV in message and "Connection refused" in message


def test_no_retries_when_the_retry_time_is_zero() -> None:
    store = Neo4jStore(f"bolt://127.0.0.1:{closed_port()}", ("neo4j", "secret-password"), retry_time=0.0)
    try:
        with pytest.raises(StoreUnavailableError, match="gave up after 1 attempt in 0 s"):
            store.stats()
    finally:
        store.close()
