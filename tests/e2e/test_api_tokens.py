"""OIDC / JWT bearer tokens, verified against a locally generated key pair (no network)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from schema.errors import InsecureConfigurationError
from tests.e2e.api_client import running_api

jwt = pytest.importorskip("jwt", reason="token sign-in needs pyjwt[crypto]")
serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
ec = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")

pytestmark = pytest.mark.anyio

ISSUER = "https://id.plant.example"
AUDIENCE = "tracegraph"
QUERY = {"query": '{ traceCount(starts: ["lot:RESIN-7"]) { total } }'}
INGEST = {"query": 'mutation { ingest(document: "{}") { records } }'}


@pytest.fixture(scope="module")
def rsa_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwks(tmp_path: Path, key: Any, kid: str = "k1") -> Path:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}))
    return path


def _token(key: Any, *, kid: str = "k1", alg: str = "RS256", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-42", "email": "ana@plant.example", "iat": now, "exp": now + 600}
    body.update(claims)
    return str(jwt.encode(body, key, algorithm=alg, headers={"kid": kid}))


def _settings(jwks: Path) -> dict[str, Any]:
    return {
        "oidc_issuer": ISSUER,
        "oidc_audience": AUDIENCE,
        "oidc_jwks_file": str(jwks),
        "oidc_subject_claim": "email",
    }


async def test_a_valid_token_acts_with_its_roles(tmp_path: Path, rsa_key: Any) -> None:
    async with running_api(tmp_path, role=None, **_settings(_jwks(tmp_path, rsa_key))) as api:
        headers = {"Authorization": f"Bearer {_token(rsa_key, roles=['quality_engineer'])}"}
        answer = await api.client.post("/graphql", json=QUERY, headers=headers)
        assert answer.json()["data"]["traceCount"]["total"] > 0
        refused = (await api.client.post("/graphql", json=INGEST, headers=headers)).json()
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        whoami = (await api.client.get("/auth/session", headers=headers)).json()["principal"]
        assert whoami["id"] == "oidc:u-42" and whoami["name"] == "ana@plant.example"
        assert whoami["roles"] == ["quality_engineer"]
        # Nested role claims (Keycloak's realm_access.roles) and unknown roles ignored.
        nested = _token(rsa_key, realm_access={"roles": ["recall_manager", "offline_access"]})
        async with running_api(
            tmp_path / "nested", role=None, oidc_roles_claim="realm_access.roles", **_settings(tmp_path / "jwks.json")
        ) as other:
            who = (await other.client.get("/auth/session", headers={"Authorization": f"Bearer {nested}"})).json()
            assert who["principal"]["roles"] == ["recall_manager"]


@pytest.mark.parametrize(
    ("claims", "says"),
    [
        ({"aud": "another-app"}, "audience"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"exp": int(time.time()) - 3600}, "expired"),
    ],
)
async def test_tokens_for_someone_else_or_expired_are_401(
    tmp_path: Path, rsa_key: Any, claims: dict[str, Any], says: str
) -> None:
    async with running_api(tmp_path, role=None, **_settings(_jwks(tmp_path, rsa_key))) as api:
        token = _token(rsa_key, roles=["admin"], **claims)
        answer = await api.client.get("/api/v1/stats", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401 and says in answer.json()["detail"].lower()


async def test_forged_tokens_are_401(tmp_path: Path, rsa_key: Any) -> None:
    async with running_api(tmp_path, role=None, **_settings(_jwks(tmp_path, rsa_key))) as api:
        other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public_pem = rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        unsigned = jwt.encode(
            {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60, "roles": ["admin"]},
            None,
            algorithm="none",
        )
        for token in (
            _token(other_key, roles=["admin"]),  # someone else's key, claiming ours
            _token(other_key, kid="unknown", roles=["admin"]),
            unsigned,  # alg: none
            _hs256_with(public_pem),  # the public key used as an HMAC secret
            "not.a.token",
        ):
            answer = await api.client.get("/api/v1/stats", headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 401, (token, answer.text)


def _hs256_with(secret: bytes) -> str:
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": int(time.time()) + 60, "roles": ["admin"]}
    payload = b64(json.dumps(body).encode())
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


async def test_a_pem_public_key_in_the_settings(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    settings = {"oidc_issuer": ISSUER, "oidc_audience": AUDIENCE, "oidc_public_key": pem.decode()}
    async with running_api(tmp_path, role=None, **settings) as api:
        token = _token(key, alg="ES256", roles=["admin"])
        assert (await api.client.get("/api/v1/stats", headers={"Authorization": f"Bearer {token}"})).status_code == 200


def test_symmetric_algorithms_are_refused_at_start(tmp_path: Path, rsa_key: Any) -> None:
    from api.app import create_app
    from api.settings import ApiSettings

    with pytest.raises(InsecureConfigurationError, match="HS256"):
        create_app(
            ApiSettings(
                store="sqlite:///:memory:", oidc_algorithms="RS256,HS256", **_settings(_jwks(tmp_path, rsa_key))
            )
        )
