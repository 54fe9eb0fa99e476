"""Label templates: the TOML files in the top-level ``labels/`` folder, loaded, checked and cached.

A label's layout is data so that a site can move a field or change a size under change control without a
code release. Because a wrong layout prints a wrong or unreadable label, a template is checked in full
when it is loaded: an unknown element type, a missing or misspelt key, or a symbol below the ISBT 128
minimums is refused with a ValueError that names the file and the element. Templates are cached by file
modification time, so an edited file is picked up by the next print job without a restart.

Both renderers (``pdf`` and ``zpl``) share the helpers at the end of this module, so that the two outputs
of one template print the same values in the same places.

Element schema (``[[element]]`` tables; positions in mm from the label's top-left corner):

=============  ===========================================  ==============================================
type           required keys                                optional keys
=============  ===========================================  ==============================================
text           x_mm, y_mm, and ``field`` or ``text``         prefix, font, size_pt, align, width_mm,
                                                            max_lines, line_spacing, when
barcode128     x_mm, y_mm, field, height_mm, module_mm,      hr_font, hr_size_pt, hr_align, max_width_mm,
               human_readable_field                         when
datamatrix     x_mm, y_mm, field, module_mm                  when
qr             x_mm, y_mm, field, module_mm                  ec_level, when
box            x_mm, y_mm, width_mm, height_mm               field or text, font, size_pt, thickness_mm, when
line           x_mm, y_mm, x2_mm, y2_mm                      thickness_mm, when
=============  ===========================================  ==============================================

A symbol's ``x_mm``/``y_mm`` is the top-left of the area it needs *including its quiet zone* (Code 128:
10 modules each side; Data Matrix: 1 module; QR: 4 modules), so a layout that fits keeps scanners happy.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportlab.pdfbase import pdfmetrics

from cellchain.labelling.site import fonts, words

fonts.register()  # templates may name the TrueType fonts, and text falls back to the CJK one

LABELS_DIR = Path(os.environ.get("CELLCHAIN_LABELS_DIR", Path(__file__).resolve().parents[2] / "labels"))
MIN_MODULE_128_MM = 0.17  # ISBT 128 minimum narrow bar; 0.25 mm is the target
MIN_HEIGHT_128_MM = 5.0  # ISBT 128 minimum bar height
MIN_MODULE_2D_MM = 0.25  # two printer dots at 203 dpi
REPRINT_TEXT = "REPRINT"

_POSITION = frozenset({"x_mm", "y_mm"})
_SPEC: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "text": (_POSITION, frozenset({"field", "text", "prefix", "font", "size_pt", "align", "width_mm",
                                   "max_lines", "line_spacing", "when"})),
    "barcode128": (_POSITION | {"field", "height_mm", "module_mm", "human_readable_field"},
                   frozenset({"hr_font", "hr_size_pt", "hr_align", "max_width_mm", "when"})),
    "datamatrix": (_POSITION | {"field", "module_mm"}, frozenset({"when"})),
    "qr": (_POSITION | {"field", "module_mm"}, frozenset({"ec_level", "when"})),
    "box": (_POSITION | {"width_mm", "height_mm"},
            frozenset({"field", "text", "font", "size_pt", "thickness_mm", "when"})),
    "line": (_POSITION | {"x2_mm", "y2_mm"}, frozenset({"thickness_mm", "when"})),
}
_NUMBERS = frozenset({"x_mm", "y_mm", "size_pt", "width_mm", "line_spacing", "height_mm", "module_mm",
                      "hr_size_pt", "max_width_mm", "thickness_mm", "x2_mm", "y2_mm"})
_CHOICES = {"align": ("left", "center", "right"), "hr_align": ("left", "center"),
            "ec_level": ("L", "M", "Q", "H")}


@dataclass(frozen=True)
class Element:
    """One thing printed on a label; defaults are the values a template may leave out."""

    type: str
    x_mm: float
    y_mm: float
    where: str  # "bag.toml element 3 (barcode128 'din_barcode')", for messages
    field: str | None = None
    text: str | None = None
    when: str | None = None
    prefix: str = ""
    font: str = "Helvetica"
    size_pt: float = 8.0
    align: str = "left"
    width_mm: float | None = None
    max_lines: int | None = None
    line_spacing: float = 1.15
    height_mm: float | None = None
    module_mm: float | None = None
    human_readable_field: str | None = None
    hr_font: str = "Courier-Bold"
    hr_size_pt: float = 8.0
    hr_align: str = "left"
    max_width_mm: float | None = None
    thickness_mm: float = 0.3
    x2_mm: float | None = None
    y2_mm: float | None = None
    ec_level: str = "M"


@dataclass(frozen=True)
class Reprint:
    """Where the REPRINT marker goes; each template places it where it hides no symbol."""

    x_mm: float
    y_mm: float
    size_pt: float = 10.0


@dataclass(frozen=True)
class LabelTemplate:
    """A checked template. ``zpl_rotate`` says the printer feeds the long side (wristbands)."""

    kind: str
    width_mm: float
    height_mm: float
    elements: tuple[Element, ...]
    reprint: Reprint
    source: str
    description: str = ""
    zpl_rotate: bool = False
    fields: frozenset[str] = field(default_factory=frozenset)


_cache: dict[Path, tuple[tuple[int, int], LabelTemplate]] = {}


def load_template(kind_or_path: str | Path, labels_dir: Path | None = None) -> LabelTemplate:
    """Load a template by kind (``"bag"``) or by path; reread only when the file changed on disk."""
    path = Path(kind_or_path)
    if path.suffix != ".toml":
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(kind_or_path)):
            raise ValueError(f"not a label kind: {str(kind_or_path)!r}")  # no paths from a request
        path = (labels_dir or LABELS_DIR) / f"{kind_or_path}.toml"
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ValueError(f"no label template {path.name} in {path.parent}") from None
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path.name}: not valid TOML: {exc}") from None
    template = parse_template(document, path.name)
    _cache[path] = (stamp, template)
    return template


def resolve(kind_or_template: str | Path | LabelTemplate, labels_dir: Path | None = None) -> LabelTemplate:
    """Accept what the renderers accept: a kind name, a template path, or a loaded template."""
    if isinstance(kind_or_template, LabelTemplate):
        return kind_or_template
    return load_template(kind_or_template, labels_dir)


def available_kinds(labels_dir: Path | None = None) -> list[str]:
    """The label kinds a site has templates for (file names without ``.toml``)."""
    return sorted(p.stem for p in (labels_dir or LABELS_DIR).glob("*.toml"))


def parse_template(document: Mapping[str, Any], source: str) -> LabelTemplate:
    """Check a parsed TOML document and build the template; every refusal names file and element."""
    _refuse_unknown(document, {"label", "element", "reprint"}, f"{source}: top level")
    head = document.get("label")
    if not isinstance(head, Mapping):
        raise ValueError(f"{source}: missing [label] table with kind, width_mm, height_mm")
    _refuse_unknown(head, {"kind", "width_mm", "height_mm", "description", "zpl_rotate"},
                    f"{source}: [label]")
    kind = head.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"{source}: [label] kind must be a non-empty string")
    if not isinstance(head.get("zpl_rotate", False), bool):
        raise ValueError(f"{source}: [label] zpl_rotate must be true or false")
    width = _number(head, "width_mm", f"{source}: [label]", positive=True)
    height = _number(head, "height_mm", f"{source}: [label]", positive=True)
    tables = document.get("element")
    if not isinstance(tables, list) or not tables:
        raise ValueError(f"{source}: a template needs at least one [[element]] table")
    elements = tuple(_parse_element(t, f"{source} element {i}", width, height)
                     for i, t in enumerate(tables, start=1))
    reprint = _parse_reprint(document.get("reprint"), source, width, height)
    used = {n for e in elements for n in (e.field, e.when, e.human_readable_field) if n}
    return LabelTemplate(kind=kind, width_mm=width, height_mm=height, elements=elements, reprint=reprint,
                         source=source, description=str(head.get("description", "")),
                         zpl_rotate=bool(head.get("zpl_rotate", False)), fields=frozenset(used))


def _parse_element(table: Any, where: str, width: float, height: float) -> Element:
    """Check one ``[[element]]`` table against the schema of its type."""
    if not isinstance(table, Mapping):
        raise ValueError(f"{where}: must be a table")
    kind = table.get("type")
    if kind not in _SPEC:
        raise ValueError(f"{where}: unknown type {kind!r}; expected one of {', '.join(sorted(_SPEC))}")
    named = str(table.get("field") or table.get("text") or "")
    named = named if len(named) <= 40 else named[:37] + "..."
    where = f"{where} ({kind}{f' {named!r}' if named else ''})"
    required, optional = _SPEC[kind]
    missing = sorted(required - table.keys())
    if missing:
        raise ValueError(f"{where}: missing key(s) {', '.join(missing)}")
    _refuse_unknown(table, required | optional | {"type"}, where)
    values = {k: _checked_value(table, k, where) for k in table if k != "type"}
    if kind == "text" and ("field" in values) == ("text" in values):
        raise ValueError(f"{where}: needs exactly one of 'field' or 'text'")
    if kind == "box" and "field" in values and "text" in values:
        raise ValueError(f"{where}: takes 'field' or 'text', not both")
    element = Element(type=kind, where=where, **values)
    _check_geometry(element, width, height)
    return element


def _checked_value(table: Mapping[str, Any], key: str, where: str) -> Any:
    """Type-check one key: numbers positive (positions may be 0), names non-empty, choices known."""
    if key == "max_lines":
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{where}: max_lines must be a whole number >= 1, got {value!r}")
        return value
    if key in _NUMBERS:
        return _number(table, key, where, positive=key not in {"x_mm", "y_mm", "x2_mm", "y2_mm"})
    value = table[key]
    if not isinstance(value, str) or (key != "prefix" and not value):
        raise ValueError(f"{where}: {key} must be a non-empty string")
    if key in _CHOICES and value not in _CHOICES[key]:
        raise ValueError(f"{where}: {key} must be one of {', '.join(_CHOICES[key])}, not {value!r}")
    if key in {"font", "hr_font"}:
        try:
            pdfmetrics.getFont(value)
        except (KeyError, ValueError):
            raise ValueError(f"{where}: unknown font {value!r}") from None
    return value


def _check_geometry(e: Element, width: float, height: float) -> None:
    """Refuse what cannot print right whatever the data: off-label, too-thin bars, diagonal lines."""
    corners = [(e.x_mm, e.y_mm)]
    if e.type == "box":
        corners.append((e.x_mm + (e.width_mm or 0), e.y_mm + (e.height_mm or 0)))
    if e.type == "text" and e.width_mm is not None:
        corners.append((e.x_mm + e.width_mm, e.y_mm))
    if e.type == "line":
        corners.append((e.x2_mm or 0.0, e.y2_mm or 0.0))
        if e.x_mm != e.x2_mm and e.y_mm != e.y2_mm:
            raise ValueError(f"{e.where}: lines must be horizontal or vertical (ZPL ^GB draws no diagonals)")
    if e.type == "text" and e.align != "left" and e.width_mm is None:
        raise ValueError(f"{e.where}: align {e.align!r} needs width_mm (the box to align in)")
    for x, y in corners:
        if x > width + 1e-6 or y > height + 1e-6:
            raise ValueError(f"{e.where}: position ({x}, {y}) mm lies outside the {width} x {height} mm "
                             "label")
    too_thin = (e.module_mm or 0) < MIN_MODULE_128_MM or (e.height_mm or 0) < MIN_HEIGHT_128_MM
    if e.type == "barcode128" and too_thin:
        raise ValueError(f"{e.where}: Code 128 needs module_mm >= {MIN_MODULE_128_MM} and "
                         f"height_mm >= {MIN_HEIGHT_128_MM} (ISBT 128)")
    if e.type in {"datamatrix", "qr"} and (e.module_mm or 0) < MIN_MODULE_2D_MM:
        raise ValueError(f"{e.where}: 2D module_mm must be >= {MIN_MODULE_2D_MM}")


def _parse_reprint(table: Any, source: str, width: float, height: float) -> Reprint:
    """The template's REPRINT placement, or a generic one in the bottom-right corner."""
    if table is None:
        return Reprint(x_mm=max(width - 22.0, 0.0), y_mm=max(height - 6.0, 0.0), size_pt=9.0)
    where = f"{source}: [reprint]"
    if not isinstance(table, Mapping):
        raise ValueError(f"{where} must be a table")
    _refuse_unknown(table, {"x_mm", "y_mm", "size_pt"}, where)
    reprint = Reprint(x_mm=_number(table, "x_mm", where), y_mm=_number(table, "y_mm", where),
                      size_pt=_number(table, "size_pt", where, positive=True) if "size_pt" in table else 10.0)
    if reprint.x_mm > width or reprint.y_mm > height:
        raise ValueError(f"{where}: position lies outside the label")
    return reprint


