"""Verify: enrollment, residency and consent checks, as two nightly exports (an older, superseded one).

The newest export (the spec's export day) is the truth the manifest describes; the older export,
a week earlier, holds the rows that existed then, in their state of that day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from sis_migrate.legacy import System
from sis_migrate.legacy import table as legacy_table
from synthetic import vocab
from synthetic.canary import ENROLLMENT_CHECK_NOTES, with_marker
from synthetic.context import Context
from synthetic.frames import choice, d64, days, int_str, make_frame, pick
from synthetic.presets import RATES, VARIANT_RATES, planted_count
from synthetic.sim import NAT, SimWorld, unpadded

OLDER_EXPORT_DAYS_BEFORE = 7


@dataclass(frozen=True)
class VerifyExport:
    table: str
    export_day: object  # datetime.date
    frame: pd.DataFrame


def _stu_keys(ctx: Context, rng: np.random.Generator, student_ids: np.ndarray, table: str) -> np.ndarray:
    bare = rng.random(len(student_ids)) < VARIANT_RATES["stu_key_bare"]
    text = int_str(student_ids, 8)
    ctx.manifest.variant("stu_key_bare", "verify", table, "stu_key", int(bare.sum()))
    ctx.manifest.variant("stu_key_prefixed", "verify", table, "stu_key", int((~bare).sum()))
    return np.where(bare, text, "S" + text).astype(object)


def build_verify(ctx: Context, world: SimWorld) -> list[VerifyExport]:
    older_day = ctx.spec.export_day - timedelta(days=OLDER_EXPORT_DAYS_BEFORE)
    exports = []
    for name, (newest, older) in (("verify_enrollment_check", _enrollment_checks(ctx, world, older_day)),
                                  ("verify_residency", _residency(ctx, world, older_day)),
                                  ("verify_consent", _consents(ctx, world, older_day))):
        exports.append(VerifyExport(name, older_day, older))
        exports.append(VerifyExport(name, ctx.spec.export_day, newest))
    return exports


def _older(table_name: str, newest: dict, keep: np.ndarray, changes: dict) -> pd.DataFrame:
    data = {name: np.asarray(values)[keep] for name, values in newest.items()}
    data.update({name: np.asarray(values)[keep] for name, values in changes.items()})
    return make_frame(legacy_table(System.VERIFY, table_name), data)


def _enrollment_checks(ctx: Context, world: SimWorld, older_day) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = ctx.rng("verify-enrollment")
    export_day = ctx.export_day
    people = np.flatnonzero(world.is_current)
    again = people[rng.random(len(people)) < 0.1]
    person = np.concatenate([people, again])
    first_check = world.cur_entry[person] + days(rng.integers(0, 20, len(person)))
    second = np.arange(len(person)) >= len(people)
    check_date = np.where(second, first_check + days(rng.integers(20, 120, len(person))), first_check)
    check_date = np.minimum(check_date, export_day - 1)
    order = np.lexsort((world.student_id[person], check_date))
    person, check_date = person[order], check_date[order]
    n = len(person)
    clerks = np.array([f"{vocab.strip_accents(f)[0].lower()}{vocab.strip_accents(ln).lower().replace(' ', '')}"
                       f"@{vocab.DISTRICT_DOMAIN}" for f, ln in
                       zip(ctx.names["en"].female[rng.integers(0, len(ctx.names["en"].female), 300)].tolist(),
                           ctx.names["es"].last[rng.integers(0, len(ctx.names["es"].last), 300)].tolist(),
                           strict=True)], dtype=object)
    statuses = [s for s, _ in vocab.ENROLLMENT_CHECK_STATUSES]
    status = choice(rng, statuses, n, p=[w for _, w in vocab.ENROLLMENT_CHECK_STATUSES])
    school_num = unpadded(world.schools.school_id[world.cur_school[person]])
    ctx.manifest.variant("school_id_unpadded", "verify", "verify_enrollment_check", "school_num", n)
    newest = {
        "check_id": np.array([f"EC{k:08d}" for k in range(1, n + 1)], dtype=object),
        "stu_key": _stu_keys(ctx, rng, world.student_id[person], "verify_enrollment_check"),
        "school_num": school_num, "school_yr": np.full(n, ctx.calendar.school_year, dtype=object),
        "check_date": check_date, "status": status,
        "verified_by": clerks[(world.cur_school[person] * 7 + rng.integers(0, 2, n)) % len(clerks)],
        "notes": np.where(rng.random(n) < 0.25, choice(rng, with_marker(ENROLLMENT_CHECK_NOTES, ctx.marker), n),
                          None),
    }
    keep = check_date <= d64(older_day)
    pending = np.where((status == "VERIFIED") & (rng.random(n) < 0.05), "NO_SHOW", status).astype(object)
    older = _older("verify_enrollment_check", newest, keep, {"status": pending})
    return make_frame(legacy_table(System.VERIFY, "verify_enrollment_check"), newest), older


def _residency(ctx: Context, world: SimWorld, older_day) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = ctx.rng("verify-residency")
    export_day = ctx.export_day
    people = np.flatnonzero(world.is_current)
    renewed = people[(world.prior_school[people] >= 0) & (rng.random(len(people)) < 0.08)]
    person = np.concatenate([people, renewed])
    latest = np.arange(len(person)) < len(people)
    verified = np.where(latest, np.minimum(world.cur_entry[person] + days(rng.integers(-40, 30, len(person))),
                                           export_day - 1),
                        d64(ctx.prior.start) + days(rng.integers(-40, 30, len(person))))
    order = np.lexsort((verified, world.student_id[person]))
    person, verified = person[order], verified[order]
    n = len(person)
    proofs = [p for p, _ in vocab.RESIDENCY_PROOFS]
    proof = choice(rng, proofs, n, p=[w for _, w in vocab.RESIDENCY_PROOFS])
    foreign = np.isin(proof, list(vocab.FOREIGN_PROOFS))
    countries = choice(rng, ["MX", "GT", "HN", "PL", "IQ", "SY", "CN", "PK", "IN", "VN", "PH", "UA", "NG"], n)
    marker = ctx.marker
    zip_cd = world.zip5[person]
    newest = {
        "stu_key": _stu_keys(ctx, rng, world.student_id[person], "verify_residency"),
        "addr": world.address[person] + "|" + world.city[person] + "|IL|" + zip_cd,
        "proof_type": proof + " " + marker,
        "proof_doc_no": np.array([f"{marker}-{k:09d}" for k in rng.integers(0, 10**9, n).tolist()], dtype=object),
        "proof_country": np.where(foreign, countries + " " + marker, None),
        "verified_on": verified, "expires_on": verified + days(365),
    }
    ctx.manifest.variant("addr_with_pipes", "verify", "verify_residency", "addr", n)
    older = _older("verify_residency", newest, verified <= d64(older_day), {})
    return make_frame(legacy_table(System.VERIFY, "verify_residency"), newest), older


def _consents(ctx: Context, world: SimWorld, older_day) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = ctx.rng("verify-consent")
    export_day = ctx.export_day
    start = d64(ctx.calendar.start)
    people = np.flatnonzero(world.is_current)
    grade = world.grade[people]
    groups = [
        (people[rng.random(len(people)) < 0.85], "TEXT_ALERTS"),
        (people[(grade >= 10) & (rng.random(len(people)) < 0.35)], "SAFETY_MEETUP"),
        (people[(grade >= 8) & (rng.random(len(people)) < 0.06)], "REENGAGEMENT"),
    ]
    person = np.concatenate([g for g, _ in groups])
    ctype = np.concatenate([np.full(len(g), t, dtype=object) for g, t in groups])
    n_clean = len(person)
    # Outside the grade band: consents for students too young for the activity.
    n_band = planted_count(RATES["consent_outside_grade_band"], n_clean)
    young_safety = people[grade < 10]
    young_reengage = people[grade < 8]
    band_person = young_safety[rng.integers(0, len(young_safety), n_band)]
    band_type = np.full(n_band, "SAFETY_MEETUP", dtype=object)
    reengage = rng.random(n_band) < 0.3
    band_person[reengage] = young_reengage[rng.integers(0, len(young_reengage), int(reengage.sum()))]
    band_type[reengage] = "REENGAGEMENT"
    # Missing principal signature: SAFETY_MEETUP consents of high schoolers the principal never signed.
    n_missing = planted_count(RATES["consent_missing_principal_signature"],
                              max(1, int((ctype == "SAFETY_MEETUP").sum())))
    high_school = people[grade >= 10]
    missing_person = high_school[rng.integers(0, len(high_school), n_missing)]
    person = np.concatenate([person, band_person, missing_person])
    ctype = np.concatenate([ctype, band_type, np.full(n_missing, "SAFETY_MEETUP", dtype=object)])
    is_band = (np.arange(len(person)) >= n_clean) & (np.arange(len(person)) < n_clean + n_band)
    missing_rows = np.arange(n_clean + n_band, len(person))
    n = len(person)

    entry = np.maximum(world.cur_entry[person], start)
    span = np.maximum(1, (export_day - entry).astype(np.int64) - 2)
    parent_signed = entry - 20 + days((rng.random(n) * (span + 20)).astype(np.int64))
    principal = np.where(ctype == "SAFETY_MEETUP",
                         np.minimum(parent_signed + days(rng.integers(1, 15, n)), export_day - 1), NAT)
    principal = np.where((ctype != "SAFETY_MEETUP") & (rng.random(n) < 0.3),
                         np.minimum(parent_signed + days(rng.integers(1, 15, n)), export_day - 1), principal)
    school_yr = np.full(n, ctx.calendar.school_year, dtype=object)
    revoked = np.full(n, NAT)

    used = np.arange(n) >= n_clean
    revoked_rows = pick(rng, ~used, planted_count(RATES["consent_revoked"], n_clean))
    used[revoked_rows] = True
    revoked[revoked_rows] = np.minimum(parent_signed[revoked_rows] + days(rng.integers(5, 60, len(revoked_rows))),
                                       export_day - 1)
    revoked[revoked_rows] = np.maximum(revoked[revoked_rows], parent_signed[revoked_rows])
    wrong_rows = pick(rng, ~used, planted_count(RATES["consent_wrong_school_year"], n_clean))
    used[wrong_rows] = True
    school_yr[wrong_rows] = ctx.prior.school_year
    parent_signed[wrong_rows] = d64(ctx.prior.start) + days(rng.integers(0, 200, len(wrong_rows)))
    principal[wrong_rows] = np.where(ctype[wrong_rows] == "SAFETY_MEETUP", parent_signed[wrong_rows] + 3,
                                     principal[wrong_rows])
    principal[missing_rows] = NAT

    order = np.lexsort((world.student_id[person], parent_signed))
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    consent_id = np.array([f"CN{k:08d}" for k in (inverse + 1).tolist()], dtype=object)
    activity = np.empty(n, dtype=object)
    for kind, options in vocab.CONSENT_ACTIVITIES.items():
        mask = ctype == kind
        activity[mask] = choice(rng, options, int(mask.sum()))
    newest = {
        "consent_id": consent_id, "stu_key": _stu_keys(ctx, rng, world.student_id[person], "verify_consent"),
        "guardian_last": world.first_guardian_last[person], "guardian_first": world.first_guardian_first[person],
        "consent_type": ctype, "activity": activity, "school_yr": school_yr, "parent_signed_on": parent_signed,
        "principal_signed_on": principal, "parent_copy_ind": np.where(rng.random(n) < 0.2, "Y", "N").astype(object),
        "revoked_on": revoked,
    }
    newest = {name: np.asarray(values)[order] for name, values in newest.items()}
    manifest = ctx.manifest
    for code, rows in (("consent_revoked", revoked_rows), ("consent_wrong_school_year", wrong_rows),
                       ("consent_missing_principal_signature", missing_rows),
                       ("consent_outside_grade_band", np.flatnonzero(is_band))):
        manifest.anomaly(code, "verify", "verify_consent", None, [{"consent_id": c} for c in
                                                                  sorted(consent_id[rows].tolist())])
    older_cut = d64(older_day)
    keep = newest["parent_signed_on"] <= older_cut
    changes = {
        "revoked_on": np.where(newest["revoked_on"] <= older_cut, newest["revoked_on"], NAT),
        "principal_signed_on": np.where(newest["principal_signed_on"] <= older_cut, newest["principal_signed_on"],
                                        NAT),
    }
    older = _older("verify_consent", newest, keep, changes)
    return make_frame(legacy_table(System.VERIFY, "verify_consent"), newest), older
