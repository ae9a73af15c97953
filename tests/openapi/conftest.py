"""The aggregated OpenAPI document, as the gateway serves it, built once for the module."""

import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.contract.conftest import aggregated_document

OPERATION_METHODS = ("get", "put", "post", "delete", "patch")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation of the document."""
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in OPERATION_METHODS
    ]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        return aggregated_document(Path(scratch))
