"""The console's navigation per role: only screens that exist are listed."""

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # a msgid; the layout translates it


# Listed for Babel's extraction (`pybabel extract` reads `N_`), translated by the layout.
def N_(message: str) -> str:  # noqa: N802 - gettext's own name for "mark, translate later"
    return message


HOME = NavItem("/", N_("Home"))
ACCOUNT = NavItem("/profile", N_("Account"))
CASES = NavItem("/cases", N_("Cases"))
NEW_CASE = NavItem("/cases/new", N_("New case"))
QUEUE = NavItem("/cases", N_("Queue"))
CONSILIA = NavItem("/consilia", N_("Consilium invitations"))
# A patient's home page is their visits (web/patients/visits.py).
QUESTIONS = NavItem("/questions", N_("My questions"))
VISITS = NavItem("/visits", N_("Video visits"))
ORGANIZATIONS = NavItem("/admin/organizations", N_("Organisations"))
USERS = NavItem("/admin/users", N_("Users"))
API_CLIENTS = NavItem("/admin/api-clients", N_("API clients"))
WEBHOOKS = NavItem("/admin/webhooks", N_("Webhooks"))
AUDIT = NavItem("/admin/audit", N_("Audit trail"))
# The hotline operator is a coordinator (consult's appeals are theirs to file and handle).
NEW_APPEAL = NavItem("/appeals/new", N_("New appeal"))
APPEALS = NavItem("/appeals", N_("Appeals"))
CALLBACKS = NavItem("/callbacks", N_("Callbacks"))
# What callers are told on topics the channels do not handle, per organisation and language.
ANSWERS = NavItem("/appeals/answers", N_("Where-to-go answers"))
# The articles operators read out to callers; those who file appeals read them.
KNOWLEDGE = NavItem("/knowledge", N_("Knowledge base"))
# The registry's patients (booking starts from a patient's page) and the specialist's schedule.
PATIENTS = NavItem("/patients", N_("Patients"))
SCHEDULE = NavItem("/schedule", N_("Schedule"))
# At-risk patients watched at home and the escalations their check-ins raise; the figures.
MONITORING = NavItem("/monitoring", N_("Monitoring"))
ESCALATIONS = NavItem("/monitoring/tasks", N_("Escalations"))
FIGURES = NavItem("/figures", N_("Figures"))
# Doctors called to callers' homes: the call, and a polyclinic's list for the day.
CALL_HOME = NavItem("/home-visits/new", N_("Call a doctor home"))
HOME_VISITS = NavItem("/home-visits", N_("Home-visit list"))
# Intensive-care wards watched by their bedside cameras: the overview and the wards' management.
WARDS = NavItem("/wards", N_("ICU monitoring"))
# The screens of each role beyond the home page and the account.
ROLE_SCREENS = {
    "district_medic": [CASES, NEW_CASE, VISITS, HOME_VISITS, WARDS],
    "specialist": [QUEUE, CONSILIA, VISITS, SCHEDULE, WARDS],
    "patient": [QUESTIONS],
    "admin": [ORGANIZATIONS, USERS, API_CLIENTS, WEBHOOKS, AUDIT, KNOWLEDGE, ANSWERS, FIGURES],
    "coordinator": [
        NEW_APPEAL,
        APPEALS,
        CALLBACKS,
        ANSWERS,
        CALL_HOME,
        HOME_VISITS,
        KNOWLEDGE,
        PATIENTS,
        MONITORING,
        ESCALATIONS,
        WARDS,
        FIGURES,
    ],
    "registrar": [PATIENTS, CALL_HOME, HOME_VISITS, KNOWLEDGE],
}

ROLE_NAMES = {
    "admin": N_("Administrator"),
    "coordinator": N_("Coordinator"),
    "district_medic": N_("District medic"),
    "specialist": N_("Specialist"),
    "patient": N_("Patient"),
    "registrar": N_("Registrar"),
}


def navigation(role: str | None) -> list[NavItem]:
    """Each role's screens: the home page, the role's own, then the account."""
    if role is None:
        return []
    return [HOME, *ROLE_SCREENS.get(role, []), ACCOUNT]
