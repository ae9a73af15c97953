"""deploy/k8s: valid against the Kubernetes schemas (offline, kubernetes-validate's bundled
ones), and shaped as the services need: probes on /ready and /health, resource requests,
secrets referenced and never inlined, autoscaling only where a process is stateless, disruption
budgets, the migration Job, and video's pods named in the gateway so rooms stay on their pod."""

import json
import re
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from gateway.settings import GatewaySettings
from telemed.registry import GATEWAY, SERVICES, ServiceSpec
from tests.deploy.manifests import (
    K8S_DIR,
    assert_runs_as_registered,
    k8s_documents,
    k8s_objects,
    owner_of,
    pod_containers,
    settings_class,
)

SERVICE_NAMES = [service.name for service in SERVICES]
# Kubernetes releases to validate against: an older one still in support, and the newest known.
VERSIONS = ["1.28", kubernetes_validate.utils.latest_version()]
# Processes that keep no state of their own between requests; video holds live rooms.
STATELESS = {"gateway", "consult", "files", "scheduling", "web"}
# The chat bots' JSON holds their tokens.
SECRET_NAMES = re.compile(r"DATABASE_URL|PASSWORD|SECRET|ACCESS_KEY|TURN_SERVERS|CHAT_BOTS")
UVICORN_VARIABLES = {"FORWARDED_ALLOW_IPS"}

DOCUMENTS = k8s_documents()


def document_id(item: tuple[str, dict[str, Any]]) -> str:
    return f"{item[0]}:{item[1]['kind']}/{item[1]['metadata']['name']}"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("item", DOCUMENTS, ids=[document_id(item) for item in DOCUMENTS])
def test_every_object_is_valid_against_the_kubernetes_schema(
    item: tuple[str, dict[str, Any]], version: str
) -> None:
    # Strict: a misspelt or misplaced field is an error, not silently ignored.
    kubernetes_validate.validate(item[1], version, strict=True)


