"""All Cypher text of the Neo4j adapter, and its versioned migrations.

Only parameters reach these queries at run time; labels and relationship types come from
the ``schema.kinds`` enums, formatted in where Cypher cannot take them as parameters.

Model: every thing is a ``(:Node {key, kind, props, first_recorded, versions})`` with its
kind as a second label. Every edge is a relationship of its type with its identity
``at_key`` and its history as parallel lists (``v_recorded``, ``v_until``, ``v_retracted``,
``v_batch``, ``v_json``) so an ``as_of`` read can pick the version in Cypher. An edge with
one version (most edges: written once, never changed) stores no lists: its one version is its
current state (``first_recorded``, ``until``, ``retracted``, ``first_batch``) and the version's
JSON is ``v_first``; the lists are written when a second version is appended. Queries read the
history through ``V_RECORDED`` … ``V_JSON``, which give the lists either way.
"""

from __future__ import annotations

from schema.kinds import TRACED_EDGES, EdgeType, NodeKind

#: Each entry upgrades the schema by one version; never edit a released entry, append.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE CONSTRAINT node_key IF NOT EXISTS FOR (n:Node) REQUIRE n.key IS UNIQUE",
        "CREATE CONSTRAINT batch_id IF NOT EXISTS FOR (b:Batch) REQUIRE b.id IS UNIQUE",
        "CREATE INDEX batch_hash IF NOT EXISTS FOR (b:Batch) ON (b.content_hash)",
        "CREATE INDEX node_kind IF NOT EXISTS FOR (n:Node) ON (n.kind)",
        "CREATE CONSTRAINT schema_meta IF NOT EXISTS FOR (m:TraceGraphSchema) REQUIRE m.id IS UNIQUE",
        "CREATE CONSTRAINT withdrawn_record IF NOT EXISTS FOR (w:WithdrawnRecord) REQUIRE w.id IS UNIQUE",
    ),
    # Version 2: batch markers, so a batch committed in chunks can be rolled back.
    (
        "CREATE INDEX node_first_batch IF NOT EXISTS FOR (n:Node) ON (n.first_batch)",
        "CREATE INDEX node_last_batch IF NOT EXISTS FOR (n:Node) ON (n.last_batch)",
        "CREATE INDEX batch_state IF NOT EXISTS FOR (b:Batch) ON (b.state)",
        *(
            f"CREATE INDEX rel_{t.value.lower()}_{m} IF NOT EXISTS FOR ()-[r:{t.value}]-() ON (r.{m})"
            for t in EdgeType
            for m in ("first_batch", "last_batch")
        ),
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)

#: Sentinels: ``at`` is part of an edge's identity (None → NO_TIME); lists cannot hold nulls
#: (an open interval's end → OPEN in ``v_until``).
NO_TIME = -1.0e18
OPEN = 1.0e300

#: An edge ``r``'s history lists, for an edge that stores them and for one with one version.
V_RECORDED = "coalesce(r.v_recorded, [r.first_recorded])"
V_UNTIL = f"coalesce(r.v_until, [coalesce(r.until, {OPEN})])"
V_RETRACTED = "coalesce(r.v_retracted, [r.retracted])"
V_BATCH = "coalesce(r.v_batch, [r.first_batch])"
V_JSON = "coalesce(r.v_json, [r.v_first])"

GET_SCHEMA_VERSION = "MATCH (m:TraceGraphSchema {id: 'schema'}) RETURN m.version AS version"
SET_SCHEMA_VERSION = "MERGE (m:TraceGraphSchema {id: 'schema'}) SET m.version = $version"

