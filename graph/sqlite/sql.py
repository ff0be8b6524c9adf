"""All SQL text of the SQLite adapter, and its versioned migrations."""

from __future__ import annotations

#: Each entry upgrades the schema by one version; never edit a released entry, append.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE batches (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        content_hash TEXT,
        recorded_at REAL NOT NULL,
        nodes INTEGER NOT NULL DEFAULT 0,
        edges INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX batches_content_hash ON batches(content_hash) WHERE content_hash IS NOT NULL;
    CREATE TABLE nodes (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        props TEXT NOT NULL,
        label TEXT,
        first_recorded REAL NOT NULL
    );
    CREATE INDEX nodes_kind ON nodes(kind);
    CREATE TABLE node_versions (
        id INTEGER PRIMARY KEY,
        node_id INTEGER NOT NULL REFERENCES nodes(id),
        batch_id TEXT NOT NULL REFERENCES batches(id),
        recorded_at REAL NOT NULL,
        props TEXT NOT NULL,
        source_system TEXT NOT NULL,
        source TEXT NOT NULL,
        line INTEGER,
        record_id TEXT,
        record_hash TEXT
    );
    CREATE INDEX node_versions_node ON node_versions(node_id);
    CREATE TABLE edges (
        id INTEGER PRIMARY KEY,
        type TEXT NOT NULL,
        src INTEGER NOT NULL REFERENCES nodes(id),
        dst INTEGER NOT NULL REFERENCES nodes(id),
        at_key REAL NOT NULL,
        at REAL,
        until REAL,
        props TEXT NOT NULL,
        retracted INTEGER NOT NULL DEFAULT 0,
        first_recorded REAL NOT NULL,
        UNIQUE (src, type, dst, at_key)
    );
    CREATE INDEX edges_dst ON edges(dst, type);
    CREATE TABLE edge_versions (
        id INTEGER PRIMARY KEY,
        edge_id INTEGER NOT NULL REFERENCES edges(id),
        batch_id TEXT NOT NULL REFERENCES batches(id),
        recorded_at REAL NOT NULL,
        until REAL,
        props TEXT NOT NULL,
        retracted INTEGER NOT NULL DEFAULT 0,
        op TEXT NOT NULL,
        asserted_until REAL,
        source_system TEXT NOT NULL,
        source TEXT NOT NULL,
        line INTEGER,
        record_id TEXT,
        record_hash TEXT
    );
    CREATE INDEX edge_versions_edge ON edge_versions(edge_id);
    CREATE TABLE withdrawn_records (
        record_id TEXT PRIMARY KEY,
        batch_id TEXT NOT NULL REFERENCES batches(id),
        recorded_at REAL NOT NULL
    );
    CREATE INDEX edge_versions_record ON edge_versions(record_id) WHERE record_id IS NOT NULL;
    """,
    # A node's or edge's first version is kept in its own row while it is the only one (most
    # are written once): its provenance in the sole_* columns; its batch is the one whose range
    # of new ids holds it; its props (an edge's until) and time are the row's. A second version
    # moves it to node_versions / edge_versions first (``SPILL_*``). Stores written before keep
    # every version there (sole_* empty) and read the same. all_*_versions are every version.
    """
    ALTER TABLE nodes ADD COLUMN sole_source_system TEXT;
    ALTER TABLE nodes ADD COLUMN sole_source TEXT;
    ALTER TABLE nodes ADD COLUMN sole_line INTEGER;
    ALTER TABLE nodes ADD COLUMN sole_record_id TEXT;
    ALTER TABLE nodes ADD COLUMN sole_record_hash TEXT;
    ALTER TABLE batches ADD COLUMN first_node INTEGER;
    ALTER TABLE batches ADD COLUMN last_node INTEGER;
    CREATE INDEX batches_first_node ON batches(first_node);
    CREATE VIEW all_node_versions AS
        SELECT NULL AS id, n.id AS node_id,
               (SELECT b.id FROM batches b WHERE b.first_node <= n.id ORDER BY b.first_node DESC LIMIT 1) AS batch_id,
               n.first_recorded AS recorded_at, n.props AS props, n.sole_source_system AS source_system,
               n.sole_source AS source, n.sole_line AS line, n.sole_record_id AS record_id,
               n.sole_record_hash AS record_hash
        FROM nodes n WHERE n.sole_source_system IS NOT NULL
        UNION ALL
        SELECT id, node_id, batch_id, recorded_at, props, source_system, source, line, record_id, record_hash
        FROM node_versions;
    ALTER TABLE edges ADD COLUMN sole_source_system TEXT;
    ALTER TABLE edges ADD COLUMN sole_source TEXT;
    ALTER TABLE edges ADD COLUMN sole_line INTEGER;
    ALTER TABLE edges ADD COLUMN sole_record_id TEXT;
    ALTER TABLE edges ADD COLUMN sole_record_hash TEXT;
    CREATE INDEX edges_sole_record ON edges(sole_record_id) WHERE sole_record_id IS NOT NULL;
    ALTER TABLE batches ADD COLUMN first_edge INTEGER;
    ALTER TABLE batches ADD COLUMN last_edge INTEGER;
    CREATE INDEX batches_first_edge ON batches(first_edge);
    CREATE VIEW all_edge_versions AS
        SELECT NULL AS id, e.id AS edge_id,
               (SELECT b.id FROM batches b WHERE b.first_edge <= e.id ORDER BY b.first_edge DESC LIMIT 1) AS batch_id,
               e.first_recorded AS recorded_at, e.until AS until, e.props AS props, 0 AS retracted,
               'assert' AS op, e.until AS asserted_until, e.sole_source_system AS source_system,
               e.sole_source AS source, e.sole_line AS line, e.sole_record_id AS record_id,
               e.sole_record_hash AS record_hash
        FROM edges e WHERE e.sole_source_system IS NOT NULL
        UNION ALL
        SELECT id, edge_id, batch_id, recorded_at, until, props, retracted, op, asserted_until,
               source_system, source, line, record_id, record_hash
        FROM edge_versions;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)