def _number(table: Mapping[str, Any], key: str, where: str, positive: bool = False) -> float:
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: {key} must be a number, got {value!r}")
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{where}: {key} must be {'positive' if positive else 'zero or more'}, got {value}")
    return float(value)


def _refuse_unknown(table: Mapping[str, Any], allowed: set[str] | frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                         f"allowed: {', '.join(sorted(allowed))}")


# --- shared by the PDF and ZPL renderers -----------------------------------------------------------------
def is_printed(element: Element, data: Mapping[str, Any]) -> bool:
    """An element with ``when`` prints only if that field holds something (e.g. an allocated recipient)."""
    return element.when is None or _present(data.get(element.when))


def wants_reprint(data: Mapping[str, Any]) -> bool:
    return bool(data.get("reprint"))


def languages(data: Mapping[str, Any]) -> tuple[str, ...]:
    """The languages the label's captions print in: the data's ``languages`` (recorded with the label, so a
    document made again later says what the first did), English when the data names none."""
    return tuple(data.get("languages") or words.DEFAULT_LANGUAGES)


def text_value(element: Element, data: Mapping[str, Any], label_no: int) -> str:
    """The text an element prints: fixed text, or prefix + the field's value (a missing field is refused,
    because a silently blank line on a cell-therapy label is worse than no label). Fixed text and prefixes
    are English captions, printed in every label language (``site/words.py``)."""
    return "".join(caption_and_value(element, data, label_no))


