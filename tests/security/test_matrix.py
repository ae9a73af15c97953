"""The authorisation matrix: every kind of resource, every role, own organisation, another of
the same region and another region, reading, changing and removing, through the gateway.

How to read it
--------------
`TABLE` below is the whole matrix, one line per (resource, action). Its columns are the
callers, grouped by role; within a role each character is one relation to the resource:

    medic      own A, B, F              district medics
    spec       own, peer, B, F          specialists (peer: a colleague of the same
                                        organisation and specialty who is not the one involved)
    coord      own, B, F                coordinators (hotline operators)
    patient    own, peer, B, F          the patient concerned, another patient of A, of B, of F
    admin      -                        the administrator (no organisation)
    client     own A, B, F              API clients holding every scope an administrator may
                                        grant (consult:read/write, files:read/write,
                                        webhooks:manage)
    ro         own A                    an API client of A with consult:read and files:read only
    reg        own A, cc, B, F          registrars (registry staff); cc: the registrar of X, a
                                        call centre of region 54 that serves A

"own" is the organisation the resource belongs to for that role: A (the district hospital that
asks, books, monitors and owns the files) for everyone, except specialists, whose own is C
(the regional centre addressed, whose cardiologist answers and keeps the schedule), and the
exceptions in `HOMES`. B is another organisation of region 42, F one of region 54 (`world.py`).

Each cell is what the documented rules (docs/api.md, docs/fhir.md, docs/architecture.md, the
`access.py` modules) say the caller gets:

    2  a 2xx: allowed            L  200, and the listing shows the resource
    3  403: seen, not allowed    -  200, and the listing does not show it
    4  404: as if it did not exist (the rule for anything the caller may not see)
    .  no such caller (a specialist's peer where the resource's own is A)

The world is built once for the module (`world.py`); one parametrized test checks each cell.
Where a change is expected to succeed and would use the resource up (a cancel, a delete, a
transition), the cell acts on a fresh one its rightful owner makes first (`world.FRESH`), so
the cells stay independent of their order. Every 4xx must be a problem document (an
OperationOutcome on FHIR routes).

Run it alone with `.venv/bin/pytest tests/security/test_matrix.py` (about 25 s on SQLite);
the run's summary says how many cells were checked and how many answered as documented. To
cover a new resource or action: make it in `world.py`, add its line to `TABLE` and its request
to `PROBES` (and a maker to `world.FRESH` if succeeding uses it up).

Settled when it was written (issue 15): no cell let anyone see or change more than the rules
say. Two answers surprise a reader of the guides where they are silent, and the code is
right: a legal hold refused to someone who may read the file is a 404, like one they cannot
see (docs/api.md now says so); and the room's own patient is refused the room's view with
their account token (403), which they follow with their join token, as its OpenAPI says.

Issue 16 added registrars, the call centre X serving A, and the patient register: the first run
found a registrar holding their organisation's files as its clinical staff do (files'
`owner_organization` went by organisation alone), which files now refuses; and API clients now
read their own organisation's patients (the services check a patient an MIS names with it).
"""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.conftest import Actor, Stack
from tests.fhir.conftest import WEEKDAYS
from tests.security.world import (
    CONCLUSION,
    CONSULT,
    DIRECTORY,
    FILES,
    FRESH,
    SCHEDULING,
    VIDEO,
    WEBHOOKS,
    World,
    build_world,
)