_BATCH = "RETURN b.id AS id, b.recorded_at AS recorded_at, coalesce(b.state, 'applied') AS state"
FIND_BATCH_BY_HASH = "MATCH (b:Batch {content_hash: $value}) " + _BATCH
FIND_BATCH_BY_ID = "MATCH (b:Batch {id: $value}) " + _BATCH
STALE_BATCHES = "MATCH (b:Batch {state: 'applying'}) WHERE b.heartbeat < $before RETURN b.id AS id"
LAST_RECORDED = "MATCH (b:Batch) RETURN max(b.recorded_at) AS last"
CREATE_BATCH = """
    CREATE (b:Batch {id: $id, source: $source, content_hash: $content_hash, recorded_at: $recorded_at,
                     nodes: $nodes, edges: $edges, state: $state, heartbeat: $heartbeat})
"""
HEARTBEAT = "MATCH (b:Batch {id: $id}) SET b.heartbeat = $heartbeat"
FINISH_BATCH = "MATCH (b:Batch {id: $id}) SET b.state = 'applied', b.nodes = $nodes, b.edges = $edges"

# Rolling back a batch: what it created goes, what it changed gets its last version popped.
DELETE_NODES_CREATED = """
    MATCH (n:Node {first_batch: $batch}) WITH n LIMIT 5000 DETACH DELETE n RETURN count(*) AS n
"""
NODES_CHANGED = "MATCH (n:Node {last_batch: $batch}) RETURN n.key AS key, n.versions AS versions LIMIT 5000"
RESTORE_NODES = """
    UNWIND $rows AS row MATCH (n:Node {key: row.key})
    SET n.versions = row.versions, n.props = row.props, n.label = row.label, n.last_batch = row.last_batch
"""
DELETE_WITHDRAWN = "MATCH (w:WithdrawnRecord {batch: $batch}) DELETE w"
DELETE_BATCH = "MATCH (b:Batch {id: $batch}) DELETE b"


def delete_edges_created(etype: EdgeType) -> str:
    return f"MATCH ()-[r:{etype.value} {{first_batch: $batch}}]->() WITH r LIMIT 5000 DELETE r RETURN count(*) AS n"


def edges_changed(etype: EdgeType) -> str:
    return f"""
    MATCH ()-[r:{etype.value} {{last_batch: $batch}}]->()
    RETURN elementId(r) AS id, {V_RECORDED} AS v_recorded, {V_UNTIL} AS v_until, {V_RETRACTED} AS v_retracted,
           {V_BATCH} AS v_batch, {V_JSON} AS v_json
    LIMIT 5000
    """


RESTORE_EDGES = """
    UNWIND $rows AS row MATCH ()-[r]->() WHERE elementId(r) = row.id
    SET r.v_recorded = row.v_recorded, r.v_until = row.v_until, r.v_retracted = row.v_retracted,
        r.v_batch = row.v_batch, r.v_json = row.v_json, r.v_first = null, r.until = row.until,
        r.retracted = row.retracted, r.props = row.props, r.record_ids = row.record_ids, r.last_batch = row.last_batch
"""

# Lookups of many keys answer in one record: one message to decode, not one per node.
# Each with its element id, which later statements of the same transaction (and only those:
# an id can be reused once its node is deleted) use to find the node without an index seek.
NODES_BY_KEYS = """
    UNWIND $keys AS k MATCH (n:Node {key: k})
    RETURN collect([n.key, n.kind, n.props, n.first_batch, elementId(n)]) AS nodes
"""


def merge_nodes(kind: NodeKind) -> str:
    """Create or update nodes of one kind; the kind is also a label for readable Cypher.
    ``row.versions`` holds every version this batch appends to the node, in order. A new node
    is written whole in one map; only an existing one has its history read and appended to.
    ``last_batch`` marks a node an earlier batch created and this one changed (what a rollback
    restores); a node this batch creates has ``first_batch`` (a rollback deletes it), and
    leaving ``last_batch`` unset spares an index entry per node. Answers every node's element id."""
    return f"""
    UNWIND $rows AS row
    MERGE (n:Node {{key: row.key}})
      ON CREATE SET n:{kind.value}, n += {{kind: row.kind, first_recorded: $now, first_batch: $batch,
                    props: row.props, label: row.label, versions: row.versions}}
      ON MATCH SET n.props = row.props, n.label = row.label, n.versions = n.versions + row.versions,
                   n.last_batch = $batch
    RETURN collect([row.key, elementId(n)]) AS ids
    """