#: Set on every connection (after ``journal_mode=WAL``). A 64 MiB page cache (allocated only
#: as used) keeps the key and edge-identity B-trees of a large load in memory: with the
#: 2 MiB default, a 100k-device load spends most of its time re-reading index pages.
CONNECTION_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-65536",
    "PRAGMA temp_store=MEMORY",
)

#: Set on a new file before anything is written (the page size of a file is fixed then): 16 KiB
#: pages make a bulk load's B-trees shallower and its commit smaller than the 4 KiB default.
NEW_FILE_PRAGMAS = ("PRAGMA page_size=16384",)

#: ``at`` is part of an edge's identity; a missing ``at`` gets this sentinel so UNIQUE holds.
NO_TIME = -1.0e18

GET_SCHEMA_VERSION = "SELECT value FROM meta WHERE key = 'schema_version'"
SET_SCHEMA_VERSION = "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)"
HAS_META = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"

FIND_BATCH_BY_HASH = "SELECT id, recorded_at FROM batches WHERE content_hash = ?"
FIND_BATCH_BY_ID = "SELECT id, recorded_at FROM batches WHERE id = ?"
LAST_RECORDED = "SELECT max(recorded_at) FROM batches"
INSERT_BATCH = "INSERT INTO batches(id, source, content_hash, recorded_at) VALUES (?, ?, ?, ?)"
UPDATE_BATCH_COUNTS = "UPDATE batches SET nodes = ?, edges = ? WHERE id = ?"

#: A first load into an empty store writes its rows without the secondary indexes of the fact
#: tables and builds them afterwards, in the same transaction: one sort per index instead of
#: a B-tree insert per row (the UNIQUE constraints' own indexes stay; they check every row).
BULK_ROWS = 10_000
SECONDARY_INDEXES = """
    SELECT name, sql FROM sqlite_master
    WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('nodes', 'node_versions', 'edges', 'edge_versions')
    ORDER BY name
"""

NODES_BY_KEYS = "SELECT key, id, kind, props FROM nodes WHERE key IN ({marks})"
#: A new node with its first version (the sole_* provenance; all None: the versions are in node_versions).
INSERT_NODE_WITH_ID = """
    INSERT INTO nodes(id, key, kind, props, label, first_recorded,
                      sole_source_system, sole_source, sole_line, sole_record_id, sole_record_hash)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
#: Before a node's row changes: the first version it holds moves to node_versions.
SPILL_SOLE_NODE_VERSIONS = """
    INSERT INTO node_versions(node_id, batch_id, recorded_at, props, source_system, source, line, record_id,
                              record_hash)
    SELECT node_id, batch_id, recorded_at, props, source_system, source, line, record_id, record_hash
    FROM all_node_versions WHERE id IS NULL AND node_id IN ({marks}) ORDER BY node_id
