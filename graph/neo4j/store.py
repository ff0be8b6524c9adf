"""The Neo4j store: the same facts and trace semantics as the embedded store, over Bolt.

One driver per process; reads through ``execute_query`` with read routing (so a cluster
or Aura spreads them over readers), writes in one managed transaction per batch. Schema
changes happen only in :meth:`Neo4jStore.migrate`, never as a side effect of opening a store.

Every unit of work is retried on transient failures (the server restarting, a lost
connection, a cluster electing a leader) with bounded exponential backoff for up to
``retry_time`` seconds (``TRACEGRAPH_NEO4J_RETRY_SECONDS``, default 30). That is safe
because each transaction starts from what the store holds and MERGEs on canonical keys
(it CREATEs only relationships at nodes it creates itself, which a second run finds stored):
a transaction whose commit went through but whose answer was lost changes nothing when
run again. After ``retry_time`` the operation fails with :class:`StoreUnavailableError`.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import orjson
from neo4j import Driver, GraphDatabase, ManagedTransaction, Record, Result, RoutingControl
from neo4j.exceptions import AuthError, ClientError, DriverError, IncompleteCommit, Neo4jError, ServiceUnavailable

from graph import collector
from graph.history import EXPORT_OPS, Version, VersionOp, merge_node, replay, where
from graph.neo4j import cypher
from graph.port import GraphStore, SearchHit, Step
from graph.sqlite.index import TraversalIndex
from graph.sqlite.store import label_of
from schema.errors import (
    InvalidInputError,
    MigrationRequiredError,
    NotFoundError,
    StoreBusyError,
    StoreError,
    StoreUnavailableError,
)
from schema.identifiers import key_kind
from schema.kinds import EdgeType, NodeKind
from schema.model import (
    ANY_SOURCE,
    BatchResult,
    EdgeFact,
    EdgeOp,
    EdgeView,
    FactBatch,
    FactVersion,
    NodeFact,
    NodeView,
    Provenance,
    StoreStats,
    TraceDirection,
    from_epoch,
    to_epoch,
    utc,
)

# The driver logs each dropped connection; with no logging configured (the CLI) Python would
# print those to stderr beside the one message _retrying gives. Configured logging still sees them.
logging.getLogger("neo4j").addHandler(logging.NullHandler())

ROWS_PER_QUERY = 20_000  # UNWIND batch size (at most CHUNK_FACTS arrive at once): few round trips
STREAM_ROWS = 5_000  # new relationships per statement sent while the next are built
_ABSENT = float("nan")  # an edge without a time, in the trace fetch's lists (which cannot hold nulls)
_OPEN = float("inf")  # an interval still open, likewise


def _one_record(result: Result) -> Record:
    """The one record of a query that aggregates without grouping keys (it always has one)."""
    return result.single(strict=True)


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _epoch(value: datetime) -> float:
    """``to_epoch`` without its UTC conversion for the aware datetimes facts hold (same float)."""
    return value.timestamp() if value.tzinfo is not None else to_epoch(value)


class _Rows(list[Any]):
    """A query's list of rows, whose ``repr`` names only its length.

    The driver formats every RUN message for its debug log before the logger decides to drop
    it, ``repr`` of the parameters included: for a batch's ``UNWIND`` lists of 20,000 rows
    that was 5 % of the client's time for a load, spent on text nobody reads.
    """

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


def _chunks(rows: Sequence[Any], size: int = ROWS_PER_QUERY) -> Iterator[_Rows]:
    for i in range(0, len(rows), size):
        yield _Rows(rows[i : i + size])


def _plan_chunks(
    nodes: Sequence[NodeFact], edges: Sequence[EdgeFact], size: int
) -> list[tuple[Sequence[NodeFact], Sequence[EdgeFact]]]:
    """Node facts and edge assertions in transactions of about ``size`` facts, each edge in
    the transaction that writes the later of its endpoints' first node facts.

    An edge then meets a node its own transaction creates whenever one of its endpoints is
    new, so it is created without a MERGE (see ``create_edges``): on a first load, all of
    them. Node facts keep their order, and so do the edges of one identity (they share their
    endpoints, hence their transaction). Edges whose endpoints have no node fact in the batch
    go first. A node with more edges than fit in one transaction has the rest follow in
    transactions of their own, in order, MERGEd as they would be anyway.
    """
    first: dict[str, int] = {}
    for i, fact in enumerate(nodes):
        first.setdefault(fact.key, i)
    at_node: dict[int, list[EdgeFact]] = defaultdict(list)
    for e in edges:
        at_node[max(first.get(e.source, -1), first.get(e.target, -1))].append(e)
    plan: list[tuple[Sequence[NodeFact], Sequence[EdgeFact]]] = []
    chunk_nodes: list[NodeFact] = []
    chunk_edges: list[EdgeFact] = list(at_node.pop(-1, ()))

    def flush() -> None:
        room = max(size - len(chunk_nodes), 1)
        plan.append((chunk_nodes[:], chunk_edges[:room]))
        plan.extend(((), rest) for rest in _chunks(chunk_edges[room:], size))
        chunk_nodes.clear()
        chunk_edges.clear()

    for i, fact in enumerate(nodes):
        if len(chunk_nodes) + len(chunk_edges) >= size:
            flush()
        chunk_nodes.append(fact)
        chunk_edges.extend(at_node.pop(i, ()))
    if chunk_nodes or chunk_edges:
        flush()
    return plan


#: ``Provenance.model_dump()`` without pydantic's serializer (every field is a str, an int or
#: None): a load builds one version per fact, each a fifth faster this way.
_PROVENANCE_FIELDS = tuple(Provenance.model_fields)


def _version_json(recorded_at: float, batch_id: str, props: Any, prov: Provenance, **extra: Any) -> str:
    dumped = {name: getattr(prov, name) for name in _PROVENANCE_FIELDS}
    return _dumps({"recorded_at": recorded_at, "batch": batch_id, "props": props, "prov": dumped, **extra})


def _fact_version(raw: str) -> FactVersion:
    v = orjson.loads(raw)
    return FactVersion(
        recorded_at=from_epoch(v["recorded_at"]) or utc(datetime.now()),
        batch_id=v["batch"],
        provenance=Provenance(**v["prov"]),
        props=v["props"],
        until=from_epoch(v.get("until")),
        retracted=bool(v.get("retracted", False)),
    )


def _edge_row(
    fact: EdgeFact,
    at_key: float,
    until: float | None,
    props: str,
    retracted: bool,
    op: str,
    asserted_until: float | None,
    batch_id: str,
    now: float,
    props_value: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Parameters for ``merge_edges``: the edge's identity, its new state and its new version.
    ``props_value``: ``props`` parsed, when the caller has it (spares parsing it back)."""
    return {
        "src": fact.source,
        "dst": fact.target,
        "at_key": at_key,
        "at": to_epoch(fact.at),
        "until": until,
        "until_v": cypher.OPEN if until is None else until,
        "props": props,
        "retracted": retracted,
        "record_id": fact.provenance.record_id,
        "version": _version_json(
            now,
            batch_id,
            orjson.loads(props) if props_value is None else props_value,
            fact.provenance,
            until=until,
            retracted=retracted,
            op=op,
            asserted_until=asserted_until,
        ),
    }