def caption_and_value(element: Element, data: Mapping[str, Any], label_no: int) -> tuple[str, str]:
    """``text_value`` in its two parts: the caption in the label languages with the space after it
    (``"批号 Lot "``), and the field's value (``"A999926000001"``); fixed text is all value."""
    if element.text is not None:
        return "", words.say(element.text, languages(data))
    if element.field is None:
        return "", ""
    value = data.get(element.field)
    if value is None:
        raise ValueError(f"label {label_no}: {element.where}: no value for field {element.field!r}")
    prefix = element.prefix
    if prefix.strip():  # "Volume: " is the caption "Volume:" and its space
        prefix = words.say(prefix.strip(), languages(data)) + prefix[len(prefix.rstrip()):]
    return prefix, str(value)


def barcode_value(element: Element, data: Mapping[str, Any], label_no: int) -> str:
    """The exact data a symbol encodes: present, non-empty, printable ASCII (what scanners give back)."""
    value = data.get(element.field or "")
    if not isinstance(value, str) or not value:
        raise ValueError(f"label {label_no}: {element.where}: field {element.field!r} needs a non-empty "
                         "string")
    bad = sorted({c for c in value if not " " <= c <= "~"})
    if bad:
        raise ValueError(f"label {label_no}: {element.where}: cannot encode {''.join(bad)!r} exactly")
    return value


