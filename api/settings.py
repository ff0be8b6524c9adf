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

    # -- security (api.auth; docs/reference/security.md) ------------------------------
    cors_origins: str | None = Field(
        None, description="Comma-separated origins allowed to call the API from a browser; unset: none (CORS closed)"
    )
    hsts: bool = Field(False, description="Send Strict-Transport-Security (set when a TLS proxy is in front)")
    rate_limit_per_minute: int = Field(600, gt=0, description="Requests one key, session or token may make a minute")
    rate_limit_burst: int = Field(120, gt=0, description="Requests one key may make at once before the rate applies")
    failed_auth_per_minute: int = Field(
        10, gt=0, description="Failed sign-ins and bad credentials one client address may send a minute"
    )
    session_lifetime: float = Field(8 * 3600.0, gt=0, description="Seconds a dashboard session lasts at most")
    session_idle_timeout: float = Field(
        30 * 60.0, gt=0, description="Seconds without a request after which a dashboard session ends"
    )
    oidc_issuer: str | None = Field(None, description="OIDC/JWT bearer tokens: the issuer (iss) to accept")
    oidc_audience: str | None = Field(None, description="OIDC/JWT bearer tokens: the audience (aud) to require")
    oidc_jwks_file: str | None = Field(None, description="The issuer's public keys, as a JWKS JSON file")
    oidc_public_key: str | None = Field(None, description="Or one public key: PEM text, or the path of a PEM file")
    oidc_algorithms: str = Field("RS256,ES256", description="Signature algorithms accepted (never none or HS*)")
    oidc_roles_claim: str = Field("roles", description="The claim listing the token's TraceGraph roles")
    oidc_subject_claim: str = Field("sub", description="The claim that names the user in the audit trail")

    @classmethod
    def of(cls, settings: Settings | None) -> ApiSettings:
        """These settings from ``settings`` (the API's own fields from the environment), or all from it."""
        if settings is None:
            return cls()
        if isinstance(settings, ApiSettings):
            return settings
        return cls(**settings.model_dump())
