"""Secrets compared with what a caller sent: equal or not, never an exception."""

import pytest

from services.common.keys import same_secret


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
