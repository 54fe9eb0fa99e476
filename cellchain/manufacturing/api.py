"""API: cord collections (docs/architecture.md, "The JSON API"): register one, read one with its chain of custody.

API: lots: start, passages, harvest, formulation, batch record and its PDF.

API: bags: fill a lot's bags, fill placebo bags, read and list bags.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app

from cellchain.audit import signatures
from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.schemas import FILE_BODY, RowWith
from cellchain.core.types import utcnow
from cellchain.core.web import next_cursor, page_request
from cellchain.core.words import N_
from cellchain.manufacturing import bags, batch, collections, donor_results, lots
from cellchain.manufacturing.documents.batch_record import render_batch_record
from cellchain.manufacturing.models import Bag, Collection, Lot
from cellchain.manufacturing.rules.batch_record import StepDef
from cellchain.manufacturing.schemas import (
    BagOut,
    BagsPage,
    BagsQuery,
    BatchStepIn,
    BatchStepOut,
    CollectionIn,
    CollectionOut,
    DeterminationIn,
    DonorResultIn,
    FilledOut,
    FillIn,
    FormulationIn,
    FormulationOut,
    HarvestIn,
    HarvestOut,
    LotIn,
    LotOut,
    LotStartOut,
    NamedPreviewIn,
    NamedPreviewOut,
    PassageIn,
    PassageOut,
    PlaceboIn,
    VerifyStepIn,
    VerifyStepOut,
)
from cellchain.people.security import current_user, login_required, policy, roles_required
from cellchain.ward.custody_records import EventRecord


def _custody(view: collections.CollectionView) -> list[EventRecord]:
    """The cord's custody events, by its DIN and their recorders (loaded with the view)."""
    return [EventRecord(event, view.collection.din, view.people.get(event.recorded_by)) for event in view.events]


@bp.post("/collections", tags=["collections"])
@roles_required("lab", action=N_("register a cord collection"))
@bp.arguments(CollectionIn)
@bp.response(201, CollectionOut)
def register_collection(data: dict[str, Any]) -> Collection:
    """Register a cord collection; assigns its DIN and decides donor eligibility"""
    cfg = current_app.config
    return collections.register_collection(db.session(), actor=current_user(), data=data, fin=cfg["FACILITY_FIN"],
                                           tz=ZoneInfo(cfg["SITE_TIMEZONE"]), ranges=cfg["TEMPERATURE_RANGES"])


@bp.get("/collections/<din>", tags=["collections"])
@login_required
@bp.response(200, CollectionOut)
def get_collection(din: str) -> RowWith:
    """A collection by DIN, with its chain of custody"""
    return _collection_answer(collections.collection_view(db.session(), din))


def _collection_answer(view: collections.CollectionView, **beside: Any) -> RowWith:
    return RowWith(view.collection, custody=_custody(view), lot_id=view.lot.lot_number if view.lot else None,
                   open_excursions=[e for e in view.excursions if e.status == "open"], results=view.results,
                   **beside)


@bp.post("/collections/<din>/donor-results", tags=["collections"])
@roles_required(*donor_results.ENTERERS, action=N_("enter a donor result"))
@bp.arguments(DonorResultIn)
@bp.response(201, CollectionOut)
def enter_donor_result(data: dict[str, Any], din: str) -> RowWith:
    """Enter a maternal screening result that arrived after registration; a positive one makes the donor
    ineligible and holds every lot made from the cord"""
    session = db.session()
    today = datetime.now(ZoneInfo(current_app.config["SITE_TIMEZONE"])).date()
    entered = donor_results.enter_result(session, actor=current_user(), din=din, data=data, today=today)
    return _collection_answer(collections.collection_view(session, din),
                              holds_raised=[h.id for h in entered.holds])


