"""The UC-MSC QC release specification, and the judging of one result against it.

The software, not the analyst, decides whether a result is within its limit (docs/rules.md, "Quality:
QC results"), so limits are data: a ``Specification`` is versioned and stored as JSON (``spec_to_dict``), and a
result is always judged against the version the lot was tested under. The defaults are
the UC-MSC release specification of docs/rules.md plus the ISCT 2006 characterization tests.

Numbers are read strictly: a value that is not plainly a number (``"95%"``, ``"n/a"``, ``True``,
``NaN``) is refused as ``Invalid`` rather than guessed at, because a guessed QC value could release
a lot (docs/rules.md, "Quality: release").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cellchain.core.errors import Invalid, Reason
from cellchain.core.fields import number_as_typed
from cellchain.core.words import N_, translated

LIMIT_KINDS: tuple[str, ...] = ("min", "max", "equals", "range")
NUMERIC_KINDS = frozenset({"min", "max", "range"})

QC_MISSING = "qc_missing"
QC_OUT_OF_SPEC = "qc_out_of_spec"

# Whether a test's result is needed before release ("gates") or is read after it ("after_release"):
# a 48-hour product cannot wait for a 14-day compendial sterility culture (USP <71>, Ph. Eur. 2.6.1),
# so it is released on rapid tests (Gram stain, endotoxin, mycoplasma by NAT: Ph. Eur. 2.6.7, 2.6.27)
# and the culture is read after release (docs/rules.md, "Quality: release").
GATES = "gates"
AFTER_RELEASE = "after_release"
RELEASE_MODES: tuple[str, ...] = (GATES, AFTER_RELEASE)

# Where the sample of a result was taken (docs/rules.md, "Quality: QC results").
SAMPLE_STAGES: tuple[str, ...] = ("bank", "in_process", "final_product", "post_thaw")


def _fmt(number: float) -> str:
    return f"{number:g}"


@dataclass(frozen=True)
class Limit:
    """One acceptance limit. Bounds are inclusive: ">= 95 %" admits exactly 95.

    ``min`` uses ``low``; ``max`` uses ``high``; ``range`` uses both; ``equals`` is qualitative,
    with ``expected`` the passing word and ``allowed`` every word a result may be.
    """

    kind: str
    low: float | None = None
    high: float | None = None
    expected: str | None = None
    allowed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problem = _limit_problem(self)
        if problem:
            raise Invalid({"limit": problem})

    @classmethod
    def at_least(cls, low: float) -> Limit:
        return cls("min", low=low)

    @classmethod
    def at_most(cls, high: float) -> Limit:
        return cls("max", high=high)

    @classmethod
    def between(cls, low: float, high: float) -> Limit:
        return cls("range", low=low, high=high)

    @classmethod
    def equals(cls, expected: str, allowed: tuple[str, ...]) -> Limit:
        return cls("equals", expected=expected, allowed=tuple(allowed))

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    def admits(self, value: float | str) -> bool:
        """Whether an already-parsed value passes; bounds inclusive."""
        if self.kind == "equals":
            return value == self.expected
        if not isinstance(value, float):
            return False
        above = self.low is None or value >= self.low
        below = self.high is None or value <= self.high
        return above and below

    def describe(self, unit: str = "") -> str:
        """Human text of the limit, as printed on a certificate."""
        suffix = f" {unit}" if unit else ""
        if self.kind == "min":
            return f">= {_fmt(self.low or 0.0)}{suffix}"
        if self.kind == "max":
            return f"<= {_fmt(self.high or 0.0)}{suffix}"
        if self.kind == "range":
            # a dash reads alike in every language the pages and certificates are written in
            return f"{_fmt(self.low or 0.0)}–{_fmt(self.high or 0.0)}{suffix}"
        return str(self.expected)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _limit_problem(limit: Limit) -> str | None:
    """Why a limit is malformed, or ``None``: a malformed limit must never judge a result."""
    if limit.kind not in LIMIT_KINDS:
        return translated(N_(
            "kind {kind!r} is not one of {choices}")).format(kind=limit.kind, choices=', '.join(LIMIT_KINDS))
    if limit.kind == "equals":
        if not limit.allowed or limit.expected not in limit.allowed:
            return translated(N_("an equals limit needs its expected word among the allowed words"))
        return None
    needed = {"min": ("low",), "max": ("high",), "range": ("low", "high")}[limit.kind]
    if any(not _is_number(getattr(limit, name)) for name in needed):
        return translated(N_(
            "a {kind} limit needs a finite number for {choices}")).format(kind=limit.kind, choices=' and '.join(needed))
    if limit.kind == "range" and limit.low > limit.high:  # type: ignore[operator]
        return translated(N_("a range limit needs low <= high"))
    return None


@dataclass(frozen=True)
class SpecTest:
    """One test of the specification.

    ``bounds`` is the physically possible range of a numeric value (a percent of cells is 0-100,
    an endotoxin level is not negative); a value outside it is unreadable input, not a failure.
    """

    code: str
    name: str
    method: str
    unit: str
    limit: Limit
    required: bool = True
    bounds: tuple[float | None, float | None] = (None, None)
    release: str = GATES

    def __post_init__(self) -> None:
        if self.release not in RELEASE_MODES:
            raise Invalid({"release": translated(N_(
                "{release!r} is not one of {choices}")).format(
                release=self.release, choices=', '.join(RELEASE_MODES))})

    @property
    def gates_release(self) -> bool:
        """A required test whose result must be in (and within specification) before release."""
        return self.required and self.release == GATES

    @property
    def after_release(self) -> bool:
        """A required test read after release (a compendial sterility culture of a 48-hour product)."""
        return self.required and self.release == AFTER_RELEASE


@dataclass(frozen=True)
class Specification:
    """A named, versioned set of tests; a stored version is never edited, only superseded."""

    version: str
    tests: tuple[SpecTest, ...]
    product: str = "ucmsc"

    def __post_init__(self) -> None:
        codes = [t.code for t in self.tests]
        if not self.version:
            raise Invalid({"version": translated(N_("a specification needs a version"))})
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise Invalid({"tests": translated(N_(
                "duplicate test codes: {choices}")).format(
                choices=', '.join(duplicates))})

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(t.code for t in self.tests)

    def find(self, code: str) -> SpecTest:
        """The test with this code; an unknown code is bad input (QC ``test`` field)."""
        for spec_test in self.tests:
            if spec_test.code == code:
                return spec_test
        raise Invalid({"test": translated(N_(
            "{code!r} is not a test of specification {version}")).format(
            code=code, version=self.version)})


@dataclass(frozen=True)
class Judgement:
    """The software's verdict on one result, with the value as it will be stored."""

    within_spec: bool
    normalized_value: float | str
    message: str