TABLE = """
resource               | action   | medic | spec | coord | patient | admin | client | ro | reg
case                   | read     | 244   | 2244 | 224   | 4444    | 4     | 244    | 2  | 4444
case                   | list     | L--   | LL-- | LL-   | 3333    | 3     | L--    | L  | 3333
case                   | modify   | 244   | 3344 | 334   | 4444    | 4     | 244    | 3  | 4444
case                   | delete   | 244   | 3344 | 334   | 4444    | 4     | 244    | 3  | 4444
messages               | read     | 244   | 2244 | 224   | 4444    | 4     | 244    | 2  | 4444
messages               | modify   | 244   | 2244 | 224   | 4444    | 4     | 244    | 3  | 4444
attachments grant      | read     | 244   | 2244 | 224   | 4444    | 4     | 244    | 2  | 4444
attachment             | read     | 244   | 2244 | 224   | 4444    | 4     | 244    | 2  | 4444
attachment             | borrowed | 233   | 2333 | 233   | 3333    | 3     | 233    | 2  | 3333
conclusions            | read     | 244   | 2244 | 224   | 4444    | 4     | 244    | 2  | 4444
conclusions            | modify   | 344   | 2344 | 334   | 4444    | 4     | 344    | 3  | 4444
consilium              | read     | 244   | 2244 | 224   | 4444    | 4     | 244    | 2  | 4444
consilium              | modify   | 344   | 2344 | 334   | 4444    | 4     | 344    | 3  | 4444
patient request        | read     | 244   | 2244 | 224   | 2444    | 4     | 244    | 2  | 4444
patient request        | list     | 333   | 3333 | 333   | L---    | 3     | 333    | 3  | 3333
patient request        | modify   | 244   | 2244 | 224   | 2444    | 4     | 244    | 3  | 4444
patient request        | delete   | 344   | 3344 | 234   | 2444    | 4     | 344    | 3  | 4444
appeal                 | read     | 444   | 4444 | 224   | 2444    | 4     | 244    | 4  | 4444
appeal                 | list     | 333   | 3333 | LL-   | 3333    | 3     | L--    | -  | 3333
appeal                 | modify   | 444   | 4444 | 224   | 3444    | 4     | 344    | 3  | 4444
appeal                 | delete   | 444   | 4444 | 224   | 2444    | 4     | 344    | 3  | 4444
callback               | read     | 444   | 4444 | LL4   | 3444    | 4     | 344    | 4  | 4444
callback               | modify   | 444   | 4444 | 234   | 4444    | 4     | 444    | 3  | 4444
enrolment              | read     | 244   | 2.44 | 244   | 2444    | 4     | 444    | 4  | 4444
enrolment              | list     | L--   | L.-- | L--   | L---    | 3     | 333    | 3  | 3333
enrolment              | delete   | 244   | 2.44 | 244   | 3444    | 4     | 444    | 4  | 4444
check-in               | read     | 244   | 2.44 | 244   | 2444    | 4     | 444    | 4  | 4444
check-in               | modify   | 244   | 2.44 | 244   | 2444    | 4     | 444    | 4  | 4444
figures                | read     | 333   | 3333 | 223   | 3333    | 2     | 333    | 3  | 3333
file                   | read     | 244   | 2.44 | 244   | 4444    | 4     | 244    | 2  | 4444
file                   | modify   | 444   | 4.44 | 244   | 4444    | 2     | 444    | 4  | 4444
file                   | delete   | 244   | 2.44 | 244   | 4444    | 4     | 244    | 3  | 4444
schedule               | read     | 222   | 2222 | 222   | 2222    | 2     | 222    | 2  | 2222
schedule               | modify   | 333   | 2333 | 233   | 3333    | 3     | 333    | 3  | 3333
schedule               | delete   | 333   | 2333 | 233   | 3333    | 3     | 333    | 3  | 3333
appointment            | read     | 244   | 2444 | 244   | 2444    | 4     | 444    | 4  | 2244
appointment            | list     | L--   | L--- | L--   | L---    | -     | ---    | -  | LL--
appointment            | modify   | 244   | 2444 | 244   | 2444    | 4     | 444    | 4  | 2244
appointment            | delete   | 244   | 2444 | 244   | 2444    | 4     | 444    | 4  | 2244
episode                | read     | 244   | 2444 | 244   | 2444    | 4     | 444    | 4  | 2244
episode                | delete   | 244   | 2444 | 244   | 3444    | 4     | 444    | 4  | 2244
room                   | read     | 444   | 2444 | 244   | 3444    | 4     | 444    | 4  | 4444
room                   | modify   | 444   | 2444 | 244   | 3444    | 4     | 444    | 4  | 4444
room                   | delete   | 444   | 2444 | 244   | 3444    | 4     | 444    | 4  | 4444
organisation           | read     | 222   | 2222 | 222   | 2222    | 2     | 222    | 2  | 2222
organisation           | modify   | 333   | 3333 | 333   | 3333    | 2     | 333    | 3  | 3333
user                   | read     | 244   | 2.44 | 224   | 2444    | 2     | 244    | 2  | 2244
user                   | delete   | 333   | 3.33 | 333   | 3333    | 2     | 333    | 3  | 3333
staff user             | read     | 224   | 2224 | 224   | 4444    | 2     | 444    | 4  | 2424
patient record         | read     | 333   | 3.33 | 244   | 3333    | 2     | 333    | 3  | 2244
patient record         | list     | 333   | 3.33 | L--   | 3333    | L     | 333    | 3  | LL--
patient record         | modify   | 333   | 3.33 | 244   | 3333    | 2     | 333    | 3  | 2244
served links           | modify   | 333   | 3333 | 333   | 3333    | 2     | 333    | 3  | 3333
API client             | list     | 333   | 3333 | 333   | 3333    | L     | 333    | 3  | 3333
API client             | modify   | 333   | 3333 | 333   | 3333    | 2     | 333    | 3  | 3333
API client             | delete   | 333   | 3333 | 333   | 3333    | 2     | 333    | 3  | 3333
webhook                | read     | 333   | 3333 | 333   | 3333    | 2     | 244    | 3  | 3333
webhook                | modify   | 333   | 3333 | 333   | 3333    | 2     | 244    | 3  | 3333
webhook                | delete   | 333   | 3333 | 333   | 3333    | 2     | 244    | 3  | 3333
FHIR ServiceRequest    | read     | 244   | 2244 | 224   | 4444    | 4     | 244    | 2  | 4444
FHIR ServiceRequest/pr | read     | 244   | 2244 | 224   | 2444    | 4     | 244    | 2  | 4444
FHIR Task              | read     | 244   | 2244 | 224   | 4444    | 4     | 244    | 2  | 4444
FHIR DiagnosticReport  | read     | 244   | 2244 | 224   | 4444    | 4     | 244    | 2  | 4444
FHIR Observation       | read     | 244   | 2.44 | 244   | 2444    | 4     | 444    | 4  | 4444
FHIR DocumentReference | read     | 244   | 2.44 | 244   | 4444    | 4     | 244    | 2  | 4444
FHIR Appointment       | read     | 244   | 2444 | 244   | 2444    | 4     | 444    | 4  | 2244
FHIR Schedule          | read     | 222   | 2222 | 222   | 2222    | 2     | 222    | 2  | 2222
"""
RELATIONS = {
    "medic": ("own", "B", "F"),
    "spec": ("own", "peer", "B", "F"),
    "coord": ("own", "B", "F"),
    "patient": ("own", "peer", "B", "F"),
    "admin": ("any",),
    "client": ("own", "B", "F"),
    "ro": ("own",),
    "reg": ("own", "cc", "B", "F"),
}
# Resources whose "own" organisation for a role is not the default (A; C for specialists).
HOMES = {
    "enrolment": {"spec": "A"}, "check-in": {"spec": "A"}, "FHIR Observation": {"spec": "A"},
    "file": {"spec": "A"}, "FHIR DocumentReference": {"spec": "A"}, "user": {"spec": "A"},
    "schedule": {"coord": "C"}, "room": {"coord": "C"}, "patient record": {"spec": "A"},
}  # fmt: skip
# Which of the world's resources (`World.ids`) a line acts on, by default the one of its name;
# "" where the probe names its own (an organisation, a user, the figures).
SHARED: dict[str | tuple[str, str], str] = {
    "messages": "case", "attachments grant": "case", "conclusions": "concluded",
    "check-in": "enrolment", "figures": "", "organisation": "", "staff user": "",
    ("user", "read"): "", ("schedule", "delete"): "exception",
    "webhook": "subscription", "API client": "api_client", "FHIR ServiceRequest": "concluded",
    "FHIR ServiceRequest/pr": "patient_request", "FHIR Task": "concluded",
    "FHIR DiagnosticReport": "conclusion", "FHIR Observation": "check_in",
    "FHIR DocumentReference": "file", "FHIR Appointment": "appointment",
    "FHIR Schedule": "schedule", "served links": "",
}  # fmt: skip


