"""District sizes, volume ratios and the documented rates of every planted anomaly and variant.

Volumes scale linearly with the number of students; the ratios below are taken from the
brief's volumes table at district scale (360,000 students). Anomaly rates are fractions of the
population they are planted in; ``planted_count`` turns a rate into a count that is at least 1,
so even the tiny preset carries every anomaly the manifest promises.
"""

from __future__ import annotations

PRESETS: dict[str, int] = {"tiny": 200, "small": 5000, "district": 360000}

GENERATOR_VERSION = "1.0.0"

# Rows of one chunk of a big table (Score, ClassAttendance, Roster, Assignment, PeriodGrade).
MAX_CHUNK_ROWS = 250_000

VOLUME = {
    "students_per_school": 554.0,        # 650 schools at 360,000 students
    "min_schools_per_type": 1,           # ES, MS, HS, CH, OP all present even at tiny
    "closed_school_share": 0.02,         # inactive schools with a past CLOSE_DT and no enrollments
    "prior_only_student_share": 0.10,    # graduated or left after the prior year: only prior-year rows
    "class_size": 28,                    # seats per section before another section opens
    "sections_per_teacher": 5.2,         # 21,000 teachers for 110,000 sections
    "inactive_teacher_share": 0.04,
    "assignments_per_year_section": 40,  # a YR section; semester sections get half plus a few
    "attendance_days_per_section": 21,   # sampled class meetings recorded per section (~140/student)
    "cim_courses_at_district": 3000,
    "current_transfer_share": 0.08,      # students who changed school during the current year
    "prior_transfer_share": 0.08,
    "late_entry_share": 0.05,            # new to the district after the first day
    "concurrent_enrollment_share": 0.03,  # high schoolers with an extra non-primary (options) enrollment
    "incidents_per_student": 0.33,
    "dropped_roster_share": 0.02,        # roster rows with a DroppedOn date
}

# Planted anomalies: codes of transforms.reasons, rates per the population named in the comment.
RATES = {
    "duplicate_student": 0.005,            # of students (persons)
    "unknown_student_sections": 0.003,     # of sections; each gets 1-2 strangers (roster, scores, attendance)
    "leave_before_entry": 0.0015,          # of students with one prior-year primary row
    "invalid_grade_level": 0.0015,         # of students with one prior-year primary row
    "overlapping_primary_enrollment": 0.002,  # of current students with a single open primary row
    "unmapped_action_cd": 0.005,           # of incidents
    "unmapped_attendance_mark": 0.0005,    # of roster rows: one attendance row of the pair gets a bad mark
    "unknown_cim_course": 0.003,           # of Gradebook courses that have sections
    "consent_revoked": 0.01,               # of consent rows
    "consent_wrong_school_year": 0.005,
    "consent_missing_principal_signature": 0.02,  # of SAFETY_MEETUP rows
    "consent_outside_grade_band": 0.005,
    "ssn_in_state_id": 0.002,              # of students
    "birth_dt_sentinel": 0.002,            # of students: 1900-01-01 unknown birth date
    "school_close_sentinel": 0.5,          # of open schools: 9999-12-31 instead of NULL
    "enrollment_leave_sentinel": 0.5,      # of open enrollment rows: 9999-12-31 instead of NULL
    "invalid_due_date": 0.0005,            # of assignments: '02/30/2019' style
}

# Normalisable variants (not anomalies): shares of the rows they can occur in.
VARIANT_RATES = {
    "home_school_trailing_spaces": 0.10,
    "student_number_zero_padded": 0.05,    # of roster pairs; the form is kept in every table of the pair
    "student_number_spaces": 0.03,
    "stu_key_bare": 0.30,                  # the rest are 'S' + 8 digits
    "gender_lower_case": 0.02,
    "home_lang_two_letter": 0.05,          # of spa/eng students: 'sp', 'en'
    "course_code_variant": 0.35,           # of Course and of Section rows: case/spacing differs
    "zip_plus4": 0.10,
    "blank_due_date": 0.02,
    "grade_unpadded": 0.15,                # '1'..'9' instead of '01'..'09'
    "grade_kg": 0.30,                      # 'KG' instead of 'K'
    "name_stray_whitespace": 0.01,
    "guardian_spelling_variant": 0.25,     # of repeated guardian rows: case/whitespace/accent differs
    "participation_school_unpadded": 0.20,
}


def planted_count(rate: float, population: int) -> int:
    """How many rows to plant: ``round(rate * population)``, at least 1, at most the population."""
    if population <= 0:
        return 0
    return int(min(population, max(1, round(rate * population))))
