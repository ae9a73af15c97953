"""The password rules: length, the most common leaked passwords, an operator's breached file
(small: a set; large: a sorted file searched in place), zxcvbn with the person's own names;
and the contacts a message goes to. Through the gateway, user creation holds to the rules."""

import hashlib
import random
import time
from pathlib import Path

import pytest

from gateway.accounts.breached import SMALL_FILE_BYTES, BreachedHashes
from gateway.accounts.contacts import normal_email, normal_phone
from gateway.accounts.passwords import PasswordRules, WeakPassword
from tests.conftest import TEST_PASSWORD, Stack, running_stack

MARINA = {"username": "kuznetsova.marina", "full_name": "Marina Kuznetsova", "email": None}


def sha1(password: str) -> str:
    return hashlib.sha1(password.encode()).hexdigest().upper()


async def refusal(rules: PasswordRules, password: str, **person: str | None) -> WeakPassword:
    with pytest.raises(WeakPassword) as refused:
        await rules.check(password, **(MARINA | person))  # type: ignore[arg-type]
    return refused.value


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short one", "short"),
        ("qwertyuiop", "common"),  # ten characters, but among the most common leaked
        ("password123", "common"),
        ("PassWord123", "common"),
        ("aaaaaaaaaaaaaaa", "weak"),
        ("kuznetsova.marina77", "weak"),  # strong for anyone but Marina Kuznetsova
    ],
)
async def test_the_rules_refuse_with_a_reason_and_advice(password: str, reason: str) -> None:
    refused = await refusal(PasswordRules(), password)
    assert refused.status == 422
    assert refused.extensions["reason"] == reason
    assert refused.extensions["suggestions"]
    assert refused.extensions["suggestions"][0] in refused.detail


async def test_the_persons_own_names_count_as_easy_guesses() -> None:
    rules = PasswordRules()
    await rules.check("kuznetsova.marina77", username="petrov.s", full_name="Sergei Petrov",
                      email=None)  # fmt: skip
    refused = await refusal(rules, "kuznetsova.marina77")
    assert refused.extensions["warning"]
    await rules.check("sokolova.elena@mail", **MARINA)  # type: ignore[arg-type]
    await refusal(rules, "sokolova.elena@mail", email="sokolova.elena@mail.example")


async def test_strong_passwords_pass() -> None:
    rules = PasswordRules()
    for password in (TEST_PASSWORD, "plum orbit candle 47", "Kestrel-Lantern-Quarry-58"):
        await rules.check(password, **MARINA)  # type: ignore[arg-type]


def test_a_small_breached_file_is_a_set_of_digests(tmp_path: Path) -> None:
    path = tmp_path / "pwned.txt"
    path.write_text(
        f"{sha1(TEST_PASSWORD)}:3730471\r\n{sha1('plum orbit candle 47').lower()}\n{sha1('zzz')}\n"
    )
    breached = BreachedHashes(path)
    assert breached.includes(TEST_PASSWORD)
    assert breached.includes("plum orbit candle 47")  # case and counts as they come
    assert not breached.includes("Kestrel-Lantern-Quarry-58")


def _large_file(path: Path, members: list[str], *, lower: bool = False) -> int:
    """A sorted HIBP-style file just over the in-memory limit, holding `members`."""
    rng = random.Random(7)
    hashes = {sha1(member) for member in members}
    while len(hashes) * 52 < SMALL_FILE_BYTES * 1.2:
        hashes.add(f"{rng.getrandbits(160):040X}")
    lines = sorted(hashes)
    if lower:
        lines = [line.lower() for line in lines]
    path.write_text("".join(f"{line}:{rng.randint(1, 99999)}\r\n" for line in lines))
    return len(lines)


@pytest.mark.parametrize("lower", [False, True])
def test_a_large_breached_file_is_searched_in_place(tmp_path: Path, lower: bool) -> None:
    members = [TEST_PASSWORD, "plum orbit candle 47", "Kestrel-Lantern-Quarry-58"]
    path = tmp_path / "pwned.txt"
    count = _large_file(path, members, lower=lower)
    assert path.stat().st_size > SMALL_FILE_BYTES
    breached = BreachedHashes(path)
    try:
        first, last = (line.split(":")[0] for line in (path.read_text().splitlines()[i]
                                                         for i in (0, -1)))  # fmt: skip
        started = time.perf_counter()
        for member in members:
            assert breached.includes(member)
        for absent in ("another strong passphrase", "", "x" * 300):
            assert not breached.includes(absent)
        elapsed = (time.perf_counter() - started) / 6
        print(f"{count} hashes, {path.stat().st_size} bytes: {elapsed * 1e6:.0f} µs a lookup")
        # The file's first and last lines are reached too (the search's edges).
        assert breached._search(first.encode())
        assert breached._search(last.encode())
    finally:
        breached.close()


