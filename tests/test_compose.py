"""docker-compose.yml: the services the distributed pipeline needs, scalable workers, a read-only share, health
checks and named volumes; and `docker compose config` accepts it where a compose CLI is installed."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"


def compose_command() -> list[str] | None:
    """`docker compose` (v2 plugin) or `docker-compose` (v1), whichever answers; None without either."""
    candidates = [["docker", "compose"]] if shutil.which("docker") else []
    if shutil.which("docker-compose"):
        candidates.append(["docker-compose"])
    for command in candidates:
        if subprocess.run([*command, "version"], capture_output=True).returncode == 0:
            return command
    return None


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]


def test_the_services_of_the_distributed_pipeline(services: dict[str, Any]) -> None:
    assert set(services) == {"redis", "postgres", "worker", "watcher", "web"}
    for name, service in services.items():
        assert "healthcheck" in service, name
        assert "container_name" not in service, name  # `--scale worker=N` needs generated names
        assert "ports" not in service or name == "web", name
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]  # published to this machine only
    assert "NIANBAO_SECRET_KEY" in services["web"]["environment"]
    for name in ("worker", "watcher", "web"):
        assert "${NIANBAO_SHARE:-./inbox}:/share:ro" in services[name]["volumes"]
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "polling" in services["watcher"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "worker", "worker"]


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    command = compose_command()
    if command is None:
        pytest.skip("no compose CLI (`docker compose` plugin or `docker-compose`) is installed")
    result = subprocess.run([*command, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_the_image_holds_every_package_the_project_installs() -> None:
    """Each top-level package of pyproject.toml is copied into the image (a missing one breaks `nianbao` there)."""
    include = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    packages = {pattern.rstrip("*") for pattern in include["find"]["include"]}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(encoding="utf-8"), re.MULTILINE))
    assert packages == copied