@dataclass(frozen=True)
class Cell:
    resource: str
    action: str
    role: str
    relation: str
    expected: str

    @property
    def actor(self) -> str:
        """The world's key of the caller in this cell."""
        if self.role == "admin":
            return "admin"
        if self.role == "ro":
            return "client_ro@A"
        if self.relation == "cc":
            return f"{self.role}@X"
        if self.relation in ("B", "F"):
            return f"{self.role}@{self.relation}"
        home = HOMES.get(self.resource, {}).get(self.role, "C" if self.role == "spec" else "A")
        return f"{self.role}{'2' if self.relation == 'peer' else ''}@{home}"

    def __str__(self) -> str:
        return f"{self.resource}:{self.action}:{self.role}:{self.relation}"


def cells(table: str = TABLE) -> list[Cell]:
    header, *lines = table.strip().splitlines()
    roles = [name.strip() for name in header.split("|")[2:]]
    found = []
    for line in lines:
        resource, action, *groups = [part.strip() for part in line.split("|")]
        for role, group in zip(roles, groups, strict=True):
            assert len(group) == len(RELATIONS[role]), line
            for relation, expected in zip(RELATIONS[role], group, strict=True):
                if expected != ".":
                    found.append(Cell(resource, action, role, relation, expected))
    return found