def human_readable(element: Element, data: Mapping[str, Any], label_no: int) -> str:
    """The eye-readable line under a linear code (without the data identifier), taken from the data."""
    value = data.get(element.human_readable_field or "")
    if value is None:
        raise ValueError(f"label {label_no}: {element.where}: no value for eye-readable field "
                         f"{element.human_readable_field!r}")
    return printable(str(value), element, label_no)


def printable(text: str, element: Element, label_no: int) -> str:
    """Refuse text the label fonts cannot show (control characters, or a character neither the template's
    font nor the CJK font has): it would print as a blank or a box where a reader expects a value."""
    bad = next((c for c in text if (c < " " and c != "\n") or c == "\x7f"), None)
    if bad is None:
        bad = fonts.missing(text, element.font if element.type != "barcode128" else element.hr_font)
        bad = bad if bad is None else fonts.missing(text, fonts.CJK)
    if bad is not None:
        raise ValueError(f"label {label_no}: {element.where}: cannot print character {bad!r} "
                         f"(U+{ord(bad):04X}) with the label fonts")
    return text


@dataclass(frozen=True)
class Run:
    """Part of a line in one font: the text, the font it prints in, and whether that font is thickened
    (``fonts.synthetic_bold``)."""

    text: str
    font: str
    bold: bool


@dataclass(frozen=True)
class TextBlock:
    """The lines a text element prints, each as its runs: most lines are one run, in the template's font or,
    for a line that font cannot show, the CJK font; a Chinese caption before an identifier is two runs, the
    caption in the CJK font and the identifier in the template's identifier font (``layout_text``)."""

    runs: list[tuple[Run, ...]]

    @property
    def lines(self) -> list[str]:
        return ["".join(run.text for run in line) for line in self.runs]


