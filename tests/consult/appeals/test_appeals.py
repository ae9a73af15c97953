"""Patients' appeals through the gateway: routing by territory, the excluded-topic redirect,
working hours across zones, the lifecycle, reassignment, escalation and every denial."""

import json
import random
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from bench.hotline_day import DISTRICTS, year_of_appeals
from gateway.client import Organization
from services.common.audit import verify_chain
from services.consult.appeals.models import Appeal
from services.consult.appeals.routing import merge_territory_file, read_territory_file
from services.consult.db import KERNEL_TABLES
from telemed.samples import sample_resolution
from tests.consult.appeals.conftest import (
    CONSULT,
    KEMEROVO,
    KHABAROVSK,
    KHABAROVSK_ZONE,
    NOVOKUZNETSK,
    Hotline,
    at,
    local,
)
from tests.scheduling.conftest import assert_problem

ANSWER = (
    "We called the head of the polyclinic: the histology is covered by the OMS programme. "
    "You are booked for it free of charge on 22 October at 10:00, room 214."
)


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [event["kind"] for event in events]


# --- routing by territory -------------------------------------------------------------------


async def test_an_appeal_is_routed_by_the_callers_territory(hotline: Hotline) -> None:
    novokuznetsk = await hotline.filed()
    assert novokuznetsk["status"] == "routed"
    assert novokuznetsk["organization_id"] == hotline.polyclinic["id"]
    assert novokuznetsk["region"] == "42"
    assert novokuznetsk["contact"]["phone"] == "+7 913 123-45-67"
    kemerovo = await hotline.filed(territory=KEMEROVO, category="hospital_bed")
    assert kemerovo["organization_id"] == hotline.hospital["id"]
    history = await hotline.read(hotline.operator, f"/appeals/{kemerovo['id']}/history")
    assert kinds(history) == ["received", "routed"]
    assert history[1]["to_organization_id"] == hotline.hospital["id"]
    assert history[1]["actor_id"] is None  # the map routed it, not a person
    assert history[1]["note"] == f"territory {KEMEROVO}"


async def test_the_deadline_depends_on_category_and_channel(hotline: Hotline) -> None:
    # Monday 10:00 at the polyclinic, open 08:00-20:00.
    paid = await hotline.filed()  # 12 working hours: 10 today, 2 tomorrow
    assert at(paid["due_at"]) == local("2025-10-21T10:00")
    bed = await hotline.filed(category="hospital_bed")  # a missing bed: 2 working hours
    assert at(bed["due_at"]) == local("2025-10-20T12:00")
    question = await hotline.filed(category="question")  # by phone: 4 working hours
    assert at(question["due_at"]) == local("2025-10-20T14:00")
    written = await hotline.filed(hotline.mis, category="question", channel="api")
    assert at(written["due_at"]) == local("2025-10-21T10:00")  # written: a working day
    assert at(question["clock_starts_at"]) == at(question["received_at"]) == hotline.clock.now


async def test_an_unknown_territory_waits_new_and_is_routed_by_hand(hotline: Hotline) -> None:
    appeal = await hotline.filed(territory="32719000")  # Leninsk-Kuznetsky: not on the map
    assert appeal["status"] == "new"
    assert appeal["organization_id"] is None
    assert appeal["overdue"] is False
    assert appeal["due_at"] == appeal["received_at"]
    hotline.clock.advance(minutes=5)
    waiting = await hotline.read(hotline.operator, "/appeals", overdue="true")
    assert [item["id"] for item in waiting["items"]] == [appeal["id"]]
    elsewhere = await hotline.act(
        hotline.operator, appeal["id"], "route", {"organization_id": hotline.khabarovsk["id"]}
    )
    assert_problem(elsewhere, 422)
    routed = await hotline.done(
        hotline.operator, appeal["id"], "route", {"organization_id": hotline.hospital["id"]}
    )
    assert routed["status"] == "routed"
    assert routed["organization_id"] == hotline.hospital["id"]
    # The patient's clock started when they called, not when the operator routed it.
    assert at(routed["due_at"]) == local("2025-10-21T10:00")
    again = await hotline.act(
        hotline.operator, appeal["id"], "route", {"organization_id": hotline.hospital["id"]}
    )
    assert assert_problem(again, 409)["current_status"] == "routed"


