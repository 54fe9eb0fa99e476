"""Trial coordinator page forms: register a subject, randomize, allocate a bag, record a visit, extend the list."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from cellchain.audit.forms import SignatureForm
from cellchain.core.page_forms import PageForm, SiteDateTimeField, text_field
from cellchain.trial.rules import eligibility

YES_NO = {"yes": True, "no": False}


def _number_or_text(text: str | None) -> Any:
    """A weight as a number; text that is not one goes on as typed, for the operation to name the field."""
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return text


class RegisterForm(PageForm):
    """A subject's screening; each eligibility criterion is a yes/no radio named as the criterion."""

    screening_number = text_field(_l("Screening number"))
    birth_date = text_field(_l("Birth date"))
    day0 = text_field(_l("Day 0 (transplant day)"))
    sex = text_field(_l("Sex"))
    pregnancy_test = text_field(_l("Pregnancy test"))
    weight_kg = text_field(_l("Weight (kg)"))

    def answers(self) -> dict[str, Any]:
        """The API's shapes: yes/no radios to booleans; an unanswered criterion stays None."""
        data: dict[str, Any] = {name: self[name].data or None
                                for name in ("screening_number", "birth_date", "day0", "sex", "pregnancy_test")}
        data["weight_kg"] = _number_or_text(self.weight_kg.data)
        for name in eligibility.BOOL_FIELDS:
            data[name] = YES_NO.get(self[name].data or "")
        return data


for _name in eligibility.BOOL_FIELDS:
    setattr(RegisterForm, _name, text_field(_name))


class RandomizeForm(PageForm):
    confirm = text_field(_l("Type the subject code to confirm"))


class AllocateForm(PageForm):
    scan = text_field(_l("Scan the bag"))
    weight_kg = text_field(_l("Weight today (kg)"))

    def weight(self) -> Any:
        return _number_or_text(self.weight_kg.data)


class DeallocateForm(PageForm):
    reason = text_field(_l("Why the bag comes off the visit"))


class VisitWeightForm(PageForm):
    weight_kg = text_field(_l("Weight for this visit (kg)"))

    def weight(self) -> Any:
        return _number_or_text(self.weight_kg.data)


class PlanInfusionForm(PageForm):
    planned_at = SiteDateTimeField(_l("Planned for (site time)"),
                                   message=_l("give the planned date and time (site time)"))
    reason = text_field(_l("Why it moves"))


class ExtendListForm(PageForm):
    extra = text_field(_l("Positions to add"))
    reason = text_field(_l("Reason"))

    def extra_positions(self) -> Any:
        """A whole number of positions; anything else goes on as typed for the operation to refuse."""
        extra = self.extra.data or ""
        return int(extra) if extra.isdigit() else extra


class SubjectEndForm(SignatureForm):
    """A withdrawal (reason) or a death (cause in the note), when, and the investigator's signature."""

    reason = text_field(_l("Reason"))
    note = text_field(_l("Note"))
    ended_at = SiteDateTimeField(_l("When (site time; empty: now)"))


class ReturnDecisionForm(SignatureForm):
    """QA's decision on a returned bag: the button's decision, why, and the signature."""

    decision = text_field(_l("Decision"))
    reason = text_field(_l("Why"))


class MissedVisitForm(PageForm):
    reason = text_field(_l("Why the visit is missed"))