"""
_CLEAR_SOLE_VERSIONS = """
    UPDATE {table} SET sole_source_system = NULL, sole_source = NULL, sole_line = NULL, sole_record_id = NULL,
                     sole_record_hash = NULL
    WHERE id IN ({{marks}}) AND sole_source_system IS NOT NULL
"""
CLEAR_SOLE_NODE_VERSIONS = _CLEAR_SOLE_VERSIONS.format(table="nodes")
MAX_NODE_ID = "SELECT coalesce(max(id), 0) FROM nodes"
MAX_EDGE_ID = "SELECT coalesce(max(id), 0) FROM edges"
UPDATE_NODE = "UPDATE nodes SET kind = ?, props = ?, label = ? WHERE id = ?"
INSERT_NODE_VERSION = """
    INSERT INTO node_versions(node_id, batch_id, recorded_at, props,
                              source_system, source, line, record_id, record_hash)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

CREATE_INCOMING = """
    CREATE TEMP TABLE IF NOT EXISTS incoming_edges (
        seq INTEGER PRIMARY KEY, type TEXT, src INTEGER, dst INTEGER, at_key REAL
    )
"""
CLEAR_INCOMING = "DELETE FROM temp.incoming_edges"
INSERT_INCOMING = "INSERT INTO temp.incoming_edges(seq, type, src, dst, at_key) VALUES (?, ?, ?, ?, ?)"
MATCH_INCOMING = """
    SELECT i.seq, e.id, e.until, e.props, e.retracted
    FROM temp.incoming_edges i
    JOIN edges e ON e.src = i.src AND e.type = i.type AND e.dst = i.dst AND e.at_key = i.at_key
"""
INSERT_EDGE = """
    INSERT INTO edges(type, src, dst, at_key, at, until, props, retracted, first_recorded,
                      sole_source_system, sole_source, sole_line, sole_record_id, sole_record_hash)
    VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)
"""
#: A new edge with its first version (the sole_* provenance; all None: the versions are in edge_versions).
INSERT_EDGE_WITH_ID = """
    INSERT INTO edges(id, type, src, dst, at_key, at, until, props, retracted, first_recorded,
                      sole_source_system, sole_source, sole_line, sole_record_id, sole_record_hash)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
#: Before an edge gets its second version: its first moves from the edge's row to edge_versions.
SPILL_SOLE_EDGE_VERSIONS = """
    INSERT INTO edge_versions(edge_id, batch_id, recorded_at, until, props, retracted, op, asserted_until,
                              source_system, source, line, record_id, record_hash)
    SELECT edge_id, batch_id, recorded_at, until, props, retracted, op, asserted_until,
           source_system, source, line, record_id, record_hash
    FROM all_edge_versions WHERE id IS NULL AND edge_id IN ({marks}) ORDER BY edge_id
"""
CLEAR_SOLE_EDGE_VERSIONS = _CLEAR_SOLE_VERSIONS.format(table="edges")
# A batch's new nodes and edges have ids first_node..last_node, first_edge..last_edge (none: NULL).
SET_FIRST_IDS = "UPDATE batches SET first_node = ?, first_edge = ? WHERE id = ?"
SET_LAST_IDS = """
    UPDATE batches SET
        last_node = iif((SELECT max(id) FROM nodes) >= first_node, (SELECT max(id) FROM nodes), NULL),
        first_node = iif((SELECT max(id) FROM nodes) >= first_node, first_node, NULL),
        last_edge = iif((SELECT max(id) FROM edges) >= first_edge, (SELECT max(id) FROM edges), NULL),
        first_edge = iif((SELECT max(id) FROM edges) >= first_edge, first_edge, NULL)
    WHERE id = ?
"""
UPDATE_EDGE = "UPDATE edges SET until = ?, props = ?, retracted = ? WHERE id = ?"
INSERT_EDGE_VERSION = """
    INSERT INTO edge_versions(edge_id, batch_id, recorded_at, until, props, retracted, op, asserted_until,
                              source_system, source, line, record_id, record_hash)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
