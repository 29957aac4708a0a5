"""The documents of a trade-in: the prepaid label (PDF A6 and ZPL for 4 x 6 in thermal printers) and the
transfer deed (bon de cession, PDF A4). Pure rendering: the service gathers the facts, this lays them out.

PDFs use ReportLab's built-in Helvetica, whose WinAnsi encoding covers French (é, è, à, ç, œ, «», €); the rare
character beyond it is reduced to its base letter (Ł -> L) rather than shipping a font (`pdf_text`).
"""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from forever.money import Money
from forever.tradein import s10

# 001_d00102674b0828d8.txt: the returns warehouse.
WAREHOUSE_ADDRESS: tuple[str, ...] = (
    "AMI PARIS - AMI For Ever", "Service reprise / Trade-in", "20 boulevard de l'Europe", "77380 Combs-la-Ville",
    "FRANCE",
)

CONDITION_NAMES: dict[str, tuple[str, str]] = {  # (French as in 003_, English)
    "new_with_tags": ("Etat neuf", "New with tags"),
    "excellent": ("Excellent état", "Excellent"),
    "very_good": ("Très bon état", "Very good"),
}
# What a label is for: its reference's title and the advice under it. A trade-in parcel holds the signed deed; a
# resale shop return (forever.listings) holds the returned pieces, labels still on.
TRADEIN_LABEL = ("Reprise / Trade-in", ("Glissez le bon de cession signé dans le colis.",
                                        "Put the signed transfer deed inside the parcel."))
RETURN_LABEL = ("Retour / Return", ("Pièces dans leur état d'origine, étiquettes attachées.",
                                    "Pieces in their original condition, labels attached."))

REFUSED_ITEMS_NAMES: dict[str, tuple[str, str]] = {
    "return": ("me sont renvoyées gratuitement", "are sent back to me free of charge"),
    "donate": ("sont données", "are donated"),
}


@dataclass(frozen=True)
class Label:
    """What the prepaid label says."""

    tracking_number: str
    carrier: str
    reference: str
    piece_count: int
    sender_name: str
    sender_email: str
    sender_country: str
    ship_by: dt.date
    purpose: tuple[str, tuple[str, str]] = TRADEIN_LABEL


@dataclass(frozen=True)
class DeedPiece:
    line: int
    product_ref: str
    name: str
    season: str
    size: str | None
    declared_condition: str
    offer: Money


@dataclass(frozen=True)
class Deed:
    """What the transfer deed says."""

    tradein_id: str
    reference: str
    tracking_number: str
    accepted_on: dt.date
    seller_name: str
    seller_email: str
    seller_birth_date: dt.date | None
    seller_country: str
    account_id: str
    pieces: tuple[DeedPiece, ...]
    total: Money
    refused_items: str


def pdf_text(text: str) -> str:
    """`text` in the characters Helvetica can show (WinAnsi); others lose their accent, or become '?'."""
    out = []
    for char in text:
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            out.append(base or ("L" if char == "Ł" else "l" if char == "ł" else "?"))
        else:
            out.append(char)
    return "".join(out)


