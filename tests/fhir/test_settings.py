"""The FHIR views' settings: code systems as configured, and the four services that render
FHIR agreeing on them: under the launcher's environment, the gateway, consult, files and
scheduling code with the same systems and build URLs on the same public base, each value set
in one place."""

import os
from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from gateway.settings import GatewaySettings
from services.common.fhir import FhirTerms
from services.common.fhir_terms import FhirSettings
from services.consult.settings import ConsultSettings
from services.files.settings import FilesSettings
from services.scheduling.settings import SchedulingSettings
from telemed.launcher import Launcher
from telemed.registry import SERVICES, spec

RENDERERS: dict[str, type[BaseSettings]] = {
    "gateway": GatewaySettings,
    "consult": ConsultSettings,
    "files": FilesSettings,
    "scheduling": SchedulingSettings,
}
NSI_ICD10 = "urn:oid:1.2.643.5.1.13.13.11.1005"
NSI_SPECIALTIES = "urn:oid:1.2.643.5.1.13.13.11.1066"


def _terms_under(launcher: Launcher, monkeypatch: pytest.MonkeyPatch) -> dict[str, FhirTerms]:
    """Each service's FHIR terms, its settings read from the environment the launcher gives
    its process (and nothing else of this one's)."""
    found: dict[str, FhirTerms] = {}
    for name, settings_class in RENDERERS.items():
        environment = launcher.environment(spec(name))
        with monkeypatch.context() as patch:
            for variable in [key for key in os.environ if key.startswith("TELEMED_")]:
                patch.delenv(variable)
            for variable, value in environment.items():
                patch.setenv(variable, value)
            settings = settings_class(_env_file=None)
        assert isinstance(settings, FhirSettings)
        found[name] = FhirTerms.from_settings(settings)
    return found


def test_under_the_launcher_the_four_services_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = {service.name: 9000 + number for number, service in enumerate(SERVICES)}
    local = Launcher(tmp_path, ports=ports | {"gateway": 8123})
    defaults = _terms_under(local, monkeypatch)
    expected = FhirTerms.from_settings(FhirSettings(public_url="http://127.0.0.1:8123"))
    assert list(defaults.values()) == [expected] * len(RENDERERS)
    assert defaults["files"].base == "http://127.0.0.1:8123/api/fhir"

    configured = Launcher(
        tmp_path,
        extra_env={
            "TELEMED_GATEWAY_PUBLIC_URL": "https://telemed.region.example/",
            "TELEMED_FHIR_SYSTEM_BASE": "https://fhir.region.example/",
            "TELEMED_FHIR_ICD10_SYSTEM": NSI_ICD10,
            "TELEMED_FHIR_SPECIALTY_SYSTEM": NSI_SPECIALTIES,
            "TELEMED_FHIR_SPECIALTY_CODES": '{"cardiology": "27"}',
        },
    )
    terms = _terms_under(configured, monkeypatch)
    assert all(found == terms["gateway"] for found in terms.values()), terms
    consult = terms["consult"]
    assert consult.base == "https://telemed.region.example/api/fhir"
    assert consult.icd10("I21.4") == {"system": NSI_ICD10, "code": "I21.4"}
    assert consult.specialty("cardiology")["coding"][1] == {"system": NSI_SPECIALTIES, "code": "27"}
    assert consult.patient_reference_system == (
        "https://fhir.region.example/sid/mis-patient-reference"
    )


def test_a_services_own_prefix_does_not_set_the_shared_systems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One place only: a value under one service's prefix would make that service disagree,
    so it is not read."""
    launcher = Launcher(tmp_path, extra_env={"TELEMED_CONSULT_FHIR_ICD10_SYSTEM": NSI_ICD10})
    terms = _terms_under(launcher, monkeypatch)
    assert {found.icd10_system for found in terms.values()} == {FhirTerms().icd10_system}


def test_code_systems_are_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    default = FhirTerms()
    assert default.specialty("cardiology") == {
        "coding": [{"system": "https://telemed.example/fhir/CodeSystem/specialty",
                    "code": "cardiology"}],
        "text": "cardiology",
    }  # fmt: skip
    for variable, value in {
        "TELEMED_FHIR_SYSTEM_BASE": "https://fhir.region.example/",
        "TELEMED_FHIR_ICD10_SYSTEM": NSI_ICD10,
        "TELEMED_FHIR_SPECIALTY_SYSTEM": NSI_SPECIALTIES,
        "TELEMED_FHIR_SPECIALTY_CODES": '{"cardiology": "27"}',
    }.items():
        monkeypatch.setenv(variable, value)
    terms = FhirTerms.from_settings(FhirSettings(public_url="https://mis.region.example/"))
    assert terms.base == "https://mis.region.example/api/fhir"
    assert terms.icd10("I21.4") == {"system": NSI_ICD10, "code": "I21.4"}
    codings = terms.specialty("cardiology")["coding"]
    assert codings[1] == {"system": NSI_SPECIALTIES, "code": "27"}
    assert codings[0]["system"] == "https://fhir.region.example/CodeSystem/specialty"
    assert len(terms.specialty("neurology")["coding"]) == 1  # no code mapped: ours alone
    assert terms.patient_reference_system == "https://fhir.region.example/sid/mis-patient-reference"
