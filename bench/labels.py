"""Benchmark: prepaid labels (PDF A6 with a Code 128 barcode, and ZPL) against a bare ReportLab page, same run.

Renders, in this process, one after the other:

  * a bare ReportLab page with one line of text   the baseline: what any PDF costs here;
  * the prepaid label as PDF (A6, Code 128)       forever.tradein.documents.label_pdf;
  * the prepaid label as ZPL (4 x 6 in, 203 dpi)  forever.tradein.documents.label_zpl;
  * the transfer deed, 5 pieces (A4)              for information (sent once per trade-in; no target);

each `--count` times after `--warmup` untimed renders, every render with another tracking number and sender.
It prints labels/s, p50/p95/max in ms, each one's cost as a multiple of the bare page, and PASS or FAIL against
the issue's target (a PDF label in under 50 ms: p95 < 50 ms). A benchmark, not a test: exit status 0 whatever
the figures.

    .venv/bin/python bench/labels.py [--count 500] [--warmup 20] [--no-json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from reportlab.lib.pagesizes import A6
from reportlab.pdfgen import canvas

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(BENCH_DIR.parent))

from quotes import git_revision  # noqa: E402

from forever.money import Money  # noqa: E402
from forever.tradein import documents, s10  # noqa: E402

TARGET_PDF_MS = 50.0
RESULTS_DIR = BENCH_DIR / "results"
NAMES = ("Léa Dupont", "Jules Martin", "Noé Petit-Lœwy", "Inès Moreau", "Łukasz Nowak")


@dataclass
class Result:
    label: str
    count: int
    per_second: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    bytes: int


def bare_page(i: int) -> bytes:
    """The baseline: an A6 page with one line of text, nothing else."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A6, pageCompression=0)
    page.setFont("Helvetica", 12)
    page.drawString(40, 200, f"Parcel {i}")
    page.showPage()
    page.save()
    return buffer.getvalue()


def label_for(i: int) -> documents.Label:
    return documents.Label(
        tracking_number=s10.make("CB", 1 + i, "FR"), carrier="Built-in carrier (UPU S10)",
        reference=f"AFE-{i:08X}", piece_count=1 + i % 5, sender_name=NAMES[i % len(NAMES)],
        sender_email=f"seller{i}@example.com", sender_country="FR", ship_by=dt.date(2026, 12, 23))


def deed_for(i: int) -> documents.Deed:
    pieces = tuple(documents.DeedPiece(line=n, product_ref=f"REF-{i}-{n}", name="Ami de Cœur Sweatshirt",
                                       season="SS24", size="M", declared_condition="excellent",
                                       offer=Money(9000 + 100 * n)) for n in range(1, 6))
    return documents.Deed(
        tradein_id=f"00000000-0000-4000-8000-{i:012d}", reference=f"AFE-{i:08X}",
        tracking_number=s10.make("CB", 1 + i, "FR"), accepted_on=dt.date(2026, 11, 23),
        seller_name=NAMES[i % len(NAMES)], seller_email=f"seller{i}@example.com",
        seller_birth_date=dt.date(1990, 5, 17), seller_country="FR", account_id=f"account-{i}", pieces=pieces,
        total=Money(sum(piece.offer.amount for piece in pieces)), refused_items="return")


def measure(label: str, render: Callable[[int], bytes | str], count: int, warmup: int) -> Result:
    for i in range(warmup):
        render(i)
    timings = []
    size = 0
    started = time.perf_counter()
    for i in range(warmup, warmup + count):
        before = time.perf_counter()
        output = render(i)
        timings.append(time.perf_counter() - before)
        size += len(output)
    elapsed = time.perf_counter() - started
    timings.sort()

    def at(fraction: float) -> float:  # nearest rank
        return timings[min(len(timings) - 1, max(0, round(fraction * len(timings)) - 1))] * 1000

    return Result(label=label, count=count, per_second=count / elapsed, p50_ms=at(0.50), p95_ms=at(0.95),
                  max_ms=timings[-1] * 1000, bytes=size // count)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Prepaid labels (PDF, ZPL) vs a bare ReportLab page, same run.")
    parser.add_argument("--count", type=int, default=500, help="renders measured per kind (500)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed renders first (20)")
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/labels-*.json")
    args = parser.parse_args(argv)

    started = dt.datetime.now(dt.UTC).astimezone()
    plan: list[tuple[str, Callable[[int], bytes | str]]] = [
        ("bare ReportLab page", bare_page),
        ("label PDF (A6, Code 128)", lambda i: documents.label_pdf(label_for(i))),
        ("label ZPL (4x6 in)", lambda i: documents.label_zpl(label_for(i))),
        ("deed PDF (A4, 5 pieces)", lambda i: documents.deed_pdf(deed_for(i))),
    ]
    print(f"{args.count} renders per kind after {args.warmup} untimed, one process, {os.cpu_count()} CPUs",
          flush=True)
    results = []
    for label, render in plan:
        print(f"measuring {label} ...", flush=True)
        results.append(measure(label, render, args.count, args.warmup))

    baseline = results[0]
    header = f"{'render':<26} {'per second':>11} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'bytes':>8} " \
             f"{'x bare p50':>10}"
    print()
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.label:<26} {r.per_second:>11.1f} {r.p50_ms:>8.2f} {r.p95_ms:>8.2f} {r.max_ms:>8.2f} "
              f"{r.bytes:>8} {r.p50_ms / baseline.p50_ms:>10.2f}")
    pdf = results[1]
    ratio = pdf.per_second / baseline.per_second
    passed = pdf.p95_ms < TARGET_PDF_MS
    print()
    print(f"ratio label PDF / bare page, renders per second: {ratio:.3f}")
    print(f"  PDF label: {'PASS' if passed else 'FAIL'}  (target under {TARGET_PDF_MS:g} ms per label: "
          f"p95 {pdf.p95_ms:.2f} ms, p50 {pdf.p50_ms:.2f} ms)")

    if not args.no_json:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"labels-{started:%Y%m%dT%H%M%S}.json"
        path.write_text(json.dumps({
            "benchmark": "labels", "started_at": started.isoformat(timespec="seconds"), "git": git_revision(),
            "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "settings": {"count": args.count, "warmup": args.warmup},
            "results": [asdict(r) for r in results], "ratio_pdf_to_bare": ratio,
            "targets": {"pdf_label_p95_ms_max": TARGET_PDF_MS}, "pass": {"pdf_label": passed},
        }, indent=2) + "\n")
        print(f"figures written to {path.relative_to(BENCH_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