PERCENT = (0.0, 100.0)
NON_NEGATIVE = (0.0, None)
_FLOW = N_("flow cytometry")


def _marker(code: str, name: str, limit: Limit) -> SpecTest:
    return SpecTest(code, name, _FLOW, "%", limit, True, PERCENT)


DEFAULT_SPEC = Specification(
    version="UCMSC-1",
    tests=(
        _marker("cd73", N_("CD73 (identity)"), Limit.at_least(95)),
        _marker("cd90", N_("CD90 (identity)"), Limit.at_least(95)),
        _marker("cd105", N_("CD105 (identity)"), Limit.at_least(95)),
        _marker("cd34", N_("CD34 (purity)"), Limit.at_most(2)),
        _marker("cd45", N_("CD45 (purity)"), Limit.at_most(2)),
        _marker("cd14", N_("CD14 or CD11b (purity)"), Limit.at_most(2)),
        _marker("cd19", N_("CD19 or CD79a (purity)"), Limit.at_most(2)),
        _marker("hla_dr", N_("HLA-DR (purity)"), Limit.at_most(2)),
        SpecTest("viability", N_("Viability"), N_("7-AAD or trypan blue"), "%", Limit.at_least(70), True, PERCENT),
        # Sterility: "negative" means no growth (USP <71> / Ph. Eur. 2.6.1), "positive" means growth.
        SpecTest("sterility", N_("Sterility (negative = no growth)"), N_("USP <71> / Ph. Eur. 2.6.1"), "",
                 Limit.equals("negative", ("negative", "positive"))),
        SpecTest("mycoplasma", N_("Mycoplasma (negative = not detected)"), N_("PCR or culture"), "",
                 Limit.equals("negative", ("negative", "positive"))),
        # Endotoxin in EU per kg of recipient body weight per dose: the lab converts its LAL
        # result (EU/ml) x dose volume (ml) / the heaviest recipient weight the dose is for (kg).
        # A site that specifies EU/ml replaces this test in its own specification version.
        SpecTest("endotoxin", N_("Endotoxin"), N_("LAL"), "EU/kg", Limit.at_most(5), True, NON_NEGATIVE),
        SpecTest("karyotype", N_("Karyotype"), N_("G-banding"), "", Limit.equals("normal", ("normal", "abnormal"))),
        # Cell count: recorded as the counted total as a percent of the labelled total, so the
        # +/-10 % site tolerance (a site choice) becomes the fixed range 90-110 %.
        SpecTest("cell_count", N_("Cell count (percent of labelled total)"), N_("counted"), "% of labelled",
                 Limit.between(90, 110), True, NON_NEGATIVE),
        # ISCT 2006 characterization: recorded when a site chooses to, never blocking release.
        SpecTest("plastic_adherence", N_("Plastic adherence"), N_("culture observation"), "",
                 Limit.equals("positive", ("positive", "negative")), False),
        SpecTest("trilineage", N_("Tri-lineage differentiation"), N_("osteo/chondro/adipogenic induction"), "",
                 Limit.equals("positive", ("positive", "negative")), False),
    ),
)


