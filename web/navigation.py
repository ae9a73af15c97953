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

ROLE_NAMES = {
    "admin": N_("Administrator"),
    "coordinator": N_("Coordinator"),
    "district_medic": N_("District medic"),
    "specialist": N_("Specialist"),
    "patient": N_("Patient"),
    "registrar": N_("Registrar"),
}


def navigation(role: str | None) -> list[NavItem]:
    """Each role's screens; every role has these two so far (the role's own lists come with
    the screens of issue 17's next parts)."""
    if role is None:
        return []
    return [HOME, ACCOUNT]
