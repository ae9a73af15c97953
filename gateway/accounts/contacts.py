"""How people are reached: an email address and a mobile number, as the API takes and keeps
them (normalised, so the same address is stored one way), and the languages messages use."""

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

# The languages messages and pages are written in; as `gateway.directory.enums.Language`, a
# literal here because the directory imports these shapes, not the other way round.
Language = Literal["ru", "en"]

# RFC 5322's dot-atom, without quoted local parts (no mail system people use needs them).
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PHONE_SEPARATORS = re.compile(r"[\s().-]")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")


def normal_email(value: str) -> str:
    """`name@domain`: the local part as given (mail systems may tell case apart), the domain
    in lower case and in its ASCII form (`пример.рф` as `xn--e1afmkfd.xn--p1ai`), which every
    mail server accepts."""
    local, at, domain = value.strip().rpartition("@")
    if not at or not local or not domain:
        raise ValueError("an email address is name@domain")
    if len(local) > 64 or not _LOCAL_PART.match(local):
        raise ValueError("the part before @ holds characters an email address cannot")
    try:
        domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError("the domain after @ is not a valid domain name") from None
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("the domain after @ is not a valid domain name")
    if labels[-1].isdigit():
        raise ValueError("the domain after @ is an IP address, not a name")
    address = f"{local}@{domain}"
    if len(address) > 254:
        raise ValueError("an email address is at most 254 characters")
    return address


def normal_phone(value: str) -> str:
    """E.164 (`+79131234567`): spaces, dashes, dots and brackets dropped, and the Russian
    trunk prefix written at home (`8 913 123-45-67`) turned into +7."""
    number = _PHONE_SEPARATORS.sub("", value.strip())
    if len(number) == 11 and number.startswith("8") and number.isdigit():
        number = "+7" + number[1:]
    if not _E164.match(number):
        raise ValueError("a phone number in international form: + country code and number")
    if number.startswith("+7") and len(number) != 12:
        raise ValueError("a number with country code +7 has 10 digits after it")
    return number


Email = Annotated[
    str,
    Field(max_length=320, examples=["a.ivanova@hospital.example"]),
    AfterValidator(normal_email),
]
Phone = Annotated[
    str,
    Field(max_length=32, examples=["+79131234567"]),
    AfterValidator(normal_phone),
]