async def test_a_preview_says_who_answers_and_by_when_storing_nothing(hotline: Hotline) -> None:
    async def preview(actor: Any = None, **params: str) -> Any:
        return await hotline.read(actor or hotline.operator, "/appeal-preview", **params)

    paid = await preview(territory=NOVOKUZNETSK, category="paid_service_imposition")
    assert paid["organization_id"] == hotline.polyclinic["id"]
    assert paid["territory_name"] == "Novokuznetsk city district"
    # As filing it would: 12 working hours from Monday 10:00 (see the deadline test above).
    assert at(paid["due_at"]) == local("2025-10-21T10:00")
    assert at(paid["clock_starts_at"]) == hotline.clock.now
    assert paid["answer"] is None
    excluded = await preview(territory=KEMEROVO, topic="emergency_care", channel="chat")
    assert excluded["organization_id"] == hotline.hospital["id"]
    assert excluded["due_at"] is None
    assert "103" in excluded["answer"]
    unknown = await preview(territory="32719000")
    answer_only = await preview(topic="medicine_availability")  # the territory not asked yet
    assert answer_only["territory"] is answer_only["organization_id"] is None
    assert "pharmacy" in answer_only["answer"]
    assert unknown["organization_id"] is unknown["due_at"] is unknown["territory_name"] is None
    far = await preview(hotline.patient, territory=KHABAROVSK, region="27")
    assert far["organization_id"] == hotline.khabarovsk["id"]
    no_region = await hotline.get(hotline.patient, "/appeal-preview", territory=NOVOKUZNETSK)
    assert_problem(no_region, 422)
    bad = await hotline.get(hotline.operator, "/appeal-preview", territory="no such/code")
    assert_problem(bad, 422)
    assert (await hotline.read(hotline.operator, "/appeals"))["items"] == []


async def test_the_territory_map_is_edited_by_the_regions_operators(hotline: Hotline) -> None:
    moved = await hotline.map_territory(
        hotline.operator, "42", NOVOKUZNETSK, hotline.hospital, "Novokuznetsk city district"
    )
    assert moved.status_code == 200, moved.text
    assert (await hotline.filed())["organization_id"] == hotline.hospital["id"]
    kuzbass = await hotline.read(hotline.patient, "/appeal-territories", region="42")
    assert [(row["code"], row["organization_id"]) for row in kuzbass] == [
        (KEMEROVO, hotline.hospital["id"]),
        (NOVOKUZNETSK, hotline.hospital["id"]),
    ]
    own = await hotline.read(hotline.far_operator, "/appeal-territories")
    assert [row["code"] for row in own] == [KHABAROVSK]
    deleted = await hotline.client.delete(
        f"{CONSULT}/appeal-territories/42/{KEMEROVO}", headers=hotline.operator.headers
    )
    assert deleted.status_code == 204
    assert (await hotline.filed(territory=KEMEROVO))["status"] == "new"
    gone = await hotline.client.delete(
        f"{CONSULT}/appeal-territories/42/{KEMEROVO}", headers=hotline.operator.headers
    )
    assert_problem(gone, 404)


@pytest.mark.parametrize("who", ["far_operator", "patient", "medic", "mis"])
async def test_only_admins_and_the_regions_operators_edit_the_map(
    hotline: Hotline, who: str
) -> None:
    actor = getattr(hotline, who)
    response = await hotline.map_territory(actor, "42", "32719000", hotline.hospital, "Leninsk")
    assert_problem(response, 403)
    assert hotline.stack.admin is not None
    by_admin = await hotline.map_territory(
        hotline.stack.admin, "42", "32719000", hotline.hospital, "Leninsk-Kuznetsky district"
    )
    assert by_admin.status_code == 200, by_admin.text


