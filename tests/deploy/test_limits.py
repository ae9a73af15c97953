"""The Ingress holds the limits the processes hold: small API bodies read whole at the edge, the
files service's upload routes streamed under its own limit, and nothing else let through large."""

import re

from services.common.limits import UPLOADS
from services.common.settings import ServiceSettings
from services.files.settings import FilesSettings
from tests.deploy.manifests import k8s_objects

ANNOTATION = "nginx.ingress.kubernetes.io/"
UNITS = {"k": 2**10, "m": 2**20, "g": 2**30}


def annotations(name: str) -> dict[str, str]:
    found: dict[str, str] = k8s_objects("Ingress")[name]["metadata"]["annotations"]
    return {key.removeprefix(ANNOTATION): value for key, value in found.items()}


def nginx_size(value: str) -> int:
    match = re.fullmatch(r"(\d+)([kmg]?)", value.lower())
    assert match, value
    return int(match[1]) * UNITS.get(match[2], 1)


def paths(name: str) -> dict[str, str]:
    (rule,) = k8s_objects("Ingress")[name]["spec"]["rules"]
    return {path["path"]: path["pathType"] for path in rule["http"]["paths"]}


def test_api_bodies_are_limited_at_the_edge_as_in_the_services() -> None:
    api = annotations("telemed")
    assert nginx_size(api["proxy-body-size"]) == ServiceSettings().max_body_size
    assert api["proxy-request-buffering"] == "on"  # a slow client is nginx's, not the gateway's
    assert nginx_size(api["client-body-buffer-size"]) >= ServiceSettings().max_body_size


def test_only_the_upload_routes_take_large_bodies_and_stream_them() -> None:
    uploads = annotations("telemed-uploads")
    limit = nginx_size(uploads["proxy-body-size"])
    assert FilesSettings().max_file_size < limit <= FilesSettings().max_file_size + 2**20
    assert uploads["proxy-request-buffering"] == "off"
    routed = paths("telemed-uploads")
    assert routed == {"/api/files/files": "Exact", "/api/files/uploads": "Prefix"}
    for _, pattern in UPLOADS:  # every upload route the processes stream is routed here
        example = pattern.pattern.replace("[^/]+", "0b9c")
        assert any(
            example == path or (kind == "Prefix" and example.startswith(path + "/"))
            for path, kind in routed.items()
        ), example