#: Which keys exist, for edges' endpoints: no properties to ship or parse.
KEYS_PRESENT = """
    UNWIND $keys AS k MATCH (n:Node {key: k}) RETURN collect([n.key, n.first_batch, elementId(n)]) AS nodes
"""


def match_edges(etype: EdgeType) -> str:
    return f"""
    UNWIND $rows AS row
    MATCH (:Node {{key: row.src}})-[r:{etype.value} {{at_key: row.at_key}}]->(:Node {{key: row.dst}})
    RETURN collect([row.seq, r.until, r.props, r.retracted, r.record_ids]) AS edges
    """


def reconcile_kind(old: NodeKind, new: NodeKind) -> str:
    return f"""
    MATCH (n:Node {{key: $key}})
    SET n.kind = $kind, n.props = $props, n.label = $label
    REMOVE n:{old.value} SET n:{new.value}
    """


#: Endpoints of the edges a batch writes, by the element ids the same transaction looked up
#: or created them under (no index seek per endpoint), or by key where no id is at hand.
_ENDPOINTS_BY_ID = "MATCH (s) WHERE elementId(s) = row.s MATCH (d) WHERE elementId(d) = row.d"
_ENDPOINTS_BY_KEY = "MATCH (s:Node {key: row.src}), (d:Node {key: row.dst})"

#: A new edge: its identity, its state, which is its first version, and that version's JSON
#: (no history lists, see the module docstring; no ``record_ids`` without a source record id).
#: ``last_batch`` is left unset, as for nodes (see ``merge_nodes``): a rollback deletes an
#: edge by its ``first_batch``, and an edge a later batch changes gets ``last_batch`` then.
_NEW_EDGE = """{at_key: row.at_key, at: row.at, first_recorded: $now, first_batch: $batch, until: row.until,
    props: row.props, retracted: row.retracted, v_first: row.version,
    record_ids: CASE WHEN row.record_id IS NULL THEN null ELSE [row.record_id] END}"""
#: Append a version to an existing edge: its history lists first (written out from its state
#: if it has one version: SET items apply in order), then its new state.
_APPEND_VERSION = f"""r.v_recorded = {V_RECORDED} + $now, r.v_until = {V_UNTIL} + row.until_v,
        r.v_retracted = {V_RETRACTED} + row.retracted, r.v_batch = {V_BATCH} + $batch,
        r.v_json = {V_JSON} + row.version, r.v_first = null,
        r.record_ids = CASE WHEN row.record_id IS NULL THEN r.record_ids
                            ELSE coalesce(r.record_ids, []) + row.record_id END,
        r.last_batch = $batch, r.until = row.until, r.props = row.props, r.retracted = row.retracted"""


def create_edges(etype: EdgeType) -> str:
    """Edges that cannot exist yet, because an endpoint was created in the same transaction
    (which no other transaction sees before it commits): CREATE, with nothing to match first."""
    return f"""
    UNWIND $rows AS row
    {_ENDPOINTS_BY_ID}
    CREATE (s)-[r:{etype.value} {_NEW_EDGE}]->(d)
    """


def merge_edges(etype: EdgeType, *, by_id: bool = True) -> str:
    # MERGE keeps a retried transaction idempotent (and two writers from creating one edge
    # twice); a new edge starts its history here, written whole in one map, and only an
    # existing one has its history read and appended to.
    return f"""
    UNWIND $rows AS row
    {_ENDPOINTS_BY_ID if by_id else _ENDPOINTS_BY_KEY}
    MERGE (s)-[r:{etype.value} {{at_key: row.at_key}}]->(d)
      ON CREATE SET r += {_NEW_EDGE}
      ON MATCH SET {_APPEND_VERSION}
    """


UPDATE_EDGES = f"""
    UNWIND $rows AS row
    MATCH ()-[r]->() WHERE elementId(r) = row.id
    SET {_APPEND_VERSION}
"""


