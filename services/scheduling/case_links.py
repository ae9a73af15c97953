"""Links to consultation cases, made only on the consult service's word: its `case.link` grant.

Calls run consult → scheduling, so scheduling cannot ask consult whether a caller may link a
case. Consult decides and signs a grant naming the caller and the case; scheduling checks it
with consult's public key alone. A case id a caller names without one is refused.
"""

import uuid
from collections.abc import Callable

from services.common.auth import Principal
from services.common.errors import Forbidden
from services.common.grants import GrantVerifier

GRANT_AUDIENCE = "scheduling"
CASE_LINK = "case.link"

# Raises `Forbidden` unless the consult service granted the caller linking this case.
CaseLink = Callable[[uuid.UUID], None]


def case_link(verifier: GrantVerifier, principal: Principal, grant: str | None) -> CaseLink:
    """The check of the grant a request carried (`Telemed-Grant`), for the case it names."""

    def check(case_id: uuid.UUID) -> None:
        named = str(case_id)
        if grant is None:
            raise Forbidden(
                f"Only the consult service links consultation case {case_id}: link the "
                f"episode through POST /api/consult/cases/{case_id}/episodes.",
                case_id=named,
            )
        try:
            granted = verifier.verify(grant, subject=principal.subject, purpose=CASE_LINK)
        except Forbidden as error:
            raise Forbidden(error.detail, case_id=named) from error
        if granted.case_id != case_id:
            raise Forbidden(
                f"The grant is for case {granted.case_id}, not this one.", case_id=named
            )

    return check
