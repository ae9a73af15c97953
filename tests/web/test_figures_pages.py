"""The figures screen in process: a coordinator's figures drawn as SVG charts with the same
numbers in tables as consult's API gives, each table's CSV equal to the table shown, whose
days they count (the organisation's zone, or the deployment's for the totals) said on the page
and in the CSV, a period consult refuses said beside the form; the administrator sees it
too."""

import csv
import html
import io
import re

import pytest

from tests.conftest import Actor
from tests.web.clinic import Clinic
from tests.web.test_appeal_pages import text_of

STATS = "/api/consult/stats"


def table_rows(page: str, key: str) -> list[list[str]]:
    """The table's header and rows, cell by cell, as the page shows them."""
    found = re.search(rf'<table id="table-{key}">(.*?)</table>', page, re.S)
    assert found, page
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    return [
        [
            html.unescape(cell.strip())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in rows
    ]


@pytest.fixture
async def coordinator(clinic: Clinic) -> Actor:
    return await clinic.stack.actor("coordinator", clinic.hospital)


async def test_the_figures_show_the_apis_numbers_and_download_as_shown(
    clinic: Clinic, coordinator: Actor
) -> None:
    for _ in range(2):
        await clinic.case(submit=True)
    api = await clinic.stack.client.get(STATS, headers=coordinator.headers)
    assert api.status_code == 200, api.text
    figures = api.json()
    async with clinic.browser(coordinator) as browser:
        page = await clinic.console.page(browser, "/figures")
        assert page.text.count('<svg class="chart"') == 4
        assert (
            '<title id="chart-turnaround-title">Consultation turnaround, hours</title>' in page.text
        )
        cases = table_rows(page.text, "consultations")
        assert cases[0][:3] == ["Organisation or specialty", "Submitted", "Concluded"]
        totals = figures["totals"]["cases"]
        assert cases[-1][:3] == ["All", str(totals["submitted"]), str(totals["concluded"])]
        assert totals["submitted"] == 2
        centre = next(row for row in cases if row[0] == clinic.centre["name"])
        assert centre[1] == "2"
        days = table_rows(page.text, "hotline-days")
        assert len(days) == 1 + len(figures["hotline_days"])
        assert days[1][0] == figures["hotline_days"][0]["day"]
        # What was done: a row per action and result, a column per organisation and for all.
        done = table_rows(page.text, "resolutions")
        assert done[0][0] == "What was done, with what result"
        assert done[0][-1] == "All"
        assert [row[0] for row in done[1:4]] == [
            "Appeals resolved",
            "Booked an appointment",
            "Moved an appointment forward",
        ]
        assert done[-2][0] == "Result: Referred elsewhere to decide"
        assert done[-1] == [
            "Days of the time zone",
            *(["Asia/Novokuznetsk"] * (len(done[0]) - 2)),
            "UTC",
        ]
        assert len(done) == 1 + 1 + 13 + 4 + 1
        # Whose days: the deployment's for the totals, each organisation's own for its row.
        assert "days in UTC (the deployment's time zone" in text_of(page.text)
        assert cases[0][-1] == "Days of the time zone"
        assert centre[-1] == "Asia/Novokuznetsk"
        assert cases[-1][-1] == "UTC"
        assert days[0][0] == "Day, UTC"

        for key, shown in (("consultations", cases), ("hotline-days", days), ("resolutions", done)):
            download = await browser.get(f"/figures.csv?table={key}")
            assert download.status_code == 200
            assert download.headers["content-type"] == "text/csv; charset=utf-8"
            assert (
                f'filename="figures-{key}-{figures["from"]}-{figures["to"]}.csv"'
                in (download.headers["content-disposition"])
            )
            assert list(csv.reader(io.StringIO(download.text.lstrip("\ufeff")))) == shown

        chosen = "/figures?from=2020-01-01&to=2020-01-31&group_by=specialty&specialty=cardiology"
        narrow = await clinic.console.page(browser, chosen)
        assert table_rows(narrow.text, "consultations")[-1][:2] == ["All", "0"]
        assert 'id="table-hotline"' not in narrow.text  # appeals have no specialty
        assert 'id="table-resolutions"' not in narrow.text
        download = await browser.get(
            chosen.replace("/figures?", "/figures.csv?table=consultations&")
        )
        rows = list(csv.reader(io.StringIO(download.text.lstrip("\ufeff"))))
        assert rows == table_rows(narrow.text, "consultations")

        # One organisation's figures count its own days, and say so.
        own = await clinic.console.page(browser, f"/figures?organization={clinic.centre['id']}")
        assert "days in Asia/Novokuznetsk (the organisation's time zone)." in text_of(own.text)
        own_days = table_rows(own.text, "hotline-days")
        assert own_days[0][0] == "Day, Asia/Novokuznetsk"
        assert table_rows(own.text, "consultations")[-1][-1] == "Asia/Novokuznetsk"
        download = await browser.get(
            f"/figures.csv?table=hotline-days&organization={clinic.centre['id']}"
        )
        assert list(csv.reader(io.StringIO(download.text.lstrip("\ufeff")))) == own_days

        refused = await browser.get("/figures?from=2026-03-10&to=2026-03-01")
        assert refused.status_code == 422
        assert "after its last" in text_of(refused.text)
        wrong = await browser.get("/figures?from=yesterday")
        assert wrong.status_code == 422
        assert 'id="from-error"' in wrong.text


async def test_the_administrator_sees_the_figures_and_others_are_refused(clinic: Clinic) -> None:
    admin = clinic.stack.admin
    assert admin is not None
    async with clinic.browser(admin) as browser:
        page = await clinic.console.page(browser, "/figures")
        assert 'id="table-consultations"' in page.text
    async with clinic.browser(clinic.medic) as browser:
        refused = await browser.get("/figures")
        assert refused.status_code == 422
        assert "The figures are for coordinators and administrators." in text_of(refused.text)
