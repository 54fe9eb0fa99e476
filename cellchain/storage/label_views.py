"""Labels of storage places as PDF, for the storage pages and the API alike (``labelling/place_labels.py``).

Printing and sticking these labels is the lab's (and QA's, who relabel after a deviation); the auditor reads
the places, not their labels.
"""

from __future__ import annotations

from flask import Response, current_app

from cellchain.core import db
from cellchain.labelling import place_labels
from cellchain.storage import placements, places
from cellchain.storage.rules import layout

LABEL_PRINTERS = ("lab", "qa")


def _letters() -> dict[str, str]:
    return current_app.config["LOCAL_DATA_IDENTIFIERS"]


def _languages() -> list[str]:
    return current_app.config["LABEL_LANGUAGES"]


MIMETYPES = {"pdf": "application/pdf", "zpl": "text/plain"}  # ZPL is text for a printer's raw queue, as product labels


def label_response(body: bytes, name: str, fmt: str) -> Response:
    return Response(body, mimetype=MIMETYPES[fmt],
                    headers={"Content-Disposition": f"inline; filename={name}.{fmt}"})


def box_labels_pdf(box_code: str, fmt: str = "pdf") -> Response:
    """The box's label and one for each of its positions (pages and API alike)."""
    session = db.session()
    box = places.box_by_code(session, box_code)
    top = placements.where(session, box, 1, 1)
    above = f"{top.unit.code} > {top.location.code}"
    labels = [place_labels.place_label("box", box.code, above, _letters(), _languages())]
    labels += [place_labels.place_label("position", layout.position_code(box.code, r, c), f"{above} > {box.code}",
                                        _letters(), _languages())
               for r in range(1, box.rows + 1) for c in range(1, box.columns + 1)]
    return label_response(place_labels.render(labels, fmt), f"box-{box.code}", fmt)


def position_label_pdf(position_code: str, fmt: str = "pdf") -> Response:
    session = db.session()
    box, row, column = places.position_by_code(session, position_code)
    where = placements.where(session, box, row, column)
    label = place_labels.place_label("position", where.position_code,
                                     f"{where.unit.code} > {where.location.code} > {box.code}", _letters(),
                                     _languages())
    return label_response(place_labels.render([label], fmt), f"position-{where.position_code}", fmt)


def location_label_pdf(location_code: str, fmt: str = "pdf") -> Response:
    session = db.session()
    location = places.location_by_code(session, location_code)
    unit = places.unit_by_id(session, location.unit_id)
    label = place_labels.place_label("location", location.code, place_labels.in_unit(unit.code, _languages()),
                                     _letters(), _languages())  # codes: bounded
    return label_response(place_labels.render([label], fmt), f"location-{location.code}", fmt)