def test_kustomization_applies_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    files = {path.name for path in K8S_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == files
    assert [image["name"] for image in kustomization["images"]] == ["telemed"]


def deployment(spec: ServiceSpec) -> dict[str, Any]:
    """The process's workload: a Deployment, or video's StatefulSet (its pods have names)."""
    kind = "StatefulSet" if spec.name not in STATELESS else "Deployment"
    return k8s_objects(kind)[spec.name]


def container(spec: ServiceSpec) -> dict[str, Any]:
    (only,) = pod_containers(deployment(spec))
    return only


def config_map(name: str) -> dict[str, str]:
    data: dict[str, str] = k8s_objects("ConfigMap")[name]["data"]
    return data


def pod_environment(workload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every variable a workload's containers get: name → its `env` entry, or the ConfigMap's
    value as {"configMap": name, "value": ...}."""
    variables: dict[str, dict[str, Any]] = {}
    for each in pod_containers(workload):
        for source in each.get("envFrom", []):
            assert set(source) == {"configMapRef"}, "Secrets are referenced key by key"
            name = source["configMapRef"]["name"]
            for key, value in config_map(name).items():
                variables[key] = {"configMap": name, "value": value}
        for entry in each.get("env", []):
            variables[entry["name"]] = entry
    return variables


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_NAMES)
def test_every_process_runs_as_the_launcher_starts_it(spec: ServiceSpec) -> None:
    assert container(spec)["image"] == "telemed"
    assert_runs_as_registered(spec, container(spec)["command"])
    (port,) = container(spec)["ports"]
    assert port == {"name": "http", "containerPort": spec.port}
    service = k8s_objects("Service")[spec.name]
    assert service["spec"]["ports"] == [{"name": "http", "port": spec.port, "targetPort": "http"}]
    labels = deployment(spec)["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"] == labels
    assert deployment(spec)["spec"]["selector"]["matchLabels"] == labels


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_NAMES)
def test_every_process_is_probed_on_ready_and_health(spec: ServiceSpec) -> None:
    probes = container(spec)
    assert probes["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert probes["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    annotations = deployment(spec)["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(spec.port)
    assert annotations["prometheus.io/path"] == "/metrics"


def workloads() -> list[tuple[str, dict[str, Any]]]:
    kinds = {"Deployment", "StatefulSet", "Job", "DaemonSet"}
    return [(doc["metadata"]["name"], doc) for _, doc in DOCUMENTS if doc["kind"] in kinds]


@pytest.mark.parametrize("workload", workloads(), ids=[name for name, _ in workloads()])
def test_every_container_requests_resources_and_runs_unprivileged(
    workload: tuple[str, dict[str, Any]],
) -> None:
    pod = workload[1]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    for each in pod_containers(workload[1]):
        assert {"cpu", "memory"} <= set(each["resources"]["requests"])
        assert "memory" in each["resources"]["limits"]
        assert each["securityContext"]["allowPrivilegeEscalation"] is False
        assert each["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_no_secret_is_inlined() -> None:
    assert "Secret" not in {doc["kind"] for _, doc in DOCUMENTS}, "Secrets are created apart"
    for name, data in ((n, c["data"]) for n, c in k8s_objects("ConfigMap").items()):
        for key in data:
            assert not SECRET_NAMES.search(key), f"ConfigMap {name} holds {key}"
    for name, workload in workloads():
        for variable, entry in pod_environment(workload).items():
            if SECRET_NAMES.search(variable):
                assert set(entry) == {"name", "valueFrom"}, f"{name}: {variable} is inlined"
                assert set(entry["valueFrom"]) == {"secretKeyRef"}, f"{name}: {variable}"


# What the Secrets hold, in the shape the settings parse, to read the pods' environment with.
SECRET_SAMPLES = {
    "DATABASE_URL": "postgresql+asyncpg://telemed_x:hex@postgres:5432/telemed_x",
    "TURN_SERVERS": '[{"urls": ["turn:turn.region.example:3478"], "secret": "hex"}]',
    "CHAT_BOTS": '{"khabarovsk": {"token": "7000000001:AAE-hex", "secret_token": "hex"}}',
}


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_NAMES)
def test_every_variable_is_a_setting_of_that_process(
    spec: ServiceSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    variables = pod_environment(deployment(spec))
    for variable in variables:
        if variable not in UVICORN_VARIABLES:
            owner = owner_of(variable)
            assert owner is spec, f"{spec.name} is given {variable}"
    database = variables[spec.env_prefix + "DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert database == {"name": "telemed-database", "key": spec.name}
    assert variables[spec.env_prefix + "GATEWAY_URL"]["value"] == "http://gateway:8000"
    # The values are what the settings class accepts, read the way it reads them.
    for variable, entry in variables.items():
        suffix = variable.removeprefix(spec.env_prefix)
        monkeypatch.setenv(variable, entry.get("value", SECRET_SAMPLES.get(suffix, "hex")))
    settings = settings_class(spec)()
    assert settings.resolved_database_url().startswith("postgresql+asyncpg://")


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_NAMES)
def test_key_files_come_from_secret_volumes(spec: ServiceSpec) -> None:
    pod = deployment(spec)["spec"]["template"]["spec"]
    mounts = {mount["name"]: mount for mount in container(spec)["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    paths = {
        name: entry["value"]
        for name, entry in pod_environment(deployment(spec)).items()
        if name.endswith(("_KEY_PATH", "_SALT_PATH"))
    }
    for variable, path in paths.items():
        (mount,) = [m for m in mounts.values() if path.startswith(m["mountPath"] + "/")]
        assert mount["readOnly"] is True, variable
        assert "secret" in volumes[mount["name"]], f"{variable} is not from a Secret"
    # The gateway's: the token signing key, the visit links' key and the unsubscribe links'.
    expected = {"gateway": 3, "consult": 2, "files": 2, "video": 1, "scheduling": 0, "web": 1}
    # Each also has its audit key: every replica must key the audit chains alike.
    assert paths[spec.env_prefix + "AUDIT_KEY_PATH"] == "/etc/telemed/keys/audit.key"
    # And its idempotency key: a retry may reach another replica, which must know the request.
    assert paths[spec.env_prefix + "IDEMPOTENCY_KEY_PATH"] == "/etc/telemed/keys/idempotency.key"
    assert len(paths) == expected[spec.name] + 2


@pytest.mark.parametrize("name", ["files", "scheduling"])
def test_consults_grants_are_checked_with_its_public_key_alone(name: str) -> None:
    (checker,) = [spec for spec in SERVICES if spec.name == name]
    pod = deployment(checker)["spec"]["template"]["spec"]
    mounts = {mount["name"]: mount for mount in container(checker)["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    variables = pod_environment(deployment(checker))
    paths = json.loads(variables[checker.env_prefix + "CONSULT_GRANT_KEYS"]["value"])
    assert paths
    for path in paths:
        (mount,) = [m for m in mounts.values() if path.startswith(m["mountPath"] + "/")]
        assert mount["readOnly"] is True
        # The public key: a ConfigMap all may read, never consult's Secret.
        assert volumes[mount["name"]]["configMap"]["name"] == "telemed-consult-grant-public-key"
    consult_keys = config_map("consult-config")["TELEMED_CONSULT_GRANT_KEY_PATH"]
    assert consult_keys.startswith("/etc/telemed/keys/")


def test_stateless_processes_scale_on_cpu_and_video_does_not() -> None:
    autoscalers = k8s_objects("HorizontalPodAutoscaler")
    targets = {hpa["spec"]["scaleTargetRef"]["name"] for hpa in autoscalers.values()}
    assert targets == STATELESS
    for hpa in autoscalers.values():
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        assert hpa["spec"]["minReplicas"] >= 2
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"


@pytest.mark.parametrize("spec", SERVICES, ids=SERVICE_NAMES)
def test_every_process_has_a_disruption_budget(spec: ServiceSpec) -> None:
    budget = k8s_objects("PodDisruptionBudget")[spec.name]
    labels = deployment(spec)["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["selector"]["matchLabels"] == labels
    assert deployment(spec)["spec"]["replicas"] >= 2
    if spec.name in STATELESS:
        assert budget["spec"] == {**budget["spec"], "minAvailable": 1}
    else:  # a drain takes one video pod, and its rooms, at a time
        assert budget["spec"]["maxUnavailable"] == 1


def test_migrations_run_as_a_job_on_every_database() -> None:
    job = k8s_objects("Job")["telemed-migrate"]
    (only,) = pod_containers(job)
    assert only["command"] == ["telemed", "migrate"]
    assert only["image"] == "telemed"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    variables = pod_environment(job)
    assert set(variables) == {spec.env_prefix + "DATABASE_URL" for spec in SERVICES}
    for spec in SERVICES:  # as each database's owner; the services as their own roles
        reference = variables[spec.env_prefix + "DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        assert reference == {"name": "telemed-database-owner", "key": spec.name}


def test_the_video_process_keeps_its_media_ports_in_a_known_range() -> None:
    video = next(spec for spec in SERVICES if spec.name == "video")
    assert video.loop == "asyncio"
    pod = deployment(video)["spec"]["template"]["spec"]
    assert pod["securityContext"]["sysctls"] == [
        {"name": "net.ipv4.ip_local_port_range", "value": "40000 40999"}
    ]
    assert "hostNetwork" not in pod
    coturn = k8s_objects("DaemonSet")["coturn"]
    (turn,) = pod_containers(coturn)
    assert "--use-auth-secret" in turn["args"]
    assert "--static-auth-secret=$(TURN_SECRET)" in turn["args"]
    assert "--allowed-peer-ip=$(TURN_PEER_RANGE)" in turn["args"]
    assert coturn["spec"]["template"]["spec"]["hostNetwork"] is True


def ingress_paths(name: str) -> dict[str, tuple[str, int]]:
    ingress = k8s_objects("Ingress")[name]
    (rule,) = ingress["spec"]["rules"]
    backends = {path["path"]: path["backend"]["service"] for path in rule["http"]["paths"]}
    return {
        path: (backend["name"], backend["port"]["number"]) for path, backend in backends.items()
    }


def test_the_gateway_is_the_public_door_and_keeps_its_metrics_inside() -> None:
    paths = ingress_paths("telemed")
    assert paths["/"] == (GATEWAY.name, GATEWAY.port)
    for internal in ("/metrics", "/ready/upstreams"):
        closed = paths[internal][0]
        assert "selector" not in k8s_objects("Service")[closed]["spec"], "a Service with no pods"


def test_a_rooms_calls_reach_the_pod_that_holds_it() -> None:
    """The gateway hashes each room onto the video pods it lists: all of them, by their stable
    StatefulSet names, and nothing reaches a video pod except through the gateway."""
    video = next(spec for spec in SERVICES if spec.name == "video")
    statefulset = deployment(video)
    headless = k8s_objects("Service")[statefulset["spec"]["serviceName"]]
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["selector"] == statefulset["spec"]["template"]["metadata"]["labels"]
    services = json.loads(config_map("gateway-config")["TELEMED_GATEWAY_SERVICES"])
    pods = [
        f"http://{video.name}-{ordinal}.{headless['metadata']['name']}:{video.port}"
        for ordinal in range(statefulset["spec"]["replicas"])
    ]
    assert services["video"] == pods
    backends = {
        backend for ingress in k8s_objects("Ingress") for backend in ingress_paths(ingress).values()
    }
    assert (video.name, video.port) not in backends
    assert GatewaySettings.model_validate({"services": services}).services["video"] == pods
