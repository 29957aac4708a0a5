"""The prepaid label (PDF A6, ZPL) and the transfer deed (PDF A4): what they say, the barcode, the ZPL's form."""

from __future__ import annotations

import datetime as dt
import io
import re
import statistics
import time

import pypdf
import pypdfium2
import pytest
import zxingcpp

from forever.money import Money
from forever.tradein import documents, s10

NUMBER = s10.make("CB", 4_711, "FR")


def make_label(**changes) -> documents.Label:
    values = dict(tracking_number=NUMBER, carrier="Built-in carrier (UPU S10)", reference="AFE-3F9A2C1B",
                  piece_count=3, sender_name="Léa Dupont-Lœwy", sender_email="lea@example.com",
                  sender_country="FR", ship_by=dt.date(2026, 12, 23))
    return documents.Label(**{**values, **changes})


def make_deed(pieces: int = 3, **changes) -> documents.Deed:
    conditions = ("new_with_tags", "excellent", "very_good")
    values = dict(
        tradein_id="3f9a2c1b-7d1e-4c55-9a0b-2f4d6e8a1c3b", reference="AFE-3F9A2C1B", tracking_number=NUMBER,
        accepted_on=dt.date(2026, 11, 23), seller_name="Léa Dupont", seller_email="lea@example.com",
        seller_birth_date=dt.date(1990, 5, 17), seller_country="FR", account_id="5b2e6f1a-0c4d-4e8f-9a7b-1c2d3e4f5a6b",
        pieces=tuple(documents.DeedPiece(line=n, product_ref=f"REF-{n:03d}", name=f"Ami de Cœur Sweatshirt n°{n}",
                                         season="SS24" if n % 2 else "FW23", size="M" if n % 3 else None,
                                         declared_condition=conditions[n % 3], offer=Money(1000 * n + 500))
                     for n in range(1, pieces + 1)),
        refused_items="return")
    values["total"] = Money(sum(piece.offer.amount for piece in values["pieces"]))
    return documents.Deed(**{**values, **changes})


def pdf_text(content: bytes) -> str:
    """The text of every page, each run of white space one space (lines wrap where the layout says)."""
    return " ".join(" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def size_mm(content: bytes, page: int = 0) -> tuple[int, int]:
    box = pypdf.PdfReader(io.BytesIO(content)).pages[page].mediabox
    return round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)


# --- the PDF label ------------------------------------------------------------------------------------------


def test_the_pdf_label_is_one_a6_page_with_everything_the_carrier_and_the_warehouse_need():
    content = documents.label_pdf(make_label())
    assert len(pypdf.PdfReader(io.BytesIO(content)).pages) == 1
    assert size_mm(content) == (105, 148)
    text = pdf_text(content)
    for expected in (NUMBER, s10.spaced(NUMBER), "AFE-3F9A2C1B", "3 pièces", "Léa Dupont-Lœwy", "lea@example.com",
                     "20 boulevard de l'Europe", "77380 Combs-la-Ville", "23/12/2026", "bon de cession"):
        assert expected in text, expected


@pytest.mark.parametrize("number", [NUMBER, s10.make("CB", 99_999_999, "FR"), s10.make("LA", 10_000_000, "FR")])
def test_the_label_barcode_decodes_back_to_the_tracking_number(number):
    page = pypdfium2.PdfDocument(documents.label_pdf(make_label(tracking_number=number)))[0]
    image = page.render(scale=203 / 72).to_pil()  # a 203 dpi thermal printer's resolution
    barcodes = zxingcpp.read_barcodes(image)
    assert [(barcode.format, barcode.text) for barcode in barcodes] == [(zxingcpp.BarcodeFormat.Code128, number)]


def test_characters_beyond_helvetica_lose_their_accent_not_the_label():
    assert documents.pdf_text("Łukasz Dvořák, Cœur, «été» 20 €") == "Lukasz Dvorák, Cœur, «été» 20 €"
    assert documents.pdf_text("李") == "?"
    assert "Lukasz Dvorák" in pdf_text(documents.label_pdf(make_label(sender_name="Łukasz Dvořák")))


def test_a_pdf_label_renders_well_under_50_ms():
    label = make_label()
    documents.label_pdf(label)
    timings = []
    for _ in range(15):
        started = time.perf_counter()
        documents.label_pdf(label)
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.050


# --- the ZPL label ------------------------------------------------------------------------------------------

COMMAND = re.compile(r"[\^~][A-Z@][A-Z0-9]?")


