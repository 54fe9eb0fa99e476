"""Where a scan box leads: the page of the record a scan names, for the scan station and the lab's box.

Both boxes read a scan the same way (``resolver.describe``, then ``resolver.destination``); they differ
only in how they show a scan that names nothing here.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, g, url_for

from cellchain.core import db
from cellchain.core.errors import Invalid
from cellchain.scanning import resolver

PAGES = {"collection": ("lab.collection", "din"), "lot": ("lab.lot", "lot_id"), "bag": ("lab.bag", "bag_id"),
         "subject": ("trial.subject", "subject_code"), "bags_of_din": ("lab.bag_list", "din"),
         "vial": ("banks.vial", "vial_code"), "bank": ("banks.bank", "bank_code"), "genealogy": ("banks.tree", "din"),
         "box": ("storage.box", "box_code"), "position": ("storage.position", "position_code"),
         "location": ("storage.location", "location_code"), "material_lot": ("materials.lot", "material_code"),
         "instrument": ("equipment.instrument", "instrument_code")}
API_PATHS = {"collection": "/api/v1/collections/{key}", "lot": "/api/v1/lots/{key}", "bag": "/api/v1/bags/{key}",
             "subject": "/api/v1/subjects/{key}", "vial": "/api/v1/vials/{key}",
             "bank": "/api/v1/banks/{key}", "box": "/api/v1/storage/boxes/{key}",
             "position": "/api/v1/storage/positions/{key}", "location": "/api/v1/storage/locations/{key}",
             "material_lot": "/api/v1/material-lots/{key}", "instrument": "/api/v1/instruments/{key}"}
STORAGE_LABELS = {"box": ("storage.box_labels", "box_code"), "position": ("storage.position_label", "position_code"),
                  "location": ("storage.location_label", "location_code")}


def labels_url(kind: str, key: str) -> str:
    """The page that prints a record's labels: the label pages for product, storage's own for its places."""
    if kind in STORAGE_LABELS:
        endpoint, argument = STORAGE_LABELS[kind]
        return url_for(endpoint, **{argument: key})
    return url_for("labels.print_page", item_type=kind, key=key)


def letters() -> dict[str, str]:
    """The site's local data identifier letters (``LOCAL_DATA_IDENTIFIERS``)."""
    return current_app.config["LOCAL_DATA_IDENTIFIERS"]


def page_url(page: str, key: str) -> str:
    """A page of ``PAGES`` by its public key (DIN, lot id, bag id, subject id)."""
    endpoint, argument = PAGES[page]
    return url_for(endpoint, **{argument: key})


def read_scan(raw: str) -> tuple[resolver.ScanAnswer, str | None]:
    """What a scan box read, and the page it opens (None: nothing here has it); ``Invalid`` names ``scan``."""
    session = db.session()
    try:
        answer = resolver.describe(session, raw, tz=ZoneInfo(current_app.config["SITE_TIMEZONE"]), letters=letters(),
                                   gs_substitute=current_app.config["GS1_GS_SUBSTITUTE"])
    except Invalid as refusal:
        raise Invalid({"scan": refusal.fields.get("data", refusal.message)}) from None
    target = resolver.destination(session, answer)
    return answer, page_url(*target) if target and may_open(target[0]) else None


def may_open(page: str) -> bool:
    """Whether the person asking may open the page (its ``roles_required``): a scan box opens only what its
    user may see, and otherwise shows what the scan names on the station itself, never a 403 page."""
    endpoint, _ = PAGES[page]
    user = g.get("user")
    allowed = getattr(current_app.view_functions[endpoint], "required_roles", None)
    return allowed is None or (user is not None and bool(set(allowed) & user.roles))