RECORD_IDS_OF_EDGES = """
    SELECT edge_id, record_id FROM all_edge_versions WHERE edge_id IN ({marks}) AND record_id IS NOT NULL
"""
UNKNOWN_START = "SELECT id, until, props FROM edges WHERE src = ? AND type = ? AND dst = ? AND at_key = ?"
INSERT_WITHDRAWN = "INSERT OR IGNORE INTO withdrawn_records(record_id, batch_id, recorded_at) VALUES (?, ?, ?)"
WITHDRAWN_AMONG = "SELECT record_id FROM withdrawn_records WHERE record_id IN ({marks})"
# An edge's versions in the order they were written (a sole version has no id: it sorts first).
EDGE_HISTORY = """
    SELECT edge_id, op, asserted_until, props, record_id FROM all_edge_versions
    WHERE edge_id IN ({marks}) ORDER BY edge_id, id
"""
OPEN_INTERVALS = """
    SELECT id, at, props FROM edges
    WHERE src = ? AND type = ? AND dst = ? AND until IS NULL AND retracted = 0 AND at_key <= ?
    ORDER BY at_key DESC LIMIT 1
"""
# Every item inside a container at a moment (an unpacking that names no children).
OPEN_INTERVALS_INTO = """
    SELECT id, at, props FROM edges
    WHERE type = ? AND dst = ? AND until IS NULL AND retracted = 0 AND at_key <= ?
"""
EDGES_OF_RECORDS = """
    SELECT e.id, e.until, e.props, e.retracted FROM edge_versions v JOIN edges e ON e.id = v.edge_id
    WHERE v.record_id IN ({marks})
    UNION
    SELECT id, until, props, retracted FROM edges WHERE sole_record_id IN ({marks})
"""

_EXPAND_SELECT = """
    SELECT e.type, s.key, d.key, e.at, {until}, {neighbour}.key, {neighbour}.kind
    FROM edges e JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst
"""
EXPAND_FORWARD = _EXPAND_SELECT.format(until="e.until", neighbour="d") + " WHERE s.key IN ({marks}) AND e.retracted = 0"
EXPAND_BACKWARD = (
    _EXPAND_SELECT.format(until="e.until", neighbour="s") + " WHERE d.key IN ({marks}) AND e.retracted = 0"
)
# As of a moment (?1): the edge's latest version recorded by then decides its interval end and
# whether it was retracted; an edge with a sole version is as its row says from its first record.
_AS_OF_JOIN = """
    LEFT JOIN edge_versions v ON v.id = (
        SELECT max(id) FROM edge_versions WHERE edge_id = e.id AND recorded_at <= ?1
    )
"""
_AS_OF_PRESENT = """
    AND CASE WHEN e.sole_source_system IS NOT NULL THEN e.first_recorded <= ?1 ELSE v.retracted = 0 END
"""
_AS_OF_UNTIL = "iif(v.id IS NULL, e.until, v.until)"
EXPAND_FORWARD_AS_OF = (
    _EXPAND_SELECT.format(until=_AS_OF_UNTIL, neighbour="d")
    + _AS_OF_JOIN
    + " WHERE s.key IN ({marks})"
    + _AS_OF_PRESENT
)
EXPAND_BACKWARD_AS_OF = (
    _EXPAND_SELECT.format(until=_AS_OF_UNTIL, neighbour="s")
    + _AS_OF_JOIN
    + " WHERE d.key IN ({marks})"
    + _AS_OF_PRESENT
)

KINDS = "SELECT key, kind FROM nodes WHERE key IN ({marks})"
KINDS_AS_OF = "SELECT key, kind FROM nodes WHERE key IN ({marks}) AND first_recorded <= ?"

NODE = "SELECT id, key, kind, props, first_recorded FROM nodes WHERE key = ?"
NODE_VERSIONS = """
    SELECT v.recorded_at, v.batch_id, v.props, v.source_system, v.source, v.line, v.record_id, v.record_hash
    FROM all_node_versions v WHERE v.node_id = ? ORDER BY v.id
"""
_NODE_EDGES = """
    SELECT e.id, e.type, s.key, d.key, e.at, e.until, e.props, e.retracted
    FROM edges e JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst
"""
NODE_EDGES_OUT = _NODE_EDGES + " WHERE e.src = ? AND e.first_recorded <= ? ORDER BY e.type, d.key, e.at_key LIMIT ?"
NODE_EDGES_IN = _NODE_EDGES + " WHERE e.dst = ? AND e.first_recorded <= ? ORDER BY e.type, s.key, e.at_key LIMIT ?"
EDGE_VERSIONS = """
    SELECT edge_id, recorded_at, batch_id, until, props, retracted, source_system, source, line, record_id, record_hash
    FROM all_edge_versions WHERE edge_id IN ({marks}) ORDER BY edge_id, id
"""

