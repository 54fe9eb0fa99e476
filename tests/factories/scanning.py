"""Where a scan of each kind of record should lead: the record's own page, or the labels page."""

from __future__ import annotations

from flask import Flask, url_for

PAGES = {"collection": ("lab.collection", "din"), "lot": ("lab.lot", "lot_id"), "bag": ("lab.bag", "bag_id"),
         "subject": ("trial.subject", "subject_code")}


def expected_url(app: Flask, record_type: str, key: str) -> str:
    """The record's page when its area registered one, else the labels page the station falls back to."""
    endpoint, argument = PAGES[record_type]
    with app.test_request_context():
        if endpoint in app.view_functions:
            return url_for(endpoint, **{argument: key})
        return url_for("labels.print_page", item_type=record_type, key=key)