def test_a_large_file_out_of_order_is_refused_at_start(tmp_path: Path) -> None:
    path = tmp_path / "pwned.txt"
    _large_file(path, [])
    lines = path.read_text().splitlines(keepends=True)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_text("".join(lines))
    with pytest.raises(ValueError, match="not sorted"):
        BreachedHashes(path)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("  A.Ivanova@Hospital.EXAMPLE ", "A.Ivanova@hospital.example"),
        ("врач@пример.рф", None),  # a Cyrillic local part: not something mail takes
        ("doctor@пример.рф", "doctor@xn--e1afmkfd.xn--p1ai"),
        ("first.last+tag@mail.example", "first.last+tag@mail.example"),
        ("no-at-sign.example", None),
        ("two@@example.org", None),
        ("dot.@example.org", None),
        ("a..b@example.org", None),
        ("a@localhost", None),
        ("a@-bad-.example", None),
        ("a@192.168.0.1", None),
        (f"{'a' * 65}@example.org", None),
    ],
)
def test_email_addresses_are_checked_and_kept_one_way(given: str, kept: str | None) -> None:
    if kept is None:
        with pytest.raises(ValueError):
            normal_email(given)
    else:
        assert normal_email(given) == kept


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("+7 913 123-45-67", "+79131234567"),
        ("8 (913) 123-45-67", "+79131234567"),
        ("+49 30 1234567", "+49301234567"),
        ("+7 913 123-45", None),  # +7 takes ten digits
        ("913 123 45 67", None),  # no country code
        ("+0 123 456 789", None),
        ("+7 913 ABC-45-67", None),
        ("+1234567890123456", None),  # longer than E.164's 15 digits
    ],
)
def test_phone_numbers_are_kept_in_e164(given: str, kept: str | None) -> None:
    if kept is None:
        with pytest.raises(ValueError):
            normal_phone(given)
    else:
        assert normal_phone(given) == kept


async def test_creating_a_user_holds_the_password_to_the_rules(stack: Stack) -> None:
    assert stack.admin is not None
    body = {"username": "weak.user", "full_name": "Weak User", "role": "patient"}
    for password, reason in (("qwertyuiop", "common"), ("weak.user.2024", "weak")):
        response = await stack.client.post(
            "/api/directory/users", json=body | {"password": password}, headers=stack.admin.headers
        )
        assert response.status_code == 422, password
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["reason"] == reason
        assert response.json()["suggestions"]
    created = await stack.client.post(
        "/api/directory/users", json=body | {"password": TEST_PASSWORD}, headers=stack.admin.headers
    )
    assert created.status_code == 201


async def test_an_operators_breached_file_refuses_a_password_everywhere(
    clean_databases: dict[str, str], tmp_path: Path
) -> None:
    """The famous passphrase passes zxcvbn (score 4), but a breach list names it."""
    breached = tmp_path / "pwned.txt"
    breached.write_text(f"{sha1('plum orbit candle 47')}:12\n")
    overrides = {"gateway": {"breached_passwords_path": breached}}
    async with running_stack(clean_databases, tmp_path, overrides) as stack:
        assert stack.admin is not None
        response = await stack.client.post(
            "/api/directory/users",
            json={"username": "breached.user", "full_name": "B U", "role": "patient",
                  "password": "plum orbit candle 47"},
            headers=stack.admin.headers,
        )  # fmt: skip
        assert response.status_code == 422
        assert response.json()["reason"] == "breached"
        changed = await stack.client.post(
            "/api/auth/password",
            json={"current_password": TEST_PASSWORD, "new_password": "plum orbit candle 47"},
            headers=stack.admin.headers,
        )
        assert changed.status_code == 422
        assert changed.json()["reason"] == "breached"
