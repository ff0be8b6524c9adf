"""docker-compose.yml and the Dockerfile are checked for consistency, since no engine runs here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict)
    return data


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def test_neo4j_service_is_the_lts_community_image_with_a_healthcheck_and_volumes() -> None:
    services = compose()["services"]
    neo4j = services["neo4j"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert "cypher-shell" in " ".join(neo4j["healthcheck"]["test"])
    named = {v.split(":")[0] for v in neo4j["volumes"]}
    assert named <= set(compose()["volumes"])
    assert "${NEO4J_PASSWORD" in neo4j["environment"]["NEO4J_AUTH"]


def test_api_waits_for_a_healthy_neo4j_and_a_finished_migration() -> None:
    services = compose()["services"]
    api = services["tracegraph"]
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"] == ["tracegraph", "migrate"]
    for name in ("tracegraph", "migrate"):
        store = services[name]["environment"]["TRACEGRAPH_STORE"]
        assert store.startswith("neo4j://") and "@neo4j:7687" in store


def test_ports_agree_between_compose_dockerfile_and_command() -> None:
    api = compose()["services"]["tracegraph"]
    published = {p.rsplit(":", 1)[-1] for p in api["ports"]}
    exposed = set(re.findall(r"^EXPOSE (\d+)", dockerfile(), re.M))
    cmd_port = re.search(r'"--port", "(\d+)"', dockerfile())
    health_port = re.search(r"127\.0\.0\.1:(\d+)/healthz", dockerfile())
    assert cmd_port and health_port
    assert published == exposed == {cmd_port.group(1)} == {health_port.group(1)}


def test_image_runs_as_non_root_with_a_healthcheck() -> None:
    text = dockerfile()
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert "HEALTHCHECK" in text


def test_every_copied_folder_exists_and_every_variable_is_documented() -> None:
    for folder in re.findall(r"^COPY (\w+) \1$", dockerfile(), re.M):
        assert (ROOT / folder).is_dir(), f"Dockerfile copies {folder}/, which does not exist"
    used = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()))
    documented = set(re.findall(r"^#?\s*(\w+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used <= documented, f"undocumented in .env.example: {used - documented}"


def test_every_process_shares_one_audit_trail_on_a_volume() -> None:
    services = compose()["services"]
    paths = {services[name]["environment"]["TRACEGRAPH_AUDIT"] for name in ("tracegraph", "migrate")}
    assert len(paths) == 1
    (path,) = paths
    for name in ("tracegraph", "migrate"):
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services[name]["volumes"]}
        assert any(path.startswith(m + "/") for m in mounts), f"{name}: {path} is not on a volume"
        assert all(src in compose()["volumes"] for src in mounts.values())
    assert "/data/audit" in dockerfile()  # exists in the image, owned by the non-root user