async def test_a_territory_maps_only_to_an_organisation_of_its_region(hotline: Hotline) -> None:
    foreign = await hotline.map_territory(
        hotline.operator, "42", "32719000", hotline.khabarovsk, "Leninsk"
    )
    assert_problem(foreign, 422)
    unknown = {"id": str(uuid.uuid4())}
    assert_problem(await hotline.map_territory(hotline.operator, "42", "x1", unknown, "X"), 422)
    bad_code = await hotline.client.put(
        f"{CONSULT}/appeal-territories/42/no spaces",
        json={"name": "X", "organization_id": hotline.hospital["id"]},
        headers=hotline.operator.headers,
    )
    assert_problem(bad_code, 422)


async def test_the_territory_file_is_merged_into_the_map(hotline: Hotline, tmp_path: Path) -> None:
    path = tmp_path / "territories.json"
    entries = [
        {"region": "42", "code": code, "name": name, "organization_id": organization["id"]}
        for code, name, organization in [
            (KEMEROVO, "Kemerovo", hotline.polyclinic),
            ("32719000", "Leninsk-Kuznetsky", hotline.hospital),
        ]
    ]
    path.write_text(json.dumps(entries))
    assert await merge_territory_file(hotline.database, KERNEL_TABLES.audit, path) == 2
    kuzbass = await hotline.read(hotline.operator, "/appeal-territories")
    assert {row["code"]: row["organization_id"] for row in kuzbass} == {
        KEMEROVO: hotline.polyclinic["id"],
        "32719000": hotline.hospital["id"],
        NOVOKUZNETSK: hotline.polyclinic["id"],  # made through the API, not in the file: kept
    }
    path.write_text(json.dumps([{"region": "42", "code": "bad code"}]))
    with pytest.raises(ValueError, match="territory file"):
        read_territory_file(path)


# --- topics the channels do not handle ------------------------------------------------------


@pytest.mark.parametrize(
    ("topic", "words"),
    [
        ("emergency_care", "103"),
        ("diagnosis_or_treatment", "book a visit"),
        ("medicine_availability", "pharmacy"),
    ],
)
async def test_an_excluded_topic_is_answered_at_once_and_closed(
    hotline: Hotline, topic: str, words: str
) -> None:
    appeal = await hotline.filed(hotline.patient, channel="chat", region="42", topic=topic)
    assert appeal["status"] == "redirected"
    assert appeal["redirect_topic"] == topic
    assert words in appeal["answer"]
    assert appeal["closed_at"] is not None
    assert appeal["overdue"] is False
    # Never silently queued: it is in no open queue.
    open_ones = await hotline.read(hotline.operator, "/appeals", status=["new", "routed"])
    assert appeal["id"] not in [item["id"] for item in open_ones["items"]]
    mine = await hotline.read(hotline.patient, "/appeals/mine")
    assert [(item["id"], item["status"]) for item in mine] == [(appeal["id"], "redirected")]


async def test_an_operator_redirects_an_appeal_found_out_of_scope(hotline: Hotline) -> None:
    appeal = await hotline.filed(category="question")
    redirected = await hotline.done(
        hotline.operator, appeal["id"], "redirect", {"topic": "diagnosis_or_treatment"}
    )
    assert redirected["status"] == "redirected"
    assert "103" in redirected["answer"]
    late = await hotline.act(hotline.operator, appeal["id"], "take")
    assert assert_problem(late, 409)["current_status"] == "redirected"