def open_intervals(etype: EdgeType, *, any_source: bool) -> str:
    source = "(:Node)" if any_source else "(:Node {key: $src})"
    limit = "" if any_source else "LIMIT 1"
    return f"""
    MATCH {source}-[r:{etype.value}]->(:Node {{key: $dst}})
    WHERE r.until IS NULL AND NOT r.retracted AND r.at_key <= $at
    RETURN elementId(r) AS id, r.props AS props
    ORDER BY r.at_key DESC {limit}
    """


# Retractions are rare; a relationship scan keeps the model simple (see docs/operator.md).
EDGES_OF_RECORDS = f"""
    MATCH ()-[r]->() WHERE any(x IN r.record_ids WHERE x IN $ids)
    RETURN elementId(r) AS id, r.until AS until, r.props AS props, r.retracted AS retracted, {V_JSON} AS versions
"""
WITHDRAW_RECORDS = """
    UNWIND $ids AS id MERGE (w:WithdrawnRecord {id: id}) ON CREATE SET w.batch = $batch, w.recorded_at = $now
"""
WITHDRAWN_AMONG = "UNWIND $ids AS id MATCH (w:WithdrawnRecord {id: id}) RETURN w.id AS id"
EXPORT_WITHDRAWN = "MATCH (w:WithdrawnRecord {batch: $batch}) RETURN w.id AS id ORDER BY id"


def edge_by_identity(etype: EdgeType) -> str:
    return f"""
    MATCH (:Node {{key: $src}})-[r:{etype.value} {{at_key: $at_key}}]->(:Node {{key: $dst}})
    RETURN elementId(r) AS id, r.until AS until, r.props AS props
    """


_NEIGHBOUR = (
    "RETURN type(r) AS type, s.key AS src, d.key AS dst, r.at AS at, {until} AS until, "
    "{n}.key AS nkey, {n}.kind AS nkind"
)
EXPAND_FORWARD = "UNWIND $keys AS k MATCH (s:Node {key: k})-[r]->(d:Node) WHERE NOT r.retracted " + _NEIGHBOUR.format(
    until="r.until", n="d"
)
EXPAND_BACKWARD = "UNWIND $keys AS k MATCH (s:Node)-[r]->(d:Node {key: k}) WHERE NOT r.retracted " + _NEIGHBOUR.format(
    until="r.until", n="s"
)
# As of a moment: the last version recorded by then decides the interval end and retraction.
_AS_OF = f"""
    WITH s, r, d, {V_RECORDED} AS v_recorded
    WITH s, r, d, [i IN range(0, size(v_recorded) - 1) WHERE v_recorded[i] <= $as_of] AS known
    WHERE size(known) > 0 AND NOT {V_RETRACTED}[last(known)]
    WITH s, r, d, {V_UNTIL}[last(known)] AS until_v
"""
_UNTIL_AS_OF = f"CASE WHEN until_v >= {OPEN} THEN null ELSE until_v END"
EXPAND_FORWARD_AS_OF = (
    "UNWIND $keys AS k MATCH (s:Node {key: k})-[r]->(d:Node) " + _AS_OF + _NEIGHBOUR.format(until=_UNTIL_AS_OF, n="d")
)
EXPAND_BACKWARD_AS_OF = (
    "UNWIND $keys AS k MATCH (s:Node)-[r]->(d:Node {key: k}) " + _AS_OF + _NEIGHBOUR.format(until=_UNTIL_AS_OF, n="s")
)

