"""Signing keys kept as files, and secrets compared with what a caller sent: equal or not,
never an exception."""

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from services.common.keys import load_or_create_key, load_or_create_private_key, same_secret


@pytest.mark.parametrize(
    ("expected", "given", "equal"),
    [
        ("abc", "abc", True),
        (b"abc", "abc", True),
        ("abc", "abd", False),
        ("abc", "ab", False),
        ("abc", "é", False),
        ("é", "é", True),
        ("abc", "\udcff", False),  # a lone surrogate, as a lenient decoder leaves it
        (b"\x00\xff", "\x00\xff", False),  # the str is UTF-8 encoded, so not these bytes
    ],
)
def test_same_secret(expected: str | bytes, given: str, equal: bool) -> None:
    assert same_secret(expected, given) is equal


def test_a_key_is_made_once_kept_for_its_owner_and_loaded_after(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.pem"
    made = load_or_create_private_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_private_key(path).public_key() == made.public_key()


def test_a_file_holding_another_kind_of_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "id-token.pem"
    load_or_create_key(path, lambda: generate_private_key(65537, key_size=2048))
    with pytest.raises(ValueError, match="does not hold an Ed25519 private key"):
        load_or_create_private_key(path)
