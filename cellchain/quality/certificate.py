"""The release certificate (certificate of analysis and release decision) as a PDF.

It carries what a receiving site needs to trust the product: identity (product, lot, DIN), donor
eligibility, every test of the lot's specification with its limit, the result that counts and the
software's verdict, the deviations, the decision, and the signature manifestation (21 CFR 11.50:
printed name, date and time, meaning). Annex 11 section 8.2 asks a release printout to show whether
data changed since the signature, so the release content is recomputed and compared with the hash
the signature was bound to; the QR code opens a page that does the same check live.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlmodel import Session

from cellchain.audit import signatures
from cellchain.audit.models import Signature
from cellchain.core.errors import Reason, Refused
from cellchain.core.words.labels import label
from cellchain.core.words.moments import site_clock
from cellchain.identifiers import isbt128
from cellchain.manufacturing.lot_access import get_lot
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.quality import deviations, holds, qc, release, release_gaps
from cellchain.quality.models import Deviation, Hold
from cellchain.quality.rules.spec_limits import SpecTest
from cellchain.quality.rules.spec_limits import shown as spec_words

LOT_NOT_DECIDED = "lot_not_decided"
QR_SIZE = 38 * mm
# A Chinese reader's document is set in Adobe's CID font for simplified Chinese, which every PDF reader
# has (nothing is embedded); an English one keeps the standard Helvetica.
CJK_FONT = "STSong-Light"


def pdf_fonts() -> tuple[str, str]:
    """The regular and bold font names of the certificate in the reader's language (docs/architecture.md,
    "Languages")."""
    locale = get_locale()
    if locale is not None and locale.language == "zh":
        if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
        return CJK_FONT, CJK_FONT
    return "Helvetica", "Helvetica-Bold"


@dataclass(frozen=True)
class CertificateData:
    """Everything printed, read from the record in one go."""

    lot: Lot
    collection: Collection
    lines: list[qc.QcLine]
    deviations: list[Deviation]
    accepted_tests: set[str]
    bags: list[Bag]
    signature: Signature
    changed: bool
    pending_after_release: list[SpecTest]
    holds: list[Hold]
    inherited: list[release.Inherited]


def build(session: Session, lot_number: str) -> CertificateData:
    """The certificate's data; a lot without a QA decision has no certificate (``lot_not_decided``)."""
    lot = get_lot(session, lot_number)
    signature = release.decision_signature(session, lot)
    if signature is None:
        raise Refused(Reason(LOT_NOT_DECIDED, lot_number=lot_number, status=lot.status))
    rows = list(reversed(deviations.listing(session, lot=lot)))
    return CertificateData(lot=lot, collection=session.get(Collection, lot.collection_id),
                           lines=qc.table(session, lot), deviations=rows,
                           accepted_tests=deviations.accepted_test_codes(rows), bags=release.bags_of(session, lot),
                           signature=signature,
                           changed=not signatures.still_matches(signature, release.release_content(session, lot)),
                           pending_after_release=release_gaps.pending_after_release(session, lot),
                           holds=[hold for hold, _ in holds.listing(session, lot_id=lot.id)],
                           inherited=release.inherited(session, lot))


# --- text -----------------------------------------------------------------------------------------------

def _moment(when: datetime, tz: ZoneInfo) -> str:
    return (f"{site_clock(when, tz, '%Y-%m-%d %H:%M:%S')} ({tz.key}) / "
            f"{when.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC")


def _verdict(line: qc.QcLine, accepted: set[str]) -> str:
    latest = line.latest
    if latest is None and line.test.after_release:
        return _("pending after release")
    if latest is None:
        return _("no result") if line.test.required else _("not tested (optional)")
    if latest.within_spec:
        return _("within specification")
    if line.test.code in accepted:
        return _("OUT OF SPECIFICATION - accepted by closed deviation")
    return _("OUT OF SPECIFICATION")


def _note(line: qc.QcLine) -> str:
    latest = line.latest
    if latest is None or latest.repeat_of_id is None:
        return ""
    earlier = ", ".join(f"#{r.id} = {r.value}" for r in line.results[:-1])
    return _("repeat #%(id)s of #%(of)s: %(reason)s (earlier: %(earlier)s)", id=latest.id, of=latest.repeat_of_id,
             reason=latest.reason or "", earlier=earlier)


def _din_text(din: str) -> str:
    return _("%(din)s  check character %(k)s", din=f"{din[:5]} {din[5:7]} {din[7:]}", k=isbt128.check_character(din))


# --- layout ---------------------------------------------------------------------------------------------

