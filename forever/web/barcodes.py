"""Barcodes drawn on pages as inline SVG, server-side, for a till's scanner to read off a phone screen."""

from __future__ import annotations

import re

from markupsafe import Markup
from reportlab.graphics import renderSVG
from reportlab.graphics.barcode import createBarcodeDrawing

_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.S)
_SIZE = re.compile(r'<svg width="[^"]*" height="[^"]*"')
_TITLE = re.compile(r"<title>.*?</title>\s*<desc>.*?</desc>", re.S)
_STYLE = re.compile(r' style="([^"]*)"')


def _presentation_attributes(style: re.Match[str]) -> str:
    """`style="fill: none; stroke: none"` as ` fill="none" stroke="none"`: the pages' Content-Security-Policy
    refuses style attributes, not SVG's presentation attributes, which draw the same."""
    declarations = (part.partition(":") for part in style.group(1).split(";") if part.strip())
    return "".join(f' {name.strip()}="{value.strip()}"' for name, _, value in declarations)


def code128_svg(value: str, label: str) -> Markup:
    """`value` as a Code 128 barcode (quiet zones included) that scales to its container's width.

    Each drawing gets ids of its own, since a page may show several and ids must be unique on a page.
    """
    drawing = createBarcodeDrawing("Code128", value=value, barWidth=1, barHeight=56, humanReadable=False,
                                   quiet=True)
    svg = _PROLOGUE.sub("", renderSVG.drawToString(drawing), count=1)
    svg = _SIZE.sub(f'<svg class="barcode" role="img" aria-label="{Markup.escape(label)}"', svg, count=1)
    svg = _TITLE.sub("", svg, count=1)
    svg = _STYLE.sub(_presentation_attributes, svg)
    suffix = re.sub(r"[^A-Za-z0-9]", "", value)
    svg = svg.replace('id="clip"', f'id="clip-{suffix}"').replace("url(#clip)", f"url(#clip-{suffix})")
    svg = svg.replace('id="group"', f'id="group-{suffix}"')
    return Markup(svg)
