"""The monitoring programmes: check-in intervals, symptoms asked, thresholds that escalate."""

from pydantic import BaseModel, Field

from services.consult.monitoring.thresholds import Key, Programme, default_programmes


class MonitoringSettings(BaseModel):
    """Monitoring's share of the consult settings (`TELEMED_CONSULT_` variables)."""

    monitoring_programmes: dict[Key, Programme] = Field(
        default_factory=default_programmes,
        description="Monitoring programmes by key, each with its check-in interval, the "
        "symptoms asked and the thresholds that escalate; replaces the defaults as a whole.",
    )