_STERILE = Limit.equals("negative", ("negative", "positive"))
_GRAM = SpecTest("gram_stain", N_("Gram stain (negative = no organisms seen)"),
                 N_("Gram stain of the final product"), "", Limit.equals("negative", ("negative", "positive")))
_MYCOPLASMA_NAT = SpecTest("mycoplasma", N_("Mycoplasma (negative = not detected)"),
                           N_("nucleic-acid amplification (Ph. Eur. 2.6.7)"), "", _STERILE)

# The dosing-lot specification: a bag expires 48 h after formulation, so the lot is released on rapid
# tests (count, viability, identity and purity by flow cytometry, endotoxin, Gram stain, mycoplasma by
# NAT) and the 14-day sterility culture of the final product, sampled at fill, is read after release
# (Ph. Eur. 2.6.27, microbiological examination of cell-based preparations). Karyotype is a bank test.
DOSE_SPEC = Specification(
    version="UCMSC-2",
    product="ucmsc",
    tests=(
        *(t for t in DEFAULT_SPEC.tests if t.code in {"cd73", "cd90", "cd105", "cd34", "cd45", "cd14", "cd19",
                                                      "hla_dr", "viability", "endotoxin", "cell_count"}),
        _GRAM,
        _MYCOPLASMA_NAT,
        SpecTest("sterility", N_("Sterility, 14-day culture (negative = no growth)"),
                 N_("USP <71> / Ph. Eur. 2.6.1"), "", _STERILE, release=AFTER_RELEASE),
        *(t for t in DEFAULT_SPEC.tests if not t.required),
    ),
)

# The cell-bank specification: a frozen bank waits for every result, so the full panel gates
# (ICH Q5D; Ph. Eur. 2.6.1, 2.6.7, 2.6.14; ISCT 2006 identity and purity markers).
BANK_SPEC = Specification(
    version="UCMSC-BANK-1",
    product="ucmsc_bank",
    tests=tuple(t for t in DEFAULT_SPEC.tests),
)