class _Styles:
    def __init__(self) -> None:
        base = getSampleStyleSheet()
        self.font, self.bold = pdf_fonts()
        self.title = ParagraphStyle("title", parent=base["Title"], fontName=self.bold)
        self.h2 = ParagraphStyle("h2", parent=base["Heading2"], fontName=self.bold)
        self.body = ParagraphStyle("body", parent=base["BodyText"], fontName=self.font)
        self.cell = ParagraphStyle("cell", parent=base["BodyText"], fontName=self.font, fontSize=8, leading=10)
        self.strong = ParagraphStyle("strong", parent=base["BodyText"], fontName=self.bold, fontSize=11)


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape("" if text is None else str(text)), style)


def _grid(rows: list[list[Any]], widths: list[float], styles: _Styles) -> Table:
    cells = [[c if isinstance(c, Flowable) else _p(c, styles.cell) for c in row] for row in rows]
    table = Table(cells, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _qr(url: str) -> Drawing:
    widget = QrCodeWidget(url, barLevel="M")
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(QR_SIZE, QR_SIZE, transform=[QR_SIZE / (x2 - x1), 0, 0, QR_SIZE / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


def _identity(data: CertificateData, config: Mapping[str, Any], verify_url: str, s: _Styles) -> Table:
    lot, collection = data.lot, data.collection
    facts = [
        [_("Product"), _("%(product)s (product code %(code)s)", product=config["PRODUCT_DESCRIPTIONS"]["ucmsc"],
                         code=config["PRODUCT_CODES"]["ucmsc"])],
        [_("Lot"), lot.lot_number],
        ["DIN", _din_text(collection.din)],
        [_("Collected"), _moment(collection.collected_at, ZoneInfo(config["SITE_TIMEZONE"]))],
        [_("Donor eligibility"), label(collection.eligibility)],
        [_("Specification"), lot.spec_version],
        [_("Bags"), ", ".join(b.bag_code for b in data.bags) or _("none")],
    ]
    key = ParagraphStyle("key", parent=s.cell, fontName=s.bold)
    inner = Table([[_p(k, key), _p(v, s.cell)] for k, v in facts], colWidths=[28 * mm, 100 * mm])
    inner.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    outer = Table([[inner, _qr(verify_url)]], colWidths=[132 * mm, QR_SIZE + 4 * mm])
    outer.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return outer


def _sample(result: Any, tz: ZoneInfo) -> str:
    taken, stage = site_clock(result.sampled_at, tz), label(result.sample_stage)
    if result.after_release:
        return _("%(stage)s, %(taken)s; recorded after release", stage=stage, taken=taken)
    return f"{stage}, {taken}"


def _results(data: CertificateData, s: _Styles, tz: ZoneInfo, lines: list[qc.QcLine] | None = None,
             accepted: set[str] | None = None) -> Table:
    rows: list[list[Any]] = [[_("Test"), _("Method"), _("Limit"), _("Result"), _("Sample (stage, taken)"), _("Verdict"),
                              _("Repeats")]]
    accepted = data.accepted_tests if accepted is None else accepted
    for line in data.lines if lines is None else lines:
        latest = line.latest
        shown = "" if latest is None else f"{latest.value} {latest.unit}".strip()
        sample = "" if latest is None else _sample(latest, tz)
        rows.append([f"{line.test.code}: {spec_words(line.test.name)}", spec_words(line.test.method), line.limit,
                     shown, sample, _verdict(line, accepted), _note(line)])
    return _grid(rows, [32 * mm, 24 * mm, 20 * mm, 18 * mm, 26 * mm, 28 * mm, 32 * mm], s)


def _inherited(data: CertificateData, s: _Styles, tz: ZoneInfo) -> list[Flowable]:
    """The results of the banks the lot's cells were thawed from, named as inherited (ICH Q5D)."""
    out: list[Flowable] = []
    for item in data.inherited:
        bank, lot = item.source.bank, item.source.bank_lot
        out += [_p(_("Inherited from %(level)s %(bank)s (lot %(lot)s, %(status)s, specification %(spec)s)",
                     level=bank.level, bank=bank.bank_code, lot=lot.lot_number, status=label(lot.status),
                     spec=lot.spec_version), s.h2),
                _results(data, s, tz, item.lines, item.accepted_tests)]
    return out


def _after_release(data: CertificateData, tz: ZoneInfo, s: _Styles) -> list[Flowable]:
    """Tests read after release, still without a result, and any hold a late result raised."""
    out: list[Flowable] = []
    if data.pending_after_release:
        named = "; ".join(f"{t.code}: {spec_words(t.name)} ({spec_words(t.method)})"
                          for t in data.pending_after_release)
        out.append(_p(_("Pending after release (not part of this release decision): %(tests)s", tests=named), s.body))
    for hold in data.holds:
        state = (_("OPEN") if hold.lifted_at is None
                 else _("lifted %(when)s: %(reason)s", when=_moment(hold.lifted_at, tz), reason=hold.lift_reason))
        out.append(_p(_("HOLD %(id)s raised %(when)s - %(cause)s - %(state)s", id=hold.id,
                        when=_moment(hold.raised_at, tz), cause=hold.cause_text, state=state), s.strong))
    return out


def _deviations(data: CertificateData, s: _Styles) -> list[Flowable]:
    if not data.deviations:
        return [_p(_("No deviations were recorded for this lot."), s.body)]
    rows: list[list[Any]] = [[_("Number"), _("Kind / test"), _("Status"), _("Decision"),
                              _("Justification / description")]]
    for d in data.deviations:
        rows.append([d.number, f"{d.kind} {d.test_code or ''}".strip(), label(d.status), label(d.decision) or "-",
                     d.justification or d.description_text])
    return [_grid(rows, [26 * mm, 26 * mm, 20 * mm, 18 * mm, 90 * mm], s)]


def _decision(data: CertificateData, tz: ZoneInfo, verify_url: str, s: _Styles) -> list[Flowable]:
    lot, sig = data.lot, data.signature
    decision = (_("RELEASED") if lot.status == "released"
                else _("REJECTED - reason: %(reason)s", reason=lot.decision_reason or ""))
    lines = [
        (_("Decision: %(decision)s", decision=decision), s.strong),
        (_("Signed by: %(name)s (user %(username)s)", name=sig.signer_name, username=sig.signer_username), s.body),
        (_("Meaning: %(meaning)s", meaning=label(sig.meaning)), s.body),
        (_("Signed at: %(when)s", when=_moment(sig.signed_at, tz)), s.body),
        (_("Data changed since signature: %(changed)s", changed=_("yes") if data.changed else _("no")), s.strong),
        (_("Signed content SHA-256: %(hash)s", hash=sig.record_hash), s.cell),
        (_("Verify: scan the QR code or open %(url)s", url=verify_url), s.cell),
    ]
    return [_p(text, style) for text, style in lines]


def _footer(text: str, font: str):
    def draw(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawString(doc.leftMargin, 8 * mm, _("%(text)s - page %(page)s", text=text, page=doc.page))
        canvas.restoreState()
    return draw


def _kind(lot: Lot) -> str:
    """What the document is: a rejected lot's certificate must never read as a release (EU GMP Annex 16
    section 1.7: the certification states the decision; a reader skimming the title must not take a
    rejected lot for a released one)."""
    return _("Rejection certificate") if lot.status == "rejected" else _("Release certificate")


def _rejected_banner(data: CertificateData, s: _Styles) -> list[Flowable]:
    """On page 1, under the title: a rejected lot says so in large red capitals before anything else."""
    if data.lot.status != "rejected":
        return []
    banner = ParagraphStyle("rejected", parent=s.title, textColor=colors.red, fontSize=28, leading=34)
    return [_p(_("REJECTED - NOT FOR CLINICAL USE"), banner),
            _p(_("Reason: %(reason)s", reason=data.lot.decision_reason or ""), s.strong)]


def render(data: CertificateData, *, verify_url: str, config: Mapping[str, Any]) -> bytes:
    """The certificate as PDF bytes (A4); a rejected lot's is a rejection certificate."""
    tz = ZoneInfo(config["SITE_TIMEZONE"])
    s = _Styles()
    kind = _kind(data.lot)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm, topMargin=14 * mm,
                            bottomMargin=14 * mm, title=f"{kind} {data.lot.lot_number}",
                            author=config["FACILITY_NAME"])
    story: list[Flowable] = [
        _p(_("%(kind)s - certificate of analysis", kind=kind), s.title), *_rejected_banner(data, s),
        _p(f"{config['FACILITY_NAME']} - {config['SITE_NAME']}", s.body),
        _identity(data, config, verify_url, s), Spacer(1, 4 * mm),
        _p(_("Quality control results (the latest result of each test counts)"), s.h2), _results(data, s, tz),
        *_inherited(data, s, tz), *_after_release(data, tz, s),
        _p(_("Deviations"), s.h2), *_deviations(data, s),
        KeepTogether([_p(_("QA decision and electronic signature"), s.h2), *_decision(data, tz, verify_url, s)]),
    ]
    footer = _("%(kind)s, lot %(lot)s", kind=kind, lot=data.lot.lot_number)
    doc.build(story, onFirstPage=_footer(footer, s.font), onLaterPages=_footer(footer, s.font))
    return buffer.getvalue()
