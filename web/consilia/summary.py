"""The consilium's part of the case page: a summary with a link to its page, or, to the case's
specialist while consult would let them, the link to convene one."""

from typing import Any

from fastapi import Request

from web.cases.schemas import Case
from web.consilia.api import ConsiliaApi
from web.consilia.labels import LABELS, OUTSTANDING
from web.models import BrowserSession

# Where consult lets the case's specialist convene a consilium (its transition table).
CONVENABLE = ("accepted", "in_progress")


async def case_part(
    request: Request, session: BrowserSession, token: str, case: Case
) -> dict[str, Any]:
    """`consilium` (or None), `can_convene`, and the words the summary uses. A case is asked
    for its consilium only in mode `consilium`, which convening one sets."""
    consilium = None
    if case.mode == "consilium":
        consilium = await ConsiliaApi.of(request).consilium(token, case.id)
    mine = case.assignee_id == session.user_id
    can_convene = (
        consilium is None
        and session.role == "specialist"
        and mine
        and case.kind == "doctor_to_doctor"
        and case.status in CONVENABLE
    )
    waiting = [] if consilium is None else [
        item for item in consilium.invitations if item.status in OUTSTANDING
    ]  # fmt: skip
    return {
        **LABELS,
        "consilium": consilium,
        "consilium_waiting": len(waiting),
        "can_convene": can_convene,
    }


def without_conclusion(steps: set[str], part: dict[str, Any]) -> set[str]:
    """A consilium's case is concluded by the chair's protocol, not by a conclusion."""
    return steps - {"conclude", "amend"} if part["consilium"] is not None else steps