# --- working hours --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filed_at", "clock_starts", "due"),
    [
        # Saturday 19:55: five minutes still count; the rest waits for Monday.
        ("2025-10-25T19:55", "2025-10-25T19:55", "2025-10-27T11:55"),
        # Saturday 20:05: accepted, and the clock starts on Monday at 08:00.
        ("2025-10-25T20:05", "2025-10-27T08:00", "2025-10-27T12:00"),
        # Sunday noon: the desk is closed all day.
        ("2025-10-26T12:00", "2025-10-27T08:00", "2025-10-27T12:00"),
        # Monday before opening.
        ("2025-10-27T06:30", "2025-10-27T08:00", "2025-10-27T12:00"),
    ],
)
@pytest.mark.parametrize(
    ("zone", "territory", "filer"),
    [
        ("Asia/Novokuznetsk", NOVOKUZNETSK, "operator"),
        (KHABAROVSK_ZONE, KHABAROVSK, "far_operator"),
    ],
)
async def test_working_hours_are_the_receiving_organisations_local_hours(
    hotline: Hotline,
    filed_at: str,
    clock_starts: str,
    due: str,
    zone: str,
    territory: str,
    filer: str,
) -> None:
    hotline.clock.now = local(filed_at, zone)
    appeal = await hotline.filed(getattr(hotline, filer), category="question", territory=territory)
    assert appeal["status"] == "routed"
    assert at(appeal["received_at"]) == local(filed_at, zone)
    assert at(appeal["clock_starts_at"]) == local(clock_starts, zone)
    assert at(appeal["due_at"]) == local(due, zone)


async def test_one_instant_is_evening_in_kuzbass_and_night_in_khabarovsk(
    hotline: Hotline,
) -> None:
    # Saturday 19:55 in Novokuznetsk is 22:55 in Khabarovsk, after its medical chat closed.
    hotline.clock.now = local("2025-10-25T19:55")
    kuzbass = await hotline.filed(category="question")
    khabarovsk = await hotline.filed(
        hotline.far_operator, category="question", territory=KHABAROVSK
    )
    assert at(kuzbass["clock_starts_at"]) == hotline.clock.now
    assert at(khabarovsk["clock_starts_at"]) == local("2025-10-27T08:00", KHABAROVSK_ZONE)
    assert at(khabarovsk["due_at"]) == local("2025-10-27T12:00", KHABAROVSK_ZONE)


async def test_an_organisations_own_hours_set_the_deadline(hotline: Hotline) -> None:
    weekdays = [{"weekday": day, "opens": "09:00", "closes": "13:00"} for day in range(5)]
    clinic = await hotline.stack.organization(
        kind="polyclinic", timezone="Asia/Novokuznetsk", working_hours=weekdays
    )
    mapped = await hotline.map_territory(hotline.operator, "42", "32719000", clinic, "Leninsk")
    assert mapped.status_code == 200, mapped.text
    hotline.clock.now = local("2025-10-24T12:00")  # Friday noon: one hour left this week
    appeal = await hotline.filed(category="question", territory="32719000")
    assert at(appeal["due_at"]) == local("2025-10-27T12:00")  # Monday: 3 more hours from 09:00


# --- lifecycle ------------------------------------------------------------------------------


async def test_lifecycle_take_then_resolve_with_what_was_done(hotline: Hotline) -> None:
    appeal = await hotline.filed(hotline.patient, channel="web", region="42")
    assert appeal["patient_id"] == str(hotline.patient.id)
    taken = await hotline.done(hotline.polyclinic_operator, appeal["id"], "take")
    assert taken["status"] == "in_progress"
    assert taken["assignee_id"] == str(hotline.polyclinic_operator.id)
    resolved = await hotline.done(
        hotline.polyclinic_operator,
        appeal["id"],
        "resolve",
        sample_resolution(answer=ANSWER, first_contact_resolution=False),
    )
    assert resolved["status"] == "resolved"
    assert resolved["first_contact_resolution"] is False
    assert resolved["resolved_at"] == resolved["closed_at"] is not None
    assert resolved["resolution"]["actions"] == ["called_head"]
    # By default the organisation responsible for the appeal did it.
    assert resolved["resolution"]["done_by"] == {
        "organization_id": hotline.polyclinic["id"],
        "name": "Petrova Anna Sergeevna",
        "position": "Head of the polyclinic",
    }
    assert resolved["resolution"]["recorded_by"] == str(hotline.polyclinic_operator.id)
    seen = await hotline.read(hotline.patient, f"/appeals/{appeal['id']}")
    assert seen["answer"] == ANSWER
    assert seen["resolution"] == resolved["resolution"]
    again = await hotline.act(
        hotline.operator,
        appeal["id"],
        "resolve",
        sample_resolution(answer=ANSWER),
    )
    assert assert_problem(again, 409)["current_status"] == "resolved"
    history = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/history")
    assert kinds(history) == ["received", "routed", "taken", "resolved"]
    assert history[-1]["note"] == "after follow-up"