def french_date(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"


def euros(amount: Money) -> str:
    """"84,00 €" (French style: the deed is a French document first)."""
    return f"{amount.major:,.2f}".replace(",", "\u00a0").replace(".", ",") + "\u00a0€"


# --- the label, PDF A6 --------------------------------------------------------------------------------------


def label_pdf(label: Label) -> bytes:
    """The prepaid label on an A6 page (105 x 148 mm), with the tracking number as a Code 128 barcode."""
    width, height = A6
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A6, pageCompression=0)
    page.setTitle(f"Prepaid label {label.tracking_number}")
    page.setAuthor("AMI For Ever")
    margin = 6 * mm
    right = width - margin

    # Header: who, and that it is paid for.
    page.setFillColor(colors.black)
    page.rect(0, height - 16 * mm, width, 16 * mm, stroke=0, fill=1)
    page.setFillColor(colors.white)
    page.setFont("Helvetica-Bold", 13)
    page.drawString(margin, height - 8.5 * mm, "AMI For Ever")
    page.setFont("Helvetica", 7.5)
    page.drawString(margin, height - 13 * mm, pdf_text(label.carrier))
    page.setFont("Helvetica-Bold", 10)
    page.drawRightString(right, height - 8.5 * mm, "COLIS PRÉPAYÉ")
    page.setFont("Helvetica", 7.5)
    page.drawRightString(right, height - 13 * mm, "PREPAID PARCEL · PORT PAYÉ")
    page.setFillColor(colors.black)

    # Sender.
    y = height - 22 * mm
    page.setFont("Helvetica-Bold", 6.5)
    page.drawString(margin, y, "EXPÉDITEUR / FROM")
    page.setFont("Helvetica", 8.5)
    for text in (label.sender_name, label.sender_email, label.sender_country):
        y -= 3.8 * mm
        page.drawString(margin, y, pdf_text(text)[:60])

    # Recipient: the warehouse, large.
    y -= 6 * mm
    page.setLineWidth(1.2)
    box_top = y + 3.5 * mm
    page.setFont("Helvetica-Bold", 6.5)
    page.drawString(margin + 2 * mm, y, "DESTINATAIRE / TO")
    page.setFont("Helvetica-Bold", 11.5)
    for text in WAREHOUSE_ADDRESS:
        y -= 5.2 * mm
        page.drawString(margin + 2 * mm, y, text)
    page.rect(margin, y - 2.5 * mm, right - margin, box_top - (y - 2.5 * mm), stroke=1, fill=0)

    # The barcode and the number people read.
    barcode = Code128(label.tracking_number, barWidth=0.42 * mm, barHeight=24 * mm, humanReadable=False,
                      quiet=True, lquiet=5 * mm, rquiet=5 * mm)
    y -= 33 * mm
    barcode.drawOn(page, (width - barcode.width) / 2, y)
    y -= 6 * mm
    page.setFont("Helvetica-Bold", 14)
    page.drawCentredString(width / 2, y, s10.spaced(label.tracking_number))

    # The trade-in.
    y -= 8 * mm
    page.setLineWidth(0.6)
    page.line(margin, y + 4.5 * mm, right, y + 4.5 * mm)
    page.setFont("Helvetica", 8)
    page.drawString(margin, y, f"Suivi / Tracking: {label.tracking_number}")
    page.drawRightString(right, y, f"{label.purpose[0]}: {label.reference}")
    y -= 4.5 * mm
    pieces = f"{label.piece_count} pièce{'s' if label.piece_count > 1 else ''} / " \
             f"{label.piece_count} piece{'s' if label.piece_count > 1 else ''}"
    page.drawString(margin, y, pieces)
    page.drawRightString(right, y, f"À déposer avant le / Ship by: {french_date(label.ship_by)}")
    y -= 6 * mm
    page.setFont("Helvetica-Oblique", 7)
    for advice in label.purpose[1]:
        page.drawString(margin, y, advice)
        y -= 3.4 * mm
    page.drawString(margin, y, "Bureau de Poste, relais Pickup ou agence Chronopost / post office, Pickup")
    y -= 3.4 * mm
    page.drawString(margin, y, "relay or Chronopost agency. Gardez la preuve de dépôt / keep the receipt.")
    page.showPage()
    page.save()
    return buffer.getvalue()


# --- the label, ZPL -----------------------------------------------------------------------------------------

ZPL_WIDTH, ZPL_HEIGHT = 812, 1218  # 4 x 6 in at 203 dpi
_ZPL_PLAIN = frozenset(chr(code) for code in range(32, 127)) - {"^", "~", "_", "\\"}


def zpl_field(text: str) -> str:
    """A ^FD field of `text` under ^FH_: command characters, the escape itself and non-ASCII as _XX hex
    (UTF-8 bytes, which ^CI28 reads back as the original characters)."""
    return "".join(char if char in _ZPL_PLAIN else "".join(f"_{byte:02X}" for byte in char.encode())
                   for char in text)


