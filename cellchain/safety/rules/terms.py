"""The words of an adverse-event assessment, each from the standard that defines it (docs/rules.md,
"Safety: adverse events").

- Grade: CTCAE v5.0 (NCI Common Terminology Criteria for Adverse Events), grades 1-5.
- Seriousness: ICH E2A section II.B, the six criteria; an event meeting any of them is serious.
- Relatedness to the study product: the WHO-UMC causality categories.
- Expectedness: against the reference safety information of the investigator's brochure (ICH E2A II.C).
- Action taken with the study product and outcome: ICH E2B(R3) (fields G.k.8 and E.i.7).
"""

from __future__ import annotations

GRADES: dict[int, str] = {
    1: "mild: asymptomatic or mild symptoms; observation only",
    2: "moderate: minimal, local or non-invasive intervention indicated",
    3: "severe or medically significant, not immediately life-threatening; hospitalisation indicated",
    4: "life-threatening consequences; urgent intervention indicated",
    5: "death related to the adverse event",
}
FATAL_GRADE = 5

SERIOUSNESS: dict[str, str] = {
    "death": "results in death",
    "life_threatening": "is life-threatening",
    "hospitalisation": "requires inpatient hospitalisation or prolongs an existing hospitalisation",
    "disability": "results in persistent or significant disability or incapacity",
    "congenital_anomaly": "is a congenital anomaly or birth defect",
    "medically_important": "is another medically important event",
}

CAUSALITY: dict[str, str] = {
    "certain": "certain",
    "probable": "probable / likely",
    "possible": "possible",
    "unlikely": "unlikely",
    "conditional": "conditional / unclassified",
    "unassessable": "unassessable / unclassifiable",
}
RELATED = ("certain", "probable", "possible")
"""The WHO-UMC categories that count as "related" in the summary (a reasonable possibility, ICH E2A III.A.1)."""

EXPECTEDNESS: dict[str, str] = {
    "expected": "expected (listed in the reference safety information)",
    "unexpected": "unexpected",
}

ACTIONS: dict[str, str] = {
    "not_changed": "dose not changed",
    "interrupted": "infusion interrupted",
    "reduced": "dose reduced",
    "withdrawn": "study product withdrawn",
    "not_applicable": "not applicable (no further study product)",
    "unknown": "unknown",
}

OUTCOMES: dict[str, str] = {
    "recovered": "recovered / resolved",
    "recovering": "recovering / resolving",
    "not_recovered": "not recovered / not resolved",
    "recovered_with_sequelae": "recovered / resolved with sequelae",
    "fatal": "fatal",
    "unknown": "unknown",
}
RESOLVED_OUTCOMES = ("recovered", "recovered_with_sequelae")

ACUTE_REJECTION = "acute_rejection"
CATEGORIES: dict[str, str] = {
    "infusion_reaction": "infusion-related reaction",
    ACUTE_REJECTION: "acute rejection (event of special interest)",
    "infection": "infection",
    "hepatobiliary": "hepatobiliary",
    "immune": "immune system",
    "cardiovascular": "cardiovascular",
    "respiratory": "respiratory",
    "renal": "renal and urinary",
    "neoplasm": "neoplasm",
    "other": "other",
}
SPECIAL_INTEREST = (ACUTE_REJECTION,)
"""Categories that are events of special interest: the trial's primary outcome is acute rejection."""

REACTION_GRADES: dict[str, int] = {"mild": 1, "moderate": 2, "severe": 3, "life_threatening": 4}
"""The grade a draft from a bedside reaction starts at, from the nurse's severity; the investigator decides."""


def words(table: dict, key: object) -> str:
    """The words for a coded value, or empty for none."""
    return "" if key is None else table.get(key, str(key))
