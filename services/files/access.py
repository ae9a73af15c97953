"""Consult's grants as the files service reads them: checked locally, never by asking consult.

Only consult knows who may read a case and which files belong to it; it says so in a grant it
signs for one caller (`services.common.grants`). A `case.read` grant lets its holder read the
files it names; a `case.pin` grant lets the owner of a file bind it to the case it names.
"""

import uuid
from dataclasses import dataclass

from services.common.auth import Principal
from services.common.grants import Grant, GrantVerifier
from services.files.models import StoredFile


@dataclass(frozen=True)
class PresentedGrant:
    """A grant the caller sent, checked only when their ownership does not already decide."""

    token: str
    verifier: GrantVerifier

    def check(self, principal: Principal, purpose: str) -> Grant:
        """The grant if consult signed it, it is current, the caller's and for `purpose`;
        else a 403."""
        return self.verifier.verify(self.token, subject=principal.subject, purpose=purpose)


def lets_read(grant: Grant, record: StoredFile) -> bool:
    """A read grant covers the files it names; a file already pinned must be pinned to the
    grant's case, so a grant of one case never opens another case's file."""
    return grant.covers(record.id) and record.case_id in (None, grant.case_id)


def lets_pin(grant: Grant, file_id: uuid.UUID, case_id: uuid.UUID) -> bool:
    """A pin grant names exactly the file and the case consult stored it in."""
    return grant.case_id == case_id and grant.covers(file_id)
