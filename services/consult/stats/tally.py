"""Counts and duration histograms behind the figures, which add up across days and groups.

Durations are kept as histograms with four buckets per doubling, each bucket holding how many
durations fell in it and the shortest and longest of them. So a day rolls up into a few rows
however many appeals it had, and a percentile read from any sum of days is exact when each
bucket it lands in holds at most two distinct values, and otherwise lies within that bucket
(about 19% wide).
"""

import math
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

BUCKETS_PER_DOUBLING = 4


class Metric(StrEnum):
    """What is counted (or measured, for durations) of a day's cases, appeals and callbacks."""

    CASES_SUBMITTED = "cases.submitted"
    CASES_CONCLUDED = "cases.concluded"
    CASES_ON_TIME = "cases.on_time"
    CASES_LATE = "cases.late"
    CASES_OVERDUE_NOW = "cases.overdue_now"
    CASE_FIRST_RESPONSE = "cases.first_response"
    CASE_CONCLUSION = "cases.conclusion"
    APPEALS_RECEIVED = "appeals.received"
    # The hotline's volume by channel (`AppealChannel`), of the appeals received.
    APPEALS_BY_PHONE = "appeals.channel.phone"
    APPEALS_BY_CHAT = "appeals.channel.chat"
    APPEALS_BY_WEB = "appeals.channel.web"
    APPEALS_BY_API = "appeals.channel.api"
    APPEALS_RESOLVED = "appeals.resolved"
    APPEALS_FIRST_CONTACT = "appeals.first_contact"
    APPEALS_ON_TIME = "appeals.on_time"
    APPEALS_LATE = "appeals.late"
    APPEALS_ESCALATED = "appeals.escalated"
    APPEALS_OVERDUE_NOW = "appeals.overdue_now"
    APPEAL_FIRST_RESPONSE = "appeals.first_response"
    APPEAL_RESOLUTION = "appeals.resolution"
    # What the resolved appeals say was done (`ResolutionAction`), each action once per appeal,
    # and with what result (`ResolutionResult`); a name stays within the roll-up's 32 characters.
    ACTION_BOOKED_APPOINTMENT = "action.booked_appointment"
    ACTION_MOVED_APPOINTMENT_FORWARD = "action.moved_appointment_forward"
    ACTION_ARRANGED_FREE_CARE = "action.arranged_free_care"
    ACTION_REFUNDED_PAYMENT = "action.refunded_payment"
    ACTION_ARRANGED_HOME_VISIT = "action.arranged_home_visit"
    ACTION_ARRANGED_HOSPITAL_BED = "action.arranged_hospital_bed"
    ACTION_ARRANGED_ATTACHMENT = "action.arranged_attachment"
    ACTION_CALLED_HEAD = "action.called_head"
    ACTION_REFERRED_TO_INSURER = "action.referred_to_insurer"
    ACTION_ORDERED_QUALITY_CHECK = "action.ordered_quality_check"
    ACTION_EXPLAINED_RIGHTS = "action.explained_rights"
    ACTION_GAVE_INFORMATION = "action.gave_information"
    ACTION_REDIRECTED = "action.redirected"
    RESULT_RESOLVED = "result.resolved"
    RESULT_PARTIALLY_RESOLVED = "result.partially_resolved"
    RESULT_REFUSED = "result.refused"
    RESULT_REFERRED = "result.referred"
    CALLBACKS_OWED = "callbacks.owed"
    CALLBACKS_ON_TIME = "callbacks.on_time"
    CALLBACKS_LATE = "callbacks.late"
    CALLBACKS_REACHED = "callbacks.reached"
    CALLBACKS_FAILED = "callbacks.failed"  # every attempt allowed made, nobody reached
    PATIENTS_MONITORED_NOW = "monitoring.patients_now"
    PATIENTS_MONITORED = "monitoring.patients"
    MONITORING_ESCALATIONS = "monitoring.escalations"


def bucket_of(seconds: float) -> int:
    return math.floor(BUCKETS_PER_DOUBLING * math.log2(1 + max(seconds, 0.0)))


@dataclass(slots=True)
class Bucket:
    count: int
    low: float
    high: float

    def value_at(self, index: int) -> float:
        """The `index`-th shortest (from 0) of its durations, taking them as evenly spread."""
        if self.count == 1:
            return self.low
        return self.low + (self.high - self.low) * index / (self.count - 1)


@dataclass
class Durations:
    buckets: dict[int, Bucket] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(bucket.count for bucket in self.buckets.values())

    def add(self, seconds: float) -> None:
        self.add_bucket(bucket_of(seconds), 1, seconds, seconds)

    def add_bucket(self, key: int, count: int, low: float, high: float) -> None:
        found = self.buckets.get(key)
        if found is None:
            self.buckets[key] = Bucket(count, low, high)
            return
        found.count += count
        found.low, found.high = min(found.low, low), max(found.high, high)

    def merge(self, other: "Durations") -> None:
        for key, bucket in other.buckets.items():
            self.add_bucket(key, bucket.count, bucket.low, bucket.high)

    def quantile(self, q: float) -> float | None:
        """Linear interpolation between the closest ranks, as PostgreSQL's `percentile_cont`."""
        total = self.count
        if total == 0:
            return None
        position = (total - 1) * q
        lower = math.floor(position)
        value = self._ranked(lower)
        if position == lower:
            return value
        return value + (self._ranked(lower + 1) - value) * (position - lower)

    def _ranked(self, rank: int) -> float:
        for key in sorted(self.buckets):
            bucket = self.buckets[key]
            if rank < bucket.count:
                return bucket.value_at(rank)
            rank -= bucket.count
        raise IndexError(rank)


@dataclass
class Tally:
    counts: Counter[Metric] = field(default_factory=Counter)
    durations: dict[Metric, Durations] = field(default_factory=dict)

    def count(self, metric: Metric, how_many: int = 1) -> None:
        self.counts[metric] += how_many

    def durations_of(self, metric: Metric) -> Durations:
        # Not setdefault: a request adds thousands of buckets, and an empty Durations made
        # for each would be garbage the collector has to walk.
        found = self.durations.get(metric)
        if found is None:
            found = self.durations[metric] = Durations()
        return found

    def measure(self, metric: Metric, seconds: float) -> None:
        self.durations_of(metric).add(seconds)

    def merge(self, other: "Tally") -> None:
        self.counts.update(other.counts)
        for metric, durations in other.durations.items():
            self.durations_of(metric).merge(durations)
