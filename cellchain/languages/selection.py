"""The reader's language (docs/architecture.md, "Languages"): a page's is the person's choice kept in their
session, else the site's default; an API answer's is the language its ``Accept-Language`` header names, else
the caller's stored choice, else the site's default.

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
from flask import Flask, Response, current_app, g, has_app_context, has_request_context, request, session
from flask_babel import Babel, get_locale, gettext

from cellchain.core import words

# The languages the site offers, by code, each named in itself (a chooser is read by someone who may not
# read the page's current language).
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}
SESSION_FIELD = "language"
# Language tags a client may send for an offered language (RFC 5646, lower case): simplified Chinese by its
# region or script. Traditional Chinese (zh-TW, zh-Hant) is not offered and falls through to the next choice.
TAGS: dict[str, str] = {"en": "en", "zh": "zh", "zh-cn": "zh", "zh-sg": "zh", "zh-hans": "zh", "zh-hans-cn": "zh"}


def chosen(value: str | None) -> str | None:
    """A stored or posted language code if the site offers it."""
    return value if value in LANGUAGES else None


def offered(tag: str) -> str | None:
    """The offered language a client's language tag names: "en-GB" -> "en", "zh-Hans" -> "zh", "fr" -> None."""
    tag = tag.strip().lower().replace("_", "-")
    if tag in TAGS:
        return TAGS[tag]
    return "en" if tag.startswith("en-") else None


def asked_for() -> str | None:
    """The first offered language of the request's ``Accept-Language``, by the client's order of preference;
    None when it names none (absent, ``*``, or only languages the site does not offer)."""
    for tag, quality in request.accept_languages:
        language = offered(tag) if quality > 0 else None
        if language:
            return language
    return None


def _api_request() -> bool:
    return request.path.startswith("/api/")


def current_language() -> str:
    """The reader's language. A page: the person's choice kept in their session. An API answer: the language
    the request's ``Accept-Language`` names, else the caller's stored choice (read with their credential,
    ``people/principals.py``), else their session's. Otherwise the site's default."""
    if has_request_context():
        if _api_request():
            caller = g.get("user")
            person = asked_for() or chosen(getattr(caller, "language", None))
            if person:
                return person
        person = chosen(session.get(SESSION_FIELD))
        if person:
            return person
    return current_app.config["DEFAULT_LANGUAGE"]


def vary_by_language(response: Response) -> Response:
    """An API answer depends on the caller's Accept-Language: a shared cache must not give it to another."""
    if _api_request():
        response.vary.add("Accept-Language")
    return response


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
    app.after_request(vary_by_language)
