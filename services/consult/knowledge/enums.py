"""Languages, categories, statuses and changes of the knowledge base's articles, and the
categories each appeal topic calls for."""

from enum import StrEnum


class ArticleLanguage(StrEnum):
    RU = "ru"
    EN = "en"


class ArticleCategory(StrEnum):
    """What callers ask hotlines about, as the regions' hotlines and insurers group it."""

    OMS_POLICY = "oms_policy"  # getting, replacing, using the compulsory insurance policy
    PROGRAMME_COVERAGE = "programme_coverage"  # what the state guarantee programme covers
    CHOOSING_CLINIC = "choosing_clinic"  # attaching to (changing) a polyclinic, a doctor
    CARE_OUTSIDE_REGION = "care_outside_region"
    REFUSED_FREE_CARE = "refused_free_care"
    PAID_SERVICES = "paid_services"  # paid services pushed instead of free ones
    WAITING_TIMES = "waiting_times"  # waits beyond the programme's limits
    DRUG_AVAILABILITY = "drug_availability"  # subsidised drugs, where to ask
    HOME_VISITS = "home_visits"
    HOSPITALISATION = "hospitalisation"
    EMERGENCY_CARE = "emergency_care"
    PATIENT_RIGHTS = "patient_rights"  # complaints, second opinions, records


class ArticleStatus(StrEnum):
    DRAFT = "draft"  # seen by its editors only
    PUBLISHED = "published"  # read by the operators of its regions
    ARCHIVED = "archived"  # kept, with its versions, for the appeals that cited it


class ArticleAction(StrEnum):
    PUBLISH = "publish"
    ARCHIVE = "archive"


class ArticleChange(StrEnum):
    """What made a version: each edit and each change of status is one."""

    CREATED = "created"
    EDITED = "edited"
    PUBLISHED = "published"
    ARCHIVED = "archived"


C = ArticleCategory
# The categories whose articles an appeal's topic calls for first: the appeal categories and
# the topics the hotline does not handle (services/consult/appeals/enums.py), by value, as the
# new-appeal screen sends them (tests/consult/knowledge pins the two vocabularies together).
TOPIC_CATEGORIES: dict[str, frozenset[ArticleCategory]] = {
    "question": frozenset(),
    "other": frozenset(),
    "complaint": frozenset({C.PATIENT_RIGHTS}),
    "appointment_help": frozenset({C.CHOOSING_CLINIC, C.WAITING_TIMES, C.HOME_VISITS}),
    "refusal_of_free_care": frozenset(
        {C.REFUSED_FREE_CARE, C.PROGRAMME_COVERAGE, C.CHOOSING_CLINIC}
    ),
    "paid_service_imposition": frozenset({C.PAID_SERVICES, C.PROGRAMME_COVERAGE}),
    "waiting_time": frozenset({C.WAITING_TIMES}),
    "hospital_bed": frozenset({C.HOSPITALISATION}),
    "diagnosis_or_treatment": frozenset({C.PATIENT_RIGHTS}),
    "medicine_availability": frozenset({C.DRUG_AVAILABILITY}),
    "emergency_care": frozenset({C.EMERGENCY_CARE}),
}
