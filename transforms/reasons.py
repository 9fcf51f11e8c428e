"""The fates a legacy row or value can meet, shared by the synthetic generator and the transforms.

The generator plants each anomaly below at a documented rate and writes the exact count (with the
legacy keys involved) into its ground-truth manifest under the same code. The transforms report
what they find under the same code. A rehearsal on a synthetic district is correct when the two
agree exactly, which is what makes validation provable rather than plausible.

Dispositions:
- ``quarantine``: the row does not load; it goes to the quarantine table with this reason.
- ``merge``: the row is folded into another row (the survivor), whose key is recorded.
- ``fix``: the row loads, one field is cleared or repaired; counted per column, value never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Disposition(StrEnum):
    QUARANTINE = "quarantine"
    MERGE = "merge"
    FIX = "fix"


@dataclass(frozen=True)
class Reason:
    code: str
    disposition: Disposition
    description: str


_REASONS = (
    # --- merges -------------------------------------------------------------------------------
    Reason("duplicate_student", Disposition.MERGE,
           "SIM_STUDENT row for a person SIM already has under another STUDENT_ID (same normalised "
           "last name, first name and birth date; unknown birth dates never match). The survivor "
           "is the lowest STUDENT_ID; rows elsewhere that name the duplicate are re-keyed to it."),
    Reason("duplicate_contact", Disposition.MERGE,
           "SIM_GUARDIAN row for a person already seen as the guardian of a sibling (same "
           "normalised last name, first name and cell-phone digits). The survivor is the lowest "
           "GUARDIAN_ID of the person; every row still yields a student-contact association."),
    # --- quarantines ----------------------------------------------------------------------------
    Reason("unknown_student", Disposition.QUARANTINE,
           "The row names a student number that SIM (the system of record) does not know."),
    Reason("unknown_school", Disposition.QUARANTINE,
           "The row names a school id that SIM_SCHOOL does not know."),
    Reason("leave_before_entry", Disposition.QUARANTINE,
           "SIM_ENROLLMENT row whose LEAVE_DT precedes its ENTRY_DT."),
    Reason("overlapping_primary_enrollment", Disposition.QUARANTINE,
           "SIM_ENROLLMENT primary row that overlaps an earlier primary enrollment of the same "
           "student (the later ENTRY_DT, then the higher ENROLL_ID, is quarantined)."),
    Reason("invalid_grade_level", Disposition.QUARANTINE,
           "SIM_ENROLLMENT.GRADE_LVL_CD outside the grade-level crosswalk ('13', '')."),
    Reason("unmapped_code", Disposition.QUARANTINE,
           "A code outside its crosswalk (the column is named with the count, the value never is)."),
    Reason("unknown_cim_course", Disposition.QUARANTINE,
           "Gradebook Course whose non-blank CimCourseId is not in cim_course."),
    Reason("depends_on_quarantined", Disposition.QUARANTINE,
           "The row's parent (course, section, assignment, ...) was quarantined."),
    Reason("unknown_parent", Disposition.QUARANTINE,
           "The row names a parent (section, assignment, teacher, ...) that no legacy row has."),
    Reason("consent_wrong_school_year", Disposition.QUARANTINE,
           "verify_consent signed for another school year than the run's current one."),
    Reason("consent_missing_principal_signature", Disposition.QUARANTINE,
           "SAFETY_MEETUP consent without principal_signed_on."),
    Reason("consent_outside_grade_band", Disposition.QUARANTINE,
           "SAFETY_MEETUP for a student outside grades 9-12, or REENGAGEMENT outside grades 7-12 "
           "(grade from the student's current-year primary enrollment)."),
    Reason("consent_revoked", Disposition.QUARANTINE,
           "verify_consent with revoked_on set."),
    # --- field fixes (row loads) ------------------------------------------------------------------
    Reason("ssn_scrubbed", Disposition.FIX,
           "A Social-Security-number-shaped value in a migrated text column (tier 2): emptied."),
    Reason("sentinel_date_cleared", Disposition.FIX,
           "A sentinel date (1900-01-01 unknown, 9999-12-31 open) became NULL."),
    Reason("invalid_date_cleared", Disposition.FIX,
           "An impossible date as typed (e.g. Gradebook DueDate '02/30/2019') became NULL."),
)

REASONS: dict[str, Reason] = {reason.code: reason for reason in _REASONS}


def reason(code: str) -> Reason:
    try:
        return REASONS[code]
    except KeyError as err:
        raise KeyError(f"unknown reason code {code!r}; known: {sorted(REASONS)}") from err
