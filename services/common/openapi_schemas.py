"""The component schemas of a service's OpenAPI document: one readable name per model
(`rename_schemas`, `module_names`), and in the schemas only answers use, every field an answer
always holds marked `required` (`always_present`)."""

from collections.abc import Mapping
from typing import Any

METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
SCHEMAS = "#/components/schemas/"
# Module names that say nothing about which of two same-named models a schema is.
GENERIC_MODULES = frozenset({"services", "gateway", "consult", "schemas", "models", "enums"})


def rename_schemas(document: dict[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """The document with these component schemas renamed, every `$ref` to them with them, and
    their titles too: generators name classes by title, and keep one of two that share it."""
    if not renames:
        return document

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str) and value.startswith(SCHEMAS):
                    name = value.removeprefix(SCHEMAS)
                    value = SCHEMAS + renames.get(name, name)
                out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    renamed: dict[str, Any] = walk(document)
    schemas = renamed.get("components", {}).get("schemas", {})
    for old, new in renames.items():
        if old in schemas:
            schemas[new] = schemas.pop(old) | {"title": new}
    return renamed


def module_names(schemas: Mapping[str, Any]) -> dict[str, str]:
    """FastAPI names two models of one name by their modules
    (`services__consult__cases__schemas__MessageOut`); the domain's name is enough:
    `CasesMessageOut`."""
    renames: dict[str, str] = {}
    for name in schemas:
        if "__" not in name:
            continue
        *modules, model = name.split("__")
        words = [module for module in modules if module not in GENERIC_MODULES]
        short = "".join(word.title().replace("_", "") for word in words[-1:]) + model
        if short not in schemas and short not in renames.values():
            renames[name] = short
    return renames


def _refs(node: Any) -> set[str]:
    """The component schemas `node` names (`$ref`), at any depth."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        own = (
            {ref.removeprefix(SCHEMAS)}
            if isinstance(ref, str) and ref.startswith(SCHEMAS)
            else set()
        )
        return own.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def _closure(names: set[str], schemas: Mapping[str, Any]) -> set[str]:
    """These schemas and every one they name, to the end."""
    found: set[str] = set()
    while names - found:
        found |= names
        names = found.union(*(_refs(schemas.get(name, {})) for name in found))
    return found


def _nullable(schema: Mapping[str, Any]) -> bool:
    kinds = schema.get("type")
    return (
        kinds == "null"
        or (isinstance(kinds, list) and "null" in kinds)
        or any(_nullable(option) for option in schema.get("anyOf", []) + schema.get("oneOf", []))
    )


def always_present(document: dict[str, Any]) -> None:
    """With one schema per model, a field with a default is optional, as a request may leave it
    out; but an answer always holds it. So in a schema only answers use (not a request body's
    or a parameter's, at any depth), a field that cannot be null is `required`: it has a
    default (`overdue: false`) or a factory (the schema shows no default then). A nullable one
    stays optional: the OAuth endpoints leave out what is null (RFC 7662, OpenID Connect)."""
    schemas = document.get("components", {}).get("schemas", {})
    asked: set[str] = set()
    answered: set[str] = set()
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method in METHODS:
                asked |= _refs([operation.get("requestBody"), operation.get("parameters")])
                answered |= _refs(operation.get("responses"))
    for name in sorted(_closure(answered, schemas) - _closure(asked, schemas)):
        schema = schemas.get(name, {})
        required = schema.get("required", [])
        present = [
            field
            for field, prop in schema.get("properties", {}).items()
            if field not in required and not _nullable(prop)
        ]
        if present:
            schema["required"] = required + present