CELLS = cells()

# -- how each (resource, action) is done: one request, as the actor --------------------------

Probe = Callable[[World, Actor, str], Awaitable[httpx.Response]]


def get(path: str, **params: Any) -> Probe:
    async def probe(world: World, actor: Actor, target: str) -> httpx.Response:
        query = {name: value.format(id=target, **world.ids) for name, value in params.items()}
        url = path.format(id=target, **world.ids)
        return await world.client.get(url, params=query, headers=actor.headers)

    return probe


def send(method: str, path: str, body: Any = None) -> Probe:
    async def probe(world: World, actor: Actor, target: str) -> httpx.Response:
        url = path.format(id=target, **world.ids)
        return await world.client.request(method, url, json=body, headers=actor.headers)

    return probe


async def read_attachment(world: World, actor: Actor, target: str) -> httpx.Response:
    """As a reader does: ask consult for the case's grant, and present it if given."""
    granted = await world.client.post(
        f"{CONSULT}/cases/{world.ids['case']}/attachments/grant", headers=actor.headers
    )
    grant = granted.json()["grant"] if granted.status_code == 200 else None
    return await world.client.get(
        f"{FILES}/files/{target}/content",
        headers=actor.headers | ({"Telemed-Grant": grant} if grant else {}),
    )


async def borrow_grant(world: World, actor: Actor, target: str) -> httpx.Response:
    """Presenting the grant consult issued to the case's cardiologist, not to the caller."""
    granted = await world.client.post(
        f"{CONSULT}/cases/{world.ids['case']}/attachments/grant", headers=world["spec@C"].headers
    )
    assert granted.status_code == 200, granted.text
    headers = actor.headers | {"Telemed-Grant": granted.json()["grant"]}
    return await world.client.get(f"{FILES}/files/{target}/content", headers=headers)


async def replace_organisation(world: World, actor: Actor, target: str) -> httpx.Response:
    fields = ("name", "kind", "region", "timezone", "working_hours")
    body = {name: world.orgs["A"][name] for name in fields}
    url = f"{DIRECTORY}/organizations/{world.orgs['A']['id']}"
    return await world.client.put(url, json=body, headers=actor.headers)


async def stats(world: World, actor: Actor, target: str) -> httpx.Response:
    query = {"organization_id": world.orgs["A"]["id"]}
    return await world.client.get(f"{CONSULT}/stats", params=query, headers=actor.headers)


async def read_organisation(world: World, actor: Actor, target: str) -> httpx.Response:
    url = f"{DIRECTORY}/organizations/{world.orgs['A']['id']}"
    return await world.client.get(url, headers=actor.headers)


async def read_user(world: World, actor: Actor, target: str) -> httpx.Response:
    return await world.client.get(
        f"{DIRECTORY}/users/{world['patient@A'].id}", headers=actor.headers
    )


async def serve_again(world: World, actor: Actor, target: str) -> httpx.Response:
    """Sets the organisations the call centre X serves to what they are (A)."""
    url = f"{DIRECTORY}/organizations/{world.orgs['X']['id']}/served"
    body = {"organization_ids": [world.orgs["A"]["id"]]}
    return await world.client.put(url, json=body, headers=actor.headers)


async def read_staff(world: World, actor: Actor, target: str) -> httpx.Response:
    return await world.client.get(f"{DIRECTORY}/users/{world['spec@C'].id}", headers=actor.headers)


