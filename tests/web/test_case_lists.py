"""The case lists: the medic's organisation's cases and the specialist's queue by deadline, the
due time in the reader's zone with the time left, overdue cases marked, filters and pages, the
"new answer" marks kept in the console's own database, and the live refresh."""

import html
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import update

from services.common.db import utcnow
from services.consult.cases.models import Case
from tests.web.clinic import Clinic
from web.cases import lists

ROW = re.compile(r'<li class="case-row[^"]*">.*?</li>', re.S)


def rows(html: str) -> list[str]:
    return ROW.findall(html)


def row_of(html: str, case_id: str) -> str:
    (found,) = [row for row in rows(html) if case_id in row]
    return found


async def _move_deadline(clinic: Clinic, case_id: str, hours: float) -> None:
    """The case's deadline moved to `hours` from now (negative: past), in consult's database."""
    database = clinic.stack.apps["consult"].state.database
    cases = Case.metadata.tables[Case.__tablename__]
    async with database.sessionmaker() as session:
        await session.execute(
            update(cases)
            .where(cases.c.id == uuid.UUID(case_id))
            .values(due_at=utcnow() + timedelta(hours=hours))
        )
        await session.commit()


async def test_the_medic_sees_the_organisations_cases_with_due_time_and_time_left(
    clinic: Clinic,
) -> None:
    draft = await clinic.case()
    submitted = await clinic.case(submit=True, urgency="emergency")
    elsewhere = await clinic.case(clinic.other_medic, submit=True)
    async with clinic.browser(clinic.medic) as browser:
        page = await clinic.console.page(browser, "/cases")
    assert "Your organisation's cases" in html.unescape(page.text)
    assert elsewhere["id"] not in page.text
    emergency = row_of(page.text, submitted["id"])
    assert "Emergency" in emergency
    assert "Submitted" in emergency
    assert "(Novokuznetsk)" in emergency  # the due time in the organisation's zone, named
    assert re.search(r"1 hr 5\d min left|2 hr left", emergency), emergency
    assert clinic.centre["name"] in emergency  # where it went
    assert "Draft" in row_of(page.text, draft["id"])
    # Nearest deadline first: the emergency comes before the urgent draft.
    assert page.text.index(submitted["id"]) < page.text.index(draft["id"])
    assert '<a href="/cases/new"' in page.text


async def test_an_answer_is_marked_until_the_medic_opens_the_case(clinic: Clinic) -> None:
    case = await clinic.case(submit=True)
    async with clinic.browser(clinic.medic) as browser:
        await clinic.console.page(browser, f"/cases/{case['id']}")  # seen as submitted
        before = await clinic.console.page(browser, "/cases")
        assert "New answer" not in row_of(before.text, case["id"])
        await clinic.act(clinic.cardiologist, case["id"], "accept")
        await clinic.act(
            clinic.cardiologist, case["id"], "request-info", {"message": "Please attach the ECG."}
        )
        answered = await clinic.console.page(browser, "/cases")
        assert "New answer" in row_of(answered.text, case["id"])
        opened = await clinic.console.page(browser, f"/cases/{case['id']}")
        assert "Please attach the ECG." in opened.text
        again = await clinic.console.page(browser, "/cases")
        assert "New answer" not in row_of(again.text, case["id"])
    # Kept in the console's own database, per person: another medic still sees it marked.
    async with clinic.browser(await clinic.stack.actor("district_medic", clinic.hospital)) as other:
        page = await clinic.console.page(other, "/cases")
        assert "New answer" in row_of(page.text, case["id"])


async def test_the_specialists_queue_orders_by_deadline_and_highlights_the_overdue(
    clinic: Clinic,
) -> None:
    planned = await clinic.case(submit=True, urgency="planned")
    late = await clinic.case(submit=True, urgency="urgent")
    await _move_deadline(clinic, late["id"], -3.5)
    neurology = await clinic.case(submit=True, specialty="neurology")
    draft = await clinic.case()
    async with clinic.browser(clinic.cardiologist) as browser:
        page = await clinic.console.page(browser, "/cases")
    assert "<h1>Queue</h1>" in page.text
    # Another specialty's cases, and drafts, are not the cardiologist's to see.
    assert neurology["id"] not in page.text
    assert draft["id"] not in page.text
    assert page.text.index(late["id"]) < page.text.index(planned["id"])
    overdue = row_of(page.text, late["id"])
    assert 'class="case-row overdue"' in overdue
    assert "overdue by 3 hr 30 min" in overdue or "overdue by 3 hr 29 min" in overdue
    assert "New" in overdue  # not opened by this specialist yet
    assert 'class="case-row"' in row_of(page.text, planned["id"])
    assert '<option value="draft"' not in page.text  # no status the specialist could list


