"""The table rules a mapping file may name under ``rules:``, each a pure function of ``transforms``.

A rule sees the rows of one legacy table that survived its field mapping and reference checks
(the *wide* frame, one column per ``entity.field``) and returns their outcome. What it reads is
declared (``reads``), so the mapping loader refuses a rule on a table that does not map those
fields; what it leaves for later tables (``provides``) and what it needs from earlier ones
(``needs``) order the tables. A rule that needs all of a table's rows at once (matching
duplicates, overlapping enrollments) says so, and the loader refuses it on a table processed in
parts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from transforms.accounting import SURVIVOR_KEY, Outcome
from transforms.consent import check_consents
from transforms.enrollment import enrollment_rules
from transforms.grades import grade_by_student
from transforms.identity import contacts_from_guardians, resolve_students

if TYPE_CHECKING:
    from sis_migrate.stages.unify.engine import Context

GRADE_BY_STUDENT = "grade_by_student"
STUDENT_KEY_MAP = "student_key_map"


@dataclass(frozen=True)
class RuleResult:
    outcome: Outcome
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)  # entity -> rows built from every legacy row


@dataclass(frozen=True)
class TableRule:
    name: str
    reads: tuple[str, ...]
    apply: Callable[[Outcome, Context], RuleResult]
    needs: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    yields: tuple[str, ...] = ()  # entities built by the rule rather than row for row
    needs_whole_table: bool = True


def _merged_with_text_keys(outcome: Outcome, resolved: Outcome) -> Outcome:
    """The resolved rows after ``outcome``'s quarantine, survivor keys as text (as merge records store them)."""
    merged = resolved.merged.assign(**{SURVIVOR_KEY: resolved.merged[SURVIVOR_KEY].astype("string")})
    return Outcome(resolved.kept, outcome.quarantined, pd.concat([outcome.merged, merged]) if len(outcome.merged)
                   else merged, outcome.fixes, resolved.key_map)


def _merge_duplicate_students(outcome: Outcome, ctx: Context) -> RuleResult:
    resolved = resolve_students(outcome.kept, key="student.student_unique_id", last="student.last_surname",
                                first="student.first_name", birth="student.birth_date")
    ctx.state.key_maps["student"] = resolved.key_map
    return RuleResult(_merged_with_text_keys(outcome, resolved))


def _merge_guardians_into_contacts(outcome: Outcome, ctx: Context) -> RuleResult:
    contacts, associations = contacts_from_guardians(
        outcome.kept, key="contact.contact_unique_id", last="contact.last_surname", first="contact.first_name",
        cell="contact.mobile_phone", contact_key="student_contact_association.contact_unique_id")
    # every guardian row, the merged ones too, still says who the student's contact is
    pairs = ["student_contact_association.student_unique_id", "student_contact_association.contact_unique_id"]
    return RuleResult(_merged_with_text_keys(outcome, contacts),
                      {"student_contact_association": associations.drop_duplicates(pairs)})


_ENROLLMENT = "student_school_association."


def _enrollment_rules(outcome: Outcome, ctx: Context) -> RuleResult:
    p = _ENROLLMENT
    checked = outcome.then(lambda rows: enrollment_rules(
        rows, student=p + "student_unique_id", entry_date=p + "entry_date", exit_date=p + "exit_withdraw_date",
        primary=p + "primary_school", enroll_id=p + "enroll_id"))
    ctx.state.grade_by_student = grade_by_student(
        checked.kept, ctx.school_year, ctx.crosswalks["grade_level"].ordinals, student=p + "student_unique_id",
        year_column=p + "school_year", grade=p + "entry_grade_level_descriptor", primary=p + "primary_school",
        entry_date=p + "entry_date")
    return RuleResult(checked)


_CONSENT = "communication_consent."


def _consent_rules(outcome: Outcome, ctx: Context) -> RuleResult:
    p = _CONSENT
    grades = ctx.state.grade_by_student if ctx.state.grade_by_student is not None else pd.Series(dtype="Int64")
    return RuleResult(outcome.then(lambda rows: check_consents(
        rows, ctx.school_year, grades, consent_type=p + "consent_type", school_year=p + "school_year",
        principal_signed_date=p + "principal_signed_date", revoked_date=p + "revoked_date",
        student=p + "student_unique_id")))


_RULES = (
    TableRule("merge_duplicate_students", apply=_merge_duplicate_students, provides=(STUDENT_KEY_MAP,),
              reads=("student.student_unique_id", "student.last_surname", "student.first_name",
                     "student.birth_date")),
    TableRule("merge_guardians_into_contacts", apply=_merge_guardians_into_contacts,
              yields=("student_contact_association",),
              reads=("contact.contact_unique_id", "contact.last_surname", "contact.first_name",
                     "contact.mobile_phone", "student_contact_association.student_unique_id",
                     "student_contact_association.contact_unique_id")),
    TableRule("enrollment_rules", apply=_enrollment_rules, provides=(GRADE_BY_STUDENT,),
              reads=tuple(_ENROLLMENT + name for name in (
                  "student_unique_id", "entry_date", "exit_withdraw_date", "primary_school", "enroll_id",
                  "school_year", "entry_grade_level_descriptor"))),
    TableRule("consent_rules", apply=_consent_rules, needs=(GRADE_BY_STUDENT,), needs_whole_table=False,
              reads=tuple(_CONSENT + name for name in (
                  "consent_type", "school_year", "principal_signed_date", "revoked_date", "student_unique_id"))),
)
RULES: dict[str, TableRule] = {rule.name: rule for rule in _RULES}
