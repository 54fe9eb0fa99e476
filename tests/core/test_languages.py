"""Chinese and English: each person chooses, the site sets the default, and nothing a reader sees is
missing from the catalogue (docs/architecture.md, "Languages")."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlalchemy import text

from cellchain.core.config import ROOT
from tests.core.template_words import untranslated

CATALOGUE = ROOT / "cellchain" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None,
            "pgettext": ((1, "c"), 2)}


def _catalogue():
    with CATALOGUE.open("rb") as handle:
        return read_po(handle, locale="zh")


def _extracted() -> dict[str, str]:
    """Every message the code and the templates mark, with where it is."""
    found: dict[str, str] = {}
    methods = [("cellchain/**.py", "python"), ("templates/**.html", "jinja2")]
    for filename, _lineno, message, _comments, _context in extract_from_dir(str(ROOT), methods, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message  # a plural's entry is under its singular
        if msgid:
            found.setdefault(msgid, filename)
    return found


def test_every_marked_string_of_the_templates_and_the_code_has_a_chinese_translation():
    catalogue = _catalogue()
    missing = []
    for msgid, where in _extracted().items():
        entry = catalogue.get(msgid)
        if entry is None or entry.fuzzy or not (entry.string if isinstance(entry.string, str) else all(entry.string)):
            missing.append(f"{where}: {msgid!r}")
    assert not missing, "no Chinese translation:\n" + "\n".join(sorted(missing))


def test_every_translation_keeps_the_placeholders_of_its_english():
    catalogue = _catalogue()
    broken = [f"{m.id!r}: {error}" for m in catalogue if m.id for error in m.check(catalogue)]
    for message in catalogue:
        if message.id and isinstance(message.id, str) and "{" in message.id:
            wanted = {f for _, f, _, _ in string.Formatter().parse(message.id) if f}
            got = {f for _, f, _, _ in string.Formatter().parse(message.string) if f} if message.string else wanted
            if wanted != got:
                broken.append(f"{message.id!r}: placeholders {sorted(got)} instead of {sorted(wanted)}")
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("template", TEMPLATES, ids=[str(p.relative_to(ROOT / "templates")) for p in TEMPLATES])
def test_no_template_writes_words_outside_the_catalogue(template: Path):
    assert untranslated(template.read_text(encoding="utf-8")) == []


def test_a_reader_who_chooses_chinese_sees_the_pages_in_chinese_from_then_on(client, auth, app):
    auth.login("nurse")
    assert 'lang="en"' in client.get("/").get_data(as_text=True)
    response = auth.post("/auth/language", {"language": "zh"})
    assert response.status_code == 303
    page = client.get("/").get_data(as_text=True)
    assert 'lang="zh-Hans"' in page and "语言" in page and "北京时间" in page
    auth.logout()
    auth.login("nurse")
    assert "北京时间" in client.get("/").get_data(as_text=True)
    with app.app_context():
        from cellchain.core import db
        entry = db.session().execute(text("SELECT action FROM audit_entries WHERE action = 'choose_language'")).all()
        assert len(entry) == 1


def test_the_site_default_language_is_chinese_where_the_site_sets_it(app, client):
    app.config["DEFAULT_LANGUAGE"] = "zh"
    assert 'lang="zh-Hans"' in client.get("/auth/login").get_data(as_text=True)


def test_a_language_the_site_does_not_offer_is_refused_naming_the_field(client, auth):
    auth.login("nurse")
    response = auth.post("/auth/language", {"language": "fr"})
    assert response.status_code == 400
    assert "the site offers the languages en, zh, not &#34;fr&#34;" in response.get_data(as_text=True)


def test_times_are_written_with_their_offset_never_a_bare_zone_abbreviation(client, auth):
    auth.login("lab")
    page = client.get("/").get_data(as_text=True)
    assert "China Standard Time" in page and " CST" not in page


def test_the_catalogue_holds_each_message_once_so_gettext_tools_read_it():
    text = CATALOGUE.read_text(encoding="utf-8")
    keys = [(context or "", msgid) for context, msgid in re.findall(r'(?:msgctxt "(.*)"\n)?msgid "(.+)"\n', text)]
    assert sorted(k for k in set(keys) if keys.count(k) > 1) == []


# The fixed Chinese terms (docs/architecture.md, "Languages", glossary): a word a translation must not use for
# them, and why.
FORBIDDEN_TERMS = {
    "病房": "a ward is 病区",
    "冻结": "a QA hold is 暂扣 (冻结 reads as freezing cells)",
    "暂停": "a QA hold is 暂扣 (暂停 reads as a pause)",
    "隔离": "quarantine is 待验, Chinese GMP's word",
    "血袋": "a bag is 细胞袋",
    "产品袋": "a bag is 细胞袋",
    "成品袋": "a bag is 细胞袋",
    "袋号": "a bag id is 细胞袋编号",
}
# 袋 on its own is a measure word ("3 袋", "每袋", "一袋"), never the noun; a placebo bag is 安慰剂袋 (it holds no
# cells); a material lot counted in bags names the measure alone.
_BAG_MEASURED = re.compile(r"(?:[\d}]|\)[sd]|[每一多全几两]) ?$")
_BAG_ALONE_ALLOWED = {"bags"}


def _bag_alone(text: str) -> bool:
    """``text`` uses 袋 for the noun bag without 细胞 (or 安慰剂) before it."""
    for found in re.finditer("袋", text):
        before = text[:found.start()]
        if not (before.endswith(("细胞", "安慰剂")) or _BAG_MEASURED.search(before)):
            return True
    return False


def test_each_fixed_term_has_one_chinese_word_throughout_the_catalogue():
    wrong = []
    for message in _catalogue():
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        for translation in (message.string,) if isinstance(message.string, str) else message.string:
            translation = translation or ""
            wrong += [f"{msgid!r}: {word} ({why})" for word, why in FORBIDDEN_TERMS.items() if word in translation]
            if msgid not in _BAG_ALONE_ALLOWED and _bag_alone(translation):
                wrong.append(f"{msgid!r}: 袋 alone ({translation}): a bag is 细胞袋")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("translation, wrong", [
    ("将袋从访视中撤下", True), ("扫描袋的二维码", True), ("向病区发放细胞袋", False), ("每袋细胞数", False),
    ("%(count)s 袋", False), ("{n} 个安慰剂袋", False), ("细胞袋 {bag_code} 已输注", False)])
def test_bag_alone_is_told_from_a_measure_word(translation, wrong):
    assert _bag_alone(translation) is wrong