async def test_resolved_at_first_contact(hotline: Hotline) -> None:
    appeal = await hotline.filed(category="question")
    resolved = await hotline.done(
        hotline.operator,
        appeal["id"],
        "resolve",
        sample_resolution(answer=ANSWER),
    )
    assert resolved["first_contact_resolution"] is True
    callbacks = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/callbacks")
    assert callbacks == []  # the caller heard the answer on the line


@pytest.mark.parametrize(
    "body",
    [
        {key: value for key, value in sample_resolution().items() if key != "answer"},
        {key: value for key, value in sample_resolution().items() if key != "actions"},
        {key: value for key, value in sample_resolution().items() if key != "done_by"},
        {key: value for key, value in sample_resolution().items() if key != "result"},
        {k: v for k, v in sample_resolution().items() if k != "first_contact_resolution"},
        sample_resolution(answer="Processed."),
        sample_resolution(answer="Your appeal has been processed."),
        sample_resolution(answer="Ваше обращение рассмотрено и обработано"),
        sample_resolution(first_contact_resolution="maybe"),
        sample_resolution(actions=[]),
        sample_resolution(actions=["called_head", "called_head"]),
        sample_resolution(actions=["cured_the_patient"]),
        sample_resolution(result="done"),
        sample_resolution(done_by={"name": "Petrova A. S."}),
    ],
)
async def test_resolving_needs_what_was_done_and_the_first_contact_flag(
    hotline: Hotline, body: dict[str, Any]
) -> None:
    appeal = await hotline.filed()
    response = await hotline.act(hotline.operator, appeal["id"], "resolve", body)
    assert_problem(response, 422)
    unchanged = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}")
    assert unchanged["status"] == "routed"


async def test_close_and_withdraw(hotline: Hotline) -> None:
    duplicate = await hotline.filed()
    closed = await hotline.done(
        hotline.operator, duplicate["id"], "close", {"reason": "A duplicate of an earlier call."}
    )
    assert closed["status"] == "closed"
    assert closed["close_reason"] == "A duplicate of an earlier call."
    own = await hotline.filed(hotline.patient, channel="chat", region="42")
    withdrawn = await hotline.done(hotline.patient, own["id"], "close", {"reason": "Sorted out."})
    assert withdrawn["status"] == "closed"
    assert_problem(await hotline.act(hotline.operator, own["id"], "close", {"reason": "x"}), 409)
    assert_problem(await hotline.act(hotline.operator, own["id"], "close", {}), 422)


# --- reassignment ---------------------------------------------------------------------------


async def test_reassignment_between_organisations_is_kept_in_history(hotline: Hotline) -> None:
    appeal = await hotline.filed()
    await hotline.done(hotline.polyclinic_operator, appeal["id"], "take")
    reason = "The caller lives in Kemerovo, registered in Novokuznetsk."
    moved = await hotline.done(
        hotline.polyclinic_operator,
        appeal["id"],
        "reassign",
        {"organization_id": hotline.hospital["id"], "reason": reason},
    )
    assert moved["status"] == "routed"
    assert moved["organization_id"] == hotline.hospital["id"]
    assert moved["assignee_id"] is None
    assert moved["due_at"] == appeal["due_at"]  # the patient's wait does not start again
    back = await hotline.done(
        hotline.operator,
        appeal["id"],
        "reassign",
        {
            "organization_id": hotline.polyclinic["id"],
            "reason": "The hospital says it is not theirs.",
        },
    )
    assert back["organization_id"] == hotline.polyclinic["id"]
    history = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/history")
    assert kinds(history) == ["received", "routed", "taken", "reassigned", "reassigned"]
    first, second = history[3], history[4]
    assert (first["from_organization_id"], first["to_organization_id"]) == (
        hotline.polyclinic["id"],
        hotline.hospital["id"],
    )
    assert first["note"] == reason
    assert first["actor_id"] == str(hotline.polyclinic_operator.id)
    assert (second["from_organization_id"], second["to_organization_id"]) == (
        hotline.hospital["id"],
        hotline.polyclinic["id"],
    )


