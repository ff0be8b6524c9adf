"""The audit trail: what changes record, the hash chain, and tampering found where it happened."""

from __future__ import annotations

import csv
import hashlib
import io
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from loaders.base import ParseResult
from schema.audit import GENESIS_HASH, AuditAction, AuditEntry
from schema.errors import InvalidInputError
from schema.kinds import EdgeType, NodeKind
from services.app import Services
from services.audit import AuditTrail, audit_path, default_actor
from services.audit_store import AuditLog
from services.settings import Settings
from tests.conformance.plants import repack_plant
from tests.factories import edge, node
from tests.factories import t as hours


@pytest.fixture
def trail(tmp_path: Path) -> Iterator[AuditTrail]:
    trail = AuditTrail(AuditLog(tmp_path / "audit.db"))
    yield trail
    trail.close()


def fill(trail: AuditTrail, n: int = 5) -> None:
    for i in range(1, n + 1):
        trail.record(AuditAction.TASK_TRANSITION, actor="alice", subject=f"task:T-{i}", old="open", new="done")


def tamper(path: Path, *statements: str) -> None:
    """What someone with write access to the file can do: drop the guards, then edit."""
    db = sqlite3.connect(path, isolation_level=None)
    for trigger in ("audit_entry_no_update", "audit_entry_no_delete", "audit_head_forward_only"):
        db.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for statement in statements:
        db.execute(statement)
    db.close()


def problems(trail: AuditTrail) -> list[str]:
    result = trail.verify()
    return [str(p) for p in result.problems]


# -- recording ---------------------------------------------------------------------------


def test_entries_chain_by_the_hash_of_the_previous_entry(trail: AuditTrail) -> None:
    first = trail.record(AuditAction.LOAD, actor="os:alice", subject="batch:b1", new={"records": 3})
    second = trail.record(
        AuditAction.ALERT_TRANSITION, actor="key:ops", subject="alert:A-1", old="open", new="acknowledged"
    )
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == hashlib.sha256(first.canonical()).hexdigest()
    assert second.at.tzinfo is not None and second.at >= first.at
    stored = trail.log.row(2)
    assert stored is not None and stored.text.encode() == second.canonical() and stored.hash == second.digest()
    # What is stored is the canonical JSON: sorted keys, no spaces.
    assert stored.text == orjson.dumps(orjson.loads(stored.text), option=orjson.OPT_SORT_KEYS).decode()
    assert trail.entry(2) == second
    result = trail.verify()
    assert result.ok and result.entries == 2 and result.head is not None and result.head.hash == second.digest()


def test_changes_that_need_a_reason_are_refused_without_one(trail: AuditTrail) -> None:
    for action in (AuditAction.CORRECTION, AuditAction.RETRACTION, AuditAction.CONFIGURATION, AuditAction.KEY):
        with pytest.raises(InvalidInputError, match="reason"):
            trail.record(action, actor="alice", subject="x", old=1, new=2)
    with pytest.raises(InvalidInputError, match="actor"):
        trail.record(AuditAction.LOAD, actor=" ", subject="x")
    entry = trail.record(
        AuditAction.CONFIGURATION, actor="alice", subject="setting:max_states", old=5, new=6, reason="bigger plant"
    )
    assert entry.reason == "bigger plant" and not trail.log.row(2)


def test_reading_a_trail_that_does_not_exist_creates_nothing(tmp_path: Path) -> None:
    trail = AuditTrail(AuditLog(tmp_path / "none.db"))
    result = trail.verify()
    assert not result.exists and result.entries == 0
    assert list(trail.rows()) == [] and trail.head() is None
    assert not (tmp_path / "none.db").exists()


def test_the_file_refuses_updates_and_deletes(trail: AuditTrail) -> None:
    fill(trail, 3)
    db = sqlite3.connect(trail.path, isolation_level=None)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit_entry SET entry = '{}' WHERE seq = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit_entry WHERE seq = 3")
    with pytest.raises(sqlite3.IntegrityError, match="head"):
        db.execute("UPDATE audit_head SET seq = 2, hash = (SELECT hash FROM audit_entry WHERE seq = 2)")
    db.close()
    assert trail.verify().ok


