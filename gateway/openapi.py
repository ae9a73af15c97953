"""One OpenAPI document for the whole system: the gateway's own paths plus every service's."""

import copy
import logging
import time
from typing import Any

import aiohttp
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from gateway.console import api_services
from gateway.proxy import Upstreams
from services.common.errors import ProblemError

logger = logging.getLogger("telemed.gateway.openapi")
CACHE_SECONDS = 30.0
router = APIRouter(include_in_schema=False)


def merge_documents(own: dict[str, Any], services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Services already serve their paths under `/api/<service>/`, so paths merge as they are;
    a component name two documents define differently is prefixed with the service name."""
    merged = copy.deepcopy(own)
    paths = merged.setdefault("paths", {})
    schemas = merged.setdefault("components", {}).setdefault("schemas", {})
    for service, document in sorted(services.items()):
        renames = {
            name: f"{service}_{name}"
            for name, schema in document.get("components", {}).get("schemas", {}).items()
            if name in schemas and schemas[name] != schema
        }
        text = _rename_refs(document, renames)
        for name, schema in text.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        for path, item in text.get("paths", {}).items():
            if path.startswith(f"/api/{service}/"):
                paths[path] = item
        merged.setdefault("tags", []).extend(
            tag for tag in text.get("tags", []) if tag not in merged["tags"]
        )
    return merged


def _rename_refs(document: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    if not renames:
        return document

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    name = value.rsplit("/", 1)[-1]
                    value = f"#/components/schemas/{renames.get(name, name)}"
                out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    renamed: dict[str, Any] = walk(document)
    return renamed


async def _fetch(upstreams: Upstreams) -> dict[str, dict[str, Any]]:
    documents = {}
    for name in api_services(upstreams.urls):
        try:
            documents[name] = await upstreams.get_json(name, "/openapi.json", seconds=5.0)
        except (ProblemError, aiohttp.ClientError, ValueError):
            logger.warning("OpenAPI of %s is unavailable; left out of the merged document", name)
    return documents


@router.get("/openapi.json")
async def openapi(request: Request) -> dict[str, Any]:
    app: FastAPI = request.app
    cached = getattr(app.state, "merged_openapi", None)
    if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
        document: dict[str, Any] = cached[1]
        return document
    services = await _fetch(app.state.upstreams)
    document = merge_documents(app.openapi(), services)
    if len(services) == len(api_services(app.state.upstreams.urls)):
        app.state.merged_openapi = (time.monotonic(), document)
    return document


@router.get("/docs")
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="telemed API")
