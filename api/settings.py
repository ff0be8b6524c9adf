"""The service's own settings: the shared :class:`Settings` plus what only an HTTP server needs."""

from __future__ import annotations

from pydantic import Field

from services.settings import Settings


class ApiSettings(Settings):
    """``TRACEGRAPH_*`` environment variables, like every other setting."""

    max_body_bytes: int = Field(
        64 * 1024 * 1024, gt=0, description="Largest request body accepted (uploads, captures, GraphQL); larger is 413"
    )
    trace_time_budget: float = Field(
        20.0, gt=0, description="Seconds one listed trace may run; past it the answer is marked partial"
    )
    export_time_budget: float = Field(
        120.0, gt=0, description="Seconds a trace export may run; past it the export says it is partial"
    )
    trace_max_limit: int = Field(
        100_000, gt=0, description="Most nodes one trace response or page may list (exports list all)"
    )
    page_max: int = Field(1_000, gt=0, description="Largest GraphQL `first` and EPCIS `perPage`")
    graphql_max_depth: int = Field(14, gt=0, description="Deepest GraphQL selection accepted")
    graphql_max_aliases: int = Field(30, gt=0, description="Most aliases in one GraphQL document")
    graphql_max_tokens: int = Field(4_000, gt=0, description="Most tokens in one GraphQL document")
    capture_registry_size: int = Field(
        1_000, gt=0, description="EPCIS capture jobs remembered in memory (oldest forgotten first)"
    )
    store_concurrency: int | None = Field(
        None, gt=0, description="Store calls run at once; default 1 for SQLite (one connection), 16 for Neo4j"
    )
    migrate_on_start: bool | None = Field(
        None, description="Create or upgrade the store schema at start-up; default: for SQLite only"
    )
    ready_timeout: float = Field(2.0, gt=0, description="Seconds /readyz waits for the store to answer")

    @classmethod
    def of(cls, settings: Settings | None) -> ApiSettings:
        """These settings from ``settings`` (the API's own fields from the environment), or all from it."""
        if settings is None:
            return cls()
        if isinstance(settings, ApiSettings):
            return settings
        return cls(**settings.model_dump())