@bp.post("/collections/<din>/determination", tags=["collections"])
@roles_required("investigator", action=N_("sign a donor eligibility determination"))
@bp.arguments(DeterminationIn)
@bp.response(200, CollectionOut)
def sign_determination(data: dict[str, Any], din: str) -> RowWith:
    """The investigator signs a pending cord's donor eligible (meaning approved) once every result is in"""
    session = db.session()
    donor_results.sign_determination(session, actor=current_user(), din=din,
                                     signature=signatures.parse_signature(data.get("signature")), policy=policy())
    return _collection_answer(collections.collection_view(session, din))


def batch_steps() -> tuple[StepDef, ...]:
    """The SOP checklist in force (``BATCH_RECORD_STEPS`` or the built-in one)."""
    return batch.step_definitions(current_app.config["BATCH_RECORD_STEPS"])


@bp.post("/lots", tags=["lots"])
@roles_required("lab", action=N_("start a lot"))
@bp.arguments(LotIn)
@bp.response(201, LotStartOut)
def start_lot(data: dict[str, Any]) -> Lot:
    """Start a lot from an eligible, received collection"""
    return lots.start_lot(db.session(), actor=current_user(), collection_din=data.get("collection_din"),
                          purpose=data.get("purpose"), dosing_from_cord=current_app.config["DOSING_LOT_FROM_CORD"])


@bp.get("/lots/<lot_id>", tags=["lots"])
@login_required
@bp.response(200, LotOut)
def get_lot(lot_id: str) -> lots.LotView:
    """A lot with passages, harvest, formulation, QC results, bags and batch record"""
    return lots.lot_view(db.session(), lot_id, batch_steps())


@bp.post("/lots/<lot_id>/passages", tags=["lots"])
@roles_required("lab", action=N_("record a passage"))
@bp.arguments(PassageIn)
@bp.response(201, PassageOut)
def record_passage(data: dict[str, Any], lot_id: str) -> RowWith:
    """Record a passage"""
    row = lots.record_passage(db.session(), actor=current_user(), lot_number=lot_id, data=data,
                              limit=current_app.config["PASSAGE_LIMIT"])
    return RowWith(row, lot_id=lot_id)


@bp.post("/lots/<lot_id>/harvest", tags=["lots"])
@roles_required("lab", action=N_("record a harvest"))
@bp.arguments(HarvestIn)
@bp.response(201, HarvestOut)
def record_harvest(data: dict[str, Any], lot_id: str) -> Lot:
    """Record the harvest"""
    return lots.record_harvest(db.session(), actor=current_user(), lot_number=lot_id, data=data)


@bp.post("/lots/<lot_id>/formulation", tags=["lots"])
@roles_required("lab", action=N_("record a formulation"))
@bp.arguments(FormulationIn)
@bp.response(201, FormulationOut)
def record_formulation(data: dict[str, Any], lot_id: str) -> Lot:
    """Record the formulation"""
    return lots.record_formulation(db.session(), actor=current_user(), lot_number=lot_id, data=data)


@bp.post("/lots/<lot_id>/batch-steps", tags=["lots"])
@roles_required("lab", action=N_("record a batch-record step"))
@bp.arguments(BatchStepIn)
@bp.response(201, BatchStepOut)
def record_step(data: dict[str, Any], lot_id: str) -> RowWith:
    """Record a batch-record step"""
    session, steps = db.session(), batch_steps()
    step = batch.record_step(session, actor=current_user(), lot_number=lot_id, data=data, steps=steps,
                             gs_substitute=current_app.config["GS1_GS_SUBSTITUTE"])
    return RowWith(batch.new_entry(session, step, steps), lot_id=lot_id)


@bp.post("/lots/<lot_id>/batch-steps/<int:step_id>/verify", tags=["lots"])
@roles_required("lab", "qa", action=N_("verify a batch-record step"))
@bp.arguments(VerifyStepIn)
@bp.response(201, VerifyStepOut)
def verify_step(data: dict[str, Any], lot_id: str, step_id: int) -> RowWith:
    """A second person verifies a step (e-signature)"""
    signature = signatures.parse_signature(data.get("signature"))
    row = batch.verify_step(db.session(), actor=current_user(), lot_number=lot_id, step_id=step_id,
                            signature=signature, policy=policy())
    return RowWith(row, lot_id=lot_id, verified_by=current_user().username)