async def test_reassignment_stays_in_the_region_and_moves(hotline: Hotline) -> None:
    appeal = await hotline.filed()
    same = {"organization_id": hotline.polyclinic["id"], "reason": "again"}
    assert_problem(await hotline.act(hotline.operator, appeal["id"], "reassign", same), 409)
    far = {"organization_id": hotline.khabarovsk["id"], "reason": "far"}
    assert_problem(await hotline.act(hotline.operator, appeal["id"], "reassign", far), 422)
    assert_problem(await hotline.act(hotline.operator, appeal["id"], "reassign", {}), 422)
    history = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}/history")
    assert kinds(history) == ["received", "routed"]


# --- escalation -----------------------------------------------------------------------------


async def test_an_overdue_appeal_is_escalated_to_its_organisations_head(hotline: Hotline) -> None:
    bed = await hotline.filed(category="hospital_bed")  # due at 12:00
    later = await hotline.filed(category="question")  # due at 14:00
    hotline.clock.now = at(bed["due_at"])
    assert await hotline.escalate() == 0  # due, not yet overdue
    hotline.clock.advance(minutes=1)
    assert await hotline.escalate() == 1
    assert await hotline.escalate() == 0  # once per organisation
    escalated = await hotline.read(hotline.operator, "/appeals", escalated="true")
    assert [(item["id"], item["overdue"]) for item in escalated["items"]] == [(bed["id"], True)]
    assert escalated["items"][0]["escalated_at"] is not None
    not_yet = await hotline.read(hotline.operator, "/appeals", escalated="false")
    assert [item["id"] for item in not_yet["items"]] == [later["id"]]
    history = await hotline.read(hotline.operator, f"/appeals/{bed['id']}/history")
    assert kinds(history)[-1] == "escalated"
    assert history[-1]["to_organization_id"] == hotline.polyclinic["id"]
    assert history[-1]["actor_id"] is None
    # Passed on to the hospital, still overdue: the hospital's head hears of it in turn.
    reason = {"organization_id": hotline.hospital["id"], "reason": "Beds are the hospital's."}
    moved = await hotline.done(hotline.operator, bed["id"], "reassign", reason)
    assert moved["escalated_at"] is None
    assert await hotline.escalate() == 1
    history = await hotline.read(hotline.operator, f"/appeals/{bed['id']}/history")
    assert history[-1]["kind"] == "escalated"
    assert history[-1]["to_organization_id"] == hotline.hospital["id"]


async def test_closed_and_new_appeals_are_not_escalated(hotline: Hotline) -> None:
    resolved = await hotline.filed(category="hospital_bed")
    await hotline.done(
        hotline.operator,
        resolved["id"],
        "resolve",
        sample_resolution(answer=ANSWER),
    )
    await hotline.filed(territory="32719000")  # new: the region's to route, overdue already
    hotline.clock.advance(days=3)
    assert await hotline.escalate() == 0
    overdue = await hotline.read(hotline.operator, "/appeals", overdue="true")
    assert [item["status"] for item in overdue["items"]] == ["new"]


# --- who may do what ------------------------------------------------------------------------


async def test_a_patient_files_and_reads_only_their_own(hotline: Hotline) -> None:
    own = await hotline.filed(hotline.patient, channel="chat", region="42")
    theirs = await hotline.filed(hotline.other_patient, channel="web", region="42")
    assert_problem(await hotline.get(hotline.patient, f"/appeals/{theirs['id']}"), 404)
    mine = await hotline.read(hotline.patient, "/appeals/mine")
    assert [item["id"] for item in mine] == [own["id"]]
    assert_problem(await hotline.get(hotline.patient, "/appeals"), 403)
    assert_problem(await hotline.get(hotline.patient, f"/appeals/{own['id']}/history"), 403)
    assert_problem(await hotline.act(hotline.patient, own["id"], "take"), 403)
    assert_problem(await hotline.act(hotline.patient, theirs["id"], "close", {"reason": "x"}), 404)
    assert_problem(await hotline.get(hotline.operator, "/appeals/mine"), 403)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"channel": "phone", "region": "42"}, 422),  # a patient writes, they do not call in
        ({"channel": "chat"}, 422),  # which region's hotline?
        ({"channel": "chat", "region": "42", "patient_id": str(uuid.uuid4())}, 403),
    ],
)
async def test_what_a_patient_may_not_file(
    hotline: Hotline, change: dict[str, Any], status: int
) -> None:
    assert_problem(await hotline.file(hotline.patient, **change), status)


