"""Every operation says what it does (a `description`), and every one that changes data with
a body shows a realistic example of it (on the body's media type or its schema): a route added
without them fails here."""

from typing import Any

from tests.openapi.conftest import operations


def _has_example(document: dict[str, Any], media: dict[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    schema = media.get("schema", {})
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return "example" in schema or "examples" in schema


def lacking(document: dict[str, Any]) -> dict[str, list[str]]:
    """Each operationId lacking a description or an example, with what it lacks."""
    found = {}
    for method, _, operation in operations(document):
        missing = []
        if not operation.get("description"):
            missing.append("description")
        content = operation.get("requestBody", {}).get("content", {})
        examples = [_has_example(document, media) for media in content.values()]
        if method != "get" and content and not any(examples):
            missing.append("example")
        if missing:
            found[operation["operationId"]] = missing
    return found


def test_every_operation_is_described_with_an_example(document: dict[str, Any]) -> None:
    assert lacking(document) == {}