def test_appends_from_several_connections_never_fork_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"

    def writer(name: str) -> None:
        own = AuditTrail(AuditLog(path, busy_timeout=10))  # its own connection, like another process
        for i in range(20):
            own.record(AuditAction.LOAD, actor=name, subject=f"batch:{name}-{i}")
        own.close()

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    trail = AuditTrail(AuditLog(path))
    result = trail.verify()
    assert result.ok and result.entries == 80
    trail.close()


def test_where_the_trail_lives() -> None:
    assert audit_path(Settings(store="sqlite:///data/plant.db")) == Path("data/plant.db.audit.db")
    assert audit_path(Settings(store="sqlite:////srv/tg.db")) == Path("/srv/tg.db.audit.db")
    assert audit_path(Settings(store="neo4j://neo4j:pw@db:7687")) == Path("tracegraph-audit.db")
    assert audit_path(Settings(store="neo4j://db:7687", audit="/var/lib/tg/audit.db")) == Path("/var/lib/tg/audit.db")
    assert default_actor().startswith("os:")


# -- loads record themselves ---------------------------------------------------------------


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    services = Services.build(Settings(store=f"sqlite:///{tmp_path / 'store.db'}"), migrate=True, actor="os:tester")
    yield services
    services.close()


def _parsed(*facts: object, retract: tuple[str, ...] = ()) -> ParseResult:
    from schema.model import EdgeFact, NodeFact

    return ParseResult(
        nodes=[f for f in facts if isinstance(f, NodeFact)],
        edges=[f for f in facts if isinstance(f, EdgeFact)],
        retract_records=list(retract),
        records=len(facts),
    )


def test_every_successful_load_appends_who_what_and_the_counts(services: Services, tmp_path: Path) -> None:
    plant = repack_plant()
    report = services.load_parsed(
        _parsed(*plant.nodes, *plant.edges), source="plant.csv", content_hash="abc", partial=False
    )
    assert services.audit is not None and services.audit.path == tmp_path / "store.db.audit.db"
    entry = services.audit.entry(1)
    assert entry.actor == "os:tester" and entry.action == "load"
    assert report.result is not None and entry.subject == f"batch:{report.result.batch_id}"
    assert entry.new["sources"] == ["plant.csv"] and entry.new["content_hash"] == "abc"
    assert entry.new["nodes_added"] == len(plant.nodes) and entry.new["edges_added"] == len(plant.edges)
    assert entry.new["already_loaded"] is False and entry.old is None

    # Another actor, through the same services (as the API does per request); a repeated load says so.
    services.as_actor("key:uploader").load_parsed(
        _parsed(*plant.nodes, *plant.edges), source="plant.csv", content_hash="abc"
    )
    again = services.audit.entry(2)
    assert again.actor == "key:uploader" and again.new["already_loaded"] is True
    assert services.actor == "os:tester"


def test_a_load_of_files_records_its_sources_and_options(services: Services, tmp_path: Path) -> None:
    data = tmp_path / "suppliers.csv"
    data.write_text("supplier,name\nsupplier:SUP-1,Acme\n")
    services.load_paths([data])
    assert services.audit is not None
    entry = services.audit.entry(1)
    assert entry.new["sources"] == [str(data)] and entry.new["records"] == 1
    assert entry.details["format"] == "auto" and entry.details["partial"] is False
    assert entry.details["software"].startswith("tracegraph ")