CASE = f"{CONSULT}/cases/{{id}}"
AMEND = {"content": CONCLUSION, "amendment_reason": "The dose was misprinted."}
SCHEDULE = {"weekly_hours": WEEKDAYS, "slot_step_minutes": 15}
CHECK_IN = {"vital_signs": {"systolic_bp": 118, "diastolic_bp": 78}, "symptoms": [],
            "wellbeing": "same"}  # fmt: skip
PROBES: dict[tuple[str, str], Probe] = {
    ("case", "read"): get(CASE),
    ("case", "list"): get(f"{CONSULT}/cases", status="info_requested", limit="200"),
    ("case", "modify"): send("PATCH", CASE, {"question": "Is PCI indicated, given the ECG?"}),
    ("case", "delete"): send("POST", f"{CASE}/cancel", {"reason": "Transferred."}),
    ("messages", "read"): get(f"{CASE}/messages"),
    ("messages", "modify"): send("POST", f"{CASE}/messages", {"text": "Any news?"}),
    ("attachments grant", "read"): send("POST", f"{CASE}/attachments/grant"),
    ("attachment", "read"): read_attachment,
    ("attachment", "borrowed"): borrow_grant,
    ("conclusions", "read"): get(f"{CASE}/conclusions"),
    ("conclusions", "modify"): send("POST", f"{CASE}/conclusions", AMEND),
    ("consilium", "read"): get(f"{CASE}/consilium"),
    ("consilium", "modify"): send(
        "POST", f"{CASE}/consilium/invitations", {"invitations": [{"specialty": "cardiac_surgery"}]}
    ),
    ("patient request", "read"): get(CASE),
    ("patient request", "list"): get(f"{CONSULT}/patient-requests"),
    ("patient request", "modify"): send("POST", f"{CASE}/messages", {"text": "Still swollen."}),
    ("patient request", "delete"): send("POST", f"{CASE}/cancel", {"reason": "Feeling better."}),
    ("appeal", "read"): get(f"{CONSULT}/appeals/{{id}}"),
    ("appeal", "list"): get(f"{CONSULT}/appeals", limit="200"),
    ("appeal", "modify"): send("POST", f"{CONSULT}/appeals/{{id}}/take"),
    ("appeal", "delete"): send("POST", f"{CONSULT}/appeals/{{id}}/close", {"reason": "Withdrawn."}),
    ("callback", "read"): get(f"{CONSULT}/appeals/{{appeal}}/callbacks"),
    ("callback", "modify"): send(
        "POST", f"{CONSULT}/callbacks/{{id}}/attempts", {"outcome": "busy"}
    ),
    ("enrolment", "read"): get(f"{CONSULT}/monitoring/enrolments/{{id}}"),
    ("enrolment", "list"): get(f"{CONSULT}/monitoring/enrolments"),
    ("enrolment", "delete"): send(
        "POST", f"{CONSULT}/monitoring/enrolments/{{id}}/discharge", {"reason": "recovered"}
    ),
    ("check-in", "read"): get(f"{CONSULT}/monitoring/enrolments/{{id}}/check-ins"),
    ("check-in", "modify"): send(
        "POST", f"{CONSULT}/monitoring/enrolments/{{id}}/check-ins", CHECK_IN
    ),
    ("figures", "read"): stats,
    ("file", "read"): get(f"{FILES}/files/{{id}}"),
    ("file", "modify"): send(
        "PUT", f"{FILES}/files/{{id}}/legal-hold", {"hold": False, "reason": "No claim."}
    ),
    ("file", "delete"): send("DELETE", f"{FILES}/files/{{id}}"),
    ("schedule", "read"): get(f"{SCHEDULING}/schedules/{{id}}"),
    ("schedule", "modify"): send("PUT", f"{SCHEDULING}/schedules/{{id}}", SCHEDULE),
    ("schedule", "delete"): send(
        "DELETE", f"{SCHEDULING}/schedules/{{schedule}}/exceptions/{{id}}"
    ),
    ("appointment", "read"): get(f"{SCHEDULING}/appointments/{{id}}"),
    ("appointment", "list"): get(f"{SCHEDULING}/appointments", episode="{episode}"),
    ("appointment", "modify"): send("POST", f"{SCHEDULING}/appointments/{{id}}/check-in"),
    ("appointment", "delete"): send("POST", f"{SCHEDULING}/appointments/{{id}}/cancel", {}),
    ("episode", "read"): get(f"{SCHEDULING}/episodes/{{id}}"),
    ("episode", "delete"): send("POST", f"{SCHEDULING}/episodes/{{id}}/close"),
    ("room", "read"): get(f"{VIDEO}/rooms/{{id}}"),
    ("room", "modify"): send("POST", f"{VIDEO}/rooms/{{id}}/tokens", {}),
    ("room", "delete"): send("POST", f"{VIDEO}/rooms/{{id}}/close"),
    ("organisation", "read"): read_organisation,
    ("organisation", "modify"): replace_organisation,
    ("user", "read"): read_user,
    ("user", "delete"): send("POST", f"{DIRECTORY}/users/{{id}}/deactivate"),
    ("staff user", "read"): read_staff,
    ("patient record", "read"): get(f"{DIRECTORY}/patients/{{id}}"),
    ("patient record", "list"): get(f"{DIRECTORY}/patients", q="registered patient"),
    ("patient record", "modify"): send(
        "PATCH", f"{DIRECTORY}/patients/{{id}}", {"phone": "+7 913 765-43-21"}
    ),
    ("served links", "modify"): serve_again,
    ("API client", "list"): get(f"{DIRECTORY}/api-clients"),
    ("API client", "modify"): send(
        "PUT",
        f"{DIRECTORY}/api-clients/{{id}}",
        {"name": "MIS renamed", "scopes": ["consult:read"]},
    ),
    ("API client", "delete"): send("POST", f"{DIRECTORY}/api-clients/{{id}}/revoke"),
    ("webhook", "read"): get(f"{WEBHOOKS}/subscriptions/{{id}}"),
    ("webhook", "modify"): send(
        "PATCH", f"{WEBHOOKS}/subscriptions/{{id}}", {"description": "Regional MIS"}
    ),
    ("webhook", "delete"): send("DELETE", f"{WEBHOOKS}/subscriptions/{{id}}"),
}
for _name in ("ServiceRequest", "Task", "DiagnosticReport", "Observation", "DocumentReference",
              "Appointment", "Schedule"):  # fmt: skip
    PROBES[(f"FHIR {_name}", "read")] = get(f"/api/fhir/{_name}/{{id}}")
