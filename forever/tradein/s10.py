"""UPU S10 item identifiers (tracking numbers), e.g. CB123456785FR. Pure: no database, no web.

Two letters of service indicator, an eight-digit serial number, its check digit, and the ISO 3166 code of the
issuing post. The check digit (UPU S10 standard): weights 8 6 4 2 3 5 9 7 on the serial's digits,
check = 11 - (sum mod 11), where 10 becomes 0 and 11 becomes 5.
"""

from __future__ import annotations

import re

WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
SERIAL_DIGITS = 8
MAX_SERIAL = 10**SERIAL_DIGITS - 1
PATTERN = re.compile(r"^([A-Z]{2})(\d{8})(\d)([A-Z]{2})$")
# What a hand or a scanner may add around a number: spaces, dashes, dots.
_SEPARATORS = re.compile(r"[\s\-.]+")


class InvalidTrackingNumber(ValueError):
    """Not an S10 number; the message says what is wrong in words a warehouse grader can act on."""


def check_digit(serial: str) -> int:
    """The S10 check digit of an eight-digit serial number."""
    if len(serial) != SERIAL_DIGITS or not serial.isdigit():
        raise ValueError(f"an S10 serial number has {SERIAL_DIGITS} digits, not {serial!r}")
    remainder = sum(int(digit) * weight for digit, weight in zip(serial, WEIGHTS, strict=True)) % 11
    check = 11 - remainder
    return {10: 0, 11: 5}.get(check, check)


def make(service_indicator: str, serial: int, country: str) -> str:
    """The tracking number of `serial` (1 to 99,999,999), e.g. make("CB", 12345678, "FR") = "CB123456785FR"."""
    if not re.fullmatch(r"[A-Z]{2}", service_indicator) or not re.fullmatch(r"[A-Z]{2}", country):
        raise ValueError("service indicator and country are two capital letters each")
    if not 0 < serial <= MAX_SERIAL:
        raise ValueError(f"an S10 serial number is between 1 and {MAX_SERIAL}, not {serial}")
    digits = f"{serial:0{SERIAL_DIGITS}d}"
    return f"{service_indicator}{digits}{check_digit(digits)}{country}"


def normalise(text: str) -> str:
    """Capitals, without the spaces, dashes or dots a person (or a label) puts between the groups."""
    return _SEPARATORS.sub("", text).upper()


def parse(text: str) -> str:
    """The S10 number `text` holds (normalised), or InvalidTrackingNumber saying why it is not one."""
    number = normalise(text)
    match = PATTERN.match(number)
    if match is None:
        raise InvalidTrackingNumber(
            f"{number or 'An empty scan'!s} is not a tracking number: one has 13 characters, two letters, "
            "nine digits and two letters (e.g. CB123456785FR).")
    serial, check = match.group(2), int(match.group(3))
    if check_digit(serial) != check:
        raise InvalidTrackingNumber(
            f"{number} is not a valid tracking number: its check digit does not match (a misread or mistyped "
            "digit). Scan the label again, or type the number carefully.")
    return number


def spaced(number: str) -> str:
    """The number grouped for reading aloud and typing: "CB 1234 5678 5 FR"."""
    return f"{number[:2]} {number[2:6]} {number[6:10]} {number[10]} {number[11:]}"