# The built-in version of each product, stored when a product has none yet (``specifications.current``).
BUILT_IN: dict[str, Specification] = {DOSE_SPEC.product: DOSE_SPEC, BANK_SPEC.product: BANK_SPEC}
# Every built-in version by name, so a lot started under one before it was stored reads the same definition.
BUILT_IN_VERSIONS: dict[str, Specification] = {s.version: s for s in (DEFAULT_SPEC, DOSE_SPEC, BANK_SPEC)}

# The built-in specifications' names and methods of the standard tests: a fixed vocabulary the catalogue
# translates. A stored specification keeps the English as written; it is translated where it is shown.
STANDARD_WORDS: frozenset[str] = frozenset(
    words for spec in BUILT_IN_VERSIONS.values() for test in spec.tests for words in (test.name, test.method))


def shown(text: str) -> str:
    """A test's name or method in the reader's language where it is the standard tests' wording; a site's
    own wording as its specification writes it (docs/architecture.md, "Languages")."""
    return translated(text) if text in STANDARD_WORDS else text


def parse_number(value: Any, field_name: str = "value") -> float:
    """Read a finite number from int, float or a string as people type it (``12.5``, ``5e6``,
    ``5,000,000``); anything else is Invalid."""
    if _is_number(value):
        return float(value)
    typed = number_as_typed(value) if isinstance(value, str) else None
    if typed is not None:
        return typed
    raise Invalid({field_name: translated(N_("{value!r} is not a number")).format(value=value)})


def _parse_word(value: Any, allowed: tuple[str, ...]) -> str:
    word = value.strip().lower() if isinstance(value, str) else None
    if word not in allowed:
        raise Invalid({"value": translated(N_(
            "{value!r} is not one of {choices}")).format(
            value=value, choices=', '.join(allowed))})
    return word


def _parse_value(spec_test: SpecTest, value: Any) -> float | str:
    """The result as stored: a float within the test's physical bounds, or an allowed word."""
    if not spec_test.limit.numeric:
        return _parse_word(value, spec_test.limit.allowed)
    number = parse_number(value)
    low, high = spec_test.bounds
    if (low is not None and number < low) or (high is not None and number > high):
        shown = f"{_fmt(low) if low is not None else '-inf'} to {_fmt(high) if high is not None else 'inf'}"
        raise Invalid({"value": translated(N_(
            "{number} is impossible for {code} ({shown})")).format(
            number=_fmt(number), code=spec_test.code, shown=shown)})
    return number


def judge(spec_test: SpecTest, value: Any) -> Judgement:
    """Judge one result against its limit (the software judges, not a person)."""
    normalized = _parse_value(spec_test, value)
    ok = spec_test.limit.admits(normalized)
    shown = _fmt(normalized) if isinstance(normalized, float) else normalized
    unit = f" {spec_test.unit}" if spec_test.unit and isinstance(normalized, float) else ""
    verdict = "within specification" if ok else "OUT OF SPECIFICATION"
    limit = spec_test.limit.describe(spec_test.unit)
    return Judgement(ok, normalized, f"{spec_test.name}: {shown}{unit} is {verdict} (limit {limit})")


def release_gaps(
    spec: Specification, latest_results: Mapping[str, bool], accepted_deviation_codes: set[str]
) -> list[Reason]:
    """Every gating test that blocks release (docs/rules.md, "Quality: release").

    ``latest_results`` maps a test code to whether its latest result was within spec. A gating
    test with no result is ``qc_missing``; one out of spec is ``qc_out_of_spec`` unless QA accepted
    a closed deviation for that code. Optional (characterization) tests never block, and neither do
    tests read after release (``pending_after_release`` lists those).
    """
    reasons: list[Reason] = []
    for spec_test in spec.tests:
        if not spec_test.gates_release:
            continue
        if spec_test.code not in latest_results:
            reasons.append(Reason(QC_MISSING, test=spec_test.code, name=shown(spec_test.name)))
        elif not latest_results[spec_test.code] and spec_test.code not in accepted_deviation_codes:
            reasons.append(Reason(QC_OUT_OF_SPEC, test=spec_test.code, name=shown(spec_test.name)))
    return reasons


