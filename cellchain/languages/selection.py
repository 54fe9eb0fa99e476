"""The languages of the pages: each person's choice, else the site's default (docs/architecture.md, "Languages").

Words live in gettext catalogues (``cellchain/translations``): templates write ``{{ _('...') }}``, Python
code ``gettext``/``lazy_gettext`` from flask_babel, and the catalogues of codes (``core/words``) keep English
templates marked with ``N_`` that are looked up in the reader's language when a page or document is made.
Times are shown in the site's zone with its offset ("UTC+08:00") and the zone's name in the reader's
language, never an abbreviation that means another zone elsewhere ("CST"). A mail or document made for
someone else (a notice's recipient) is worded in their language with flask_babel's ``force_locale``.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import get_timezone_name
from flask import Flask, current_app, has_app_context, has_request_context, session
from flask_babel import Babel, get_locale, gettext

from cellchain.core import words

# The languages the site offers, by code, each named in itself (a chooser is read by someone who may not
# read the page's current language).
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
SESSION_FIELD = "language"


def chosen(value: str | None) -> str | None:
    """A stored or posted language code if the site offers it."""
    return value if value in LANGUAGES else None


def current_language() -> str:
    """The reader's language: the person's choice kept in their session, else the site's default."""
    if has_request_context():
        person = chosen(session.get(SESSION_FIELD))
        if person:
            return person
    return current_app.config["DEFAULT_LANGUAGE"]


def html_lang() -> str:
    """The page's ``lang`` attribute: "zh-Hans" (simplified Chinese) or "en"."""
    return "zh-Hans" if current_language() == "zh" else "en"


def zone_name(zone: str) -> str:
    """The zone's name in the reader's language: "China Standard Time" / "北京时间" for Asia/Shanghai."""
    now = datetime.now(ZoneInfo(zone))
    english = get_timezone_name(now, width="long", locale="en")
    translated = gettext(english)
    if translated != english or str(get_locale()).startswith("en"):
        return translated
    return get_timezone_name(now, width="long", locale=get_locale())


def _catalogue_gettext(message: str) -> str:
    """gettext where the running app has the catalogues; the English itself in an app without them (a bench's
    bare Flask app calling the rules, a script outside any app)."""
    if has_app_context() and "babel" not in current_app.extensions:
        return message
    return gettext(message)


def init_app(app: Flask) -> None:
    """Flask-Babel with the reader's language; the catalogues under cellchain/translations."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path) + "/translations")
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["SITE_TIMEZONE"]
    words.install_translator(_catalogue_gettext)
    Babel(app, locale_selector=current_language, timezone_selector=lambda: app.config["SITE_TIMEZONE"])
    app.add_template_global(LANGUAGES, "languages")
    app.add_template_global(current_language, "current_language")
    app.add_template_global(zone_name, "zone_name")
    app.add_template_global(html_lang, "html_lang")