def test_a_load_that_retracts_records_also_records_the_retraction(services: Services) -> None:
    lot, wo = "lot:R-1", "wo:W-1"
    services.load_parsed(
        _parsed(
            node(lot, NodeKind.MATERIAL_LOT),
            node(wo, NodeKind.WORK_ORDER),
            edge(EdgeType.CONSUMED_BY, lot, wo, at=hours(1), record_id="ev-1"),
        ),
        source="capture-1.json",
        content_hash="h1",
    )
    services.load_parsed(_parsed(retract=("ev-1",)), source="capture-2.json", content_hash="h2")
    assert services.audit is not None
    retraction = services.audit.entry(3)
    assert retraction.action == "retraction" and retraction.new["records"] == ["ev-1"]
    assert retraction.new["edges_retracted"] == 1 and "capture-2.json" in (retraction.reason or "")
    assert services.audit.verify().ok


def test_a_failed_load_records_nothing(services: Services) -> None:
    from loaders.base import Reject
    from schema.errors import RejectedRecordsError

    bad = ParseResult(rejects=[Reject(source="x.csv", line=2, reason="bad")], records=1)
    with pytest.raises(RejectedRecordsError):
        services.load_parsed(bad, source="x.csv", content_hash="h")
    assert services.audit is not None and not services.audit.log.exists()


def test_a_load_the_trail_cannot_record_says_it_was_loaded(tmp_path: Path) -> None:
    from schema.errors import StoreError

    (tmp_path / "blocked").mkdir()  # a directory where the audit file should be
    settings = Settings(store=f"sqlite:///{tmp_path / 'store.db'}", audit=str(tmp_path / "blocked"))
    services = Services.build(settings, migrate=True)
    plant = repack_plant()
    with pytest.raises(StoreError, match=r"was loaded, but the audit trail .* could not record it"):
        services.load_parsed(_parsed(*plant.nodes), source="plant.csv", content_hash="x")
    assert services.stats().batches == 1
    services.close()


def test_other_services_record_their_changes_through_services(services: Services) -> None:
    entry = services.record(
        AuditAction.TASK_TRANSITION, "task:T-7", old={"state": "open"}, new={"state": "closed"}, reason="verified"
    )
    assert entry.actor == "os:tester" and entry.old == {"state": "open"} and entry.reason == "verified"
    with pytest.raises(InvalidInputError):
        services.record(AuditAction.SIGNATURE, "report:trace:x")


# -- tampering -----------------------------------------------------------------------------


def test_an_intact_trail_verifies(trail: AuditTrail) -> None:
    fill(trail)
    assert problems(trail) == []


def test_a_modified_entry_is_named(trail: AuditTrail) -> None:
    fill(trail)
    tamper(trail.path, "UPDATE audit_entry SET entry = replace(entry, 'alice', 'mallory') WHERE seq = 3")
    found = problems(trail)
    assert found and found[0].startswith("entry 3: modified")


def test_a_modified_entry_with_its_hash_recomputed_is_named_by_the_next_entry(trail: AuditTrail) -> None:
    fill(trail)
    row = trail.log.row(3)
    assert row is not None
    forged = row.text.replace("alice", "mallory")
    digest = hashlib.sha256(forged.encode()).hexdigest()
    tamper(trail.path, f"UPDATE audit_entry SET entry = '{forged}', hash = '{digest}' WHERE seq = 3")
    found = problems(trail)
    assert found[0].startswith("entry 3: modified: entry 4 records another SHA-256 for it")


def test_a_deleted_entry_is_named(trail: AuditTrail) -> None:
    fill(trail)
    tamper(trail.path, "DELETE FROM audit_entry WHERE seq = 3")
    found = problems(trail)
    assert found[0] == "entry 3: missing (deleted): the trail jumps from entry 2 to entry 4"


def test_entries_deleted_from_the_end_are_named_by_the_head(trail: AuditTrail) -> None:
    fill(trail)
    tamper(trail.path, "DELETE FROM audit_entry WHERE seq >= 4")
    found = problems(trail)
    assert found[0] == "entry 4: missing, and every entry up to 5 (deleted from the end): the head records 5 entries"