_TRACED = "|".join(sorted(t.value for t in TRACED_EDGES))
# Everything reachable ignoring time (a superset of what a trace reaches: time only prunes),
# with every traced, unretracted step out of it, as one record of parallel lists: one round
# trip, and a few long lists the driver decodes in bulk instead of a record per node. The
# reachable set comes from one pruning breadth-first expansion (each node once, no paths
# enumerated); the steps from one expansion per reachable node, by its position in ``keys``.
# Absent times become the ``$absent`` and ``$open`` sentinels, so the lists stay aligned
# (``collect`` skips nulls). Labels are left out of the patterns: every traced relationship
# joins two ``Node``s, and checking the label again costs a read per node and per step.
# The starts come one per row from UNWIND on purpose: from ``WHERE s.key IN $keys`` Neo4j 5.26
# plans the DISTINCT away and returns a node once per start that reaches it.
_REACHABLE_STEPS = """
    UNWIND $keys AS key MATCH (s:Node {{key: key}})
    MATCH (s){there}[:{types}*0..]{back}(n)
    WITH collect(DISTINCT n) AS nodes
    CALL (nodes) {{
        UNWIND range(0, size(nodes) - 1) AS i
        WITH i, nodes[i] AS n
        MATCH (n){there}[r:{types}]{back}(m) WHERE NOT r.retracted
        RETURN collect(i) AS here, collect(m.key) AS there, collect(type(r)) AS types,
               collect(coalesce(r.at, $absent)) AS at, collect(coalesce(r.until, $open)) AS until
    }}
    RETURN [n IN nodes | n.key] AS keys, [n IN nodes | n.kind] AS kinds, here, there, types, at, until
"""
REACHABLE_STEPS_FORWARD = _REACHABLE_STEPS.format(there="-", back="->", types=_TRACED)
REACHABLE_STEPS_BACKWARD = _REACHABLE_STEPS.format(there="<-", back="-", types=_TRACED)

KINDS = "UNWIND $keys AS k MATCH (n:Node {key: k}) WHERE n.first_recorded <= $as_of RETURN n.key AS key, n.kind AS kind"

NODE = (
    "MATCH (n:Node {key: $key}) RETURN n.key AS key, n.kind AS kind, n.first_recorded AS first, n.versions AS versions"
)
NODE_EDGES_OUT = f"""
    MATCH (n:Node {{key: $key}})-[r]->(o:Node) WHERE r.first_recorded <= $horizon
    RETURN type(r) AS type, n.key AS src, o.key AS dst, r.at AS at, r.at_key AS at_key, {V_JSON} AS versions
    ORDER BY type, dst, at_key LIMIT $limit
"""
NODE_EDGES_IN = f"""
    MATCH (o:Node)-[r]->(n:Node {{key: $key}}) WHERE r.first_recorded <= $horizon
    RETURN type(r) AS type, o.key AS src, n.key AS dst, r.at AS at, r.at_key AS at_key, {V_JSON} AS versions
    ORDER BY type, src, at_key LIMIT $limit
"""

SEARCH = """
    MATCH (n:Node)
    WHERE (toLower(n.key) CONTAINS $needle OR toLower(coalesce(n.label, '')) CONTAINS $needle)
      AND ($kinds IS NULL OR n.kind IN $kinds)
    RETURN n.key AS key, n.kind AS kind, coalesce(n.label, n.key) AS label
    ORDER BY size(n.key), n.key LIMIT $limit
"""

COUNT_NODES = "MATCH (n:Node) RETURN n.kind AS kind, count(*) AS n"
COUNT_EDGES = "MATCH ()-[r]->() WHERE NOT r.retracted RETURN type(r) AS type, count(*) AS n"
COUNT_BATCHES = "MATCH (b:Batch) RETURN count(b) AS n, max(b.recorded_at) AS last"

EXPORT_BATCHES = """
    MATCH (b:Batch)
    RETURN b.id AS id, b.source AS source, b.content_hash AS hash, b.recorded_at AS recorded_at
    ORDER BY recorded_at, id
"""
EXPORT_NODE_VERSIONS = """
    MATCH (n:Node) WHERE any(v IN n.versions WHERE v CONTAINS $needle)
    RETURN n.key AS key, n.kind AS kind, n.versions AS versions
"""
EXPORT_EDGE_VERSIONS = f"""
    MATCH (s:Node)-[r]->(d:Node) WHERE $batch IN {V_BATCH}
    RETURN type(r) AS type, s.key AS src, d.key AS dst, r.at AS at, {V_BATCH} AS batches, {V_JSON} AS versions
"""

# Relationships first, then nodes, each in bounded transactions: DETACH DELETE of 10,000 nodes
# at once also deletes all their relationships in that transaction (a lot holds thousands),
# which outgrew a small server's transaction memory on a 100k-device plant.
WIPE = (
    "MATCH ()-[r]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 10000 ROWS",
    "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
)