def _zpl_text(x: int, y: int, size: int, text: str, *, width: int | None = None, align: str = "L") -> str:
    block = f"^FB{width},1,0,{align},0" if width else ""
    return f"^FO{x},{y}^A0N,{size},{size}{block}^FH_^FD{zpl_field(text)}^FS"


def label_zpl(label: Label) -> str:
    """The prepaid label for a 4 x 6 in (10 x 15 cm) thermal printer at 203 dpi, UTF-8 (^CI28)."""
    margin, inner = 40, ZPL_WIDTH - 80
    lines = ["^XA", "^CI28", f"^PW{ZPL_WIDTH}", f"^LL{ZPL_HEIGHT}", "^LH0,0",
             f"^FO0,0^GB{ZPL_WIDTH},120,120^FS",
             f"^FO{margin},22^A0N,48,48^FR^FH_^FDAMI For Ever^FS",
             f"^FO{margin},78^A0N,26,26^FR^FH_^FD{zpl_field(label.carrier)}^FS",
             f"^FO{margin},30^A0N,34,34^FB{inner},1,0,R,0^FR^FH_^FD{zpl_field('COLIS PRÉPAYÉ')}^FS",
             f"^FO{margin},78^A0N,26,26^FB{inner},1,0,R,0^FR^FH_^FD{zpl_field('PREPAID PARCEL')}^FS",
             _zpl_text(margin, 150, 22, "EXPÉDITEUR / FROM")]
    y = 180
    for text in (label.sender_name, label.sender_email, label.sender_country):
        lines.append(_zpl_text(margin, y, 30, text[:48]))
        y += 36
    y += 20
    lines.append(f"^FO{margin - 10},{y}^GB{inner + 20},{48 * len(WAREHOUSE_ADDRESS) + 60},4^FS")
    lines.append(_zpl_text(margin + 10, y + 16, 22, "DESTINATAIRE / TO"))
    y += 50
    for text in WAREHOUSE_ADDRESS:
        lines.append(_zpl_text(margin + 10, y, 42, text))
        y += 48
    y += 50
    # Code 128, subset B from the start (mode N, no invocation codes): 11 modules per character plus start,
    # check and a 13-module stop; centred at 3 dots per module.
    modules = 11 * (len(label.tracking_number) + 2) + 13
    lines.append(f"^BY3,3,220^FO{(ZPL_WIDTH - 3 * modules) // 2},{y}^BCN,220,N,N,N,N"
                 f"^FD{label.tracking_number}^FS")
    y += 240
    lines.append(_zpl_text(0, y, 56, s10.spaced(label.tracking_number), width=ZPL_WIDTH, align="C"))
    y += 80
    lines.append(f"^FO{margin},{y}^GB{inner},3,3^FS")
    y += 20
    lines.append(_zpl_text(margin, y, 28, f"Suivi / Tracking: {label.tracking_number}"))
    y += 38
    lines.append(_zpl_text(margin, y, 28, f"{label.purpose[0]}: {label.reference}"))
    y += 38
    plural = "s" if label.piece_count > 1 else ""
    lines.append(_zpl_text(margin, y, 28, f"{label.piece_count} pièce{plural} / {label.piece_count} piece{plural}"))
    y += 38
    lines.append(_zpl_text(margin, y, 28, f"À déposer avant le / Ship by: {french_date(label.ship_by)}"))
    y += 50
    for advice in label.purpose[1]:
        lines.append(_zpl_text(margin, y, 22, advice))
        y += 28
    lines.append("^XZ")
    return "\n".join(lines) + "\n"


# --- the transfer deed, PDF A4 ------------------------------------------------------------------------------