def pending_after_release(spec: Specification, latest_results: Mapping[str, bool]) -> list[SpecTest]:
    """The tests read after release that have no result yet: shown on the review page and certificate."""
    return [t for t in spec.tests if t.after_release and t.code not in latest_results]


# --- storage as JSON -------------------------------------------------------------------------------


def limit_to_dict(limit: Limit) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": limit.kind}
    if limit.kind == "equals":
        return {**out, "expected": limit.expected, "allowed": list(limit.allowed)}
    if limit.low is not None:
        out["low"] = limit.low
    if limit.high is not None:
        out["high"] = limit.high
    return out


def spec_to_dict(spec: Specification) -> dict[str, Any]:
    """A JSON-ready form; ``spec_from_dict`` reads it back equal."""
    return {
        "version": spec.version,
        "product": spec.product,
        "tests": [
            {
                "code": t.code, "name": t.name, "method": t.method, "unit": t.unit,
                "required": t.required, "release": t.release, "limit": limit_to_dict(t.limit),
                "bounds": list(t.bounds),
            }
            for t in spec.tests
        ],
    }


def _limit_from_dict(data: Any, where: str) -> Limit:
    if not isinstance(data, Mapping):
        raise Invalid({where: translated(N_("must be an object"))})
    try:
        return Limit(
            kind=data.get("kind"),  # type: ignore[arg-type]
            low=data.get("low"),
            high=data.get("high"),
            expected=data.get("expected"),
            allowed=tuple(data.get("allowed") or ()),
        )
    except Invalid as error:
        raise Invalid({where: error.fields["limit"]}) from None


def _bound(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if not _is_number(value):
        raise Invalid({where: translated(N_("must be a number or null"))})
    return float(value)


def _test_from_dict(data: Any, where: str) -> SpecTest:
    if not isinstance(data, Mapping):
        raise Invalid({where: translated(N_("must be an object"))})
    texts = {}
    for name in ("code", "name", "method", "unit"):
        value = data.get(name, "" if name == "unit" else None)
        if not isinstance(value, str) or (name != "unit" and not value):
            wanted = "a string" if name == "unit" else "a non-empty string"
            raise Invalid({f"{where}.{name}": translated(N_("must be {wanted}")).format(wanted=wanted)})
        texts[name] = value
    required = data.get("required", True)
    if not isinstance(required, bool):
        raise Invalid({f"{where}.required": translated(N_("must be true or false"))})
    bounds = data.get("bounds") or [None, None]
    if not isinstance(bounds, list | tuple) or len(bounds) != 2:
        raise Invalid({f"{where}.bounds": translated(N_("must be [low, high]"))})
    release = data.get("release", GATES)
    if release not in RELEASE_MODES:
        raise Invalid({f"{where}.release": translated(N_(
            "must be one of {choices}")).format(
            choices=', '.join(RELEASE_MODES))})
    limit = _limit_from_dict(data.get("limit"), f"{where}.limit")
    low, high = (_bound(b, f"{where}.bounds") for b in bounds)
    return SpecTest(limit=limit, required=required, bounds=(low, high), release=release, **texts)


def spec_from_dict(data: Any) -> Specification:
    """Read a stored specification, naming the first malformed field (Invalid)."""
    if not isinstance(data, Mapping):
        raise Invalid({"specification": translated(N_("must be an object"))})
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise Invalid({"version": translated(N_("must be a non-empty string"))})
    tests = data.get("tests")
    if not isinstance(tests, list) or not tests:
        raise Invalid({"tests": translated(N_("must be a non-empty list"))})
    product = data.get("product", "ucmsc")
    if not isinstance(product, str) or not product.strip() or len(product) > 20:
        raise Invalid({"product": translated(N_(
            "must be a product name of up to 20 characters, e.g. ucmsc or ucmsc_bank"))})
    return Specification(version, tuple(_test_from_dict(t, f"tests[{i}]") for i, t in enumerate(tests)),
                         product.strip())