PROBES[("FHIR ServiceRequest/pr", "read")] = get("/api/fhir/ServiceRequest/{id}")


def listed(response: httpx.Response, target: str) -> bool:
    """Whether a listing (a page of `items`, or a bare list) names `target`."""
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return target in {str(item["id"]) for item in items}


def outcome(response: httpx.Response, target: str, expected: str) -> str:
    """The cell's code for `response`, in the table's terms."""
    status = response.status_code
    if expected in "L-" and status == 200:
        return "L" if listed(response, target) else "-"
    return {403: "3", 404: "4"}.get(status, "2" if 200 <= status < 300 else str(status))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(security_stack: Stack) -> World:
    return await build_world(security_stack)


def test_the_table_covers_every_probe_and_counts_its_cells() -> None:
    probed = {(cell.resource, cell.action) for cell in CELLS}
    assert probed == set(PROBES)
    assert all(re.fullmatch(r"[234L\-]", cell.expected) for cell in CELLS)
    # Every role and relation appears; the count goes into the run's summary.
    assert {(cell.role, cell.relation) for cell in CELLS} == {
        (role, relation) for role, relations in RELATIONS.items() for relation in relations
    }
    print(f"authorisation matrix: {len(CELLS)} cells")


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("cell", CELLS, ids=str)
async def test_cell(world: World, cell: Cell) -> None:
    key = SHARED.get((cell.resource, cell.action), SHARED.get(cell.resource, cell.resource))
    target = world.ids.get(key.replace(" ", "_"), "")
    maker = FRESH.get((cell.resource, cell.action))
    if maker is not None and cell.expected == "2":
        target = await maker(world)
    response = await PROBES[(cell.resource, cell.action)](world, world[cell.actor], target)
    got = outcome(response, target, cell.expected)
    assert got == cell.expected, f"{cell}: expected {cell.expected}, got {got}: {response.text}"
    if 400 <= response.status_code < 500:
        fhir = response.request.url.path.startswith("/api/fhir/")
        wanted = "application/fhir+json" if fhir else "application/problem+json"
        assert response.headers["content-type"] == wanted, response.headers