async def test_filters_by_status_and_urgency(clinic: Clinic) -> None:
    emergency = await clinic.case(submit=True, urgency="emergency")
    urgent = await clinic.case(submit=True, urgency="urgent")
    accepted = await clinic.case(submit=True, urgency="urgent")
    await clinic.act(clinic.cardiologist, accepted["id"], "accept")
    async with clinic.browser(clinic.cardiologist) as browser:
        by_urgency = await clinic.console.page(browser, "/cases?urgency=emergency")
        by_status = await clinic.console.page(browser, "/cases?status=accepted")
        both = await clinic.console.page(browser, "/cases?status=submitted&urgency=urgent")
        unknown = await clinic.console.page(browser, "/cases?status=nonsense&urgency=soon")
    assert [emergency["id"]] == [
        c for c in (emergency["id"], urgent["id"], accepted["id"]) if c in by_urgency.text
    ]
    assert '<option value="emergency" selected>' in by_urgency.text
    assert accepted["id"] in by_status.text
    assert urgent["id"] not in by_status.text
    assert urgent["id"] in both.text
    assert emergency["id"] not in both.text
    assert accepted["id"] not in both.text
    # Values the console never offers fall back to the defaults (open cases, any urgency).
    assert len(rows(unknown.text)) == 3


async def test_pages_follow_the_apis_cursor(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    made = [(await clinic.case(submit=True))["id"] for _ in range(5)]
    pages: list[str] = []
    async with clinic.browser(clinic.cardiologist) as browser:
        path: str | None = "/cases"
        while path and len(pages) < 5:
            page = (await clinic.console.page(browser, path)).text
            pages.append(page)
            found = re.search(r'href="(/cases\?[^"]*cursor=[^"]*)">Next page', page)
            path = found.group(1).replace("&amp;", "&") if found else None
    assert [len(rows(page)) for page in pages] == [2, 2, 1]
    assert sorted(case for case in made if any(case in page for page in pages)) == sorted(made)
    # Only the first page refreshes itself; the others lead back to it.
    assert "hx-trigger" in pages[0]
    assert "First page" not in pages[0]
    assert "hx-trigger" not in pages[1]
    assert "First page" in pages[1]


async def test_an_open_queue_learns_of_a_new_case_without_a_reload(clinic: Clinic) -> None:
    first = await clinic.case(submit=True)
    async with clinic.browser(clinic.cardiologist) as browser:
        page = await clinic.console.page(browser, "/cases")
        poll = re.search(r'hx-get="([^"]+)" hx-trigger="every 15s"', page.text)
        assert poll, page.text
        url = poll.group(1).replace("&amp;", "&")
        htmx = {"HX-Request": "true"}
        unchanged = await browser.get(url, headers=htmx)
        assert unchanged.status_code == 204
        assert unchanged.content == b""
        second = await clinic.case(submit=True, urgency="emergency")
        changed = await browser.get(url, headers=htmx)
    assert changed.status_code == 200
    fragment = changed.text
    assert fragment.lstrip().startswith('<section id="case-list"')
    assert "<html" not in fragment  # the list's block alone
    assert second["id"] in fragment
    assert first["id"] in fragment
    assert 'hx-swap-oob="true"' in fragment  # said to screen readers in the page's live region
    assert re.search(r"since=(\w+)", fragment).group(1) != re.search(r"since=(\w+)", url).group(1)  # type: ignore[union-attr]


async def test_no_case_list_for_those_without_cases(clinic: Clinic) -> None:
    patient = await clinic.stack.actor("patient", clinic.hospital)
    async with clinic.browser(patient) as browser:
        refused = await browser.get("/cases")
    assert refused.status_code == 403
    assert "Not allowed" in refused.text  # the console's page, not the API's problem
