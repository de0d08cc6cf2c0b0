"""Static validation of Dockerfile and docker-compose.yml (there is no Docker engine here).

Checks what a `docker compose up` would trip over first: the file parses, every command our
image runs exists in the CLI, images and ports are consistent, Kafka is the version the tests
run against, and the image is multi-stage, non-root and health-checked.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from cspm_stream import settings as settings_mod
from cspm_stream.app import ROLES
from cspm_stream.cli import build_parser
from cspm_stream.settings import WebSettings
from cspm_stream.settings.loader import env_name, flat_keys

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "cspm-stream"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def ours(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in services.items() if str(s.get("image", "")).split(":")[0] == IMAGE}


def pom_kafka_version() -> str:
    tree = ET.parse(ROOT / "scripts" / "kafka" / "pom.xml")
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = tree.getroot().find("m:properties/m:kafka.version", ns)
    assert node is not None and node.text
    return node.text.strip()


def parse_cli(argv: list[str]) -> argparse.Namespace:
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on an unknown command or option
        raise AssertionError(f"`cspm-stream {' '.join(argv)}` is not a valid command") from exc


def test_every_service_command_exists_in_the_cli(services: dict[str, dict[str, Any]]) -> None:
    mine = ours(services)
    assert {"topics", "ingest", "process", "alerts", "remediate", "attack-simulator"} <= set(mine)
    for name, svc in mine.items():
        cmd = svc.get("command")
        assert isinstance(cmd, list) and all(isinstance(x, str) for x in cmd), f"{name}: command must be a list"
        args = parse_cli(cmd)
        assert callable(getattr(args, "func", None)), name


def test_each_daemon_role_has_its_service(services: dict[str, dict[str, Any]]) -> None:
    roles = {}
    for name, svc in ours(services).items():
        args = parse_cli(svc["command"])
        if args.command == "run":
            roles[args.role] = name
    assert set(roles) == set(ROLES) - {"all"}
    assert roles == {r: r for r in roles}  # service named after its role


def test_topic_creation_runs_first(services: dict[str, dict[str, Any]]) -> None:
    assert parse_cli(services["topics"]["command"]).action == "create"
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name, svc in ours(services).items():
        if name != "topics":
            assert svc["depends_on"]["topics"]["condition"] == "service_completed_successfully", name


def test_depends_on_and_profiles_refer_to_real_services(services: dict[str, dict[str, Any]]) -> None:
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}) or {}:
            assert dep in services, f"{name} depends on unknown service {dep}"
    assert services["moto"]["profiles"] == ["demo"]
    assert services["attack-simulator"]["profiles"] == ["demo"]
    assert "profiles" not in services["kafka"] and "profiles" not in services["process"]


def test_kafka_image_matches_the_test_broker(services: dict[str, dict[str, Any]]) -> None:
    image, _, tag = services["kafka"]["image"].partition(":")
    assert image == "apache/kafka"
    assert tag == pom_kafka_version()


def test_kafka_runs_kraft_and_our_services_use_its_internal_listener(services: dict[str, dict[str, Any]]) -> None:
    env = services["kafka"]["environment"]
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node = str(env["KAFKA_NODE_ID"])
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{node}@")
    assert env["CLUSTER_ID"]
    listeners = dict(x.split("://") for x in env["KAFKA_LISTENERS"].split(","))
    advertised = dict(x.split("://") for x in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    protocols = dict(x.split(":") for x in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(listeners) == set(protocols)
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] in listeners
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] not in advertised
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    for name, svc in ours(services).items():
        assert svc["environment"]["CSPM_KAFKA_BOOTSTRAP"] in advertised.values(), name
        assert "kafka" in svc["depends_on"] or "topics" in svc["depends_on"], name


def test_moto_image_matches_the_installed_moto(services: dict[str, dict[str, Any]]) -> None:
    image, _, tag = services["moto"]["image"].partition(":")
    assert image == "motoserver/moto"
    assert tag == importlib.metadata.version("moto")


def test_our_services_share_one_image_built_here(services: dict[str, dict[str, Any]]) -> None:
    mine = ours(services)
    assert len({s["image"] for s in mine.values()}) == 1
    for name, svc in mine.items():
        assert svc["build"]["dockerfile"] == "Dockerfile", name
        assert (ROOT / svc["build"]["context"] / svc["build"]["dockerfile"]).is_file()


def _ports(svc: dict[str, Any]) -> list[tuple[str, int, int]]:
    out = []
    for p in svc.get("ports", []):
        m = re.fullmatch(r"(?P<ip>[\d.]+):(?P<host>\d+):(?P<ctr>\d+)", str(p))
        assert m, f"port {p!r} must be written ip:host:container"
        out.append((m["ip"], int(m["host"]), int(m["ctr"])))
    return out


def test_ports_are_loopback_unique_and_match_the_listeners(services: dict[str, dict[str, Any]]) -> None:
    seen: dict[int, str] = {}
    for name, svc in services.items():
        for ip, host, ctr in _ports(svc):
            assert ip == "127.0.0.1", f"{name} publishes on {ip}"
            assert host not in seen, f"host port {host} used by {seen.get(host)} and {name}"
            seen[host] = name
            if name in ours(services):
                assert ctr == int(svc["environment"]["CSPM_WEB_PORT"]) == WebSettings().port, name
    assert _ports(services["kafka"])[0][2] == 9092
    assert _ports(services["moto"])[0][2] == 5000
    for role in ("ingest", "process", "alerts", "remediate"):
        assert _ports(services[role]), f"{role} must publish its /metrics port"


def test_cspm_environment_variables_are_real_settings(services: dict[str, dict[str, Any]]) -> None:
    known = {env_name(k) for k in flat_keys(settings_mod.Settings)}
    for name, svc in ours(services).items():
        env = svc.get("environment", {})
        assert isinstance(env, dict), f"{name}: use the mapping form for environment"
        cspm = {k: v for k, v in env.items() if k.startswith("CSPM_")}
        assert set(cspm) <= known, f"{name}: unknown settings {set(cspm) - known}"
        given = {k: str(v) for k, v in cspm.items() if v is not None}
        settings_mod.load(environ=given)  # values that are set must validate


def test_only_the_aws_facing_roles_get_aws_credentials(services: dict[str, dict[str, Any]]) -> None:
    for name in ("process", "alerts", "topics"):
        assert "AWS_SECRET_ACCESS_KEY" not in services[name]["environment"], name
    for name in ("ingest", "remediate"):
        assert "AWS_SECRET_ACCESS_KEY" in services[name]["environment"], name
        assert services[name]["environment"]["AWS_SECRET_ACCESS_KEY"] is None  # passed through, not written


def _stages(text: str) -> list[list[str]]:
    lines = []
    for raw in re.sub(r"\\\n", " ", text).splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    stages: list[list[str]] = []
    for line in lines:
        if line.upper().startswith("FROM "):
            stages.append([])
        if stages:
            stages[-1].append(line)
    return stages


def test_dockerfile_is_multistage_slim_nonroot_and_healthchecked() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = _stages(text)
    assert len(stages) >= 2, "multi-stage build"
    for st in stages:
        assert re.match(r"FROM python:3\.11-slim\b", st[0], re.I), st[0]
    final = stages[-1]
    joined = "\n".join(final)
    assert re.search(r"^COPY --from=\w+ /opt/venv /opt/venv$", joined, re.M)
    # no compilers or package-manager installs in the final image
    assert not re.search(r"apt-get install|build-essential|\bgcc\b|pip install", joined)
    users = [ln.split(None, 1)[1] for ln in final if ln.upper().startswith("USER ")]
    assert users, "the final stage must set USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), "must not run as root"
    health = [ln for ln in final if ln.upper().startswith("HEALTHCHECK ")]
    assert health and "/healthz" in health[-1] and "127.0.0.1" in health[-1]
    assert str(WebSettings().port) in health[-1]
    entry = [ln for ln in final if ln.upper().startswith("ENTRYPOINT ")]
    assert entry and entry[-1] == 'ENTRYPOINT ["cspm-stream"]'
    cmd = [ln for ln in final if ln.upper().startswith("CMD ")]
    assert cmd and parse_cli(yaml.safe_load(cmd[-1][4:])).role == "all"
    # the build stage installs the project; the files it copies exist
    for st in stages:
        for ln in st:
            if ln.upper().startswith("COPY ") and "--from" not in ln:
                for src in ln.split()[1:-1]:
                    assert (ROOT / src).exists(), f"COPY source {src} missing"


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".kafka", ".data"} <= ignored
