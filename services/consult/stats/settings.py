"""When and over which days the figures are rolled up and published."""

from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field


class StatsSettings(BaseModel):
    """The figures' share of the consult settings (`TELEMED_CONSULT_` variables)."""

    stats_timezone: ZoneInfo = Field(
        default=ZoneInfo("UTC"),
        description="The deployment's calendar days, which the figures across organisations "
        "count (totals, days, specialties) and the gauges; one organisation's figures count "
        "its own zone's. A region's portal sets the region's zone.",
    )
    stats_interval_seconds: float = Field(
        default=60.0, gt=0, description="How often days are rolled up and the gauges refreshed."
    )
    stats_final_after_days: int = Field(
        default=14,
        ge=1,
        le=90,
        description="Days after which a day's figures are final although some of its cases or "
        "appeals are still open (they stay counted as late); until then each run rolls it up "
        "again.",
    )
    stats_window_days: int = Field(
        default=30,
        ge=1,
        le=366,
        description="The days up to today that the figures cover when no period is asked "
        "for, and that the Prometheus gauges always cover.",
    )
