"""API: each person's own inbox (``GET /inbox``) and marking a notice read."""

from __future__ import annotations

from typing import Any

from cellchain.core import db
from cellchain.core.api import bp
from cellchain.core.web import next_cursor, page_request
from cellchain.notices import inbox
from cellchain.notices.models import Notification
from cellchain.notices.schemas import InboxOut, InboxQuery, NotificationSchema
from cellchain.people.security import current_user, login_required

TAGS = ["inbox"]


@bp.get("/inbox", tags=TAGS)
@login_required
@bp.arguments(InboxQuery, location="query")
@bp.response(200, InboxOut)
def get_inbox(query: dict[str, Any]) -> dict[str, Any]:
    """Your notices, newest first (?unread=true for the unread ones), a page at a time (?limit=, ?cursor=)"""
    session, user = db.session(), current_user()
    page = inbox.inbox(session, actor=user, unread_only=bool(query.get("unread")), page=page_request(size_arg="limit"))
    return {"unread": inbox.unread_count(session, user.id), "notices": page.rows, "next": next_cursor(page)}


@bp.post("/inbox/<int:notice_id>/read", tags=TAGS)
@login_required
@bp.response(200, NotificationSchema)
def read_notice(notice_id: int) -> Notification:
    """Mark one of your notices read"""
    return inbox.mark_read(db.session(), actor=current_user(), notice_id=notice_id)
