"""The image and its deployment: Dockerfile, requirements.lock, docker-compose.yml and the proxy's config."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("migrate", "web", "worker")


def stages() -> list[str]:
    """The Dockerfile's stages, each from its FROM line to the next."""
    return re.split(r"^(?=FROM )", DOCKERFILE, flags=re.M)[1:]


def instructions(stage: str, name: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", stage)
    return [line[len(name) + 1 :] for line in joined.splitlines() if line.startswith(name + " ")]


def pinned_lock() -> dict[str, tuple[str, int]]:
    """requirements.lock's packages: name -> (version, number of hashes)."""
    text = (ROOT / "requirements.lock").read_text()
    pins = {}
    for block in re.split(r"\n(?=\S)", text):
        if match := re.match(r"([A-Za-z0-9._-]+)==(\S+)", block):
            pins[canonicalize_name(match[1])] = (match[2], block.count("--hash=sha256:"))
    return pins


def test_the_image_is_built_in_two_stages_from_a_pinned_slim_python_311():
    build, final = stages()
    for stage in (build, final):
        assert re.match(r"FROM python:3\.11\.\d+-slim-bookworm\b", stage), stage.splitlines()[0]
    assert " AS build" in build.splitlines()[0]
    # The build stage installs the lock, hash-checked; the final stage only copies the result.
    assert any("--require-hashes" in run and "requirements.lock" in run for run in instructions(build, "RUN"))
    assert "--from=build /opt/venv /opt/venv" in instructions(final, "COPY")
    assert not any("pip install" in run or "apt-get" in run for run in instructions(final, "RUN"))


def test_the_image_runs_as_a_user_without_privileges_with_a_health_check_and_gunicorn():
    final = stages()[-1]
    (user,) = instructions(final, "USER")
    assert user.split(":")[0] not in ("0", "root")
    (healthcheck,) = instructions(final, "HEALTHCHECK")
    assert "/healthz" in healthcheck
    (command,) = instructions(final, "CMD")
    assert command.startswith('["gunicorn"') and "wsgi:app" in command
    assert "PROMETHEUS_MULTIPROC_DIR=" in " ".join(instructions(final, "ENV"))


def test_the_lock_pins_every_runtime_dependency_within_pyprojects_bounds_with_hashes():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = pinned_lock()
    for line in declared:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock: regenerate it (README: The image)"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version), (
            f"{name}=={version} is outside {requirement.specifier}"
        )
        assert hashes, f"{name} has no hash"
    # Extras come along too: psycopg[binary] and flask-limiter[redis].
    assert {"psycopg-binary", "redis", "prometheus-client"} <= pins.keys()
    assert all(hashes for _version, hashes in pins.values())


def test_the_build_context_leaves_out_local_and_secret_files():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = [line for line in lines if line and not line.startswith("#")]
    for path in (".git", ".venv", "instance", ".env", "tests"):
        assert path in ignored
    for needed in ("referral_hub", "templates", "migrations", "wsgi.py", "requirements.lock"):
        assert needed not in ignored


def test_compose_runs_migrate_once_before_the_web_app_and_the_worker():
    assert set(SERVICES) >= {"migrate", "web", "worker", "proxy", "postgres", "redis", "mail"}
    assert SERVICES["migrate"]["command"] == ["flask", "--app", "referral_hub", "db", "upgrade"]
    assert SERVICES["migrate"]["restart"] == "no"
    for name in ("web", "worker"):
        assert SERVICES[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert SERVICES["worker"]["command"] == ["flask", "--app", "referral_hub", "worker"]
    for name in APP_SERVICES:
        assert SERVICES[name]["build"] == "." and SERVICES[name]["image"] == "referral-hub:local"


def test_compose_puts_the_web_app_behind_one_proxy_that_the_app_trusts():
    assert "ports" not in SERVICES["web"], "gunicorn published directly could be sent forged X-Forwarded-For"
    for name in APP_SERVICES:
        assert SERVICES[name]["environment"]["TRUST_PROXY"] == "1"
    proxy = SERVICES["proxy"]
    assert re.fullmatch(r"caddy:\d+\.\d+\.\d+(-alpine)?", proxy["image"])
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    assert proxy["depends_on"]["web"] == {"condition": "service_healthy"}
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile


def test_compose_pins_its_images_and_keeps_each_workers_counters_in_a_fresh_directory():
    for name in ("proxy", "postgres", "redis", "mail"):
        image = SERVICES[name]["image"]
        assert re.search(r":v?\d+\.\d+(\.\d+)?(-[a-z]+)?$", image), f"{name} is not pinned: {image}"
    assert SERVICES["mail"]["image"].startswith("axllent/mailpit:v")
    (directory,) = re.findall(r"PROMETHEUS_MULTIPROC_DIR=(\S+)", DOCKERFILE)
    assert SERVICES["web"]["tmpfs"] == [directory]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_has_no_default_secret_key(name):
    secret = SERVICES[name]["environment"]["SECRET_KEY"]
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", secret), secret
    assert SERVICES[name]["environment"]["METRICS_TOKEN"] == "${METRICS_TOKEN:-}"
