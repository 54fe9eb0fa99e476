"""Bench: one print job of 500 bag labels through the template engine, beside plain reportlab.

Why: a release day prints hundreds of bag labels in one job, and the template engine (TOML layout, checks,
text fitting) must not be what makes the label room wait. "Plain reportlab" draws the same elements at
hard-coded places with a minimal hand-written canvas loop, so the ratio is the engine's cost.

It also times the real print job: 500 bag rows through ``print_jobs.print_labels`` (labels built
from the rows, one LabelPrint row and one audit entry per label, one commit) on a scratch SQLite database.

Run from the repo root: ``python bench/bench_labels.py``; writes ``bench/results/labels.json``.
"""

from __future__ import annotations

import io
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from itertools import groupby
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import reportlab  # noqa: E402
from reportlab.graphics.barcode.code128 import Code128  # noqa: E402
from reportlab.graphics.barcode.ecc200datamatrix import ECC200DataMatrix  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from cellchain.labelling.pdf import render_pdf  # noqa: E402
from cellchain.labelling.zpl import render_zpl  # noqa: E402

LABELS = 500
RUNS = 3
MOD37 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
STATEMENTS = ["Caution: New Drug - Limited by Federal (or United States) law", "to investigational use",
              "Do not irradiate", "Do not use a leukocyte-reduction filter",
              "For use by intended recipient only"]


def bag(sequence: int) -> dict[str, object]:
    """Realistic bag data for validation FIN A9999 with type 3 flags (ISO/IEC 7064 Mod 37-2, ISBT 128 ST-001)."""
    din = f"A999926{sequence:06d}"
    s = 0
    for ch in din:
        s = ((s + MOD37.index(ch)) * 2) % 37
    k = (38 - s) % 37
    barcode = f"={din}{60 + k}"
    return {"din_barcode": barcode, "din_eye_readable": f"{din[:5]} {din[5:7]} {din[7:]}",
            "din_check": MOD37[k],
            "collection_facility": "Validation Cord Collection Centre (FIN A9999)",
            "product_code_barcode": "=<D0001V00", "product_code_eye_readable": "D0001V00",
            "product_description": "UC-MSC, umbilical cord mesenchymal stromal cells, cryopreserved",
            "anticoagulant": "in CryoStor CS10 with ACD-A, lot ACD2611", "volume": "20 mL",
            "cell_content": "70 x 10^6 viable cells", "storage_temperature": "At or below -150 °C",
            "recipient_id": f"SUBJ-{sequence % 50 + 1:04d}", "recipient_birth_date": "1971-03-14",
            "expiry_barcode": "&>0263301200", "expiry_local": "2026-11-26 12:00 CET",
            "expiry_utc": "2026-11-26 11:00 UTC", "compound_2d": f"=+03000{barcode}=<D0001V00&>0263301200",
            "releasing_establishment": "Cell Therapy Unit, Validation University Hospital",
            # as the site in Beijing prints them: captions and statement in Chinese and English (the CJK font)
            "languages": ["zh", "en"], "statement": "仅供临床试验使用\nFor clinical trial use only",
            "quarantine_text": "待验 QUARANTINE"}


def plain_reportlab(labels: list[dict[str, object]]) -> bytes:
    """The same bag elements drawn at fixed places with the canvas, no template, no checks; the Data
    Matrix with reportlab's own encoder and a canvas path (the obvious hand-written way)."""
    out = io.BytesIO()
    c = Canvas(out, pagesize=(101.6 * mm, 101.6 * mm), invariant=1, pageCompression=1)
    for d in labels:
        c.setLineWidth(0.25 * mm)
        c.line(50.8 * mm, 101.6 * mm, 50.8 * mm, 35.6 * mm)
        c.line(0, 68.6 * mm, 101.6 * mm, 68.6 * mm)
        c.line(0, 35.6 * mm, 101.6 * mm, 35.6 * mm)
        for value, x, y in [(d["din_barcode"], 1.0, 90.6), (d["product_code_barcode"], 51.8, 90.6),
                            (d["expiry_barcode"], 51.8, 54.6)]:
            Code128(value, barWidth=0.25 * mm, barHeight=9 * mm, humanReadable=0, lquiet=2.5 * mm,
                    rquiet=2.5 * mm).drawOn(c, x * mm, y * mm)
        c.setFont("Courier-Bold", 10)
        for key, x, y in [("din_eye_readable", 3.5, 87.0), ("product_code_eye_readable", 54.3, 87.0),
                          ("expiry_local", 54.3, 51.0)]:
            c.drawString(x * mm, y * mm, str(d[key]))
        c.rect(36.5 * mm, 85.1 * mm, 5 * mm, 5 * mm)
        c.setFont("Courier-Bold", 11)
        c.drawCentredString(39 * mm, 86.8 * mm, str(d["din_check"]))
        c.setFont("Helvetica-Bold", 7)
        y = 78.0
        for key in ["collection_facility", "product_description", "anticoagulant", "volume", "cell_content",
                    "storage_temperature", "recipient_id", "recipient_birth_date", "expiry_utc"]:
            c.drawString(2 * mm, y * mm, str(d[key]))
            y -= 3.2
        for i, line in enumerate([*STATEMENTS, str(d["releasing_establishment"])]):
            c.drawString(26 * mm, (31.6 - i * 3.2) * mm, line)
        _plain_datamatrix(c, str(d["compound_2d"]))
        c.showPage()
    c.save()
    return out.getvalue()