SEARCH = """
    SELECT key, kind, coalesce(label, key) FROM nodes
    WHERE (instr(lower(key), ?) > 0 OR instr(lower(coalesce(label, '')), ?) > 0) {kinds}
    ORDER BY length(key), key LIMIT ?
"""

COUNT_NODES = "SELECT kind, count(*) FROM nodes GROUP BY kind"
COUNT_EDGES = "SELECT type, count(*) FROM edges WHERE retracted = 0 GROUP BY type"
COUNT_BATCHES = "SELECT count(*), max(recorded_at) FROM batches"

EXPORT_BATCHES = "SELECT id, source, content_hash, recorded_at FROM batches ORDER BY recorded_at, id"
# A batch's node versions, node by node (new nodes in the order the batch named them).
EXPORT_NODE_VERSIONS = """
    SELECT n.id, NULL, n.key, n.kind, n.props,
           n.sole_source_system, n.sole_source, n.sole_line, n.sole_record_id, n.sole_record_hash
    FROM batches b JOIN nodes n ON n.id BETWEEN b.first_node AND b.last_node
    WHERE b.id = ?1 AND n.sole_source_system IS NOT NULL
    UNION ALL
    SELECT n.id, v.id, n.key, n.kind, v.props, v.source_system, v.source, v.line, v.record_id, v.record_hash
    FROM node_versions v JOIN nodes n ON n.id = v.node_id WHERE v.batch_id = ?1
    ORDER BY 1, 2
"""
EXPORT_WITHDRAWN = "SELECT record_id FROM withdrawn_records WHERE batch_id = ? ORDER BY record_id"
# A batch's edge versions, edge by edge (new edges in the order the batch named them).
EXPORT_EDGE_VERSIONS = """
    SELECT e.id, NULL, e.type, s.key, d.key, e.at, 'assert', e.until, e.props,
           e.sole_source_system, e.sole_source, e.sole_line, e.sole_record_id, e.sole_record_hash
    FROM batches b JOIN edges e ON e.id BETWEEN b.first_edge AND b.last_edge
    JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst
    WHERE b.id = ?1 AND e.sole_source_system IS NOT NULL
    UNION ALL
    SELECT e.id, v.id, e.type, s.key, d.key, e.at, v.op, v.asserted_until, v.props,
           v.source_system, v.source, v.line, v.record_id, v.record_hash
    FROM edge_versions v JOIN edges e ON e.id = v.edge_id
    JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst
    WHERE v.batch_id = ?1
    ORDER BY 1, 2
"""

# The in-memory traversal index (index.py): one read of the current traced edges, and the
# watermarks that tell what changed since.
INDEX_NODES = "SELECT id, key, kind FROM nodes ORDER BY id"
INDEX_EDGES = "SELECT type, src, dst, at, until FROM edges WHERE retracted = 0 AND type IN ({marks})"
INDEX_WATERMARKS = """
    SELECT (SELECT coalesce(max(id), 0) FROM nodes), (SELECT coalesce(max(id), 0) FROM edges),
           (SELECT coalesce(max(id), 0) FROM node_versions), (SELECT coalesce(max(id), 0) FROM edge_versions)
"""
# Changes to nodes and edges the index holds (ids up to its watermarks), and the new ones.
# CROSS JOIN keeps the versions outermost: the few rows past a watermark, not every node or edge.
INDEX_CHANGED_NODES = """
    SELECT DISTINCT n.id, n.kind
    FROM node_versions v CROSS JOIN nodes n ON n.id = v.node_id WHERE v.id > ? AND n.id <= ?
"""
INDEX_CHANGED_EDGES = """
    SELECT DISTINCT e.id, e.type, e.src, e.dst, e.at, e.until, e.retracted
    FROM edge_versions v CROSS JOIN edges e ON e.id = v.edge_id WHERE v.id > ? AND e.id <= ?
"""
INDEX_NEW_NODES = "SELECT id, key, kind FROM nodes WHERE id > ? ORDER BY id"
INDEX_NEW_EDGES = "SELECT type, src, dst, at, until FROM edges WHERE id > ? AND retracted = 0 AND type IN ({marks})"
