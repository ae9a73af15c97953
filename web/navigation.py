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
# The screens of each role beyond the home page and the account.
ROLE_SCREENS = {
    "district_medic": [CASES, NEW_CASE],
    "specialist": [QUEUE],
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
