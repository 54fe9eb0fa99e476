"""Every hand-over of a cord or a bag as a page, driven by scans (docs/rules.md, "Ward: chain of custody").

Scan the item: the page shows its custody so far (each event with the people handing over and receiving,
the place and the temperature) and offers only the hand-overs the state machine allows next, so a new cord
is offered "shipped" and a dispatched bag "received at the ward" or "returned". Bags leaving the lab
together are scanned in a row into one dispatch, after which their shipper label is printed. Every post
calls the same ``custody.record_handover`` as ``POST /api/v1/custody``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from cellchain.core import db
from cellchain.core.errors import DomainError, Invalid
from cellchain.core.page_forms import Refusal, site_zone, submit
from cellchain.core.words import N_, translated
from cellchain.core.words.notes import note, notes
from cellchain.core.words.numbers import count
from cellchain.labelling import print_jobs
from cellchain.labelling.data import LabelSettings
from cellchain.labelling.label_items import KINDS
from cellchain.manufacturing import lookups
from cellchain.manufacturing.models import Bag, Collection
from cellchain.people.security import current_user, roles_required
from cellchain.scanning import resolver
from cellchain.ward import custody, custody_records
from cellchain.ward.forms import DiscardExpiredForm, DispatchForm, HandoverForm
from cellchain.ward.rules import custody_states
from cellchain.ward.stock import expired
from cellchain.ward.views import send_label

bp = Blueprint("handover", __name__, url_prefix="/handover")

READERS = ("lab", "nurse", "qa", "auditor")
EVENT_WORDS = {"shipped": "Ship", "received": "Receive at the lab", "stored": "Store (no position)",
               "dispatched": "Dispatch to the ward", "received_at_ward": "Receive on the ward",
               "returned": "Return to the lab", "discarded": "Discard"}
SHIPPER_PRINTERS = tuple(dict.fromkeys((*KINDS["shipper"].roles, *print_jobs.REPRINT_ROLES)))


def _item(scan: str) -> Bag | Collection:
    """The cord or bag a scan names (its DIN, a bag's 2D code or id); anything else is named as such."""
    found = resolver.identify(db.session(), scan, tz=site_zone(), field="scan")
    if found.kind not in ("collection", "bag"):
        raise Invalid({"scan": translated(N_(
            "this is a {kind}; scan a cord's DIN or a bag's 2D code")).format(
            kind=found.kind)})
    return found.record


def _kind(record: Bag | Collection) -> str:
    return "bag" if isinstance(record, Bag) else "collection"


def _named(kind: str, code: str) -> Bag | Collection:
    """The item a page names by kind and code (its hidden field, the address after a hand-over)."""
    session = db.session()
    if kind == "bag":
        return lookups.bag_by_code(session, code)
    if kind == "collection":
        return lookups.collection_by_din(session, code)
    raise Invalid({"kind": translated(N_("collection or bag"))})


def _page(record: Bag | Collection | None = None, refusal: Refusal | None = None,
          form: HandoverForm | None = None) -> str:
    """The scan box and, once an item is scanned, its custody and the hand-overs it may take next."""
    kind = _kind(record) if record is not None else None
    chain = custody_records.item_custody(db.session(), kind, record) if record is not None else None
    offered = custody_states.next_handovers(kind, record.custody_state) if record is not None else []
    offered = [event for event in offered if event != "stored"]  # storage keeps the position: its own page
    return render_template("ward/handover.html", record=record, kind=kind, chain=chain, offered=offered,
                           words=EVENT_WORDS, refusal=refusal, form=form or {},
                           can_record=current_user().has_role(*custody.RECORDING_ROLES))


@bp.route("/")
@roles_required(*READERS, action=N_("see hand-overs"))
def page():
    """Scan a cord or bag (Enter submits): its custody so far and the hand-overs it may take next.
    ``?kind=&code=`` names the item directly (the page comes back there after each hand-over)."""
    scan = request.args.get("scan", "").strip()
    try:
        if scan:
            return _page(_item(scan))
        if request.args.get("code"):
            return _page(_named(request.args.get("kind", ""), request.args["code"]))
    except DomainError as error:
        return _page(refusal=Refusal.of(error)), error.status
    return _page()


@bp.route("/", methods=["POST"])
@roles_required(*custody.RECORDING_ROLES, action=N_("record a hand-over"))
def record():
    form = HandoverForm()

    def record_handover():
        session = db.session()
        item = _named(form.kind.data or "", form.item.data or "")
        handover = custody.parse_handover(form.handover())
        row = custody.record_handover(session, actor=current_user(), record=item, handover=handover,
                                      ranges=current_app.config["TEMPERATURE_RANGES"])
        code = custody.item_code(session, row.item_type, row.item_id)
        flash(notes(note("handover_recorded", item=row.item_type.capitalize(), code=code,
                         handover=row.event.replace("_", " "), location=row.location),
                    note("excursion_before_use") if row.excursion else ""),
              "warning" if row.excursion else "success")
        return redirect(url_for("handover.page", kind=row.item_type, code=code))

    def again(refusal: Refusal) -> str:
        try:
            item = _named(form.kind.data or "", form.item.data or "")
        except DomainError:
            item = None
        return _page(item, refusal, form)

    return submit(form, record_handover, again, refusals=(DomainError,))


# --- dispatch: bags scanned in a row into one container ---------------------------------------------------

def _dispatch_page(codes: list[str], refusal: Refusal | None = None, form: Any = None,
                   dispatched: list[str] | None = None) -> str:
    session = db.session()
    bags = [lookups.bag_by_code(session, code) for code in codes]
    # Each bag's custody so far, as on the hand-over page: a container holds a few bags, read one by one.
    chains = {bag.bag_code: custody_records.item_custody(session, "bag", bag) for bag in bags}
    return render_template("ward/dispatch.html", bags=bags, chains=chains, refusal=refusal, form=form or {},
                           dispatched=dispatched or [], ship_to=request.args.get("ship_to", ""),
                           can_print=current_user().has_role(*SHIPPER_PRINTERS))


@bp.route("/dispatch")
@roles_required("lab", "qa", "auditor", action=N_("see a dispatch"))
def dispatch_page():
    """Each scan adds a bag to the container (the list rides in the page); the scan box keeps focus."""
    codes = [c for c in request.args.getlist("bag") if c.strip()]
    scan = request.args.get("scan", "").strip()
    if request.args.getlist("dispatched"):
        return _dispatch_page([], dispatched=request.args.getlist("dispatched"))
    if scan:
        try:
            bag = _item(scan)
            if not isinstance(bag, Bag):
                raise Invalid({"scan": translated(N_(
                    "a cord is shipped from the hand-over page; scan a bag's 2D code"))})
            if bag.bag_code not in codes:
                codes.append(bag.bag_code)
        except DomainError as error:
            db.rollback()
            return _dispatch_page(codes, Refusal.of(error)), 400
    return _dispatch_page(codes)


@bp.route("/dispatch", methods=["POST"])
@roles_required("lab", "qa", action=N_("dispatch bags"))
def dispatch():
    """Every scanned bag dispatched in one transaction: one refused bag (not released, on hold) sends none."""
    form = DispatchForm()

    def dispatch_bags():
        session = db.session()
        if not form.bag.data:
            raise Invalid({"bag": translated(N_("scan at least one bag"))})
        if not form.ship_to.data:
            raise Invalid({"ship_to": translated(N_("say where the container goes"))})
        handover = custody.parse_handover(form.handover())
        for code in form.bag.data:
            custody.record_handover(session, actor=current_user(), record=lookups.bag_by_code(session, code),
                                    handover=handover, ranges=current_app.config["TEMPERATURE_RANGES"])
        flash(note("bags_dispatched", bags=count(len(form.bag.data), "bag"), ship_to=form.ship_to.data), "success")
        return redirect(url_for("handover.dispatch_page", dispatched=form.bag.data, ship_to=form.ship_to.data))

    return submit(form, dispatch_bags, lambda refusal: _dispatch_page(form.bag.data, refusal, form),
                  refusals=(DomainError,))


@bp.route("/shipper-label")
@roles_required(*SHIPPER_PRINTERS, action=N_("print shipper labels"))
def shipper_label():
    """The shipper label of the bags dispatched together (``?bag=`` each, ``?ship_to=``, ``?format=pdf|zpl``)."""
    verify = url_for("labels.shipment", shipment_id="SHP", _external=True)
    settings = LabelSettings.from_config(current_app.config, verify_url_base=verify[:-len("SHP")])
    printed = print_jobs.print_shipper(db.session(), actor=current_user(), bag_codes=request.args.getlist("bag"),
                                       ship_to=request.args.get("ship_to", ""), settings=settings,
                                       reprint_reason=request.args.get("reason"),
                                       fmt=request.args.get("format", "pdf"))
    return send_label(printed)


def _expired_page(refusal: Refusal | None = None, form: DiscardExpiredForm | None = None) -> str:
    stock = expired.expired_stock(db.session(), actor=current_user())
    chosen = set(form.bags.data or []) if form is not None else set()
    return render_template("ward/expired.html", stock=stock, chosen=chosen, limit=expired.MAX_BAGS,
                           fields=refusal.fields if refusal else {}, reasons=refusal.reasons if refusal else [],
                           form=form or {})


@bp.route("/expired")
@roles_required(*expired.DISCARDERS, action=N_("discard expired bags"))
def expired_page():
    """Expired bags still in the person's stock, to discard some or all with one reason."""
    return _expired_page()


@bp.route("/expired", methods=["POST"])
@roles_required(*expired.DISCARDERS, action=N_("discard expired bags"))
def discard_expired():
    form = DiscardExpiredForm()

    def discard():
        session = db.session()
        codes = [row.bag.bag_code for row in expired.expired_stock(session, actor=current_user())] \
            if form.every.data else form.bags.data
        done = expired.discard_expired(session, actor=current_user(), bag_codes=codes, reason=form.reason.data,
                                       location=form.location.data, ranges=current_app.config["TEMPERATURE_RANGES"],
                                       timezone=current_app.config["SITE_TIMEZONE"])
        flash(note("expired_discarded", bags=count(len(done), "expired bag"),
                   codes=", ".join(bag.bag_code for bag in done)), "success")
        return redirect(url_for("handover.expired_page"))

    return submit(form, discard, lambda refusal: _expired_page(refusal, form))
