"""Settings, from the environment (``TRACEGRAPH_*``) and ``.env``, validated at start-up."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_STORE = "sqlite:///./tracegraph.db"


class Settings(BaseSettings):
    # Errors never echo what was given: a rejected value may be a secret (signing_key).
    model_config = SettingsConfigDict(
        env_prefix="TRACEGRAPH_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    store: str = Field(DEFAULT_STORE, description="Store URL: sqlite:///file.db or neo4j://user:pass@host:7687")
    busy_timeout: float = Field(5.0, gt=0, description="Seconds a writer waits for another process's write lock")
    trace_max_states: int = Field(5_000_000, gt=0, description="Server-side cap on the states one trace may visit")
    trace_default_limit: int = Field(10_000, gt=0, description="Rows listed by default; totals are always exact")
    audit: str | None = Field(
        None,
        description="Audit trail file (SQLite); default: beside a SQLite store as <store>.audit.db, "
        "else ./tracegraph-audit.db",
    )
    signing_key: SecretStr | None = Field(
        None,
        min_length=16,
        description="Secret for the HMAC-SHA256 over evidence package manifests (integrity, not identity)",
    )
    environment: Literal["production", "development"] = Field(
        "production",
        description="production: sign-in required, secure defaults enforced; development: no sign-in, "
        "127.0.0.1 only, GraphiQL on (for a laptop, never for real data)",
    )
    access: str | None = Field(
        None,
        description="Access file (SQLite: API keys, sessions, shares); default: beside a SQLite store as "
        "<store>.access.db, else beside TRACEGRAPH_AUDIT, else ./tracegraph-access.db",
    )

    @property
    def development(self) -> bool:
        return self.environment == "development"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