async def test_an_operator_of_another_region_is_denied(hotline: Hotline) -> None:
    appeal = await hotline.filed()
    far = hotline.far_operator
    assert_problem(await hotline.get(far, f"/appeals/{appeal['id']}"), 404)
    assert_problem(await hotline.get(far, f"/appeals/{appeal['id']}/history"), 404)
    assert_problem(await hotline.act(far, appeal["id"], "take"), 404)
    assert_problem(await hotline.act(far, appeal["id"], "close", {"reason": "mine now"}), 404)
    assert_problem(await hotline.file(far, region="42"), 403)
    queue = await hotline.read(far, "/appeals")
    assert queue["items"] == []
    # Their own region's appeals are theirs.
    own = await hotline.filed(far, territory=KHABAROVSK)
    assert own["region"] == "27"
    assert (await hotline.read(far, "/appeals"))["items"][0]["id"] == own["id"]


async def test_staff_without_a_hotline_role_are_denied(hotline: Hotline) -> None:
    appeal = await hotline.filed()
    assert_problem(await hotline.file(hotline.medic), 403)
    assert_problem(await hotline.get(hotline.medic, f"/appeals/{appeal['id']}"), 404)
    assert_problem(await hotline.get(hotline.medic, "/appeals"), 403)
    assert hotline.stack.admin is not None
    assert_problem(await hotline.get(hotline.stack.admin, f"/appeals/{appeal['id']}"), 404)


async def test_an_mis_files_by_api_and_reads_what_it_filed(hotline: Hotline) -> None:
    filed = await hotline.filed(hotline.mis, channel="api", category="waiting_time")
    assert filed["channel"] == "api"
    assert filed["created_by"] == str(hotline.mis.id)
    assert (await hotline.read(hotline.mis, f"/appeals/{filed['id']}"))["id"] == filed["id"]
    listed = await hotline.read(hotline.mis, "/appeals")
    assert [item["id"] for item in listed["items"]] == [filed["id"]]
    by_operator = await hotline.filed()
    assert_problem(await hotline.get(hotline.mis, f"/appeals/{by_operator['id']}"), 404)
    assert_problem(await hotline.file(hotline.mis, channel="phone"), 422)
    assert_problem(await hotline.act(hotline.mis, filed["id"], "take"), 403)


async def test_an_api_client_needs_the_consult_scopes(hotline: Hotline) -> None:
    from tests.consult.conftest import _api_client

    reader = await _api_client(hotline.stack, hotline.polyclinic, ["consult:read"])
    assert_problem(await hotline.file(reader, channel="api"), 403)
    writer = await _api_client(hotline.stack, hotline.polyclinic, ["consult:write"])
    filed = await hotline.filed(writer, channel="api")
    assert_problem(await hotline.get(writer, f"/appeals/{filed['id']}"), 403)