@bp.get("/lots/<lot_id>/batch-record.pdf", tags=["lots"])
@login_required
@bp.response(200, FILE_BODY, content_type="application/pdf", description="The batch record, PDF")
def batch_record_pdf(lot_id: str) -> Response:
    """The batch record"""
    cfg = current_app.config
    view = lots.lot_view(db.session(), lot_id, batch_steps())
    pdf = render_batch_record(view, tz=ZoneInfo(cfg["SITE_TIMEZONE"]), facility=cfg["FACILITY_NAME"],
                              printed_by=current_user().full_name, printed_at=utcnow())
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="batch-record-{view.lot.lot_number}.pdf"'})


def _settings() -> bags.FillSettings:
    return bags.FillSettings.from_config(current_app.config)


def _bag(bag: Bag, lot_number: str | None, **more: Any) -> RowWith:
    """A bag with its lot named by lot number (the row holds the lot's database id)."""
    return RowWith(bag, lot_id=lot_number, **more)


@bp.post("/lots/<lot_id>/bags", tags=["bags"])
@roles_required("lab", action=N_("fill bags"))
@bp.arguments(FillIn)
@bp.response(201, FilledOut)
def fill_bags(data: dict[str, Any], lot_id: str) -> dict[str, Any]:
    """Fill bags from a formulated lot"""
    filled = bags.fill_bags(db.session(), actor=current_user(), lot_number=lot_id, data=data, settings=_settings())
    return {"lot_id": lot_id, "bags": [_bag(b, lot_id) for b in filled]}


@bp.post("/lots/<lot_id>/named-doses", tags=["bags"])
@roles_required("lab", action=N_("fill bags"))
@bp.arguments(NamedPreviewIn)
@bp.response(200, NamedPreviewOut)
def preview_named_doses(data: dict[str, Any], lot_id: str) -> dict[str, Any]:
    """The volume each named bag of a fill would get (computed, nothing written)"""
    doses = bags.preview_named(db.session(), lot_number=lot_id, named=data.get("named"), settings=_settings())
    return {"named": doses}


@bp.post("/placebo-bags", tags=["bags"])
@roles_required("lab", action=N_("fill placebo bags"))
@bp.arguments(PlaceboIn)
@bp.response(201, FilledOut)
def fill_placebo(data: dict[str, Any]) -> dict[str, Any]:
    """Fill placebo bags of 0.9% saline"""
    filled = bags.fill_placebo(db.session(), actor=current_user(), data=data, settings=_settings())
    return {"din": filled[0].din, "bags": [_bag(b, None) for b in filled]}


@bp.get("/bags/<bag_id>", tags=["bags"])
@login_required
@bp.response(200, BagOut)
def get_bag(bag_id: str) -> RowWith:
    """A bag, its allocation and the barcodes its label carries"""
    view = bags.bag_view(db.session(), bag_id, tz=ZoneInfo(current_app.config["SITE_TIMEZONE"]))
    allocation = None if view.allocation is None else RowWith(view.allocation, subject_id=view.subject_code,
                                                               subject_code=view.subject_code)
    return _bag(view.bag, view.lot_number, allocation=allocation, barcodes=view.barcodes)


@bp.get("/bags", tags=["bags"])
@login_required
@bp.arguments(BagsQuery, location="query")
@bp.response(200, BagsPage)
def list_bags(args: dict[str, Any]) -> dict[str, Any]:
    """List bags (?status=&lot_id=&din=), a page at a time (?limit=, then ?cursor= from ``next``)"""
    page = bags.list_bags(db.session(), status=args.get("status") or None, lot_number=args.get("lot_id") or None,
                          din_text=args.get("din") or None, page=page_request(size_arg="limit"))
    return {"bags": [_bag(bag, number) for bag, number in page.rows], "next": next_cursor(page)}
