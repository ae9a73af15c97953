"""Resolutions that say what was done: formulaic answers refused with their reason (the
articles' own examples among them, in Russian and English), concrete ones accepted; the actions
offered per category, the reason a refusal or referral needs, the organisation the operator may
name as having done it; and the figures by action and result."""

from typing import Any

import pytest
from pydantic import ValidationError

from services.consult.appeals.enums import AppealCategory, ResolutionAction
from services.consult.appeals.resolutions import offered
from services.consult.appeals.schemas import ResolveRequest
from services.consult.stats.tally import Metric
from telemed.samples import sample_resolution
from tests.consult.appeals.conftest import KEMEROVO, Hotline
from tests.scheduling.conftest import assert_problem

# The articles' examples first, then others as operators write them.
REFUSED = [
    ("Обработано", "processed"),
    ("Ваше обращение обработано, гуляйте.", "dismissive"),
    ("Обращение рассмотрено, меры приняты.", "processed"),
    ("Your appeal has been processed", "processed"),
    ("Measures have been taken", "measures"),
    ("Ваше обращение рассмотрено и обработано", "processed"),
    ("Меры приняты, виновные наказаны.", "measures"),
    ("По вашему обращению проведена проверка, нарушений не выявлено.", "processed"),
    ("Ваша жалоба направлена в соответствующее ведомство.", "forwarded"),
    ("Ваше обращение взято на особый контроль.", "under_control"),
    ("Спасибо за обращение, всего доброго!", "courtesy"),
    ("Запись к кардиологу на 12 марта, 10:00. Не звоните нам больше.", "dismissive"),
    ("Вас записали на приём, ожидайте.", "not_concrete"),
    ("Your complaint was forwarded to the relevant department.", "forwarded"),
    ("We have taken the appropriate measures. Thank you for your patience.", "measures"),
    ("Your request is under review. Kind regards.", "under_control"),
    ("We booked you in, see you soon.", "not_concrete"),
    ("Not our problem: ask the polyclinic on Monday at 9:00, room 12.", "dismissive"),
]
ACCEPTED = [
    "Позвонили заведующей поликлиникой № 2: приём у кардиолога перенесли на 3 марта, 9:30, "
    "кабинет 12.",
    "Гистология входит в программу ОМС: главный врач отменил счёт, вас записали бесплатно на "
    "22 октября в 10:00.",
    "Медсестра поликлиники возьмёт кровь на дому в четверг с 9 до 12, она позвонит заранее.",
    # A formula beside what was done is no refusal.
    "Обращение рассмотрено: вас записали к онкологу на 12 марта, 10:00, кабинет 214.",
    "We called the head of the polyclinic: the histology is covered by the OMS programme; "
    "you are booked for it free of charge on 12 March at 10:00, room 214.",
    "Your appeal has been processed: the surgeon sees you on Friday 14 March at 11:00 in "
    "room 305 of the regional hospital.",
    "Metformin is in stock at the pharmacy on Lenina 12, open until 21:00 today.",
]


def refusal_of(answer: str) -> dict[str, Any]:
    with pytest.raises(ValidationError) as raised:
        ResolveRequest.model_validate(sample_resolution(answer=answer))
    (error,) = raised.value.errors()
    assert error["loc"] == ("answer",)
    return dict(error)


@pytest.mark.parametrize(("answer", "reason"), REFUSED)
def test_a_formulaic_answer_is_refused_with_its_reason(answer: str, reason: str) -> None:
    error = refusal_of(answer)
    assert error["type"] == f"formulaic.{reason}"
    if reason != "not_concrete":
        assert "Refused: " in error["msg"]  # the words refused, quoted


@pytest.mark.parametrize("answer", ACCEPTED)
def test_an_answer_that_says_what_was_done_is_accepted(answer: str) -> None:
    assert ResolveRequest.model_validate(sample_resolution(answer=answer)).answer == answer


def test_a_short_answer_is_refused_for_its_length_unless_formulaic() -> None:
    assert refusal_of("Кардиолог 3.03 9:30")["type"] == "string_too_short"
    assert refusal_of("Processed.")["type"] == "formulaic.processed"


def test_every_category_is_offered_actions_and_every_one_is_counted() -> None:
    for category in AppealCategory:
        assert ResolutionAction.EXPLAINED_RIGHTS in offered(category), category
    assert offered(AppealCategory.OTHER) == list(ResolutionAction)
    assert ResolutionAction.REFUNDED_PAYMENT not in offered(AppealCategory.HOSPITAL_BED)
    # The roll-up keeps a metric's name in 32 characters.
    assert max(len(metric.value) for metric in Metric) <= 32