def test_reordered_entries_are_named(trail: AuditTrail) -> None:
    fill(trail)
    tamper(
        trail.path,
        "UPDATE audit_entry SET seq = -1 WHERE seq = 2",
        "UPDATE audit_entry SET seq = 2 WHERE seq = 3",
        "UPDATE audit_entry SET seq = 3 WHERE seq = -1",
    )
    found = problems(trail)
    assert found[0].startswith("entry 2: out of place: this is entry 3 of the chain, stored as entry 2")
    assert found[1].startswith("entry 3: out of place: this is entry 2 of the chain, stored as entry 3")


def test_renumbering_after_a_removal_is_found(trail: AuditTrail) -> None:
    fill(trail)
    tamper(trail.path, "DELETE FROM audit_entry WHERE seq = 3", "UPDATE audit_entry SET seq = seq - 1 WHERE seq > 3")
    found = problems(trail)
    assert found[0].startswith("entry 3: out of place: this is entry 4 of the chain")


def test_an_unreadable_entry_is_named(trail: AuditTrail) -> None:
    fill(trail)
    tamper(trail.path, "UPDATE audit_entry SET entry = 'not json' WHERE seq = 2")
    assert problems(trail)[0].startswith("entry 2: unreadable")


def test_removed_guards_are_a_finding(trail: AuditTrail) -> None:
    fill(trail)
    tamper(trail.path)
    found = problems(trail)
    assert len(found) == 1 and "append-only guards were removed" in found[0]


def test_exports_carry_every_field_and_the_verification(trail: AuditTrail) -> None:
    fill(trail, 3)
    trail.record(AuditAction.KEY, actor="admin", subject="key:ops", old=None, new={"scopes": ["read"]}, reason="new")
    raw = io.BytesIO()
    result = trail.export_json(raw)
    document = orjson.loads(raw.getvalue())
    assert result.ok and document["verification"]["intact"] is True and len(document["entries"]) == 4
    last = document["entries"][-1]
    assert last["action"] == "key.changed" and last["reason"] == "new" and last["new"] == {"scopes": ["read"]}
    assert last["hash"] == AuditEntry.model_validate({k: v for k, v in last.items() if k != "hash"}).digest()
    text = io.StringIO()
    trail.export_csv(text, start=2, end=3)
    rows = list(csv.DictReader(io.StringIO(text.getvalue())))
    assert [r["seq"] for r in rows] == ["2", "3"] and rows[0]["old"] == '"open"' and rows[0]["actor"] == "alice"


# -- finding entries ---------------------------------------------------------------------


def test_find_narrows_by_action_actor_subject_and_time(trail: AuditTrail) -> None:
    from datetime import UTC, datetime, timedelta

    from services.audit import AuditFilter

    trail.record(AuditAction.LOAD, actor="os:alice", subject="batch:b1", new={"records": 3})
    trail.record(
        AuditAction.TASK_TRANSITION, actor="key:3f9a (Recall Desk)", subject="task:T-1", old="open", new="done"
    )
    trail.record(AuditAction.TASK_TRANSITION, actor="os:bob", subject="task:T-2", old="open", new="done")
    middle = datetime.now(UTC)
    trail.record(AuditAction.REPORT, actor="os:alice", subject="report:trace:lot:L1", new={"nodes": 4})

    def seqs(**criteria: object) -> list[int]:
        return [e.seq for e in trail.find(AuditFilter(**criteria))]  # type: ignore[arg-type]

    assert seqs(action="task.transition") == [2, 3]
    assert seqs(actor="recall desk") == [2]  # any part of the actor, ignoring case
    assert seqs(subject="task:*") == [2, 3] and seqs(subject="task:T-2") == [3] and seqs(subject="task:") == []
    assert seqs(actor="alice", since=middle) == [4]
    assert seqs(until=middle) == [1, 2, 3]
    assert seqs(since=middle + timedelta(days=1)) == []
    assert seqs(since=middle.replace(tzinfo=None)) == [4]  # naive times are UTC
    assert [e.seq for e in trail.find(AuditFilter(actor="alice"), last=1)] == [4]
    with pytest.raises(InvalidInputError, match="before its until"):
        AuditFilter(since=middle, until=middle)