def run_width_pt(run: Run, size_pt: float) -> float:
    return pdfmetrics.stringWidth(run.text, run.font, size_pt)


def layout_text(template: LabelTemplate, element: Element, data: Mapping[str, Any],
                label_no: int) -> TextBlock:
    """The lines a text element prints, refused if they would run off the label: a clipped statement or
    identifier must not reach a bag. Both renderers use this, so they refuse the same labels.

    Each paragraph (a language's line of a value, ``site/words.py``) keeps the template's font when that font
    can show it, so the English line under a Chinese one prints in the bold or monospace the template set.
    A caption the template's identifier font cannot show (``"批号 Lot "``, ``"身份链 COI "``) prints in the
    CJK font and the identifier after it in the template's font, on one line that is not wrapped: an
    eye-readable identifier prints in the font that tells 0 from O and 1 from I (``site/fonts.py``)."""
    caption, value = caption_and_value(element, data, label_no)
    text = printable(caption + value, element, label_no)
    lines: list[tuple[Run, ...]] = []
    paragraphs = text.split("\n")
    first_value = value.split("\n")[0]
    if (caption and fonts.is_identifier_font(element.font) and fonts.missing(caption, element.font) is not None
            and first_value and fonts.missing(first_value, element.font) is None):
        caption_font = fonts.font_for(caption, element.font)
        lines.append((Run(caption, caption_font, fonts.synthetic_bold(element.font, caption_font)),
                      Run(first_value, element.font, False)))
        paragraphs = paragraphs[1:]
    for paragraph in paragraphs:
        font = fonts.font_for(paragraph, element.font)
        bold = fonts.synthetic_bold(element.font, font)
        lines += [(Run(line, font, bold),) for line in text_lines(element, paragraph, font)]
    widest_pt = max((sum(run_width_pt(run, element.size_pt) for run in line) for line in lines), default=0.0)
    room_mm = element.width_mm if element.width_mm is not None else template.width_mm - element.x_mm
    bottom_mm = element.y_mm + line_height_mm(element) * (len(lines) - 1) + element.size_pt * 25.4 / 72
    too_many = element.max_lines is not None and len(lines) > element.max_lines
    if too_many or widest_pt * 25.4 / 72 > room_mm + 0.01 or bottom_mm > template.height_mm + 0.01:
        shown = " / ".join("".join(run.text for run in line) for line in lines)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise ValueError(f"label {label_no}: {element.where}: text {shown!r} does not fit the label at "
                         f"{element.size_pt} pt" + (f" in {element.max_lines} line(s)" if too_many else ""))
    return TextBlock(lines)


def line_height_mm(element: Element) -> float:
    return element.size_pt * element.line_spacing * 25.4 / 72


def text_lines(element: Element, text: str, font: str | None = None) -> list[str]:
    """Split on newlines and, when the element has a width, wrap on words (and between Chinese characters,
    which have no spaces) with the PDF font's metrics; the ZPL renderer prints the same lines so both
    outputs break a statement in the same place."""
    font = font or element.font
    if element.width_mm is None:
        return text.split("\n")
    limit = element.width_mm * 72 / 25.4
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word, spaced in _words(paragraph):
            joined = f"{line} {word}" if line and spaced else line + word
            if line and pdfmetrics.stringWidth(joined, font, element.size_pt) > limit:
                lines.append(line)
                line = word
            else:
                line = joined
        lines.append(line)
    return lines


def _wide(char: str) -> bool:
    """A CJK character or punctuation mark: a line may break before or after it."""
    return char >= "\u2e80"


def _words(paragraph: str) -> list[tuple[str, bool]]:
    """Words split on spaces, each Chinese character a word of its own; with each, whether a space came
    before it (kept when the two stay on one line)."""
    out: list[tuple[str, bool]] = []
    for index, word in enumerate(paragraph.split(" ")):
        spaced, run = index > 0, ""
        for char in word:
            if _wide(char):
                if run:
                    out.append((run, spaced))
                    spaced, run = False, ""
                out.append((char, spaced))
                spaced = False
            else:
                run += char
        if run or not word:
            out.append((run, spaced))
    return out


def _present(value: Any) -> bool:
    return value is not None and value != "" and value is not False
