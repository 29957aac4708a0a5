"""Delivery addresses we refuse: PO boxes (002_: "PO Boxes are not eligible delivery addresses. Orders made to
PO Box addresses will not be accepted.")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

PO_BOX = "po_box"
MISSING_ADDRESS = "missing_address"

_SEP = r"[\s./-]*"  # "P.O. Box", "P O Box", "PO-Box", "POBox"
_NUMBER = rf"{_SEP}(?:n[o°]?{_SEP})?\d"  # "BP 123", "BP n° 123", "BP123"

# Matched against the address folded to lower case without accents ("Boîte" -> "boite"). Abbreviations only
# count when a box number follows: "12 BPost" or "BP Station" are not "BP 123".
_PO_BOX_PATTERNS = tuple(re.compile(pattern) for pattern in (
    rf"\bp{_SEP}o{_SEP}box(?![a-z])",  # English: PO Box, P.O. Box, POBox 12
    rf"\bpost{_SEP}office{_SEP}box\b",
    rf"\bp{_SEP}o{_SEP}b{_NUMBER}",  # POB 12, P.O.B. 12
    rf"\b(?:gpo|locked|private){_SEP}(?:box|bag){_NUMBER}",  # Australia: GPO Box, Locked Bag, Private Bag
    rf"\bboite{_SEP}postale\b",  # French
    rf"\bcase{_SEP}postale\b",  # Swiss and Belgian French
    rf"\bb{_SEP}p\.?{_NUMBER}",  # French: BP 123, B.P. 123
    r"\b(?:cs|tsa)\s*\d{5}\b",  # French business boxes: CS 70001, TSA 12345
    r"\bpostfach\b",  # German: Postfach 10 20 30
    r"\bpostbus\b",  # Dutch: Postbus 123 (not "bus 3", a Belgian flat's box number)
    r"\bpostboks\b",  # Danish, Norwegian
    rf"\bapartado{_SEP}(?:de{_SEP})?correos\b",  # Spanish
    rf"\bapartado{_SEP}postal\b",
    rf"\bapartado{_NUMBER}",  # Spanish, Portuguese: Apartado 1234
    rf"\bapdo\b{_SEP}(?:de{_SEP}correos\b|postal\b|\d)",
    rf"\bcasella{_SEP}postale\b",  # Italian
    rf"\bcaixa{_SEP}postal\b",  # Portuguese
    rf"\bskrytka{_SEP}pocztowa\b",  # Polish
    r"\bpostilokero\b",  # Finnish
    rf"\bpostovni{_SEP}prihradka\b",  # Czech
))

# Swedish PO boxes are a bare "Box 1234" at the start of a line; in Belgium "box 3" is a flat's box number at
# a street address, so a bare "Box" only counts for Sweden.
_SWEDISH_BOX = re.compile(rf"(?:^|[\n,;])\s*box{_NUMBER}")


def delivery_address_problems(address: str | Mapping[str, object], *,
                              country: str | None = None) -> list[str]:
    """Why we cannot deliver to an address (`po_box`, `missing_address`); empty when it is fine.

    `address` is the text of the address, or its fields (every text field is read; a `country` field is used
    when the `country` argument is not given).
    """
    if isinstance(address, Mapping):
        texts = [value for value in address.values() if isinstance(value, str)]
        field_country = address.get("country")
        if country is None and isinstance(field_country, str):
            country = field_country
    else:
        texts = [address]
    text = "\n".join(_fold(text) for text in texts if text.strip())
    if not text:
        return [MISSING_ADDRESS]
    if any(pattern.search(text) for pattern in _PO_BOX_PATTERNS):
        return [PO_BOX]
    if country is not None and country.upper() == "SE" and _SWEDISH_BOX.search(text):
        return [PO_BOX]
    return []


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
