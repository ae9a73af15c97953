"""The figures as Prometheus gauges over the last `stats_window_days`, and the periodic job that
refreshes them after rolling up the days that have ended.

The job computes the figures and a collector serves the latest of them: a scrape is
synchronous and must stay cheap, and the figures need the database. The gauges are labelled
by organisation (and specialty, for consultations) only, never by case, appeal or patient: a
region's 90 organisations and a dozen specialties keep them to a few thousand series.
"""

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from pydantic import BaseModel

from services.common.db import Database
from services.common.jobs import periodic_job
from services.consult.stats.cohorts import Key, Scope, read_monitoring
from services.consult.stats.figures import (
    appeal_figures,
    callback_figures,
    case_figures,
    monitoring_figures,
)
from services.consult.stats.rollup import roll_up
from services.consult.stats.service import group, period_tallies, window
from services.consult.stats.settings import StatsSettings

logger = logging.getLogger(__name__)
PREFIX = "consult_stats"
UNROUTED = "none"  # the organisation of appeals nobody has been routed yet


class StatsCollector:
    """Serves the gauges the job computed last."""

    def __init__(self) -> None:
        self.families: list[Metric] = []

    def collect(self) -> Iterable[Metric]:
        return list(self.families)


def _add(
    families: dict[str, GaugeMetricFamily],
    name: str,
    figures: BaseModel,
    labels: dict[str, str],
    about: str,
    context: str = "",
) -> None:
    """One sample per number in `figures`, in a gauge named after its path in the model (a
    mapping's keys too: `..._by_channel_phone`) and described by the fields' descriptions
    along it."""
    for field, info in type(figures).model_fields.items():
        value = getattr(figures, field)
        path = f"{name}_{field}"
        said = " ".join(part for part in (context, info.description or field) if part)
        if isinstance(value, BaseModel):
            _add(families, path, value, labels, about, said)
        elif isinstance(value, dict):
            for key, number in value.items():
                _sample(families, f"{path}_{key}", f"{said} ({key})", labels, about, number)
        elif value is not None:
            _sample(families, path, said, labels, about, value)


def _sample(
    families: dict[str, GaugeMetricFamily],
    path: str,
    said: str,
    labels: dict[str, str],
    about: str,
    value: float,
) -> None:
    if path not in families:
        families[path] = GaugeMetricFamily(path, f"{said} {about}", labels=list(labels))
    families[path].add_metric(list(labels.values()), float(value))


async def gauges(database: Database, settings: StatsSettings, now: datetime) -> list[Metric]:
    """The window's figures: consultations by organisation and specialty, appeals, callbacks
    and monitoring by organisation, all of the deployment's days (the job has no token to ask
    the directory for each organisation's zone)."""
    days = window(settings, now)
    async with database.sessionmaker() as session:
        tallies = await period_tallies(session, Scope(), days, now)
        for organization_id, tally in (await read_monitoring(session, None, days)).items():
            tallies[Key("", organization_id, "")].merge(tally)
    about = f"(the last {settings.stats_window_days} days)"
    families: dict[str, GaugeMetricFamily] = {}
    cases = {key: tally for key, tally in tallies.items() if key.specialty}
    for (organization, specialty), tally in group(
        cases, lambda key: (key.organization_id, key.specialty)
    ).items():
        labels = {"organization": str(organization), "specialty": specialty}
        _add(families, f"{PREFIX}_cases", case_figures(tally), labels, about)
    for organization, tally in group(tallies, lambda key: key.organization_id).items():
        labels = {"organization": str(organization or UNROUTED)}
        _add(families, f"{PREFIX}_appeals", appeal_figures(tally), labels, about)
        _add(families, f"{PREFIX}_callbacks", callback_figures(tally), labels, about)
        _add(families, f"{PREFIX}_monitoring", monitoring_figures(tally), labels, about)
    return list(families.values())


async def refresh(app: FastAPI) -> None:
    """Rolls up the days that have ended, then recomputes the gauges."""
    settings: StatsSettings = app.state.settings
    database: Database = app.state.database
    now: datetime = app.state.clock()
    await roll_up(database, settings, now, app.state.stats_zones_asked)
    collector: StatsCollector = app.state.stats_collector
    collector.families = await gauges(database, settings, now)


@asynccontextmanager
async def stats_jobs(app: FastAPI, settings: StatsSettings) -> AsyncIterator[None]:
    """For the app's lifetime: the gauges on `/metrics`, the job refreshing them."""
    registry: CollectorRegistry = app.state.metrics_registry
    app.state.stats_collector = collector = StatsCollector()
    app.state.stats_zones_asked = set()
    registry.register(collector)
    try:
        async with periodic_job(
            "consult-statistics",
            settings.stats_interval_seconds,
            lambda: refresh(app),
            tracing=app.state.tracing,
        ):
            yield
    finally:
        registry.unregister(collector)
