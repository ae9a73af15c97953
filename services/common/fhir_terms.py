"""What a deployment configures of the FHIR views: the public base their absolute URLs start
with, and the code and identifier systems they code with. Each service mixes `FhirSettings`
into its own settings, and the four that render FHIR (gateway, consult, files, scheduling) must
agree, so each value comes from one place: the systems from one shared group of variables,
`TELEMED_FHIR_*`, whatever the service's own prefix; the base from the gateway's public URL,
which the launcher (and docker-compose.yml, deploy/k8s) gives every service as its own
`PUBLIC_URL` (tests/fhir/test_settings.py checks that they agree).

Federal references for Russia (docs/api.md, "FHIR"): the register of medical specialties of the
NSI, `urn:oid:1.2.643.5.1.13.13.11.1066`, and ICD-10 as used in Russia,
`urn:oid:1.2.643.5.1.13.13.11.1005`. Our specialties are free words (`cardiology`), so the
register's codes come from `fhir_specialty_codes`; a specialty without one keeps only ours.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from pydantic import Field
from pydantic_settings import BaseSettings

PUBLIC_PREFIX = "/api/fhir"
DEFAULT_SYSTEM_BASE = "https://telemed.example/fhir/"
HL7_ICD10 = "http://hl7.org/fhir/sid/icd-10"
# The code systems' one group of variables, which every service reads whatever its own prefix.
SHARED_PREFIX = "TELEMED_"


def _shared(name: str) -> str:
    """The one variable of field `name`: `TELEMED_FHIR_ICD10_SYSTEM` for `fhir_icd10_system`
    (set it so, or pass the variable's name to the class, not the field's)."""
    return SHARED_PREFIX + name.upper()


class FhirSettings(BaseSettings):
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The gateway as clients reach it: the base of the FHIR views' absolute "
        "URLs (`<public_url>/api/fhir/...`, a document's content, a video visit's address).",
    )
    fhir_system_base: str = Field(
        validation_alias=_shared("fhir_system_base"),
        default=DEFAULT_SYSTEM_BASE,
        description="The base of our own code systems and identifier systems "
        "(`<base>CodeSystem/visit-type`); a deployment sets a URL it controls.",
    )
    fhir_icd10_system: str = Field(
        validation_alias=_shared("fhir_icd10_system"),
        default=HL7_ICD10,
        description="The system of diagnosis codes: HL7's ICD-10, or Russia's edition "
        "`urn:oid:1.2.643.5.1.13.13.11.1005` (the codes are the same).",
    )
    fhir_specialty_system: str = Field(
        validation_alias=_shared("fhir_specialty_system"),
        default="",
        description="A federal register of specialties coded beside ours, e.g. "
        "`urn:oid:1.2.643.5.1.13.13.11.1066`; empty: ours only.",
    )
    fhir_specialty_codes: dict[str, str] = Field(
        validation_alias=_shared("fhir_specialty_codes"),
        default_factory=dict,
        description="Our specialty (`cardiology`) → its code in `fhir_specialty_system`.",
    )
    fhir_patient_reference_system: str = Field(
        validation_alias=_shared("fhir_patient_reference_system"),
        default="",
        description="The identifier system of an MIS's patient references (e.g. the MIS's "
        "OID as `urn:oid:...`); empty: `<fhir_system_base>sid/mis-patient-reference`.",
    )
    fhir_policy_system: str = Field(
        validation_alias=_shared("fhir_policy_system"),
        default="",
        description="The identifier system of OMS policy numbers; empty: "
        "`<fhir_system_base>sid/oms-policy`.",
    )


@dataclass(frozen=True)
class FhirTerms:
    """The configured base and systems, as the renderings use them."""

    public_url: str = "http://127.0.0.1:8000"
    system_base: str = DEFAULT_SYSTEM_BASE
    icd10_system: str = HL7_ICD10
    specialty_system: str = ""
    specialty_codes: Mapping[str, str] = field(default_factory=dict)
    patient_reference_system: str = ""
    policy_system: str = ""

    @classmethod
    def from_settings(cls, settings: FhirSettings) -> "FhirTerms":
        base = settings.fhir_system_base
        return cls(
            public_url=settings.public_url.rstrip("/"),
            system_base=base,
            icd10_system=settings.fhir_icd10_system,
            specialty_system=settings.fhir_specialty_system,
            specialty_codes=dict(settings.fhir_specialty_codes),
            patient_reference_system=settings.fhir_patient_reference_system
            or base + "sid/mis-patient-reference",
            policy_system=settings.fhir_policy_system or base + "sid/oms-policy",
        )

    @property
    def base(self) -> str:
        """The FHIR base: `https://host/api/fhir`."""
        return self.public_url + PUBLIC_PREFIX

    def url(self, path: str) -> str:
        """An absolute URL of a path of the gateway's (`/api/files/...`)."""
        return self.public_url + path

    def system(self, path: str) -> str:
        """One of our own systems: `CodeSystem/visit-type`, `sid/conclusion`..."""
        return self.system_base + path

    def local(self, system: str, code: str, display: str | None = None) -> dict[str, Any]:
        """A coding of one of our own code systems (`<base>CodeSystem/<system>`)."""
        found = {"system": self.system(f"CodeSystem/{system}"), "code": code}
        return found | {"display": display} if display else found

    def icd10(self, code: str) -> dict[str, Any]:
        return {"system": self.icd10_system, "code": code}

    def specialty(self, specialty: str) -> dict[str, Any]:
        """A specialty as a CodeableConcept: ours, the federal register's code where one is
        configured, and the words."""
        codings = [self.local("specialty", specialty)]
        federal = self.specialty_codes.get(specialty)
        if self.specialty_system and federal:
            codings.append({"system": self.specialty_system, "code": federal})
        return {"coding": codings, "text": specialty.replace("_", " ")}


def terms_of(request: Request) -> FhirTerms:
    """The terms of the app serving the request, made once from its settings."""
    state = request.app.state
    terms: FhirTerms | None = getattr(state, "fhir_terms", None)
    if terms is None:
        terms = state.fhir_terms = FhirTerms.from_settings(state.settings)
    return terms
