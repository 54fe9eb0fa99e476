"""The words of an adverse-event assessment, each from the standard that defines it (docs/rules.md,
"Safety: adverse events").

- Grade: CTCAE v5.0 (NCI Common Terminology Criteria for Adverse Events), grades 1-5.
- Seriousness: ICH E2A section II.B, the six criteria; an event meeting any of them is serious.
- Relatedness to the study product: the WHO-UMC causality categories.
- Expectedness: against the reference safety information of the investigator's brochure (ICH E2A II.C).
- Action taken with the study product and outcome: ICH E2B(R3) (fields G.k.8 and E.i.7).
"""

from __future__ import annotations

from cellchain.core.words import N_, translated

GRADES: dict[int, str] = {
    1: N_("mild: asymptomatic or mild symptoms; observation only"),
    2: N_("moderate: minimal, local or non-invasive intervention indicated"),
    3: N_("severe or medically significant, not immediately life-threatening; hospitalisation indicated"),
    4: N_("life-threatening consequences; urgent intervention indicated"),
    5: N_("death related to the adverse event"),
}
FATAL_GRADE = 5

SERIOUSNESS: dict[str, str] = {
    "death": N_("results in death"),
    "life_threatening": N_("is life-threatening"),
    "hospitalisation": N_("requires inpatient hospitalisation or prolongs an existing hospitalisation"),
    "disability": N_("results in persistent or significant disability or incapacity"),
    "congenital_anomaly": N_("is a congenital anomaly or birth defect"),
    "medically_important": N_("is another medically important event"),
}

CAUSALITY: dict[str, str] = {
    "certain": N_("certain"),
    "probable": N_("probable / likely"),
    "possible": N_("possible"),
    "unlikely": N_("unlikely"),
    "conditional": N_("conditional / unclassified"),
    "unassessable": N_("unassessable / unclassifiable"),
}
RELATED = ("certain", "probable", "possible")
"""The WHO-UMC categories that count as "related" in the summary (a reasonable possibility, ICH E2A III.A.1)."""

EXPECTEDNESS: dict[str, str] = {
    "expected": N_("expected (listed in the reference safety information)"),
    "unexpected": N_("unexpected"),
}

ACTIONS: dict[str, str] = {
    "not_changed": N_("dose not changed"),
    "interrupted": N_("infusion interrupted"),
    "reduced": N_("dose reduced"),
    "withdrawn": N_("study product withdrawn"),
    "not_applicable": N_("not applicable (no further study product)"),
    "unknown": N_("unknown"),
}

OUTCOMES: dict[str, str] = {
    "recovered": N_("recovered / resolved"),
    "recovering": N_("recovering / resolving"),
    "not_recovered": N_("not recovered / not resolved"),
    "recovered_with_sequelae": N_("recovered / resolved with sequelae"),
    "fatal": N_("fatal"),
    "unknown": N_("unknown"),
}
RESOLVED_OUTCOMES = ("recovered", "recovered_with_sequelae")

ACUTE_REJECTION = "acute_rejection"
CATEGORIES: dict[str, str] = {
    "infusion_reaction": N_("infusion-related reaction"),
    ACUTE_REJECTION: N_("acute rejection (event of special interest)"),
    "infection": N_("infection"),
    "hepatobiliary": N_("hepatobiliary"),
    "immune": N_("immune system"),
    "cardiovascular": N_("cardiovascular"),
    "respiratory": N_("respiratory"),
    "renal": N_("renal and urinary"),
    "neoplasm": N_("neoplasm"),
    "other": N_("other"),
}
SPECIAL_INTEREST = (ACUTE_REJECTION,)
"""Categories that are events of special interest: the trial's primary outcome is acute rejection."""

REACTION_GRADES: dict[str, int] = {"mild": 1, "moderate": 2, "severe": 3, "life_threatening": 4}
"""The grade a draft from a bedside reaction starts at, from the nurse's severity; the investigator decides."""


def words(table: dict, key: object) -> str:
    """The words for a coded value in the reader's language, or empty for none."""
    return "" if key is None else (translated(table[key]) if key in table else str(key))