def _plain_datamatrix(c: Canvas, value: str) -> None:
    symbol = ECC200DataMatrix(value)
    symbol.validate()
    path = c.beginPath()
    for r, row in enumerate(symbol.encode()):
        col = 0
        for dark, run in groupby(row):
            n = len(list(run))
            if dark:
                path.rect((1.5 + col * 0.5) * mm, (11 + r * 0.5) * mm, n * 0.5 * mm, 0.5 * mm)
            col += n
    c.drawPath(path, stroke=0, fill=1)


def database_job() -> dict[str, float]:
    """The real print job: 500 bag rows of one lot through ``print_jobs.print_labels``, which builds
    each label from its row (and allocation), renders one PDF, and writes a LabelPrint row and an audit
    entry per label, committed once; then the same 500 again as reprints (ZPL, with a reason)."""
    from datetime import UTC, datetime, timedelta

    from common import make_app, scratch_sqlite_url
    from sqlmodel import select

    from cellchain.core import db
    from cellchain.demo import loader as demo
    from cellchain.labelling import print_jobs as labels
    from cellchain.labelling.data import LabelSettings
    from cellchain.manufacturing.models import Bag, Collection, Lot
    from cellchain.people import accounts

    app = make_app(scratch_sqlite_url("labels"))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    with app.app_context():
        session = db.session()
        demo.load_people(session, policy=accounts.Policy(hash_method="scrypt:1024:8:1"))
        lab = accounts.find_user(session, "lab")
        now = datetime.now(UTC)
        cord = Collection(din="A999926000001", donor_code="D-1", collected_at=now, site="ward", consent_obtained=True,
                          eligibility="eligible", created_by=lab.id)
        session.add(cord)
        session.flush()
        lot = Lot(lot_number=cord.din, din=cord.din, collection_id=cord.id, spec_version="UCMSC-1", created_by=lab.id)
        session.add(lot)
        session.flush()
        divisions = [a + b for a in alphabet[:26] for b in alphabet][:LABELS]
        session.add_all([Bag(bag_code=f"{cord.din}-D0001V{d}", din=cord.din, product_code="D0001", division=d,
                             kind="ucmsc", lot_id=lot.id, volume_ml=50.0, total_cells=70_000_000,
                             anticoagulant="ACD-A", anticoagulant_lot="ACD2611", filled_at=now,
                             expires_at=now + timedelta(hours=48), created_by=lab.id) for d in divisions])
        db.commit()
    timings = {}
    for name, fmt, reason in (("first_print_pdf", "pdf", None), ("reprint_zpl", "zpl", "bench reprint")):
        with app.app_context():
            session = db.session()
            bags = session.exec(select(Bag).order_by(Bag.id)).all()
            start = time.perf_counter()
            labels.print_labels(session, actor=accounts.find_user(session, "lab"), kind="bag", records=bags,
                                settings=LabelSettings.from_config(app.config), reprint_reason=reason, fmt=fmt)
            db.commit()
            timings[name] = time.perf_counter() - start
    return timings


def rate(job: Callable[[], object]) -> tuple[float, float]:
    """Median labels/s over RUNS, and the median seconds for the job."""
    seconds = []
    for _ in range(RUNS):
        start = time.perf_counter()
        job()
        seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    return LABELS / median, median


def main() -> None:
    labels = [bag(n) for n in range(1, LABELS + 1)]
    render_pdf("bag", labels[:5])  # warm: template load, font metrics
    engine_rate, engine_s = rate(lambda: render_pdf("bag", labels))
    plain_rate, plain_s = rate(lambda: plain_reportlab(labels))
    zpl_rate, _ = rate(lambda: render_zpl("bag", labels))
    pdf_bytes = len(render_pdf("bag", labels))
    database = database_job()
    result = {
        "labels": LABELS, "runs": RUNS, "kind": "bag",
        "template_pdf_labels_per_s": round(engine_rate, 1), "template_pdf_seconds": round(engine_s, 3),
        "plain_reportlab_labels_per_s": round(plain_rate, 1), "plain_reportlab_seconds": round(plain_s, 3),
        "template_over_plain": round(engine_rate / plain_rate, 3),
        "template_zpl_labels_per_s": round(zpl_rate, 1), "pdf_bytes": pdf_bytes,
        "database_job_pdf_labels_per_s": round(LABELS / database["first_print_pdf"], 1),
        "database_job_zpl_reprint_labels_per_s": round(LABELS / database["reprint_zpl"], 1),
        "python": platform.python_version(), "reportlab": reportlab.Version, "cpus": os.cpu_count(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(f"template engine PDF : {engine_rate:8.1f} labels/s ({engine_s:.2f} s for {LABELS}, "
          f"{pdf_bytes / 1e6:.1f} MB)")
    print(f"plain reportlab PDF : {plain_rate:8.1f} labels/s ({plain_s:.2f} s)")
    print(f"ratio template/plain: {engine_rate / plain_rate:8.2f}")
    print(f"template engine ZPL : {zpl_rate:8.1f} labels/s")
    print(f"print job from DB   : {LABELS / database['first_print_pdf']:8.1f} labels/s (PDF; rows built, "
          "each label recorded and audited, one commit)")
    print(f"reprint job from DB : {LABELS / database['reprint_zpl']:8.1f} labels/s (ZPL)")
    target = ROOT / "bench" / "results" / "labels.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
