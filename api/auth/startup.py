"""Refuse to serve with settings that must never guard real data; warn about the weak ones.

Checked when the app is created, before it listens: a default Neo4j password in the store URL,
a placeholder or trivially weak signing key, wildcard CORS, half-configured token sign-in. In
development mode nothing is refused: it serves only this machine, and says so loudly.

There is no session secret to check: sessions are random tokens stored as digests
(``services.access``), so nothing is signed with a server secret.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from api.auth.headers import cors_origins
from api.auth.tokens import TokenVerifier
from api.settings import ApiSettings
from graph.factory import NEO4J_SCHEMES
from schema.errors import InsecureConfigurationError

#: Passwords and keys copied from examples, defaults and tutorials.
KNOWN_DEFAULTS = frozenset(
    {
        "",
        "neo4j",
        "password",
        "passw0rd",
        "change-this-password",
        "changeme",
        "change-me",
        "changethis",
        "secret",
        "admin",
        "test",
        "tracegraph",
        "12345678",
        "123456789",
    }
)
#: A secret with fewer distinct characters than this is a pattern, not a secret (e.g. 32 × "x").
MIN_DISTINCT_CHARACTERS = 8

DEVELOPMENT_WARNING = (
    "DEVELOPMENT MODE: no sign-in (every request acts as admin), GraphiQL and introspection on, "
    "answers 127.0.0.1 only. Never use it for real data; unset TRACEGRAPH_ENVIRONMENT for production."
)


def _weak(secret: str) -> bool:
    lowered = secret.strip().lower()
    return (
        lowered in KNOWN_DEFAULTS
        or "change" in lowered
        or "example" in lowered
        or len(set(secret)) < MIN_DISTINCT_CHARACTERS
    )


def store_password_problem(url: str) -> str | None:
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in NEO4J_SCHEMES:
        return None
    parts = urlsplit(url)
    password = unquote(parts.password or "")
    if not password:
        return "the Neo4j store URL has no password: set one on the server and in the URL (neo4j://user:…@host:7687)"
    if _weak(password):
        return "the Neo4j store URL uses a default or trivially weak password: set a strong one on the server and here"
    return None


def check(settings: ApiSettings) -> list[str]:
    """InsecureConfigurationError listing every problem; otherwise the warnings worth logging."""
    if settings.development:
        return [DEVELOPMENT_WARNING]
    problems: list[str] = []
    warnings: list[str] = []
    if problem := store_password_problem(settings.store):
        problems.append(problem)
    key = settings.signing_key.get_secret_value() if settings.signing_key is not None else None
    if key is None:
        warnings.append("TRACEGRAPH_SIGNING_KEY is not set: evidence packages will be unsigned")
    elif _weak(key):
        problems.append(
            "TRACEGRAPH_SIGNING_KEY is a placeholder or a pattern: use 32 random bytes (openssl rand -hex 32)"
        )
    for check_one in (cors_origins, TokenVerifier.from_settings):
        try:
            check_one(settings)
        except InsecureConfigurationError as exc:
            problems.append(str(exc))
    if problems:
        raise InsecureConfigurationError(
            "refusing to start in production: "
            + "; ".join(problems)
            + " (for a local trial only: TRACEGRAPH_ENVIRONMENT=development or tracegraph serve --dev)"
        )
    return warnings
