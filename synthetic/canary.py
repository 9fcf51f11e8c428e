"""Canaries: tier-1 values that a leak check can find anywhere downstream by plain text search.

Every tier-1 column that can hold it carries the run's marker ('QZ' + 6 base32 characters derived
from the seed) inside a plausible value. Columns too narrow for it get distinctive values where a
distinctive set exists (Social Security numbers in the never-issued 900-999 areas) that the
manifest lists, else the manifest says the type cannot hold a marker.
"""

from __future__ import annotations

import base64
import hashlib

import numpy as np

# system.table.column of every tier-1 column (the deny-list of the policy) and how it is canaried.
TIER1_COLUMNS = {
    "sim.SIM_STUDENT.CITIZENSHIP_STATUS_CD": "type_cannot_hold_marker",
    "sim.SIM_STUDENT.BIRTH_COUNTRY_CD": "type_cannot_hold_marker",
    "sim.SIM_STUDENT.BIRTH_CITY": "marker",
    "sim.SIM_STUDENT.IMMIGRATION_STATUS_CD": "type_cannot_hold_marker",
    "sim.SIM_STUDENT.US_ENTRY_DT": "type_cannot_hold_marker",
    "sim.SIM_STUDENT.FIRST_US_SCHOOL_DT": "type_cannot_hold_marker",
    "sim.SIM_STUDENT.SSN": "values",
    "sim.SIM_STUDENT.MEDICAL_NOTES": "marker",
    "sim.SIM_GUARDIAN.EMPLOYER_NM": "marker",
    "sim.SIM_GUARDIAN.CITIZENSHIP_STATUS_CD": "type_cannot_hold_marker",
    "sim.SIM_INCIDENT.NARRATIVE": "marker",
    "gradebook.Score.Comment": "marker",
    "cim.cim_assessment_result.accommodations_note": "marker",
    "verify.verify_enrollment_check.notes": "marker",
    "verify.verify_residency.proof_type": "marker",
    "verify.verify_residency.proof_doc_no": "marker",
    "verify.verify_residency.proof_country": "marker",
}

MEDICAL_NOTES = (
    "Asthma; inhaler kept in nurse office {m}", "Severe peanut allergy, EpiPen in backpack {m}",
    "Type 1 diabetes, insulin pump; snacks allowed in class {m}", "Seizure disorder - see action plan {m}",
    "ADHD medication given at noon by nurse {m}", "Mother reports anxiety after family deportation case {m}",
    "Hearing aid left ear; preferential seating {m}", "Sickle cell trait; extra water breaks {m}",
    "Recovering from surgery, no PE until cleared {m}", "Lactose intolerant {m}",
    "Counseling referral after loss of father {m}", "Vision: glasses required for board work {m}",
)
NARRATIVES = (
    "Student was involved in a verbal altercation in the cafeteria. {m}",
    "Student left class without permission and was found in the stairwell. {m}",
    "Physical fight near the gym entrance; both students separated by security. {m}",
    "Repeated disruption after warnings; parent says family is in a shelter. {m}",
    "Student brought a vape device to school. {m}",
    "Bullying reported by classmate; student admitted to posting messages. {m}",
    "Student threatened a staff member during dismissal. {m}",
    "Theft of a phone from a locker; item returned. {m}",
)
SCORE_COMMENTS = (
    "Great improvement! {m}", "Please see me about make-up work after your doctor visit {m}",
    "Late because of the move - no penalty {m}", "Excused: family emergency {m}",
    "Missing work; talk to your counselor {m}", "Nice job on the extension questions {m}",
    "Talk to me about the time you were in the hospital {m}", "Resubmit with your corrections {m}",
)
ACCOMMODATION_NOTES = (
    "Extended time (1.5x) per IEP {m}", "Read-aloud of math items; bilingual glossary {m}",
    "Small group setting, frequent breaks {m}", "Spanish word-to-word dictionary allowed {m}",
    "Tested separately; recent trauma noted by social worker {m}", "Large print booklet {m}",
)
ENROLLMENT_CHECK_NOTES = (
    "Parent brought lease; family doubled up with relatives {m}", "Left for Mexico in December, returned {m}",
    "Called home twice, no answer {m}", "Family staying at shelter on W Madison {m}",
    "Custody papers on file in office {m}", "Records requested from previous school {m}",
)
EMPLOYERS = ("Advocate Health Care", "Jewel-Osco", "Chicago Transit Authority", "O'Hare Airport Services",
             "Amazon Fulfillment", "Rush University Medical Center", "Self-employed", "City of Chicago",
             "Mariano's", "Walgreens", "UPS", "Home care agency", "Restaurant kitchen", "Cleaning service")
BIRTH_CITIES = {
    "US": ("Chicago", "Cicero", "Gary", "Milwaukee", "Detroit", "Houston", "Los Angeles"),
    "MX": ("Guadalajara", "Monterrey", "Morelia", "Puebla", "Ciudad de México", "Durango"),
    "GT": ("Guatemala City", "Quetzaltenango"), "HN": ("Tegucigalpa", "San Pedro Sula"), "SV": ("San Salvador",),
    "PR": ("San Juan", "Bayamón"), "CO": ("Bogotá", "Medellín"), "EC": ("Quito", "Guayaquil"),
    "VE": ("Caracas", "Maracaibo"), "PL": ("Kraków", "Warszawa", "Rzeszów"), "IQ": ("Baghdad", "Mosul"),
    "SY": ("Aleppo", "Damascus", "Homs"), "JO": ("Amman",), "YE": ("Sanaa",), "PS": ("Ramallah",),
    "EG": ("Cairo",), "CN": ("Guangzhou", "Shanghai"), "TW": ("Taipei",), "HK": ("Hong Kong",),
    "PK": ("Lahore", "Karachi"), "IN": ("Hyderabad", "Ahmedabad", "Delhi"), "VN": ("Ho Chi Minh City", "Hanoi"),
    "PH": ("Manila", "Cebu"), "RU": ("Moscow",), "UA": ("Kyiv", "Lviv"), "HT": ("Port-au-Prince",),
    "CD": ("Kinshasa",), "FR": ("Paris",), "KR": ("Seoul",), "NG": ("Lagos", "Ibadan"), "KE": ("Nairobi",),
    "TZ": ("Dar es Salaam",), "NP": ("Kathmandu",), "BT": ("Thimphu",),
}


def marker_for(seed: int) -> str:
    """The run's canary marker: 'QZ' and 6 characters of base32 derived from the seed."""
    digest = hashlib.sha256(f"synthetic-canary:{seed}".encode()).digest()
    return "QZ" + base64.b32encode(digest).decode("ascii")[:6]


def with_marker(templates: tuple[str, ...], marker: str) -> np.ndarray:
    return np.array([template.format(m=marker) for template in templates], dtype=object)


def never_issued_ssns(rng: np.random.Generator, count: int, dashed: bool = True) -> np.ndarray:
    """Distinct SSN-shaped values in areas 900-999, which were never issued to anyone."""
    if count == 0:
        return np.array([], dtype=object)
    numbers = rng.choice(100 * 99 * 9999, size=count, replace=False)
    area = 900 + numbers // (99 * 9999)
    group = 1 + (numbers // 9999) % 99
    serial = 1 + numbers % 9999
    fmt = "{:03d}-{:02d}-{:04d}" if dashed else "{:03d}{:02d}{:04d}"
    return np.array([fmt.format(a, g, s) for a, g, s in zip(area.tolist(), group.tolist(), serial.tolist(),
                                                            strict=True)], dtype=object)
