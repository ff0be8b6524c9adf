"""OIDC / JWT bearer tokens, verified offline against the issuer keys configured in the settings.

The keys come from a JWKS file or one PEM public key (``TRACEGRAPH_OIDC_JWKS_FILE``,
``TRACEGRAPH_OIDC_PUBLIC_KEY``): nothing is fetched over the network, so a compromised or
unreachable identity provider endpoint cannot hand the API new keys, and rotating keys is a
deliberate change of configuration. Issuer and audience are always checked, expiry is required,
and only asymmetric algorithms are accepted (a public key must never verify an HMAC).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.settings import ApiSettings
from schema.access import Role
from schema.errors import InsecureConfigurationError, UnauthenticatedError
from services.access import Principal

#: Asymmetric only: no ``none``, no HS* (with a public key as the secret, anyone could sign).
ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class _Key:
    kid: str | None
    key: Any  # a cryptography public key object


@dataclass
class TokenVerifier:
    issuer: str
    audience: str
    keys: Sequence[_Key]
    algorithms: Sequence[str]
    roles_claim: str = "roles"
    subject_claim: str = "sub"

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> TokenVerifier | None:
        """None when no token sign-in is configured; InsecureConfigurationError when it is half-configured."""
        sources = [s for s in (settings.oidc_jwks_file, settings.oidc_public_key) if s]
        if not (sources or settings.oidc_issuer or settings.oidc_audience):
            return None
        if not (settings.oidc_issuer and settings.oidc_audience and sources):
            raise InsecureConfigurationError(
                "token sign-in needs TRACEGRAPH_OIDC_ISSUER, TRACEGRAPH_OIDC_AUDIENCE and the issuer's keys "
                "(TRACEGRAPH_OIDC_JWKS_FILE or TRACEGRAPH_OIDC_PUBLIC_KEY): without all three no token is safe "
                "to accept"
            )
        algorithms = [a.strip() for a in settings.oidc_algorithms.split(",") if a.strip()]
        refused = [a for a in algorithms if a not in ALLOWED_ALGORITHMS]
        if refused or not algorithms:
            raise InsecureConfigurationError(
                f"TRACEGRAPH_OIDC_ALGORITHMS: {', '.join(refused) or 'none given'} not accepted; "
                f"use asymmetric ones: {', '.join(sorted(ALLOWED_ALGORITHMS))}"
            )
        try:
            import jwt  # noqa: F401  (the optional dependency pyjwt[crypto])
        except ImportError as exc:
            raise InsecureConfigurationError(
                "token sign-in is configured but PyJWT is not installed: pip install 'pyjwt[crypto]'"
            ) from exc
        keys: list[_Key] = []
        if settings.oidc_jwks_file:
            keys += _jwks(Path(settings.oidc_jwks_file))
        if settings.oidc_public_key:
            keys.append(_pem(settings.oidc_public_key))
        return cls(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            keys=keys,
            algorithms=algorithms,
            roles_claim=settings.oidc_roles_claim,
            subject_claim=settings.oidc_subject_claim,
        )

    def verify(self, token: str) -> Principal:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise UnauthenticatedError(f"the bearer token is not a valid JWT: {exc}") from exc
        kid = header.get("kid")
        candidates = [k for k in self.keys if kid is None or k.kid is None or k.kid == kid]
        if not candidates:
            raise UnauthenticatedError(f"the bearer token is signed with a key this server does not know (kid {kid})")
        error: Exception | None = None
        for candidate in candidates:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    candidate.key,
                    algorithms=list(self.algorithms),
                    audience=self.audience,
                    issuer=self.issuer,
                    leeway=LEEWAY_SECONDS,
                    options={"require": ["exp", "iss", "aud", "sub"]},
                )
            except jwt.InvalidSignatureError as exc:
                error = exc
                continue
            except jwt.PyJWTError as exc:
                raise UnauthenticatedError(f"the bearer token is not valid: {exc}") from exc
            return self._principal(claims)
        raise UnauthenticatedError(f"the bearer token is not valid: {error}")

    def _principal(self, claims: dict[str, Any]) -> Principal:
        subject = str(claims["sub"])
        name = str(claims.get(self.subject_claim) or subject)
        return Principal(
            id=f"oidc:{subject}",
            name=name,
            roles=frozenset(_roles(_claim(claims, self.roles_claim))),
            method="token",
            actor=f"oidc:{name}",
        )


def _claim(claims: dict[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested claims (``realm_access.roles``)."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _roles(value: Any) -> list[Role]:
    names = value.replace(",", " ").split() if isinstance(value, str) else value if isinstance(value, list) else []
    known = {r.value for r in Role}
    return [Role(n) for n in (str(n).strip().lower() for n in names) if n in known]


def _jwks(path: Path) -> list[_Key]:
    import jwt

    try:
        document = json.loads(path.read_text())
        found = jwt.PyJWKSet.from_dict(document).keys
    except (OSError, ValueError, jwt.PyJWTError) as exc:
        raise InsecureConfigurationError(f"TRACEGRAPH_OIDC_JWKS_FILE {path}: cannot read its keys ({exc})") from exc
    public = [_Key(k.key_id, k.key) for k in found if not hasattr(k.key, "private_bytes")]
    if not public:
        raise InsecureConfigurationError(f"TRACEGRAPH_OIDC_JWKS_FILE {path} holds no public signing key")
    return public


def _pem(value: str) -> _Key:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    text = value if value.lstrip().startswith("-----BEGIN") else None
    try:
        data = text.encode() if text is not None else Path(value).read_bytes()
        return _Key(None, load_pem_public_key(data))
    except (OSError, ValueError, TypeError) as exc:
        raise InsecureConfigurationError(
            f"TRACEGRAPH_OIDC_PUBLIC_KEY: not a PEM public key, nor the path of one ({exc})"
        ) from exc