def zpl_commands(zpl: str) -> list[tuple[str, str]]:
    """(command, parameters) pairs; ^FD data runs to the next ^FS."""
    commands, position = [], 0
    while position < len(zpl):
        if zpl[position] in "\r\n":
            position += 1
            continue
        match = COMMAND.match(zpl, position)
        assert match, f"not a ZPL command at {zpl[position:position + 20]!r}"
        name = match.group()
        end = zpl.index("^FS", match.end()) if name == "^FD" else min(
            [i for i in (zpl.find("^", match.end()), zpl.find("~", match.end()), zpl.find("\n", match.end()))
             if i >= 0] or [len(zpl)])
        commands.append((name, zpl[match.end():end]))
        position = end
    return commands


def unescape(field: str) -> str:
    return re.sub(rb"_([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]), field.encode()).decode()


def test_the_zpl_label_is_well_formed_for_a_4_by_6_inch_printer_at_203_dpi():
    zpl = documents.label_zpl(make_label(sender_name="Zoë ^Caret~Tilde_Under Łukasz"))
    assert zpl.isascii()
    commands = zpl_commands(zpl)
    names = [name for name, _ in commands]
    assert names[0] == "^XA" and names[-1] == "^XZ" and names.count("^XA") == names.count("^XZ") == 1
    params = dict(commands)
    assert params["^CI"] == "28" and params["^PW"] == "812" and params["^LL"] == "1218"
    # Every field (text, barcode or box) starts at an origin and is closed; field data runs to its ^FS.
    assert names.count("^FO") == names.count("^FS")
    assert all(names[number + 1] == "^FS" for number, name in enumerate(names) if name == "^FD")
    for name, value in commands:
        if name == "^FO":
            x, y = (int(part) for part in value.split(","))
            assert 0 <= x < 812 and 0 <= y < 1218
    # Code 128 with the tracking number as its data, no check digit of its own, no escapes.
    barcode = names.index("^BC")
    assert params["^BC"].startswith("N,") and commands[barcode + 1] == ("^FD", NUMBER)
    fields = [unescape(value) for (name, value), (before, _) in zip(commands[1:], commands) if name == "^FD"
              and before == "^FH"]
    assert "Zoë ^Caret~Tilde_Under Łukasz" in fields
    assert "20 boulevard de l'Europe" in fields and "77380 Combs-la-Ville" in fields
    assert s10.spaced(NUMBER) in fields and "Reprise / Trade-in: AFE-3F9A2C1B" in fields
    assert "3 pièces / 3 pieces" in fields


def test_zpl_fields_escape_command_characters_and_keep_utf8():
    assert documents.zpl_field("a^b~c_d") == "a_5Eb_7Ec_5Fd"
    assert documents.zpl_field("é") == "_C3_A9"
    assert unescape(documents.zpl_field("Cœur ^ ~ _ \\ €")) == "Cœur ^ ~ _ \\ €"


# --- the transfer deed --------------------------------------------------------------------------------------


def test_the_deed_names_the_seller_every_piece_the_total_and_where_to_sign():
    deed = make_deed(3)
    content = documents.deed_pdf(deed)
    assert size_mm(content) == (210, 297)
    text = pdf_text(content)
    assert len(pypdf.PdfReader(io.BytesIO(content)).pages) == 1
    for expected in ("Bon de cession", "Transfer deed", NUMBER, "AFE-3F9A2C1B", "Léa Dupont", "lea@example.com",
                     "17/05/1990", "23/11/2026", "Conditions de reprise", "Trade-in conditions",
                     "15 jours ouvrés", "15 business days", "Signature du cédant", "Seller's signature",
                     "Fait à / Signed at", "Le / On", "me sont renvoyées gratuitement",
                     "sent back to me free of charge", "15,00 €", "75,00 €", "Total"):
        assert expected in text, expected
    for piece in deed.pieces:
        assert piece.product_ref in text and piece.name in text and piece.season in text
    assert "Etat neuf / New with tags" in text and "Excellent état / Excellent" in text
    assert "Très bon état / Very good" in text
    assert "sont données" in pdf_text(documents.deed_pdf(make_deed(1, refused_items="donate")))


def test_a_deed_of_fifty_pieces_runs_over_pages_and_loses_none():
    deed = make_deed(50)
    content = documents.deed_pdf(deed)
    assert len(pypdf.PdfReader(io.BytesIO(content)).pages) >= 2
    text = pdf_text(content)
    assert all(piece.product_ref in text for piece in deed.pieces)
    assert text.count(NUMBER) >= 2  # on every page's footer too
