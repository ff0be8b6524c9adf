"""Open a store from its URL: the one place that knows which adapter serves which scheme."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from graph.port import GraphStore
from schema.errors import StoreError

SQLITE_SCHEMES = ("sqlite",)
NEO4J_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")


def sqlite_path(url: str) -> Path:
    """``sqlite:///relative.db``, ``sqlite:////absolute.db`` or a plain path."""
    if "://" not in url:
        return Path(url)
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.netloc:
        raise StoreError(f"{url}: a SQLite URL has no host; write sqlite:///{parts.netloc}{path}")
    # The path after "sqlite://" starts with the "/" that ends the empty host: drop it, so
    # "sqlite:///x.db" is relative and "sqlite:////abs/x.db" absolute (as in SQLAlchemy).
    return Path(path[1:])


def open_store(url: str, *, busy_timeout: float = 5.0) -> GraphStore:
    """Open the store at ``url``; nothing is created or migrated for Neo4j (see ``migrate``)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else "sqlite"
    if scheme in SQLITE_SCHEMES:
        from graph.sqlite.store import SQLiteStore

        return SQLiteStore(sqlite_path(url), busy_timeout=busy_timeout)
    if scheme in NEO4J_SCHEMES:
        from graph.neo4j.store import Neo4jStore

        return Neo4jStore.from_url(url)
    raise StoreError(
        f"unknown store URL scheme '{scheme}': use sqlite:///path/to/file.db, or neo4j://, bolt:// "
        "(with user:password@host:port)"
    )