def _update_row(
    edge_id: str,
    until: float | None,
    props: str,
    retracted: bool,
    op: str,
    asserted_until: float | None,
    prov: Provenance,
    batch_id: str,
    now: float,
) -> dict[str, Any]:
    """Parameters for ``UPDATE_EDGES``: an existing edge's new state and its new version."""
    return {
        "id": edge_id,
        "until": until,
        "until_v": cypher.OPEN if until is None else until,
        "props": props,
        "retracted": retracted,
        "record_id": prov.record_id,
        "version": _version_json(
            now,
            batch_id,
            orjson.loads(props),
            prov,
            until=until,
            retracted=retracted,
            op=op,
            asserted_until=asserted_until,
        ),
    }


#: What the store holds of a node while a batch is applied: kind, props, the batch that created it.
NodeState = tuple[str, dict[str, Any], "str | None"]

CHUNK_FACTS = 20_000  # facts per transaction: well inside a small server's transaction memory
STALE_AFTER = 600.0  # seconds without a heartbeat before an unfinished batch is taken as dead

CHUNK_ENV = "TRACEGRAPH_NEO4J_CHUNK_FACTS"
RETRY_ENV = "TRACEGRAPH_NEO4J_RETRY_SECONDS"
RETRY_TIME = 30.0  # seconds an operation keeps retrying transient failures before it gives up
RETRY_FIRST_DELAY = 0.25  # seconds before the first retry; doubled each time ...
RETRY_MAX_DELAY = 4.0  # ... up to this, so a server that is back is noticed within seconds
FIRST_CONTACT_RETRY_TIME = 5.0  # until the server has answered once: likely a wrong URL, not a restart
ROLLBACK_RETRY_TIME = 5.0  # after a write gave up: how long to try undoing its committed chunks

#: Unfinished batches, with who is loading them (host and pid; see ``_owner_gone``).
APPLYING_BATCHES = """
    MATCH (b:Batch {state: 'applying'})
    RETURN b.id AS id, b.heartbeat AS heartbeat, b.owner_host AS host, b.owner_pid AS pid
"""
SET_OWNER = "MATCH (b:Batch {id: $id}) SET b.owner_host = $host, b.owner_pid = $pid"

T = TypeVar("T")


def chunk_facts_from_env() -> int:
    """``TRACEGRAPH_NEO4J_CHUNK_FACTS`` (facts per transaction, for a server with little memory), else 20,000."""
    raw = os.environ.get(CHUNK_ENV, "").strip()
    if not raw:
        return CHUNK_FACTS
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidInputError(f"{CHUNK_ENV}={raw!r} must be a whole number of facts, 1 or more")
    return int(raw)


def retry_time_from_env() -> float:
    """``TRACEGRAPH_NEO4J_RETRY_SECONDS`` (a number of seconds, 0 for no retries), else 30."""
    raw = os.environ.get(RETRY_ENV, "").strip()
    if not raw:
        return RETRY_TIME
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInputError(f"{RETRY_ENV}={raw!r} is not a number of seconds") from None
    if not 0 <= value < float("inf"):
        raise InvalidInputError(f"{RETRY_ENV}={raw!r} must be 0 or more seconds")
    return value


#: Status codes of a transaction the server refused for its memory limits: sent again, the same
#: transaction fails again.
_OUT_OF_MEMORY = frozenset(
    {"TransactionMemoryLimit", "TransactionOutOfMemoryError", "MemoryPoolOutOfMemoryError", "OutOfMemoryError"}
)


def _out_of_memory(exc: Exception) -> bool:
    code = getattr(exc, "code", None) or ""
    return isinstance(exc, Neo4jError) and code.rsplit(".", 1)[-1] in _OUT_OF_MEMORY


def _transient(exc: Exception) -> bool:
    """Worth trying again: the server or the connection failed, not the request.

    ``IncompleteCommit`` (the connection dropped after COMMIT was sent) counts too: every
    transaction here can run again after a commit that did go through without changing
    anything (see the module docstring).
    """
    if isinstance(exc, IncompleteCommit):
        return True
    return isinstance(exc, DriverError | Neo4jError) and exc.is_retryable() and not _out_of_memory(exc)


def _owner_gone(host: str | None, pid: int | None) -> bool:
    """The process that started a batch ran on this machine and has ended."""
    if host != socket.gethostname() or pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


def _result(batch_id: str, now: float, counts: tuple[int, int, int, int, int]) -> BatchResult:
    nodes_added, nodes_changed, edges_added, edges_changed, retracted = counts
    return BatchResult(
        batch_id=batch_id,
        nodes_added=nodes_added,
        nodes_changed=nodes_changed,
        edges_added=edges_added,
        edges_changed=edges_changed,
        retracted=retracted,
        recorded_at=from_epoch(now),
    )


def _pop_edge_versions(row: dict[str, Any], batch_id: str) -> dict[str, Any]:
    """An edge as it was before ``batch_id`` appended its versions."""
    keep = len(row["v_batch"])
    while keep and row["v_batch"][keep - 1] == batch_id:
        keep -= 1
    versions = [orjson.loads(v) for v in row["v_json"][:keep]]
    last = versions[-1]
    until = row["v_until"][keep - 1]
    return {
        "id": row["id"],
        "v_recorded": row["v_recorded"][:keep],
        "v_until": row["v_until"][:keep],
        "v_retracted": row["v_retracted"][:keep],
        "v_batch": row["v_batch"][:keep],
        "v_json": row["v_json"][:keep],
        "until": None if until >= cypher.OPEN else until,
        "retracted": row["v_retracted"][keep - 1],
        "props": _dumps(last["props"]),
        "record_ids": [v["prov"]["record_id"] for v in versions if v["prov"]["record_id"]],
        "last_batch": row["v_batch"][keep - 1],
    }


