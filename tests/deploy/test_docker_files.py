"""Static checks of the production stack in docker/ (no Docker engine needed)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT
DOCKER = ROOT / "docker"
COMPOSE_FILE = DOCKER / "compose.yaml"
DOCKERFILE = DOCKER / "Dockerfile"

APP_SERVICES = {"migrate", "api", "scheduler", "dashboard"}
ONE_SHOT = {"migrate"}
EXPECTED_SERVICES = APP_SERVICES | {"timescaledb", "mosquitto"}
REQUIRED_PASSWORD = "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in docker/.env}"
DATABASE_URL = f"postgresql://postgres:{REQUIRED_PASSWORD}@timescaledb:5432/ecc"
_VAR = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def _defaults(value: str, required: str = "secret") -> str:
    """Expand ${VAR:-default} the way compose does when VAR is unset; ${VAR:?message} (a
    variable compose refuses to start without) becomes ``required``."""
    return _VAR.sub(lambda m: required if m.group(2) == "?" else (m.group(3) or ""), value)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def _env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _published(service: dict) -> set[tuple[str, int]]:
    """(host port after defaults, container port) pairs from short or long syntax."""
    out = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            out.add((str(port["published"]), int(port["target"])))
            continue
        parts = _defaults(str(port)).split(":")
        assert len(parts) in (2, 3), f"port {port!r} is not published on the host"
        out.add((parts[-2], int(parts[-1].split("/")[0])))
    return out


def _volume_sources(service: dict) -> list[tuple[str, str]]:
    """(type, source) of each mount; a short-syntax source not a path is a named volume."""
    out = []
    for vol in service.get("volumes", []):
        if isinstance(vol, dict):
            out.append((vol.get("type", "volume"), vol.get("source", "")))
            continue
        source = str(vol).split(":")[0]
        kind = "bind" if source.startswith((".", "/", "~", "$")) else "volume"
        out.append((kind, source))
    return out


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical, buf = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        logical.append(buf + stripped)
        buf = ""
    assert not buf, "Dockerfile ends in a line continuation"
    out = []
    for text in logical:
        word, _, rest = text.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile_instructions()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


# --------------------------------------------------------------------- compose


def test_services_are_the_expected_ones(services: dict) -> None:
    assert set(services) == EXPECTED_SERVICES


def test_app_services_build_from_the_dockerfile(services: dict) -> None:
    app_images = {services[name]["image"] for name in APP_SERVICES}
    assert len(app_images) == 1, f"app services use different images: {app_images}"
    (app_image,) = app_images
    users = {name for name, svc in services.items() if svc.get("image") == app_image}
    users |= {name for name, svc in services.items() if "build" in svc}
    assert users == APP_SERVICES
    for name in users:
        build = services[name]["build"]
        assert build["context"] == "..", name
        assert build["dockerfile"] == "docker/Dockerfile", name
        context = (COMPOSE_FILE.parent / build["context"]).resolve()
        assert context == ROOT
        assert (context / build["dockerfile"]).is_file()
        assert (context / "pyproject.toml").is_file()


def test_app_service_commands(services: dict) -> None:
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["api"]["command"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    assert services["scheduler"]["command"] == ["scheduler"]
    assert services["dashboard"]["command"] == [
        "dashboard",
        "--host",
        "0.0.0.0",
        "--port",
        "8050",
    ]


def test_app_services_get_database_url_and_timezone(services: dict) -> None:
    for name in APP_SERVICES:
        env = _env(services[name])
        assert env.get("ECC_DATABASE_URL") == DATABASE_URL, name
        assert _defaults(env["ECC_DATABASE_URL"]) == (
            "postgresql://postgres:secret@timescaledb:5432/ecc"
        )
        assert "ECC_TIMEZONE" in env, name
    db_env = _env(services["timescaledb"])
    # The database is created with the password and name the URL uses; no default password:
    # compose refuses to start without one.
    assert db_env["POSTGRES_PASSWORD"] == REQUIRED_PASSWORD
    assert db_env["POSTGRES_DB"] == "ecc"


def test_long_running_services_have_healthchecks(services: dict) -> None:
    for name, svc in services.items():
        if name in ONE_SHOT:
            continue
        check = svc.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), name
        test = check["test"]
        assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL"), name
        assert len(test) > 1, name
        assert svc.get("restart") in ("unless-stopped", "always"), name


def test_python_healthchecks_compile_and_hit_the_right_port(services: dict) -> None:
    expect = {"api": "http://127.0.0.1:8000/healthz", "dashboard": "http://127.0.0.1:8050/"}
    for name, url in expect.items():
        test = services[name]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", "-c"], name
        compile(test[3], f"{name}-healthcheck", "exec")
        assert url in test[3]
    compile(services["scheduler"]["healthcheck"]["test"][3], "scheduler-healthcheck", "exec")


def test_database_and_broker_healthchecks(services: dict) -> None:
    assert services["timescaledb"]["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    mqtt = services["mosquitto"]["healthcheck"]["test"]
    assert mqtt[1] == "mosquitto_sub"
    # "$$" is compose's escape for a literal "$" in $SYS topics.
    assert "$$SYS/broker/version" in mqtt


def test_migrate_is_one_shot_and_waits_for_the_database(services: dict) -> None:
    migrate = services["migrate"]
    # Must be the string "no": an unquoted `no` is YAML false.
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["timescaledb"]["condition"] == "service_healthy"


def test_app_services_wait_for_migrations(services: dict) -> None:
    for name in APP_SERVICES - ONE_SHOT:
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
    assert services["api"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }


def test_scheduler_runs_a_single_replica(services: dict) -> None:
    scheduler = services["scheduler"]
    assert scheduler.get("deploy", {}).get("replicas", 1) == 1
    assert scheduler.get("scale", 1) == 1


def test_api_and_dashboard_ports_published(services: dict) -> None:
    assert ("8000", 8000) in _published(services["api"])
    assert ("8050", 8050) in _published(services["dashboard"])
    for name in ("api", "dashboard"):  # on the host's loopback unless told (TLS proxy in front)
        assert all(_defaults(str(p)).startswith("127.0.0.1:") for p in services[name]["ports"])
    ports = {p for svc in services.values() for p in _published(svc)}
    assert ("1883", 1883) in ports


def test_referenced_volumes_are_declared(compose: dict, services: dict) -> None:
    declared = set(compose.get("volumes") or {})
    used = set()
    for name, svc in services.items():
        for kind, source in _volume_sources(svc):
            if kind == "volume":
                assert source in declared, f"{name} uses undeclared volume {source!r}"
                used.add(source)
            elif kind == "bind":
                assert (COMPOSE_FILE.parent / source).exists(), f"{name}: missing {source}"
    assert used == declared, f"declared but unused: {declared - used}"
    assert {"timescaledb-data", "mosquitto-data"} <= used


def test_database_data_is_on_a_named_volume(services: dict) -> None:
    mounts = [str(v) for v in services["timescaledb"]["volumes"]]
    assert "timescaledb-data:/var/lib/postgresql/data" in mounts
    db_image = services["timescaledb"]["image"]
    assert re.fullmatch(r"timescale/timescaledb:\d+\.\d+\.\d+-pg\d+", db_image)
    assert re.fullmatch(r"eclipse-mosquitto:2(\.\d+)*", services["mosquitto"]["image"])


def test_mosquitto_config(services: dict) -> None:
    conf = (DOCKER / "mosquitto" / "mosquitto.conf").read_text()
    lines = {line.strip() for line in conf.splitlines() if not line.lstrip().startswith("#")}
    assert "listener 1883 0.0.0.0" in lines
    assert "allow_anonymous true" in lines
    assert "persistence true" in lines
    assert "persistence_location /mosquitto/data/" in lines
    mounts = [str(v) for v in services["mosquitto"]["volumes"]]
    assert "./mosquitto/mosquitto.conf:/mosquitto/config/mosquitto.conf:ro" in mounts
    assert "mosquitto-data:/mosquitto/data" in mounts


def test_env_example_covers_the_variables_compose_uses() -> None:
    example = (DOCKER / ".env.example").read_text()
    keys = {
        line.split("=", 1)[0]
        for line in example.splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    used = set(_VAR.findall(COMPOSE_FILE.read_text()))
    assert {m[0] for m in used} <= keys
    assert "POSTGRES_PASSWORD" in keys


# ------------------------------------------------------------------ Dockerfile


def test_dockerfile_is_multi_stage_on_python_slim() -> None:
    instructions = _dockerfile_instructions()
    froms = [args for word, args in instructions if word == "FROM"]
    assert len(froms) >= 2
    args = dict(a.split("=", 1) for word, a in instructions if word == "ARG" and "=" in a)
    for base in froms:
        image = base.split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        assert image.startswith("python:3.11-slim"), base
    assert any("--from=build" in args for word, args in instructions if word == "COPY")


def test_dockerfile_installs_the_project_with_pip() -> None:
    runs = " ".join(args for word, args in _dockerfile_instructions() if word == "RUN")
    assert re.search(r"\bpip install \.(\s|$)", runs)
    assert "curl" not in DOCKERFILE.read_text()


def test_dockerfile_entrypoint_cmd_and_user() -> None:
    final = _final_stage()
    entry = [json.loads(args) for word, args in final if word == "ENTRYPOINT"]
    cmd = [json.loads(args) for word, args in final if word == "CMD"]
    assert entry[-1] == ["ecc"]
    assert cmd[-1] == ["serve"]
    users = [args for word, args in final if word == "USER"]
    assert users, "final stage runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")


def test_dockerfile_healthcheck_uses_urllib_on_healthz() -> None:
    checks = [args for word, args in _final_stage() if word == "HEALTHCHECK"]
    assert len(checks) == 1
    check = checks[0]
    assert "CMD" in check and "NONE" not in check.split()
    exec_form = json.loads(check[check.index("CMD") + 3 :].strip())
    assert exec_form[:2] == ["python", "-c"]
    assert "urllib.request" in exec_form[2]
    assert "http://127.0.0.1:8000/healthz" in exec_form[2]
    compile(exec_form[2], "dockerfile-healthcheck", "exec")


def test_dockerignore_keeps_secrets_and_vcs_out_of_the_context() -> None:
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert ".git" in ignore
    assert "**/.env" in ignore
    assert "pyproject.toml" not in ignore