# The conditions the seller signs, in French and in English (DESIGN.md "Grading and credit", from 003_).
def deed_conditions(refused_items: str) -> tuple[list[str], list[str]]:
    refused_fr, refused_en = REFUSED_ITEMS_NAMES[refused_items]
    french = [
        "Le cédant déclare être âgé de 18 ans ou plus, résider en France, en Allemagne, en Italie, en Espagne, "
        "en Belgique ou aux Pays-Bas, et être le propriétaire des pièces listées ci-dessus.",
        "Chaque pièce doit être propre, intacte (incluant les étiquettes intérieures de marque et de "
        "composition) et parfaitement fonctionnelle : pas d'éléments manquants, pas de trous ou déchirures, pas "
        "de taches ou d'odeur. Elle ne doit pas avoir été retouchée. Nous ne reprenons que les articles AMI.",
        "Dès réception du colis, nos Experts Qualité contrôlent l'état de chaque pièce. Vous êtes notifié par "
        "e-mail sous 15 jours ouvrés à compter de la date de réception du colis par notre entrepôt.",
        "Une pièce jugée dans l'état déclaré (ou meilleur) est créditée du montant de l'offre. Une pièce jugée "
        "dans un état inférieur mais acceptable fait l'objet d'une contre-proposition au prix de la grille de "
        "l'offre : vous l'acceptez, demandez son retour ou la donnez sous 14 jours (sans réponse, elle est "
        f"acceptée). Les pièces refusées {refused_fr}.",
        "Le crédit est versé sur votre compte AMI For Ever au fur et à mesure de la validation des pièces. Il se "
        "convertit en bons d'achat valables 12 mois sur amiparis.com, forever.amiparis.com et en boutique AMI "
        "(hors corners Grand Magasin).",
        "Par sa signature, le cédant cède à AMI PARIS la propriété des pièces acceptées, au prix indiqué, réglé "
        "en crédit d'achat.",
    ]
    english = [
        "The seller declares being 18 or older, living in France, Germany, Italy, Spain, Belgium or the "
        "Netherlands, and owning the pieces listed above.",
        "Each piece must be clean, intact (with its inner brand and composition labels) and fully functional: "
        "nothing missing, no holes or tears, no stains or odour. It must not have been altered. Only AMI pieces "
        "are taken.",
        "When the parcel arrives, our quality experts check each piece. You are told by e-mail within 15 "
        "business days of the day our warehouse receives the parcel.",
        "A piece found in the declared condition (or better) is credited the amount offered. A piece found in a "
        "lower but acceptable condition gets a counter-offer at the offer's grid price: accept it, ask for the "
        f"piece back or donate it within 14 days (silence means yes). Refused pieces {refused_en}.",
        "Credit lands in your AMI For Ever account piece by piece. It turns into vouchers valid 12 months on "
        "amiparis.com, forever.amiparis.com and in AMI boutiques (not department-store corners).",
        "By signing, the seller transfers to AMI PARIS the ownership of the accepted pieces, at the price "
        "shown, paid in store credit.",
    ]
    return french, english


_BODY = ParagraphStyle("body", fontName="Helvetica", fontSize=8.5, leading=11)
_SMALL = ParagraphStyle("small", parent=_BODY, fontSize=7.5, leading=9.5)
_CELL = ParagraphStyle("cell", parent=_BODY, fontSize=8, leading=10)
_TITLE = ParagraphStyle("title", fontName="Helvetica-Bold", fontSize=18, leading=22)
_SUBTITLE = ParagraphStyle("subtitle", fontName="Helvetica", fontSize=11, leading=14, textColor=colors.grey)
_HEADING = ParagraphStyle("heading", fontName="Helvetica-Bold", fontSize=10, leading=13, spaceBefore=8,
                          spaceAfter=3)


def _p(text: str, style: ParagraphStyle = _BODY) -> Paragraph:
    return Paragraph(escape(pdf_text(text)), style)