async def test_reads_writes_and_denials_are_audited(hotline: Hotline) -> None:
    appeal = await hotline.filed()
    await hotline.get(hotline.operator, f"/appeals/{appeal['id']}")
    await hotline.get(hotline.far_operator, f"/appeals/{appeal['id']}")
    await hotline.get(hotline.patient, f"/appeals/{appeal['id']}")
    records = KERNEL_TABLES.audit.records
    async with hotline.database.sessionmaker() as session:
        rows = (await session.execute(select(records).order_by(records.c.seq))).mappings().all()
        chain = await verify_chain(session, KERNEL_TABLES.audit)
    trail = [(r["action"], r["actor_id"], r["resource_id"], r["outcome"]) for r in rows]
    assert ("appeal.create", str(hotline.operator.id), appeal["id"], "success") in trail
    assert ("appeal.read", str(hotline.operator.id), appeal["id"], "success") in trail
    assert ("appeal.read", str(hotline.far_operator.id), appeal["id"], "denied") in trail
    assert ("appeal.read", str(hotline.patient.id), appeal["id"], "denied") in trail
    assert chain.intact


# --- input, idempotency, schema -------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"channel": "pigeon"},
        {"category": "gossip"},
        {"territory": "no spaces allowed"},
        {"territory": ""},
        {"contact": {"name": "X", "phone": "call me"}},
        {"contact": {"phone": "+7 913 123-45-67"}},
        {"contact": {"name": "X"}},  # a phone appeal needs the number
        {"text": "   "},
        {"topic": "gossip"},
        {"region": "Kuzbass"},
        {"unexpected": 1},
    ],
)
async def test_bad_input_is_a_problem_not_a_500(hotline: Hotline, change: dict[str, Any]) -> None:
    assert_problem(await hotline.file(**change), 422)


@pytest.mark.parametrize(
    "params", [{"cursor": "garbage"}, {"limit": "0"}, {"status": "lost"}, {"escalated": "perhaps"}]
)
async def test_bad_queue_parameters_are_problems(hotline: Hotline, params: dict[str, str]) -> None:
    response = await hotline.get(hotline.operator, "/appeals", **params)
    assert response.status_code in {400, 422}
    assert_problem(response, response.status_code)


async def test_filing_is_idempotent_with_a_key(hotline: Hotline) -> None:
    headers = hotline.operator.headers | {"Idempotency-Key": "call-0042-0001"}
    first = await hotline.client.post(f"{CONSULT}/appeals", json=hotline.body(), headers=headers)
    again = await hotline.client.post(f"{CONSULT}/appeals", json=hotline.body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert first.headers["Location"] == f"{CONSULT}/appeals/{first.json()['id']}"


async def test_the_queue_is_ordered_by_deadline_and_paginates(hotline: Hotline) -> None:
    categories = ["complaint", "hospital_bed", "question", "appointment_help", "waiting_time"]
    for category in categories:
        await hotline.filed(category=category)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await hotline.read(hotline.operator, "/appeals", **params)
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(categories)
    assert [item["category"] for item in seen][:3] == [
        "hospital_bed",
        "question",
        "appointment_help",
    ]
    assert seen == sorted(seen, key=lambda item: (item["due_at"], item["id"]))
    beds = await hotline.read(hotline.operator, "/appeals", category="hospital_bed")
    assert len(beds["items"]) == 1
    hospital = await hotline.read(
        hotline.operator, "/appeals", organization_id=hotline.hospital["id"]
    )
    assert hospital["items"] == []


async def test_the_benchmarks_year_of_appeals_fits_the_table(hotline: Hotline) -> None:
    """The rows the statistics part will copy in are rows the service reads."""
    polyclinic = Organization.model_validate(hotline.polyclinic)
    first_day = local("2025-10-20T08:00")
    rows = list(
        year_of_appeals(
            random.Random(7),
            dict.fromkeys(DISTRICTS, polyclinic),
            [hotline.operator.id],
            first_day,
            days=2,
            per_day=10,
        )
    )
    async with hotline.database.sessionmaker() as session:
        await session.execute(insert(Appeal), rows)
        await session.commit()
    page = await hotline.read(hotline.operator, "/appeals", limit=100)
    assert len(page["items"]) == 20
    assert {item["status"] for item in page["items"]} <= {"resolved", "redirected"}
    received = [at(item["received_at"]) for item in page["items"]]
    assert first_day <= min(received)
    assert max(received) < first_day + timedelta(days=2)
    one = await hotline.read(hotline.operator, f"/appeals/{rows[0]['id']}")
    assert one["territory_code"] in DISTRICTS
