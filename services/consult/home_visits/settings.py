"""Home visits' policies: the cut-off that makes a call today's or the next working day's, and
the window the caller is told, deployment-wide and per polyclinic."""

import uuid
from datetime import time

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.times import TimeOfDay


class VisitRule(BaseModel):
    """When a polyclinic's calls are today's, and when its doctors go out (local times)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cutoff: TimeOfDay = Field(
        default=time(12), description="Calls received before it are today's; later, the next "
        "working day's."
    )  # fmt: skip
    window_opens: TimeOfDay = time(12)
    window_closes: TimeOfDay = time(18)

    @model_validator(mode="after")
    def _window_in_order(self) -> "VisitRule":
        if self.window_opens >= self.window_closes:
            raise ValueError("the window must open before it closes")
        return self


class HomeVisitsSettings(BaseModel):
    """Home visits' share of the consult settings (`TELEMED_CONSULT_` variables)."""

    home_visit_rule: VisitRule = Field(
        default_factory=VisitRule,
        description="The cut-off and the visiting window of every polyclinic without its own.",
    )
    home_visit_rules: dict[uuid.UUID, VisitRule] = Field(
        default_factory=dict,
        description="A polyclinic's own cut-off and window, by its directory id.",
    )

    def visit_rule(self, organization_id: uuid.UUID) -> VisitRule:
        return self.home_visit_rules.get(organization_id, self.home_visit_rule)