def deed_pdf(deed: Deed) -> bytes:
    """The transfer deed (bon de cession) the seller signs and puts in the parcel: A4, French and English."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                                 bottomMargin=16 * mm, title=f"Bon de cession {deed.reference}",
                                 author="AMI For Ever")
    width = A4[0] - 36 * mm
    story: list = [
        _p("Bon de cession", _TITLE),
        _p("Transfer deed · AMI For Ever, le service de reprise d'AMI PARIS", _SUBTITLE),
        Spacer(1, 5 * mm),
    ]
    born = french_date(deed.seller_birth_date) if deed.seller_birth_date else "-"
    facts = [
        ("Reprise / Trade-in", deed.reference, "Numéro de suivi / Tracking", deed.tracking_number),
        ("Offre acceptée le / Accepted on", french_date(deed.accepted_on), "Identifiant / Id", deed.tradein_id),
        ("Cédant / Seller", deed.seller_name, "Né(e) le / Born on", born),
        ("E-mail", deed.seller_email, "Pays / Country", deed.seller_country),
        ("Cessionnaire / Buyer", "AMI PARIS, " + ", ".join(WAREHOUSE_ADDRESS[2:4]), "Compte / Account",
         deed.account_id),
    ]
    label_width, value_width = 30 * mm, width / 2 - 30 * mm
    table = Table([[_p(text, _SMALL if column % 2 == 0 else _CELL) for column, text in enumerate(row)]
                   for row in facts],
                  colWidths=[label_width, value_width, label_width, value_width])
    table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 2),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 2), ("LEFTPADDING", (0, 0), (-1, -1), 2)]))
    story += [table, _p("Pièces cédées / Pieces transferred", _HEADING)]

    rows = [[_p(text, _CELL) for text in ("#", "Réf. / Ref.", "Pièce / Piece", "Saison / Season",
                                          "État déclaré / Declared condition", "Offre / Offer")]]
    for piece in deed.pieces:
        french, english = CONDITION_NAMES.get(piece.declared_condition, (piece.declared_condition,) * 2)
        name = piece.name + (f" (taille / size {piece.size})" if piece.size else "")
        rows.append([_p(str(piece.line), _CELL), _p(piece.product_ref, _CELL), _p(name, _CELL),
                     _p(piece.season, _CELL), _p(f"{french} / {english}", _CELL), _p(euros(piece.offer), _CELL)])
    rows.append(["", "", _p("Total", _CELL), "", _p(f"{len(deed.pieces)} pièce(s) / piece(s)", _CELL),
                 _p(euros(deed.total), _CELL)])
    pieces = Table(rows, colWidths=[8 * mm, 28 * mm, width - 124 * mm, 18 * mm, 44 * mm, 26 * mm], repeatRows=1)
    pieces.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -2), 0.25, colors.lightgrey),
        ("LINEABOVE", (0, -1), (-1, -1), 0.8, colors.black),
        ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
    ]))
    story.append(pieces)

    french, english = deed_conditions(deed.refused_items)
    story.append(_p("Conditions de reprise", _HEADING))
    story += [_p(f"{number}. {text}", _SMALL) for number, text in enumerate(french, start=1)]
    story.append(_p("Trade-in conditions", _HEADING))
    story += [_p(f"{number}. {text}", _SMALL) for number, text in enumerate(english, start=1)]

    sign = [
        [_p("Fait à / Signed at: ______________________________", _CELL),
         _p("Le / On: ____ / ____ / ________", _CELL)],
        [_p("Signature du cédant, précédée de « Lu et approuvé » / Seller's signature, after "
            "\u201cRead and approved\u201d", _CELL),
         _p("Réception AMI (date, visa) / Received by AMI (date, initials)", _CELL)],
        ["", ""],
    ]
    signatures = Table(sign, colWidths=[width / 2, width / 2], rowHeights=[8 * mm, 9 * mm, 22 * mm])
    signatures.setStyle(TableStyle([("BOX", (0, 1), (0, 2), 0.8, colors.black),
                                    ("BOX", (1, 1), (1, 2), 0.8, colors.black), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [Spacer(1, 4 * mm), KeepTogether([
        _p("Signatures", _HEADING), signatures, Spacer(1, 3 * mm),
        _p("Imprimez, datez et signez ce bon, puis glissez-le dans le colis avec vos pièces. / Print, date and "
           "sign this deed, then put it in the parcel with your pieces.", _SMALL)])]
    def footer(page: canvas.Canvas, _: SimpleDocTemplate) -> None:
        page.setFont("Helvetica", 7)
        page.setFillColor(colors.grey)
        page.drawString(18 * mm, 9 * mm, f"Bon de cession / Transfer deed {deed.reference} · {deed.tracking_number}")
        page.drawRightString(A4[0] - 18 * mm, 9 * mm, f"page {page.getPageNumber()}")

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