def _pop_node_versions(row: dict[str, Any], batch_id: str) -> dict[str, Any]:
    """A node as it was before ``batch_id`` appended its versions."""
    versions = [orjson.loads(v) for v in row["versions"]]
    while versions and versions[-1]["batch"] == batch_id:
        versions.pop()
    props: dict[str, Any] = {}
    for v in versions:
        props.update(v["props"])
    return {
        "key": row["key"],
        "versions": [_dumps(v) for v in versions],
        "props": _dumps(props),
        "label": label_of(row["key"], props),
        "last_batch": versions[-1]["batch"] if versions else None,
    }


class Neo4jStore(GraphStore):
    backend = "neo4j"

    def __init__(
        self,
        uri: str,
        auth: tuple[str, str] | None,
        *,
        database: str | None = None,
        retry_time: float | None = None,
    ) -> None:
        self.location = uri
        self.database = database
        # Notifications (e.g. "property key does not exist yet" on a new store) are noise here.
        # The driver's own transaction retries are off: _retrying below does them, for every
        # kind of work, with a shorter backoff and one clear message when it gives up.
        self._driver: Driver = GraphDatabase.driver(
            uri,
            auth=auth,
            notifications_min_severity="OFF",
            max_transaction_retry_time=0.0,
            connection_timeout=10.0,
        )
        self._schema_checked = False
        self.chunk_facts = chunk_facts_from_env()
        self.stale_after = STALE_AFTER
        self.retry_time = retry_time_from_env() if retry_time is None else retry_time
        self._abandoned: set[str] = set()  # batches this process failed to finish or undo
        self._answered = False  # the server has answered once

    @classmethod
    def from_url(cls, url: str) -> Neo4jStore:
        """``neo4j://user:password@host:7687/database`` (also bolt://, +s, +ssc)."""
        parts = urlsplit(url)
        auth = (unquote(parts.username or "neo4j"), unquote(parts.password or "")) if parts.username else None
        host = parts.hostname or "localhost"
        netloc = f"{host}:{parts.port}" if parts.port else host
        database = parts.path.strip("/") or None
        return cls(urlunsplit((parts.scheme, netloc, "", "", "")), auth, database=database)

    # -- plumbing --------------------------------------------------------------------
    def _retrying(self, what: str, work: Callable[[], T], *, budget: float | None = None) -> T:
        """Run ``work``, again after each transient failure, for up to ``budget`` seconds
        (default ``retry_time``); then raise :class:`StoreUnavailableError` saying ``what`` failed."""
        if budget is None:
            budget = self.retry_time if self._answered else min(self.retry_time, FIRST_CONTACT_RETRY_TIME)
        deadline = time.monotonic() + budget
        delay = RETRY_FIRST_DELAY
        attempts = 0
        while True:
            attempts += 1
            try:
                result = work()
            except (DriverError, Neo4jError) as exc:
                # Refused credentials are final at first contact; once the server has accepted
                # them, a refusal is a server still starting up (after a restart its auth
                # store answers a moment after Bolt does), retried like any transient failure.
                if isinstance(exc, AuthError) and not self._answered:
                    raise self._unavailable(exc) from exc
                if _out_of_memory(exc):
                    raise StoreError(
                        f"Neo4j at {self.location} has not the memory for {what}: write fewer facts per "
                        f"transaction ({CHUNK_ENV}, now {self.chunk_facts:,}) or give the server more (its heap; "
                        f"db.memory.transaction.max). Nothing of the batch was kept. ({exc})"
                    ) from exc
                if not isinstance(exc, AuthError) and not _transient(exc):
                    raise
                left = deadline - time.monotonic()
                if left <= 0 and isinstance(exc, AuthError):
                    raise self._unavailable(exc) from exc
                if left <= 0:
                    raise StoreUnavailableError(
                        f"cannot reach Neo4j at {self.location} while {what}: gave up after {attempts} "
                        f"attempt{'s' if attempts > 1 else ''} in {budget:g} s ({RETRY_ENV} sets how long; "
                        f"last error: {exc}). Is the server running? (`tracegraph neo4j start` runs a local one)"
                    ) from exc
            else:
                self._answered = True
                return result
            time.sleep(min(delay * random.uniform(0.8, 1.2), max(left, 0.0)))
            delay = min(delay * 2, RETRY_MAX_DELAY)

    def _read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        def run() -> list[dict[str, Any]]:
            records, _, _ = self._driver.execute_query(
                query, params, routing_=RoutingControl.READ, database_=self.database
            )
            return [r.data() for r in records]

        return self._retrying("reading", run)

    def _write_tx(self, what: str, work: Callable[..., T], *args: Any, budget: float | None = None) -> T:
        """``work(tx, *args)`` in one write transaction, in a new session per attempt."""

        def attempt() -> T:
            with self._driver.session(database=self.database) as session:
                return session.execute_write(work, *args)

        return self._retrying(what, attempt, budget=budget)

    def _unavailable(self, exc: Exception) -> StoreUnavailableError:
        if isinstance(exc, AuthError):
            return StoreUnavailableError(
                f"Neo4j at {self.location} refused the credentials: check the user and password in --store "
                "(or TRACEGRAPH_STORE)"
            )
        return StoreUnavailableError(
            f"cannot reach Neo4j at {self.location}: is the server running? (`tracegraph neo4j start` runs a local one)"
        )

    def close(self) -> None:
        self._driver.close()

    # -- lifecycle -------------------------------------------------------------------
    def schema_version(self) -> int:
        rows = self._read(cypher.GET_SCHEMA_VERSION)
        return int(rows[0]["version"]) if rows else 0

    def migrate(self) -> int:
        current = self.schema_version()

        def execute(statement: str, **params: Any) -> Callable[[], object]:
            return lambda: self._driver.execute_query(statement, params, database_=self.database)

        for version in range(current, cypher.SCHEMA_VERSION):
            for statement in cypher.MIGRATIONS[version]:  # each idempotent (IF NOT EXISTS)
                self._retrying("migrating", execute(statement))
            self._retrying("migrating", execute(cypher.SET_SCHEMA_VERSION, version=version + 1))
        self._schema_checked = True
        return cypher.SCHEMA_VERSION

    def _require_schema(self) -> None:
        if self._schema_checked:
            return
        version = self.schema_version()
        if version < cypher.SCHEMA_VERSION:
            raise MigrationRequiredError(
                f"the Neo4j store at {self.location} has schema version {version}, this software needs "
                f"{cypher.SCHEMA_VERSION}: run `tracegraph --store URL migrate` first"
            )
        self._schema_checked = True

    # -- writing ---------------------------------------------------------------------
    def apply(self, batch: FactBatch) -> BatchResult:
        """Apply a batch all or nothing. Up to ``CHUNK_FACTS`` facts go in one transaction;
        a larger batch is committed in chunks under an "applying" mark and rolled back from
        its batch markers if it fails, or by the next writer if its process died."""
        self._require_schema()
        # The id is fixed before the first attempt, so a retry recognises a marker its lost
        # predecessor committed instead of taking it for another loader's.
        batch_id = batch.batch_id or uuid.uuid4().hex
        try:
            # Nothing written here forms cycles; collections would only rescan the parsed batch.
            with collector.paused():
                self._recover()
                if len(batch.nodes) + len(batch.edges) + len(batch.retract_records) <= self.chunk_facts:
                    return self._write_tx("loading the batch", self._apply_whole, batch, batch_id)
                return self._apply_in_chunks(batch, batch_id)
        except (ServiceUnavailable, AuthError) as exc:
            raise self._unavailable(exc) from exc
        except ClientError as exc:
            raise StoreError(f"Neo4j refused the batch, nothing of it was written: {exc.message}") from exc
        except Neo4jError as exc:
            raise StoreError(f"Neo4j could not apply the batch, nothing of it was kept: {exc.message}") from exc

    def _begin(
        self, tx: ManagedTransaction, batch: FactBatch, batch_id: str | None = None
    ) -> BatchResult | tuple[str, float]:
        """The batch's id and recorded time, or the result of an earlier load of the same input."""
        batch_id = batch_id or batch.batch_id or uuid.uuid4().hex
        for probe, value in (
            (cypher.FIND_BATCH_BY_HASH, batch.content_hash),
            (cypher.FIND_BATCH_BY_ID, batch_id),
        ):
            if value is None:
                continue
            found = tx.run(probe, value=value).single()
            if found and found["state"] == "applying" and found["id"] == batch_id:
                return (batch_id, found["recorded_at"])  # ours: a retry after a commit whose answer was lost
            if found and found["state"] == "applying":
                raise StoreBusyError(
                    f"another process is loading the same input into {self.location} (batch {found['id']}); "
                    "try again when it has finished"
                )
            if found:
                return BatchResult(
                    batch_id=found["id"], already_loaded=True, recorded_at=from_epoch(found["recorded_at"])
                )
        if batch.recorded_at is not None:
            now = to_epoch(batch.recorded_at)
        else:
            last = tx.run(cypher.LAST_RECORDED).single()
            now = time.time()
            if last and last["last"] is not None and now <= last["last"]:
                now = last["last"] + 1e-6  # recorded times strictly increase, whatever the clock does
            now = round(now, 6)  # whole microseconds, so a datetime round-trips exactly
        return (batch_id, now)

    def _write(
        self,
        tx: ManagedTransaction,
        nodes: Sequence[NodeFact],
        edges: Sequence[EdgeFact],
        retract_records: Sequence[str],
        batch_id: str,
        now: float,
        written: set[int] | None = None,
    ) -> tuple[int, int, int, int, int]:
        """``written``: hashes of the edge identities earlier chunks of this batch wrote."""
        ids: dict[str, str] = {}  # key -> element id, for the nodes this transaction reads or writes
        existing = self._node_state(tx, [f.key for f in nodes], ids)
        # Endpoints only need to exist; an edge can already be in the store only if both its
        # endpoints were there before this batch, or this batch wrote it in an earlier chunk.
        endpoints = [k for k in dict.fromkeys(k for e in edges for k in (e.source, e.target)) if k not in existing]
        older = {k for k in existing if existing[k][2] != batch_id}
        for key, first_batch, element_id in self._keys_present(tx, endpoints):
            existing[key] = ("", {}, first_batch)  # not a node fact here: kind and props unused
            ids[key] = element_id
            if first_batch != batch_id:
                older.add(key)
        created: set[str] = set()  # nodes this transaction creates: no other sees them before it commits
        nodes_added, nodes_changed = self._apply_nodes(tx, nodes, existing, batch_id, now, ids, created)
        self._ensure_endpoints(tx, edges, existing, batch_id, now, ids, created)
        edges_added, edges_changed = self._apply_edges(tx, edges, batch_id, now, older, written, ids, created)
        retracted = self._retract_records(tx, retract_records, batch_id, now) if retract_records else 0
        return nodes_added, nodes_changed, edges_added, edges_changed, retracted

    def _apply_whole(self, tx: ManagedTransaction, batch: FactBatch, batch_id: str) -> BatchResult:
        begun = self._begin(tx, batch, batch_id)
        if isinstance(begun, BatchResult):
            return begun
        batch_id, now = begun
        counts = self._write(tx, batch.nodes, batch.edges, batch.retract_records, batch_id, now)
        self._create_batch(tx, batch, batch_id, now, counts, state="applied")
        return _result(batch_id, now, counts)

    def _apply_in_chunks(self, batch: FactBatch, planned_id: str) -> BatchResult:
        def begin(tx: ManagedTransaction) -> BatchResult | tuple[str, float]:
            begun = self._begin(tx, batch, planned_id)
            if not isinstance(begun, BatchResult):
                if tx.run(cypher.FIND_BATCH_BY_ID, value=planned_id).single() is None:
                    self._create_batch(tx, batch, *begun, (0, 0, 0, 0, 0), state="applying")
                tx.run(SET_OWNER, id=planned_id, host=socket.gethostname(), pid=os.getpid())
            return begun

        begun = self._write_tx("starting the batch", begin)
        if isinstance(begun, BatchResult):
            return begun
        batch_id, now = begun
        totals = [0, 0, 0, 0, 0]
        written: set[int] = set()  # hashes of edge identities written by earlier chunks
        # Closes after every assertion, retractions last: the order one transaction would use.
        asserts = [e for e in batch.edges if e.op is not EdgeOp.CLOSE]
        closes = [e for e in batch.edges if e.op is EdgeOp.CLOSE]
        steps: list[tuple[Sequence[NodeFact], Sequence[EdgeFact], Sequence[str]]] = [
            *((nodes, edges, ()) for nodes, edges in _plan_chunks(batch.nodes, asserts, self.chunk_facts)),
            *(((), c, ()) for c in _chunks(closes, self.chunk_facts)),
            *(((), (), c) for c in _chunks(batch.retract_records, self.chunk_facts)),
        ]
        try:
            for step, (nodes, edges, retractions) in enumerate(steps, 1):
                counts = self._write_tx(
                    f"writing part {step} of {len(steps)} of batch {batch_id}",
                    self._write_chunk,
                    nodes,
                    edges,
                    retractions,
                    batch_id,
                    now,
                    written,
                )
                for i, n in enumerate(counts):
                    totals[i] += n
            self._write_tx(
                f"finishing batch {batch_id}",
                lambda tx: tx.run(
                    cypher.FINISH_BATCH, id=batch_id, nodes=totals[0] + totals[1], edges=sum(totals[2:])
                ).consume(),
            )
        except StoreUnavailableError as exc:
            # The server has been away for the whole retry time: undo what is committed if it
            # answers now, else leave the batch marked for the next writer to roll back.
            try:
                self._rollback(batch_id, budget=min(self.retry_time, ROLLBACK_RETRY_TIME))
            except StoreUnavailableError:
                self._abandoned.add(batch_id)
                raise StoreUnavailableError(
                    f"{exc} Batch {batch_id} was not loaded: the parts already committed stay marked "
                    "unfinished and are rolled back by the next load into this store; run the same load "
                    "again once Neo4j is back."
                ) from exc
            raise
        except BaseException:
            self._rollback(batch_id)
            raise
        return _result(batch_id, now, tuple(totals))  # type: ignore[arg-type]

    def _write_chunk(
        self,
        tx: ManagedTransaction,
        nodes: Sequence[NodeFact],
        edges: Sequence[EdgeFact],
        retract_records: Sequence[str],
        batch_id: str,
        now: float,
        written: set[int] | None = None,
    ) -> tuple[int, int, int, int, int]:
        tx.run(cypher.HEARTBEAT, id=batch_id, heartbeat=time.time())
        return self._write(tx, nodes, edges, retract_records, batch_id, now, written)

    @staticmethod
    def _create_batch(
        tx: ManagedTransaction, batch: FactBatch, batch_id: str, now: float, counts: tuple[int, ...], *, state: str
    ) -> None:
        tx.run(
            cypher.CREATE_BATCH,
            id=batch_id,
            source=batch.source,
            content_hash=batch.content_hash,
            recorded_at=now,
            nodes=counts[0] + counts[1],
            edges=sum(counts[2:]),
            state=state,
            heartbeat=time.time(),
        )

    def _recover(self) -> None:
        """Roll back unfinished batches whose loader is gone: one this process gave up on, one
        whose process on this machine has ended, or one without a heartbeat for ``stale_after``."""
        rows = self._read(APPLYING_BATCHES)
        before = time.time() - self.stale_after
        for r in rows:
            if r["id"] in self._abandoned or r["heartbeat"] < before or _owner_gone(r["host"], r["pid"]):
                self._rollback(r["id"])
                self._abandoned.discard(r["id"])

    def _rollback(self, batch_id: str, *, budget: float | None = None) -> None:
        """Undo a batch committed in chunks: delete what it created, pop what it appended.
        Each step is idempotent, so an interrupted rollback is finished by the next one."""

        def count(query: str) -> Callable[[ManagedTransaction], int]:
            return lambda tx: int(tx.run(query, batch=batch_id).single(strict=True)["n"])

        def rows(query: str) -> Callable[[ManagedTransaction], list[dict[str, Any]]]:
            return lambda tx: [dict(r) for r in tx.run(query, batch=batch_id)]

        def run(query: str, **params: Any) -> Callable[[ManagedTransaction], object]:
            return lambda tx: tx.run(query, batch=batch_id, **params).consume()

        what = f"rolling back batch {batch_id}"

        def tx(work: Callable[[ManagedTransaction], T]) -> T:
            return self._write_tx(what, work, budget=budget)

        for etype in EdgeType:
            while tx(count(cypher.delete_edges_created(etype))):
                pass
            while changed := tx(rows(cypher.edges_changed(etype))):
                tx(run(cypher.RESTORE_EDGES, rows=[_pop_edge_versions(r, batch_id) for r in changed]))
        while tx(count(cypher.DELETE_NODES_CREATED)):
            pass
        while changed := tx(rows(cypher.NODES_CHANGED)):
            tx(run(cypher.RESTORE_NODES, rows=[_pop_node_versions(r, batch_id) for r in changed]))
        tx(run(cypher.DELETE_WITHDRAWN))
        tx(run(cypher.DELETE_BATCH))

    @staticmethod
    def _node_state(tx: ManagedTransaction, keys: Sequence[str], ids: dict[str, str]) -> dict[str, NodeState]:
        """What the store holds of ``keys``; their element ids go to ``ids``."""
        state: dict[str, NodeState] = {}
        unique = [k for k in dict.fromkeys(keys) if k != ANY_SOURCE]
        for chunk in _chunks(unique):
            found = tx.run(cypher.NODES_BY_KEYS, keys=chunk).single(strict=True)[0]
            for key, kind, props, first_batch, element_id in found:
                state[key] = (kind, orjson.loads(props), first_batch)
                ids[key] = element_id
        return state

    @staticmethod
    def _keys_present(tx: ManagedTransaction, keys: Sequence[str]) -> list[tuple[str, str | None, str]]:
        """The keys among ``keys`` that are nodes, each with the batch that created it and its element id."""
        found: list[tuple[str, str | None, str]] = []
        for chunk in _chunks([k for k in keys if k != ANY_SOURCE]):
            found.extend(
                (key, first_batch, element_id)
                for key, first_batch, element_id in tx.run(cypher.KEYS_PRESENT, keys=chunk).single(strict=True)[0]
            )
        return found

    @staticmethod
    def _apply_nodes(
        tx: ManagedTransaction,
        facts: Sequence[NodeFact],
        state: dict[str, NodeState],
        batch_id: str,
        now: float,
        ids: dict[str, str],
        created: set[str],
    ) -> tuple[int, int]:
        """Write node facts; the element ids of the nodes written go to ``ids``, the keys of
        those this transaction creates to ``created``."""
        added = changed = 0
        # One row per node with every version this batch appends to it, written once in its
        # final state: a node named by many facts costs one MERGE, not one per fact.
        rows: dict[str, dict[str, Any]] = {}
        relabel: dict[str, NodeKind] = {}  # nodes the store held under another kind: that kind
        for fact in facts:
            current = state.get(fact.key)
            if current is None:
                kind, merged = fact.kind, dict(fact.props)
                created.add(fact.key)
                added += 1
            else:
                known, props, _first_batch = current
                after = merge_node(fact, known, props)
                if after is None:
                    continue
                reconciled, merged = after
                if reconciled.value != known and fact.key not in created:
                    relabel.setdefault(fact.key, NodeKind(known))
                kind = reconciled
                changed += 1
            state[fact.key] = (kind.value, merged, batch_id if current is None else current[2])
            row = rows.setdefault(fact.key, {"key": fact.key, "versions": []})
            row["kind"], row["merged"] = kind, merged
            row["versions"].append(_version_json(now, batch_id, fact.props, fact.provenance))
        by_kind: dict[NodeKind, list[dict[str, Any]]] = defaultdict(list)
        for key, row in rows.items():
            merged = row.pop("merged")
            kind = row.pop("kind")
            # A node created here goes in under its final kind; one the store held under
            # another keeps its label until reconcile_kind below.
            by_kind[kind].append({**row, "kind": kind.value, "props": _dumps(merged), "label": label_of(key, merged)})
        for kind, kind_rows in by_kind.items():
            for chunk in _chunks(kind_rows):
                written = tx.run(cypher.merge_nodes(kind), rows=chunk, now=now, batch=batch_id)
                ids.update(written.single(strict=True)[0])
        for key, old in relabel.items():
            new_kind, props = NodeKind(state[key][0]), state[key][1]
            tx.run(
                cypher.reconcile_kind(old, new_kind),
                key=key,
                kind=new_kind.value,
                props=_dumps(props),
                label=label_of(key, props),
            )
        return added, changed

    def _ensure_endpoints(
        self,
        tx: ManagedTransaction,
        edges: Sequence[EdgeFact],
        state: dict[str, NodeState],
        batch_id: str,
        now: float,
        ids: dict[str, str],
        created: set[str],
    ) -> None:
        implied: dict[str, NodeFact] = {}
        for edge in edges:
            for key in (edge.source, edge.target):
                if key in state or key == ANY_SOURCE or key in implied:
                    continue
                kind = key_kind(key)
                if kind is None:
                    raise InvalidInputError(
                        f"{where(edge)}: {edge.type.value} edge names {key}, which is neither loaded nor a key "
                        "whose kind is known"
                    )
                implied[key] = NodeFact(key=key, kind=kind, provenance=edge.provenance)
        if implied:
            self._apply_nodes(tx, list(implied.values()), state, batch_id, now, ids, created)

    def _apply_edges(
        self,
        tx: ManagedTransaction,
        edges: Sequence[EdgeFact],
        batch_id: str,
        now: float,
        older: set[str] | None = None,
        written: set[int] | None = None,
        ids: Mapping[str, str] | None = None,
        created: set[str] | None = None,
    ) -> tuple[int, int]:
        """``older``: the endpoints that existed before this batch (None: assume all did);
        ``written``: hashes of the identities earlier chunks of this batch wrote (updated here);
        ``ids``: the endpoints' element ids in this transaction (None: find them by key);
        ``created``: the nodes this transaction created, whose new edges need no MERGE."""
        asserts = [e for e in edges if e.op is not EdgeOp.CLOSE]
        idents = [(e.type, e.source, e.target, _epoch(e.at) if e.at else cypher.NO_TIME) for e in asserts]
        state: dict[tuple[Any, ...], tuple[float | None, str, bool]] = {}
        supporters: dict[tuple[Any, ...], set[str]] = defaultdict(set)
        by_type: dict[EdgeType, list[dict[str, Any]]] = defaultdict(list)
        for seq, ident in enumerate(idents):
            etype, src, dst, at_key = ident
            # Only look up what can be there (two key seeks and an expand per edge): on a first
            # load nothing is. A hash collision in ``written`` only costs a needless lookup.
            if older is not None and not (src in older and dst in older) and hash(ident) not in (written or ()):
                continue
            by_type[etype].append({"seq": seq, "src": src, "dst": dst, "at_key": at_key})
        for etype, rows in by_type.items():
            for chunk in _chunks(rows):
                found = tx.run(cypher.match_edges(etype), rows=chunk).single(strict=True)[0]
                for seq, until, props, retracted, record_ids in found:
                    ident = idents[seq]
                    state[ident] = (until, props, bool(retracted))
                    supporters[ident].update(record_ids or ())
        added = changed = 0
        creates: dict[EdgeType, list[dict[str, Any]]] = defaultdict(list)
        merges: dict[EdgeType, list[dict[str, Any]]] = defaultdict(list)

        def run_creates(etype: EdgeType, rows: _Rows) -> None:
            tx.run(cypher.create_edges(etype), rows=rows, now=now, batch=batch_id).consume()

        # New relationships go to the server from one thread, in order, while this one builds
        # the next rows (a statement returns once the server has written it, and waiting on
        # the socket releases the GIL). One thread at a time uses the transaction: this one
        # again only after every list sent is written (leaving the block waits for them).
        sent: list[Future[None]] = []
        with ThreadPoolExecutor(1, thread_name_prefix="tracegraph-neo4j-writer") as sender:
            for seq, fact in enumerate(asserts):
                ident = idents[seq]
                asserted_until = until = _epoch(fact.until) if fact.until is not None else None
                props = fresh_props = _dumps(fact.props)
                retracted = fact.op is EdgeOp.RETRACT
                op = VersionOp.RETRACT if retracted else VersionOp.ASSERT
                record_id = fact.provenance.record_id
                known = state.get(ident)
                new = known is None
                if known is not None:
                    old_until, old_props, old_retracted = known
                    if retracted:
                        until, props = old_until, old_props
                    elif until is None and old_until is not None:
                        until = old_until  # a re-assertion without an end keeps the known end
                    if (until, props, retracted) == (old_until, old_props, old_retracted):
                        # The same fact again is one fact; from another source record it is
                        # kept as support, so withdrawing one record does not lose the edge.
                        if retracted or record_id is None or record_id in supporters[ident]:
                            continue
                        op = VersionOp.SUPPORT
                    else:
                        changed += 1
                else:
                    if retracted:
                        raise InvalidInputError(
                            f"{fact.provenance.source}: cannot retract {fact.type.value} {fact.source} -> "
                            f"{fact.target}: not in the store"
                        )
                    added += 1
                if record_id is not None:
                    supporters[ident].add(record_id)
                state[ident] = (until, props, retracted)
                props_value = fact.props if props is fresh_props else None
                row = _edge_row(fact, ident[3], until, props, retracted, op, asserted_until, batch_id, now, props_value)
                if ids is not None:
                    row["s"], row["d"] = ids[fact.source], ids[fact.target]
                # An edge at a node this transaction created cannot be in the store yet (nor be
                # written by anyone else before this commits): it is created without a MERGE.
                fresh = new and ids is not None and bool(created and (fact.source in created or fact.target in created))
                if written is not None:
                    written.add(hash(ident))
                if not fresh:
                    merges[fact.type].append(row)
                    continue
                pending = creates[fact.type]
                pending.append(row)
                if len(pending) >= STREAM_ROWS:
                    sent.append(sender.submit(run_creates, fact.type, _Rows(pending)))
                    creates[fact.type] = []
            for future in sent:
                future.result()  # every list sent, or its error raised here
        # Rows of one identity must be applied in order: its first row may create it, the rest
        # (a MERGE per row, in order within a type) come after.
        for etype, rows in creates.items():
            for chunk in _chunks(rows):
                tx.run(cypher.create_edges(etype), rows=chunk, now=now, batch=batch_id)
        for etype, rows in merges.items():
            for chunk in _chunks(rows):
                tx.run(cypher.merge_edges(etype, by_id=ids is not None), rows=chunk, now=now, batch=batch_id)
        for fact in (e for e in edges if e.op is EdgeOp.CLOSE):
            changed += self._close(tx, fact, batch_id, now)
        return added, changed

    def _close(self, tx: ManagedTransaction, fact: EdgeFact, batch_id: str, now: float) -> int:
        """End the open interval the item was in; an unpacking whose packing was never
        loaded becomes an interval with an unknown start (over-recall rather than miss)."""
        closed_at = to_epoch(fact.until if fact.until is not None else fact.at)
        if closed_at is None:
            raise InvalidInputError(f"{where(fact)}: closing {fact.type.value} needs a time")
        any_source = fact.source == ANY_SOURCE
        query = cypher.open_intervals(fact.type, any_source=any_source)
        rows = [dict(r) for r in tx.run(query, src=fact.source, dst=fact.target, at=closed_at)]
        if not rows and not any_source:
            unknown = tx.run(
                cypher.edge_by_identity(fact.type), src=fact.source, dst=fact.target, at_key=cypher.NO_TIME
            ).single()
            if unknown is None:
                props = _dumps(fact.props)
                row = _edge_row(
                    fact, cypher.NO_TIME, closed_at, props, False, VersionOp.ASSERT, closed_at, batch_id, now
                )
                tx.run(cypher.merge_edges(fact.type, by_id=False), rows=[row], now=now, batch=batch_id)
                return 1
            if unknown["until"] is not None and unknown["until"] >= closed_at:
                return 0
            rows = [dict(unknown)]
        updates = [
            _update_row(
                r["id"], closed_at, r["props"], False, VersionOp.CLOSE, closed_at, fact.provenance, batch_id, now
            )
            for r in rows
        ]
        if updates:
            tx.run(cypher.UPDATE_EDGES, rows=updates, now=now, batch=batch_id)
        return len(updates)

    def _retract_records(self, tx: ManagedTransaction, record_ids: Sequence[str], batch_id: str, now: float) -> int:
        """Withdraw source records: every edge they touched is recomputed without them."""
        ids = list(dict.fromkeys(record_ids))
        tx.run(cypher.WITHDRAW_RECORDS, ids=ids, batch=batch_id, now=now)
        rows = [dict(r) for r in tx.run(cypher.EDGES_OF_RECORDS, ids=ids)]
        histories = {r["id"]: [orjson.loads(v) for v in r["versions"]] for r in rows}
        mentioned = sorted({v["prov"]["record_id"] for vs in histories.values() for v in vs if v["prov"]["record_id"]})
        withdrawn = {r["id"] for r in tx.run(cypher.WITHDRAWN_AMONG, ids=mentioned)}
        prov = Provenance(source_system="retraction", source=batch_id)
        updates = []
        for r in rows:
            history = [
                Version(
                    v.get("op", VersionOp.ASSERT), v.get("asserted_until"), _dumps(v["props"]), v["prov"]["record_id"]
                )
                for v in histories[r["id"]]
            ]
            after = replay(history, withdrawn)
            until: float | None = after.until if after.present else r["until"]
            props: str = (after.props or r["props"]) if after.present else r["props"]
            retracted = not after.present
            if (until, props, retracted) == (r["until"], r["props"], bool(r["retracted"])):
                continue
            updates.append(_update_row(r["id"], until, props, retracted, VersionOp.WITHDRAW, None, prov, batch_id, now))
        for chunk in _chunks(updates):
            tx.run(cypher.UPDATE_EDGES, rows=chunk, now=now, batch=batch_id)
        return len(updates)

    # -- reading ---------------------------------------------------------------------
    def compact_traversal(
        self, keys: Sequence[str], direction: TraceDirection
    ) -> tuple[TraversalIndex, list[int]] | None:
        """For graph.trace: the subgraph reachable from ``keys`` in ``direction`` (ignoring time,
        so a superset of what the trace reaches), fetched in one query, as a compact graph that
        graph.trace walks as it walks the embedded store's index; and the starts' positions."""
        query = (
            cypher.REACHABLE_STEPS_FORWARD if direction is TraceDirection.FORWARD else cypher.REACHABLE_STEPS_BACKWARD
        )
        record = self._retrying(
            "tracing",
            lambda: self._driver.execute_query(
                query,
                {"keys": list(keys), "absent": _ABSENT, "open": _OPEN},
                routing_=RoutingControl.READ,
                database_=self.database,
                result_transformer_=_one_record,
            ),
        )
        node_keys, node_kinds, here, there, types, at, until = record.values()
        position = {key: i for i, key in enumerate(node_keys)}
        if any(k not in position for k in keys):
            return None
        steps = [
            (h, position[t], etype, None if a != a else a, None if u == _OPEN else u)  # a != a: NaN, no time
            for h, t, etype, a, u in zip(here, there, types, at, until, strict=True)
        ]
        return TraversalIndex.of_steps(node_keys, node_kinds, steps), [position[k] for k in keys]

    def expand(
        self, keys: Sequence[str], direction: TraceDirection, *, as_of: datetime | None = None
    ) -> Mapping[str, Sequence[Step]]:
        forward = direction is TraceDirection.FORWARD
        if as_of is None:
            query = cypher.EXPAND_FORWARD if forward else cypher.EXPAND_BACKWARD
        else:
            query = cypher.EXPAND_FORWARD_AS_OF if forward else cypher.EXPAND_BACKWARD_AS_OF
        result: dict[str, list[Step]] = defaultdict(list)
        for chunk in _chunks(list(keys)):
            for r in self._read(query, keys=chunk, as_of=to_epoch(as_of)):
                here = r["src"] if forward else r["dst"]
                result[here].append(
                    Step(EdgeType(r["type"]), r["src"], r["dst"], r["at"], r["until"], r["nkey"], NodeKind(r["nkind"]))
                )
        return result

    def kinds(self, keys: Iterable[str], *, as_of: datetime | None = None) -> dict[str, NodeKind]:
        self._require_schema()
        horizon = to_epoch(as_of) if as_of is not None else cypher.OPEN
        found: dict[str, NodeKind] = {}
        for chunk in _chunks(list(keys)):
            for r in self._read(cypher.KINDS, keys=chunk, as_of=horizon):
                found[r["key"]] = NodeKind(r["kind"])
        return found

    def node(self, key: str, *, as_of: datetime | None = None, edge_limit: int = 200) -> NodeView:
        self._require_schema()
        horizon = to_epoch(as_of) if as_of is not None else cypher.OPEN
        rows = self._read(cypher.NODE, key=key)
        if not rows or rows[0]["first"] > horizon:
            raise NotFoundError(f"no node with key {key}" + (f" as of {as_of.isoformat()}" if as_of else ""))
        versions = [
            v for v in (_fact_version(raw) for raw in rows[0]["versions"]) if (to_epoch(v.recorded_at) or 0) <= horizon
        ]
        props: dict[str, Any] = {}
        for v in versions:
            props.update(v.props)
        out = self._read(cypher.NODE_EDGES_OUT, key=key, horizon=horizon, limit=edge_limit + 1)
        inc = self._read(cypher.NODE_EDGES_IN, key=key, horizon=horizon, limit=edge_limit + 1)
        return NodeView(
            key=rows[0]["key"],
            kind=NodeKind(rows[0]["kind"]),
            props=props,
            versions=tuple(versions),
            edges_out=tuple(self._edge_view(r, horizon) for r in out[:edge_limit]),
            edges_in=tuple(self._edge_view(r, horizon) for r in inc[:edge_limit]),
            edges_truncated=len(out) > edge_limit or len(inc) > edge_limit,
        )

    @staticmethod
    def _edge_view(row: dict[str, Any], horizon: float) -> EdgeView:
        versions = [
            v for v in (_fact_version(raw) for raw in row["versions"]) if (to_epoch(v.recorded_at) or 0) <= horizon
        ]
        latest = versions[-1]
        return EdgeView(
            type=EdgeType(row["type"]),
            source=row["src"],
            target=row["dst"],
            at=from_epoch(row["at"]),
            until=latest.until,
            props=latest.props,
            retracted=latest.retracted,
            versions=tuple(versions),
        )

    def search(self, text: str, *, kinds: Iterable[NodeKind] | None = None, limit: int = 20) -> list[SearchHit]:
        self._require_schema()
        needle = text.strip().lower()
        if not needle:
            return []
        kind_list = [k.value for k in kinds] if kinds else None
        rows = self._read(cypher.SEARCH, needle=needle, kinds=kind_list, limit=limit)
        return [SearchHit(r["key"], NodeKind(r["kind"]), r["label"]) for r in rows]

    def stats(self) -> StoreStats:
        version = self.schema_version()
        batches = self._read(cypher.COUNT_BATCHES)[0]
        return StoreStats(
            backend=self.backend,
            location=self.location,
            schema_version=version,
            nodes_by_kind=dict(sorted((r["kind"], r["n"]) for r in self._read(cypher.COUNT_NODES))),
            edges_by_type=dict(sorted((r["type"], r["n"]) for r in self._read(cypher.COUNT_EDGES))),
            batches=batches["n"],
            last_loaded_at=from_epoch(batches["last"]),
        )

    def export_batches(self) -> Iterator[FactBatch]:
        self._require_schema()
        for b in self._read(cypher.EXPORT_BATCHES):
            batch_id = b["id"]
            needle = f'"batch":"{batch_id}"'
            nodes: list[NodeFact] = []
            for r in self._read(cypher.EXPORT_NODE_VERSIONS, needle=needle):
                for raw in r["versions"]:
                    v = orjson.loads(raw)
                    if v["batch"] == batch_id:
                        nodes.append(
                            NodeFact(
                                key=r["key"],
                                kind=NodeKind(r["kind"]),
                                props=v["props"],
                                provenance=Provenance(**v["prov"]),
                            )
                        )
            edges: list[EdgeFact] = []
            for r in self._read(cypher.EXPORT_EDGE_VERSIONS, batch=batch_id):
                for raw in r["versions"]:
                    v = orjson.loads(raw)
                    if v["batch"] != batch_id:
                        continue
                    op = v.get("op", VersionOp.ASSERT)
                    if op == VersionOp.WITHDRAW:
                        continue  # recomputed from retract_records by the target
                    edges.append(
                        EdgeFact(
                            type=EdgeType(r["type"]),
                            source=r["src"],
                            target=r["dst"],
                            at=from_epoch(r["at"]),
                            until=from_epoch(v.get("asserted_until")),
                            props=v["props"],
                            op=EXPORT_OPS[op],
                            provenance=Provenance(**v["prov"]),
                        )
                    )
            withdrawn = tuple(r["id"] for r in self._read(cypher.EXPORT_WITHDRAWN, batch=batch_id))
            yield FactBatch(
                source=b["source"],
                content_hash=b["hash"],
                batch_id=batch_id,
                recorded_at=from_epoch(b["recorded_at"]),
                nodes=tuple(nodes),
                edges=tuple(edges),
                retract_records=withdrawn,
            )

    def wipe(self) -> None:
        """Delete everything (tests and ``copy --replace`` only): not reversible."""
        # CALL … IN TRANSACTIONS needs an auto-commit transaction, hence session.run.
        with self._driver.session(database=self.database) as session:
            for statement in cypher.WIPE:
                session.run(statement).consume()