async def test_a_formulaic_answer_is_a_422_naming_the_field_and_the_reason(
    hotline: Hotline,
) -> None:
    appeal = await hotline.filed()
    for answer, reason in REFUSED[:5]:  # the articles' examples
        response = await hotline.act(
            hotline.operator, appeal["id"], "resolve", sample_resolution(answer=answer)
        )
        (error,) = assert_problem(response, 422)["errors"]
        assert (error["loc"], error["type"]) == (["body", "answer"], f"formulaic.{reason}")
        assert error["msg"].startswith("It ")  # the reason, in words
    unchanged = await hotline.read(hotline.operator, f"/appeals/{appeal['id']}")
    assert (unchanged["status"], unchanged["answer"], unchanged["resolution"]) == (
        "routed",
        None,
        None,
    )


async def test_a_resolution_says_what_was_done_by_whom_with_what_result(
    hotline: Hotline,
) -> None:
    appeal = await hotline.filed(category="hospital_bed", territory=KEMEROVO)
    path = appeal["id"]

    async def refused(**overrides: Any) -> dict[str, Any]:
        body = sample_resolution(**overrides)
        response = await hotline.act(hotline.operator, path, "resolve", body)
        (error,) = assert_problem(response, 422)["errors"]
        return dict(error)

    wrong = await refused(actions=["called_head", "refunded_payment"])
    assert (wrong["loc"], wrong["type"]) == (["body", "actions", 1], "action_not_offered")
    assert "`arranged_hospital_bed`" in wrong["msg"]  # the actions that are
    reasonless = await refused(result="refused")
    assert (reasonless["loc"], reasonless["type"]) == (["body", "result_reason"], "missing")
    for elsewhere in (hotline.khabarovsk["id"], "0b9c2f5e-1d1c-4c4f-9a55-5bd0b1e0c001"):
        named = await refused(done_by={"organization_id": elsewhere, "name": "X", "position": "Y"})
        assert (named["loc"], named["type"]) == (
            ["body", "done_by", "organization_id"],
            "unknown_organization",
        )

    # Done by the insurer's expert, the region's other organisation, and referred on.
    done_by = {
        "organization_id": hotline.insurer["id"],
        "name": "Orlova Irina Viktorovna",
        "position": "Insurance representative",
    }
    body = sample_resolution(
        actions=["called_head", "arranged_hospital_bed", "referred_to_insurer"],
        details="The cardiology department of the Kemerovo hospital takes him today.",
        done_by=done_by,
        result="referred",
        result_reason="To the insurer, for a check of why the bed was refused.",
        answer="A bed in the cardiology department of the Kemerovo hospital is yours from "
        "today, 14:00: come to the admissions office with your passport and OMS policy.",
    )
    resolved = await hotline.done(hotline.operator, path, "resolve", body)
    resolution = resolved["resolution"]
    assert resolution["actions"] == body["actions"]
    assert resolution["done_by"] == done_by
    assert (resolution["result"], resolution["result_reason"]) == (
        "referred",
        body["result_reason"],
    )
    assert resolution["details"] == body["details"]
    assert (await hotline.read(hotline.operator, f"/appeals/{path}"))["resolution"] == resolution

    # The figures count each action and the result, for the organisation responsible.
    figures = await hotline.read(hotline.operator, "/stats", organization_id=hotline.hospital["id"])
    counted = figures["totals"]["appeals"]["resolutions"]
    assert {name for name, count in counted["by_action"].items() if count} == set(body["actions"])
    assert {name: count for name, count in counted["by_result"].items() if count} == {"referred": 1}


async def test_the_actions_for_each_category_are_open_to_anyone_signed_in(
    hotline: Hotline,
) -> None:
    everything = await hotline.read(hotline.patient, "/appeal-resolution-actions")
    assert [each["action"] for each in everything] == list(ResolutionAction)
    beds = await hotline.read(
        hotline.operator, "/appeal-resolution-actions", category="hospital_bed"
    )
    actions = [each["action"] for each in beds]
    assert "arranged_hospital_bed" in actions
    assert "refunded_payment" not in actions
    assert all("hospital_bed" in each["categories"] for each in beds)
    anonymous = await hotline.client.get("/api/consult/appeal-resolution-actions")
    assert anonymous.status_code == 401
