"""SIM, the system of record: schools, students, guardians, enrollment history, discipline.

Everything is assembled column-wise with numpy; the per-person arrays kept in ``SimWorld`` are
what the other systems need (who is enrolled where, in which grade, since when).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from sis_migrate.legacy import System
from sis_migrate.legacy import table as legacy_table
from synthetic import vocab
from synthetic.canary import BIRTH_CITIES, EMPLOYERS, MEDICAL_NOTES, NARRATIVES, never_issued_ssns, with_marker
from synthetic.context import Context
from synthetic.frames import choice, d64, days, int_str, make_frame, pick
from synthetic.presets import RATES, VARIANT_RATES, VOLUME, planted_count

SENTINEL_OPEN = np.datetime64("9999-12-31")
SENTINEL_UNKNOWN = np.datetime64("1900-01-01")
NAT = np.datetime64("NaT", "D")
DUPLICATE_ID_BASE = 90_000_000


@dataclass
class Schools:
    school_id: np.ndarray   # int, all schools (open first, then closed)
    type_cd: np.ndarray     # object
    lo: np.ndarray          # lowest grade index served
    hi: np.ndarray          # highest grade index served
    n_open: int
    weight: np.ndarray      # relative size

    def eligible(self, grade: int) -> np.ndarray:
        """Open schools serving a grade index."""
        idx = np.arange(self.n_open)
        return idx[(self.lo[: self.n_open] <= grade) & (self.hi[: self.n_open] >= grade)]


@dataclass
class SimWorld:
    schools: Schools
    student_id: np.ndarray      # per person (distinct people; duplicates are not persons)
    is_current: np.ndarray      # has a current-year enrollment
    grade: np.ndarray           # current grade index (-1 for prior-only persons)
    cur_school: np.ndarray      # school index of the current (last) primary enrollment, -1 if none
    cur_entry: np.ndarray       # its ENTRY_DT
    pool: np.ndarray            # name pool key per person
    ell: np.ndarray
    sped: np.ndarray
    ability: np.ndarray         # 0..1, drives scores, grades and assessments
    prior_school: np.ndarray    # school index of the last prior-year primary row, -1 if none
    first_guardian_last: np.ndarray
    first_guardian_first: np.ndarray
    address: np.ndarray         # 'street' per person (family address)
    city: np.ndarray
    zip5: np.ndarray
    frames: dict[str, Callable[[], pd.DataFrame]]  # SIM tables in build order, each made when called
    ssn_canaries: list[str] = field(default_factory=list)       # values planted in SIM_STUDENT.SSN
    state_id_canaries: list[str] = field(default_factory=list)  # SSNs typed into STATE_ID


def unpadded(school_ids: np.ndarray) -> np.ndarray:
    return int_str(school_ids)


def padded(school_ids: np.ndarray) -> np.ndarray:
    return int_str(school_ids, 6)


def phones(rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """Ten-digit numbers written in one of the free formats seen in legacy data."""
    formats = rng.integers(0, len(vocab.PHONE_FORMATS), len(digits))
    out = []
    for number, fmt in zip(digits.tolist(), formats.tolist(), strict=True):
        text = f"{number:010d}"
        out.append(vocab.PHONE_FORMATS[fmt].format(a=text[:3], e=text[3:6], n=text[6:]))
    return np.array(out, dtype=object)


def unique_phone_digits(rng: np.random.Generator, count: int) -> np.ndarray:
    """Distinct ten-digit numbers in Chicago area codes (exchange 200-999, never N11)."""
    exchanges = np.array([e for e in range(200, 1000) if e % 100 != 11])
    per_area = len(exchanges) * 10000
    picks = rng.choice(len(vocab.AREA_CODES) * per_area, size=count, replace=False)
    area = np.array([int(a) for a in vocab.AREA_CODES])[picks // per_area]
    exchange = exchanges[(picks % per_area) // 10000]
    return area * 10_000_000 + exchange * 10_000 + picks % 10000


def zips(rng: np.random.Generator, zip5: np.ndarray) -> tuple[np.ndarray, int]:
    plus4 = rng.random(len(zip5)) < VARIANT_RATES["zip_plus4"]
    suffix = rng.integers(1000, 9999, len(zip5))
    out = np.array([f"{z}-{s}" if p else z for z, s, p in zip(zip5.tolist(), suffix.tolist(), plus4.tolist(),
                                                                 strict=True)], dtype=object)
    return out, int(plus4.sum())


def spelling_variant(rng: np.random.Generator, names: np.ndarray) -> np.ndarray:
    """Each name re-typed differently in a way ``match_name`` undoes (case, whitespace, accents)."""
    out = []
    for name, kind in zip(names.tolist(), rng.integers(0, 4, len(names)).tolist(), strict=True):
        stripped = vocab.strip_accents(name)
        if kind == 0 and stripped != name:
            out.append(stripped)
        elif kind == 1:
            out.append(name + " ")
        elif kind == 2 and " " not in name:
            out.append(" " + name)
        elif kind == 3 or name.upper() == name:
            out.append(name.lower() if name.upper() == name else name.upper())
        else:
            out.append(name.upper())
    return np.array(out, dtype=object)


def build_schools(ctx: Context) -> tuple[Schools, pd.DataFrame]:
    rng = ctx.rng("schools")
    n_open = max(len(vocab.SCHOOL_TYPES), round(ctx.spec.students / VOLUME["students_per_school"]))
    counts = [max(VOLUME["min_schools_per_type"], round(share * n_open)) for _, share, _, _ in vocab.SCHOOL_TYPES]
    counts[0] = max(1, n_open - sum(counts[1:]))
    n_open = sum(counts)
    n_closed = round(VOLUME["closed_school_share"] * n_open)
    types, lo, hi, suffixes = [], [], [], []
    for (type_cd, _, spans, suffix), count in zip(vocab.SCHOOL_TYPES, counts, strict=True):
        weights = np.array([w for _, w in spans])
        span_idx = rng.choice(len(spans), size=count, p=weights / weights.sum())
        if type_cd == "CH" and count >= 2:  # charters of both kinds whenever there are two
            span_idx[:2] = [0, 1]
        for k in span_idx.tolist():
            types.append(type_cd)
            lo.append(spans[k][0][0])
            hi.append(spans[k][0][1])
            suffixes.append(suffix)
    for _ in range(n_closed):
        types.append("ES")
        lo.append(0)
        hi.append(9)
        suffixes.append(vocab.SCHOOL_TYPES[0][3])
    total = n_open + n_closed
    school_id = rng.choice(np.arange(1000, 70000), size=total, replace=False)
    schools = Schools(school_id=school_id, type_cd=np.array(types, dtype=object), lo=np.array(lo),
                      hi=np.array(hi), n_open=n_open, weight=rng.lognormal(0.0, 0.45, total))

    namesake = choice(rng, vocab.SCHOOL_NAMESAKES, total)
    name = np.array([f"{n} {s}" for n, s in zip(namesake.tolist(), suffixes, strict=True)], dtype=object)
    network = np.where(schools.type_cd == "CH", "CHARTER", np.where(
        schools.type_cd == "OP", "OPTIONS", np.where(schools.type_cd == "HS", "HS" + int_str(
            rng.integers(1, 5, total)), "N" + int_str(rng.integers(1, 14, total), 2)))).astype(object)
    address = int_str(rng.integers(100, 11000, total)) + " " + choice(rng, vocab.STREETS, total)
    zip_cd, n_plus4 = zips(rng, choice(rng, vocab.ZIPS, total))
    ctx.manifest.variant("zip_plus4", "sim", "SIM_SCHOOL", "ZIP_CD", n_plus4)
    open_dt = d64(date(1890, 9, 1)) + days(rng.integers(0, 125 * 365, total))
    open_dt = np.where(schools.type_cd == "CH", d64(date(1997, 9, 1)) + days(rng.integers(0, 18 * 365, total)),
                       open_dt)
    close_dt = np.full(total, NAT)
    close_dt[n_open:] = d64(date(2005, 6, 15)) + days(rng.integers(0, 10 * 365, n_closed))
    sentinel = pick(rng, np.arange(total) < n_open, planted_count(RATES["school_close_sentinel"], n_open))
    close_dt[sentinel] = SENTINEL_OPEN
    data = {
        "SCHOOL_ID": padded(school_id), "SCHOOL_NM": name, "SCHOOL_TYPE_CD": schools.type_cd,
        "NETWORK_CD": network, "ADDR_LINE1": address, "CITY": np.full(total, "Chicago", dtype=object),
        "STATE_CD": np.full(total, "IL", dtype=object), "ZIP_CD": zip_cd,
        "PHONE_NO": phones(rng, unique_phone_digits(rng, total)), "OPEN_DT": open_dt, "CLOSE_DT": close_dt,
        "ACTIVE_IND": np.where(np.arange(total) < n_open, "Y", "N").astype(object),
    }
    frame = make_frame(legacy_table(System.SIM, "SIM_SCHOOL"), data).sort_values("SCHOOL_ID", ignore_index=True)
    ctx.manifest.anomaly("sentinel_date_cleared", "sim", "SIM_SCHOOL", "CLOSE_DT",
                         [{"SCHOOL_ID": sid} for sid in sorted(padded(school_id[sentinel]).tolist())])
    return schools, frame


def _birth_dates(rng: np.random.Generator, grade: np.ndarray, first_year: int) -> np.ndarray:
    """A child in grade index g (PK=0, K=1) is g+4 on the first of September; a few are a year older."""
    older = (rng.random(len(grade)) < 0.05).astype(np.int64)
    year = first_year - (grade.astype(np.int64) + 4) - 1 - older
    start = np.array([np.datetime64(f"{y}-09-02", "D") for y in range(year.min(), year.max() + 1)])
    return start[year - year.min()] + days(rng.integers(0, 365, len(grade)))


def _names(ctx: Context, rng: np.random.Generator, pool: np.ndarray, female: np.ndarray) -> np.ndarray:
    out = np.empty(len(pool), dtype=object)
    for key in sorted(set(pool.tolist())):
        names = ctx.names[key]
        for is_female, source in ((True, names.female), (False, names.male)):
            mask = (pool == key) & (female == is_female)
            out[mask] = source[rng.integers(0, len(source), int(mask.sum()))]
    return out


def _make_unique(rng: np.random.Generator, last: np.ndarray, first: np.ndarray, birth: np.ndarray) -> None:
    """Shift birth dates (in place) until no two persons share the duplicate-student match key."""
    last_key = np.array([vocab.match_name(v) for v in last.tolist()], dtype=object)
    first_key = np.array([vocab.match_name(v) for v in first.tolist()], dtype=object)
    while True:
        frame = pd.DataFrame({"l": last_key, "f": first_key, "b": birth})
        clash = frame.duplicated(keep="first").to_numpy()
        if not clash.any():
            return
        birth[clash] = birth[clash] + days(rng.integers(1, 40, int(clash.sum())))


def build_sim(ctx: Context) -> SimWorld:
    schools, school_frame = build_schools(ctx)
    rng = ctx.rng("students")
    n_current = ctx.spec.students
    n_prior_only = max(1, round(VOLUME["prior_only_student_share"] * n_current))
    persons = n_current + n_prior_only
    is_current = np.arange(persons) < n_current
    grade_p = vocab.GRADE_WEIGHTS / vocab.GRADE_WEIGHTS.sum()
    grade = np.full(persons, -1)
    grade[:n_current] = rng.choice(len(grade_p), size=n_current, p=grade_p)
    graduated = ~is_current & (rng.random(persons) < 0.6)
    prior_grade = np.where(is_current, grade - 1, -1)
    leavers = ~is_current & ~graduated
    prior_grade[graduated] = 13
    prior_grade[leavers] = rng.choice(np.arange(1, 14), size=int(leavers.sum()), p=grade_p[1:] / grade_p[1:].sum())
    # Every grade is present even in a tiny district.
    grade[: len(grade_p)] = np.arange(len(grade_p))
    prior_grade[: len(grade_p)] = np.arange(len(grade_p)) - 1

    # Families: siblings share a language, a last name, an address and their guardians.
    sizes = rng.choice([1, 2, 3, 4], size=persons, p=[0.55, 0.28, 0.12, 0.05])
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), persons)) + 1]
    sizes[-1] -= int(sizes.sum()) - persons
    n_families = len(sizes)
    family = np.empty(persons, dtype=np.int64)
    family[rng.permutation(persons)] = np.repeat(np.arange(n_families), sizes)
    lang_share = np.array([share for _, share, _, _ in vocab.LANGUAGES])
    fam_lang = rng.choice(len(vocab.LANGUAGES), size=n_families, p=lang_share / lang_share.sum())
    fam_pool = np.array([vocab.LANGUAGES[i][2] for i in fam_lang], dtype=object)
    fam_last = np.empty(n_families, dtype=object)
    for key in sorted(set(fam_pool.tolist())):
        mask = fam_pool == key
        source = ctx.names[key].last
        fam_last[mask] = source[rng.integers(0, len(source), int(mask.sum()))]
    compound = (fam_pool == "es") & (rng.random(n_families) < 0.08)
    second = ctx.names["es"].last[rng.integers(0, len(ctx.names["es"].last), int(compound.sum()))]
    fam_last[compound] = fam_last[compound] + "-" + second
    fam_street = int_str(rng.integers(100, 12000, n_families)) + " " + choice(rng, vocab.STREETS, n_families)
    city_names = [c for c, _ in vocab.CITIES]
    fam_city = choice(rng, city_names, n_families, p=[w for _, w in vocab.CITIES])
    fam_zip = choice(rng, vocab.ZIPS, n_families)
    fam_phone = unique_phone_digits(rng, n_families)
    fam_has_home_phone = rng.random(n_families) < 0.45

    pool = fam_pool[family]
    lang = fam_lang[family]
    sex = choice(rng, ["M", "F", "X", "U"], persons, p=[0.495, 0.495, 0.007, 0.003])
    female = (sex == "F") | ((sex != "M") & (rng.random(persons) < 0.5))
    first = _names(ctx, rng, pool, female)
    middle = np.where(rng.random(persons) < 0.55, _names(ctx, rng, pool, female), None)
    last = fam_last[family].copy()
    birth = _birth_dates(rng, np.where(is_current, grade, prior_grade + 1), ctx.calendar.first_year)
    _make_unique(rng, last, first, birth)

    ids = 10_000_000 + np.cumsum(rng.integers(1, 200, persons))
    student_id = np.empty(persons, dtype=np.int64)
    student_id[rng.permutation(persons)] = ids

    used = np.zeros(persons, dtype=bool)
    dup_originals = pick(rng, np.ones(persons, dtype=bool), planted_count(RATES["duplicate_student"], persons))
    used[dup_originals] = True
    sentinel_birth = pick(rng, ~used, planted_count(RATES["birth_dt_sentinel"], persons))
    used[sentinel_birth] = True
    ssn_state = pick(rng, ~used, planted_count(RATES["ssn_in_state_id"], persons))
    used[ssn_state] = True

    # Typed variants of names (whitespace, case) that match_name undoes.
    stray = rng.random(persons) < VARIANT_RATES["name_stray_whitespace"]
    last_typed = last.copy()
    last_typed[stray] = spelling_variant(rng, last[stray])
    ctx.manifest.variant("name_stray_whitespace", "sim", "SIM_STUDENT", "LAST_NM", int(stray.sum()))

    ell = (pool != "en") & (rng.random(persons) < vocab.ELL_SHARE_NON_ENGLISH) | (rng.random(persons) < 0.01)
    sped = rng.random(persons) < 0.14
    ability = np.clip(rng.beta(5, 2, persons) - 0.1 * ell - 0.08 * sped, 0.05, 0.99)

    world = SimWorld(
        schools=schools, student_id=student_id, is_current=is_current, grade=grade,
        cur_school=np.full(persons, -1), cur_entry=np.full(persons, NAT), pool=pool, ell=ell, sped=sped,
        ability=ability, prior_school=np.full(persons, -1), first_guardian_last=np.empty(persons, dtype=object),
        first_guardian_first=np.empty(persons, dtype=object), address=fam_street[family], city=fam_city[family],
        zip5=fam_zip[family], frames={"SIM_SCHOOL": lambda: school_frame},
    )
    enrollment = _build_enrollment(ctx, world, prior_grade, graduated)
    home_phone = np.where(fam_has_home_phone, fam_phone, -1)
    # Built when asked for, one at a time, so a consumer that writes and drops each keeps memory low.
    world.frames["SIM_ENROLLMENT"] = lambda: enrollment
    world.frames["SIM_STUDENT"] = lambda: _student_frame(
        ctx, world, rng, sex=sex, first=first, middle=middle, last=last, last_typed=last_typed, birth=birth,
        lang=lang, fam_phone=home_phone[family], dup_originals=dup_originals, sentinel_birth=sentinel_birth,
        ssn_state=ssn_state)
    world.frames["SIM_GUARDIAN"] = lambda: _guardian_frame(ctx, world, family, fam_pool, fam_last, fam_lang,
                                                           home_phone)
    world.frames["SIM_INCIDENT"] = lambda: _incident_frame(ctx, world)
    return world


def _student_frame(ctx, world: SimWorld, rng, *, sex, first, middle, last, last_typed, birth, lang, fam_phone,
                   dup_originals, sentinel_birth, ssn_state) -> pd.DataFrame:
    persons = len(world.student_id)
    pool = world.pool
    lang_code = np.array([vocab.LANGUAGES[i][0] for i in lang], dtype=object)
    two_letter = np.isin(lang_code, list(vocab.LEGACY_TWO_LETTER)) & (
        rng.random(persons) < VARIANT_RATES["home_lang_two_letter"])
    lang_typed = lang_code.copy()
    lang_typed[two_letter] = [vocab.LEGACY_TWO_LETTER[c] for c in lang_code[two_letter]]
    ctx.manifest.variant("home_lang_two_letter", "sim", "SIM_STUDENT", "HOME_LANG_CD", int(two_letter.sum()))
    gender = sex.copy()
    lower = rng.random(persons) < VARIANT_RATES["gender_lower_case"]
    gender[lower] = np.char.lower(sex[lower].astype(str)).astype(object)
    ctx.manifest.variant("gender_lower_case", "sim", "SIM_STUDENT", "GENDER_CD", int(lower.sum()))

    race = np.empty(persons, dtype=np.int64)
    for key, (codes, weights) in vocab.RACE_BY_POOL.items():
        mask = pool == key
        race[mask] = rng.choice(codes, size=int(mask.sum()), p=np.array(weights) / sum(weights))
    hispanic = np.where(race == 3, "Y", "N").astype(object)
    hispanic[rng.random(persons) < 0.02] = None
    frl = choice(rng, ["F", "R", "P", None], persons, p=[0.70, 0.05, 0.20, 0.05])

    # Tier-1 values (canaries).
    foreign = rng.random(persons) < np.array([vocab.FOREIGN_BORN_SHARE[k] for k in pool])
    countries = np.full(persons, "US", dtype=object)
    for i, (_, _, _, options) in enumerate(vocab.LANGUAGES):
        mask = foreign & (lang == i)
        countries[mask] = choice(rng, options, int(mask.sum()))
    known_country = rng.random(persons) < 0.85
    country_cd = np.where(known_country, countries, None)
    city_names = np.array([BIRTH_CITIES[c][k % len(BIRTH_CITIES[c])] for c, k in
                           zip(countries.tolist(), rng.integers(0, 12, persons).tolist(), strict=True)], dtype=object)
    birth_city = np.where(known_country & (rng.random(persons) < 0.8), city_names + " " + ctx.marker, None)
    citizenship = np.where(foreign, choice(rng, ["LPR", "REF", "NON", None], persons, p=[0.4, 0.15, 0.3, 0.15]),
                           choice(rng, ["US", None], persons, p=[0.85, 0.15]))
    immigration = np.where(foreign & (rng.random(persons) < 0.7), choice(rng, vocab.IMMIGRATION_CODES, persons),
                           None)
    entry_us = np.where(foreign, birth + days(rng.integers(200, 3000, persons)), NAT)
    entry_us = np.minimum(entry_us, ctx.export_day - 30)
    first_school = np.where(foreign, entry_us + days(rng.integers(10, 300, persons)), NAT)
    first_school = np.minimum(first_school, ctx.export_day - 10)
    has_ssn = rng.random(persons) < 0.35
    ssn_rng = ctx.rng("ssn")
    all_ssn = never_issued_ssns(ssn_rng, int(has_ssn.sum()) + len(ssn_state))
    ssn = np.full(persons, None, dtype=object)
    ssn[has_ssn] = all_ssn[: int(has_ssn.sum())]
    medical = np.where(rng.random(persons) < 0.15, choice(rng, with_marker(MEDICAL_NOTES, ctx.marker), persons), None)

    # Real STATE_IDs stay below 1,900,000,000, so no 9-digit tail of one ever equals a 9xx SSN canary.
    max_gap = max(2, 890_000_000 // (persons + len(dup_originals)))
    state_id = int_str(1_000_000_000 + np.cumsum(rng.integers(1, max_gap, persons + len(dup_originals))))
    state_id = state_id[rng.permutation(len(state_id))]
    dup_state_ids, state_id = state_id[persons:], state_id[:persons].copy()
    typed_ssn = all_ssn[int(has_ssn.sum()):]
    bare = rng.random(len(ssn_state)) < 0.4
    typed_ssn = np.where(bare, np.char.replace(typed_ssn.astype(str), "-", "").astype(object), typed_ssn)
    state_id[ssn_state] = typed_ssn
    birth_typed = birth.copy()
    birth_typed[sentinel_birth] = SENTINEL_UNKNOWN

    addr2 = np.where(rng.random(persons) < 0.3, "Apt " + int_str(rng.integers(1, 40, persons)), None)
    zip_cd, n_plus4 = zips(rng, world.zip5)
    ctx.manifest.variant("zip_plus4", "sim", "SIM_STUDENT", "ZIP_CD", n_plus4)
    home_phone = np.full(persons, None, dtype=object)
    has_phone = fam_phone >= 0
    home_phone[has_phone] = phones(rng, fam_phone[has_phone])
    email = np.where((world.grade >= 4) | ~world.is_current, np.array(
        [f"{vocab.match_name(vocab.strip_accents(f)).replace(' ', '').replace(chr(39), '')}."
         f"{vocab.match_name(vocab.strip_accents(ln)).replace(' ', '').replace(chr(39), '')}{sid % 1000:03d}"
         f"@{vocab.STUDENT_DOMAIN}" for f, ln, sid in zip(first.tolist(), last.tolist(), world.student_id.tolist(),
                                                          strict=True)], dtype=object), None)
    suffix = np.where((sex == "M") & (rng.random(persons) < 0.015), choice(rng, ["Jr", "II", "III"], persons), None)
    pref = np.where(rng.random(persons) < 0.04, _names(ctx, rng, pool, sex == "F"), None)
    create_ts = (np.minimum(world.cur_entry, ctx.export_day).astype("datetime64[s]")
                 - np.timedelta64(30, "D") + rng.integers(0, 86400 * 20, persons).astype("timedelta64[s]"))
    create_ts = np.where(np.isnat(create_ts), d64(ctx.prior.start).astype("datetime64[s]") - np.timedelta64(60, "D"),
                         create_ts)
    update_ts = np.minimum(create_ts + rng.integers(0, 86400 * 200, persons).astype("timedelta64[s]"),
                           ctx.export_day.astype("datetime64[s]") - np.timedelta64(3600, "s"))
    data = {
        "STUDENT_ID": world.student_id, "STATE_ID": state_id, "LAST_NM": last_typed, "FIRST_NM": first,
        "MIDDLE_NM": middle, "SUFFIX_NM": suffix, "PREF_NM": pref, "BIRTH_DT": birth_typed, "GENDER_CD": gender,
        "RACE_CD": int_str(race), "HISPANIC_IND": hispanic, "HOME_LANG_CD": lang_typed,
        "ELL_IND": np.where(world.ell, "Y", "N").astype(object), "SPED_IND": np.where(world.sped, "Y", "N").astype(
            object), "FRL_STATUS_CD": frl, "ADDR_LINE1": world.address, "ADDR_LINE2": addr2, "CITY": world.city,
        "STATE_CD": np.full(persons, "IL", dtype=object), "ZIP_CD": zip_cd, "HOME_PHONE": home_phone,
        "EMAIL_ADDR": email, "CITIZENSHIP_STATUS_CD": citizenship, "BIRTH_COUNTRY_CD": country_cd,
        "BIRTH_CITY": birth_city, "IMMIGRATION_STATUS_CD": immigration, "US_ENTRY_DT": entry_us,
        "FIRST_US_SCHOOL_DT": first_school, "SSN": ssn, "MEDICAL_NOTES": medical, "CREATE_TS": create_ts,
        "UPDATE_TS": update_ts,
    }
    # Planted duplicates: the same person again under a higher STUDENT_ID, spelled differently.
    n_dup = len(dup_originals)
    dup_ids = DUPLICATE_ID_BASE + np.cumsum(rng.integers(1, 200, n_dup))
    dup = {name: np.asarray(values)[dup_originals].copy() for name, values in data.items()}
    dup["STUDENT_ID"] = dup_ids
    dup["STATE_ID"] = dup_state_ids
    respell_last = rng.random(n_dup) < 0.5
    dup["LAST_NM"] = np.where(respell_last, spelling_variant(rng, last[dup_originals]), dup["LAST_NM"])
    dup["FIRST_NM"] = np.where(~respell_last, spelling_variant(rng, first[dup_originals]), dup["FIRST_NM"])
    for name in ("SSN", "MEDICAL_NOTES", "BIRTH_CITY", "US_ENTRY_DT", "FIRST_US_SCHOOL_DT", "IMMIGRATION_STATUS_CD"):
        dup[name] = np.full(n_dup, NAT if name.endswith("_DT") else None, dtype=dup[name].dtype)
    dup["CREATE_TS"] = dup["UPDATE_TS"]
    combined = {name: np.concatenate([np.asarray(data[name]), dup[name]]) for name in data}
    frame = make_frame(legacy_table(System.SIM, "SIM_STUDENT"), combined)
    frame = frame.sort_values("STUDENT_ID", ignore_index=True)

    manifest = ctx.manifest
    manifest.anomaly("duplicate_student", "sim", "SIM_STUDENT", None, [
        {"STUDENT_ID": d, "survivor": {"STUDENT_ID": o}}
        for d, o in sorted(zip(dup_ids.tolist(), world.student_id[dup_originals].tolist(), strict=True))])
    manifest.anomaly("sentinel_date_cleared", "sim", "SIM_STUDENT", "BIRTH_DT",
                     [{"STUDENT_ID": s} for s in sorted(world.student_id[sentinel_birth].tolist())])
    manifest.anomaly("ssn_scrubbed", "sim", "SIM_STUDENT", "STATE_ID",
                     [{"STUDENT_ID": s} for s in sorted(world.student_id[ssn_state].tolist())])
    world.ssn_canaries = sorted(set(all_ssn[: int(has_ssn.sum())].tolist()))
    world.state_id_canaries = sorted(set(typed_ssn.tolist()))
    accents = sum(1 for v in combined["LAST_NM"].tolist() if any(ord(c) > 127 for c in v))
    punct = sum(1 for v in combined["LAST_NM"].tolist() if "'" in v or "-" in v)
    manifest.variant("name_accents", "sim", "SIM_STUDENT", "LAST_NM", accents)
    manifest.variant("name_apostrophe_or_hyphen", "sim", "SIM_STUDENT", "LAST_NM", punct)
    return frame


def _grade_codes(rng: np.random.Generator, grade: np.ndarray, ctx: Context) -> np.ndarray:
    labels = np.array(vocab.GRADE_LABELS, dtype=object)[grade]
    kg = (grade == 1) & (rng.random(len(grade)) < VARIANT_RATES["grade_kg"])
    unpad = (grade >= 2) & (grade <= 10) & (rng.random(len(grade)) < VARIANT_RATES["grade_unpadded"])
    labels[kg] = "KG"
    labels[unpad] = int_str(grade[unpad] - 1)
    ctx.manifest.variant("grade_kg", "sim", "SIM_ENROLLMENT", "GRADE_LVL_CD", int(kg.sum()))
    ctx.manifest.variant("grade_unpadded", "sim", "SIM_ENROLLMENT", "GRADE_LVL_CD", int(unpad.sum()))
    return labels


def _choose_school(rng: np.random.Generator, schools: Schools, grade: np.ndarray,
                   avoid: np.ndarray | None = None) -> np.ndarray:
    """A school serving each grade, weighted by size; different from ``avoid`` where possible (else -1)."""
    out = np.full(len(grade), -1)
    for g in np.unique(grade).tolist():
        if g < 0:
            continue
        rows = np.flatnonzero(grade == g)
        options = schools.eligible(g)
        weights = schools.weight[options] / schools.weight[options].sum()
        picked = options[rng.choice(len(options), size=len(rows), p=weights)]
        if avoid is not None:
            clash = picked == avoid[rows]
            if len(options) > 1:
                for _ in range(20):
                    if not clash.any():
                        break
                    picked[clash] = options[rng.choice(len(options), size=int(clash.sum()), p=weights)]
                    clash = picked == avoid[rows]
            picked[clash] = -1
        out[rows] = picked
    return out


def _build_enrollment(ctx: Context, world: SimWorld, prior_grade: np.ndarray, graduated: np.ndarray) -> pd.DataFrame:
    rng = ctx.rng("enrollment")
    cal, prev, export_day = ctx.calendar, ctx.prior, ctx.export_day
    start, prev_start, prev_end = d64(cal.start), d64(prev.start), d64(prev.end)
    persons = len(world.student_id)
    schools = world.schools
    current = world.is_current
    rows: list[dict[str, np.ndarray]] = []

    def add(person, school, year, grade, entry, entry_cd, leave, leave_cd, primary, kind):
        n = len(person)

        def full(value, dtype):
            return np.broadcast_to(np.asarray(value, dtype=dtype), (n,)).copy()

        rows.append({"person": person, "school": school, "year": full(year, object), "grade": grade,
                     "entry": full(entry, "datetime64[D]"), "entry_cd": full(entry_cd, object),
                     "leave": full(leave, "datetime64[D]"), "leave_cd": full(leave_cd, object),
                     "primary": full(primary, object), "kind": full(kind, object)})

    # Prior year: continuing students and prior-only students (graduates, leavers).
    new_to_district = current & ((world.grade <= 0) | (rng.random(persons) < np.where(world.grade == 1, 0.4, 0.08)))
    has_prior = (current & ~new_to_district & (prior_grade >= 0)) | ~current
    final_school = _choose_school(rng, schools, world.grade)
    prior_school = np.where(has_prior, _choose_school(rng, schools, np.where(has_prior, prior_grade, -1)), -1)
    stay = has_prior & current & (rng.random(persons) < 0.9)
    same_serves = (final_school >= 0) & (schools.lo[np.maximum(final_school, 0)] <= prior_grade) & (
        schools.hi[np.maximum(final_school, 0)] >= prior_grade)
    prior_school = np.where(stay & same_serves, final_school, prior_school)
    p_idx = np.flatnonzero(has_prior)
    p_transfer = rng.random(len(p_idx)) < VOLUME["prior_transfer_share"]
    first_school = _choose_school(rng, schools, prior_grade[p_idx], avoid=prior_school[p_idx])
    p_transfer &= first_school >= 0
    prior_days = (prev_end - prev_start).astype(int)
    switch = prev_start + days(rng.integers(20, prior_days - 30, len(p_idx)))
    t_idx = p_idx[p_transfer]
    add(t_idx, first_school[p_transfer], "prior", prior_grade[t_idx], np.full(len(t_idx), prev_start), "E2",
        switch[p_transfer], "99", "Y", "prior_first")
    last_entry = np.where(p_transfer, switch + days(rng.integers(1, 8, len(p_idx))), prev_start)
    leave = np.full(len(p_idx), prev_end)
    leave_cd = np.full(len(p_idx), None, dtype=object)
    grads = graduated[p_idx]
    leave_cd[grads] = "50"
    leavers = ~current[p_idx] & ~grads
    leave[leavers] = np.maximum(last_entry[leavers] + days(rng.integers(5, 120, int(leavers.sum()))),
                                last_entry[leavers] + 5)
    leave[leavers] = np.minimum(leave[leavers], prev_end)
    leave_cd[leavers] = choice(rng, vocab.OUT_OF_DISTRICT_LEAVE_CODES, int(leavers.sum()))
    entry_cd = choice(rng, ["E2", "E1"], len(p_idx), p=[0.9, 0.1])
    add(p_idx, prior_school[p_idx], "prior", prior_grade[p_idx], last_entry, entry_cd, leave, leave_cd, "Y",
        np.where(p_transfer, "prior_second", "prior_single"))
    world.prior_school = prior_school

    # Current year: late entrants, transfers within the district, everybody else from the first day.
    c_idx = np.flatnonzero(current)
    span = (export_day - start).astype(int)
    late = new_to_district[c_idx] & (rng.random(len(c_idx)) < VOLUME["late_entry_share"] * 4)
    transfer = ~late & (rng.random(len(c_idx)) < VOLUME["current_transfer_share"])
    other = _choose_school(rng, schools, world.grade[c_idx], avoid=final_school[c_idx])
    transfer &= (other >= 0) & (span > 40)
    switch = start + days(rng.integers(15, max(16, span - 20), len(c_idx)))
    tr = c_idx[transfer]
    add(tr, other[transfer], "current", world.grade[tr], np.full(len(tr), start),
        np.where(new_to_district[tr], "E1", "E2"), switch[transfer], "99", "Y", "current_first")
    entry = np.where(transfer, switch + days(rng.integers(1, 8, len(c_idx))), start)
    entry = np.where(late, start + days(rng.integers(5, max(6, span - 10), len(c_idx))), entry)
    entry_cd = np.where(transfer, "E2", np.where(new_to_district[c_idx], "E1", np.where(
        rng.random(len(c_idx)) < 0.03, "E3", "E2")))
    add(c_idx, final_school[c_idx], "current", world.grade[c_idx], entry, entry_cd, np.full(len(c_idx), NAT), None,
        "Y", np.where(transfer | late, "current_last", "current_single"))
    world.cur_school = np.where(current, final_school, -1)
    world.cur_entry = np.full(persons, NAT)
    world.cur_entry[c_idx] = entry

    # Concurrent non-primary enrollments of high schoolers at a second school (options programs).
    hs = c_idx[(world.grade[c_idx] >= 10) & (rng.random(len(c_idx)) < VOLUME["concurrent_enrollment_share"])]
    op = _choose_school(rng, schools, world.grade[hs], avoid=final_school[hs])
    hs, op = hs[op >= 0], op[op >= 0]
    np_entry = world.cur_entry[hs] + days(rng.integers(10, 40, len(hs)))
    keep = np_entry < export_day
    add(hs[keep], op[keep], "current", world.grade[hs[keep]], np_entry[keep], "E2", np.full(int(keep.sum()), NAT),
        None, "N", "concurrent")

    table = {name: np.concatenate([r[name] for r in rows]) for name in rows[0]}
    n_rows = len(table["person"])

    # Planted anomalies on prior-year rows of distinct students, and overlapping current rows.
    used = np.zeros(persons, dtype=bool)
    single_prior = table["kind"] == "prior_single"
    lbe_rows = pick(rng, single_prior, planted_count(RATES["leave_before_entry"], int(single_prior.sum())))
    used[table["person"][lbe_rows]] = True
    table["leave"][lbe_rows] = table["entry"][lbe_rows] - days(rng.integers(1, 60, len(lbe_rows)))
    eligible = single_prior & ~used[table["person"]]
    igl_rows = pick(rng, eligible, planted_count(RATES["invalid_grade_level"], int(single_prior.sum())))
    used[table["person"][igl_rows]] = True

    alternatives = np.array([len(schools.eligible(g)) for g in range(len(vocab.GRADE_LABELS))])
    single_current = (table["kind"] == "current_single") & ~used[table["person"]]
    single_current &= alternatives[np.maximum(table["grade"], 0)] >= 2
    overlap_person_rows = pick(rng, single_current, planted_count(RATES["overlapping_primary_enrollment"],
                                                                  int(single_current.sum())))
    op_person = table["person"][overlap_person_rows]
    op_school = _choose_school(rng, schools, world.grade[op_person], avoid=world.cur_school[op_person])
    keep = op_school >= 0
    op_person, op_school, overlap_person_rows = op_person[keep], op_school[keep], overlap_person_rows[keep]
    op_entry = table["entry"][overlap_person_rows] + days(
        rng.integers(1, np.maximum(2, (export_day - table["entry"][overlap_person_rows]).astype(int))))
    extra = {"person": op_person, "school": op_school, "year": np.full(len(op_person), "current"),
             "grade": world.grade[op_person], "entry": op_entry, "entry_cd": np.full(len(op_person), "E2", object),
             "leave": np.full(len(op_person), NAT), "leave_cd": np.full(len(op_person), None, object),
             "primary": np.full(len(op_person), "Y", object), "kind": np.full(len(op_person), "overlap", object)}
    table = {name: np.concatenate([table[name], extra[name]]) for name in table}
    is_overlap = np.arange(len(table["person"])) >= n_rows

    grade_cd = _grade_codes(rng, table["grade"], ctx)
    invalid_cd = np.where(rng.random(len(igl_rows)) < 0.5, "13", "")
    grade_cd[igl_rows] = invalid_cd
    open_rows = np.isnat(table["leave"]) & ~is_overlap
    sentinel_rows = pick(rng, open_rows, planted_count(RATES["enrollment_leave_sentinel"], int(open_rows.sum())))
    leave_typed = table["leave"].copy()
    leave_typed[sentinel_rows] = SENTINEL_OPEN

    order = np.lexsort((table["entry"], world.student_id[table["person"]]))
    enroll_id = np.empty(len(order), dtype=np.int64)
    enroll_id[order] = 5_000_001 + np.arange(len(order))
    school_yr = np.where(table["year"] == "current", cal.school_year, prev.school_year).astype(object)
    homeroom = int_str(rng.integers(100, 400, len(order)))
    data = {
        "ENROLL_ID": enroll_id, "STUDENT_ID": world.student_id[table["person"]],
        "SCHOOL_ID": padded(schools.school_id[table["school"]]), "SCHOOL_YR": school_yr, "GRADE_LVL_CD": grade_cd,
        "ENTRY_DT": table["entry"], "ENTRY_CD": table["entry_cd"], "LEAVE_DT": leave_typed,
        "LEAVE_CD": table["leave_cd"], "HOMEROOM_CD": homeroom, "PRIMARY_IND": table["primary"],
    }
    frame = make_frame(legacy_table(System.SIM, "SIM_ENROLLMENT"), data).sort_values("ENROLL_ID", ignore_index=True)
    manifest = ctx.manifest
    manifest.anomaly("leave_before_entry", "sim", "SIM_ENROLLMENT", "LEAVE_DT",
                     [{"ENROLL_ID": e} for e in sorted(enroll_id[lbe_rows].tolist())])
    manifest.anomaly("invalid_grade_level", "sim", "SIM_ENROLLMENT", "GRADE_LVL_CD",
                     [{"ENROLL_ID": e} for e in sorted(enroll_id[igl_rows].tolist())])
    manifest.anomaly("overlapping_primary_enrollment", "sim", "SIM_ENROLLMENT", None,
                     [{"ENROLL_ID": e} for e in sorted(enroll_id[is_overlap].tolist())])
    manifest.anomaly("sentinel_date_cleared", "sim", "SIM_ENROLLMENT", "LEAVE_DT",
                     [{"ENROLL_ID": e} for e in sorted(enroll_id[sentinel_rows].tolist())])
    return frame


def _guardian_frame(ctx: Context, world: SimWorld, family, fam_pool, fam_last, fam_lang, fam_phone) -> pd.DataFrame:
    rng = ctx.rng("guardians")
    n_families = len(fam_pool)
    per_family = rng.choice([1, 2, 3], size=n_families, p=[0.25, 0.65, 0.10])
    g_family = np.repeat(np.arange(n_families), per_family)
    g_rank = np.arange(len(g_family)) - np.repeat(np.cumsum(per_family) - per_family, per_family)
    n_g = len(g_family)
    relation = np.where(g_rank == 0, choice(rng, ["MO", "GM", "GU", "FO", "FA"], n_g, p=[0.8, 0.07, 0.05, 0.03, 0.05]),
                        np.where(g_rank == 1, choice(rng, ["FA", "GM", "GF", "OT", "MO"], n_g,
                                                     p=[0.75, 0.1, 0.05, 0.05, 0.05]),
                                 choice(rng, ["GM", "GF", "OT", "GU"], n_g, p=[0.45, 0.3, 0.2, 0.05])))
    female = np.isin(relation, list(vocab.FEMALE_RELATIONS)) | ((relation == "GU") & (rng.random(n_g) < 0.7))
    pool = fam_pool[g_family]
    first = _names(ctx, rng, pool, female)
    own_last = np.empty(n_g, dtype=object)
    for key in sorted(set(pool.tolist())):
        mask = pool == key
        own_last[mask] = ctx.names[key].last[rng.integers(0, len(ctx.names[key].last), int(mask.sum()))]
    last = np.where((relation == "FA") | (rng.random(n_g) < 0.7), fam_last[g_family], own_last)
    cell = unique_phone_digits(ctx.rng("guardian-cells"), n_g)
    work = np.where(rng.random(n_g) < 0.3, unique_phone_digits(ctx.rng("guardian-work"), n_g), -1)
    email_local = np.array([f"{vocab.strip_accents(f).lower().replace(' ', '')}."
                            f"{vocab.strip_accents(ln).lower().replace(' ', '').replace(chr(39), '')}{k % 100}"
                            for f, ln, k in zip(first.tolist(), last.tolist(), cell.tolist(), strict=True)],
                           dtype=object)
    email = np.where(rng.random(n_g) < 0.65, email_local + "@" + choice(rng, vocab.FREE_EMAIL_DOMAINS, n_g), None)
    employer = np.where(rng.random(n_g) < 0.55, choice(rng, with_marker(tuple(e + " {m}" for e in EMPLOYERS),
                                                                         ctx.marker), n_g), None)
    citizenship = choice(rng, ["US", "LPR", "NON", "REF", None], n_g, p=[0.5, 0.15, 0.12, 0.03, 0.2])
    lang_code = np.array([vocab.LANGUAGES[i][0] for i in fam_lang], dtype=object)[g_family]

    # One row per (student, guardian of the student's family).
    g_start = np.cumsum(per_family) - per_family
    stud_order = np.argsort(world.student_id, kind="stable")
    counts = per_family[family[stud_order]]
    row_student = np.repeat(stud_order, counts)
    row_guardian = np.repeat(g_start[family[stud_order]], counts) + (
        np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    n_rows = len(row_student)
    guardian_id = 3_000_000_001 + np.arange(n_rows)
    first_seen = np.zeros(n_rows, dtype=bool)
    _, first_pos = np.unique(row_guardian, return_index=True)
    first_seen[first_pos] = True
    respell = ~first_seen & (rng.random(n_rows) < VARIANT_RATES["guardian_spelling_variant"])
    row_first = first[row_guardian].copy()
    row_last = last[row_guardian].copy()
    which = rng.random(n_rows) < 0.5
    row_first[respell & which] = spelling_variant(rng, row_first[respell & which])
    row_last[respell & ~which] = spelling_variant(rng, row_last[respell & ~which])
    ctx.manifest.variant("guardian_spelling_variant", "sim", "SIM_GUARDIAN", "FIRST_NM|LAST_NM", int(respell.sum()))
    home = fam_phone[g_family][row_guardian]
    home_phone = np.full(n_rows, None, dtype=object)
    home_phone[home >= 0] = phones(rng, home[home >= 0])
    w = work[row_guardian]
    work_phone = np.full(n_rows, None, dtype=object)
    work_phone[w >= 0] = phones(rng, w[w >= 0])
    yes_no = lambda p: np.where(rng.random(n_rows) < p, "Y", "N").astype(object)  # noqa: E731
    custody = np.isin(relation[row_guardian], ["MO", "FA", "GU", "FO"])
    data = {
        "GUARDIAN_ID": guardian_id, "STUDENT_ID": world.student_id[row_student], "RELATION_CD": relation[row_guardian],
        "LAST_NM": row_last, "FIRST_NM": row_first, "HOME_PHONE": home_phone,
        "CELL_PHONE": phones(rng, cell[row_guardian]), "WORK_PHONE": work_phone, "EMAIL_ADDR": email[row_guardian],
        "LIVES_WITH_IND": yes_no(0.9), "CUSTODY_IND": np.where(custody, yes_no(0.96), "N").astype(object),
        "PICKUP_OK_IND": yes_no(0.95), "EMERGENCY_IND": yes_no(0.9), "PRIMARY_LANG_CD": lang_code[row_guardian],
        "EMPLOYER_NM": employer[row_guardian], "CITIZENSHIP_STATUS_CD": citizenship[row_guardian],
        "UPDATE_TS": d64(ctx.prior.start).astype("datetime64[s]") + rng.integers(
            0, 86400 * 500, n_rows).astype("timedelta64[s]"),
    }
    frame = make_frame(legacy_table(System.SIM, "SIM_GUARDIAN"), data)
    survivor = np.empty(n_g, dtype=np.int64)
    survivor[row_guardian[first_pos]] = guardian_id[first_pos]
    keys = [{"GUARDIAN_ID": gid, "survivor": {"GUARDIAN_ID": sid}} for gid, sid in
            zip(guardian_id[~first_seen].tolist(), survivor[row_guardian[~first_seen]].tolist(), strict=True)]
    ctx.manifest.anomaly("duplicate_contact", "sim", "SIM_GUARDIAN", None, keys)
    first_row = np.zeros(len(world.student_id), dtype=np.int64)
    first_row[row_student[::-1]] = np.arange(n_rows)[::-1]
    world.first_guardian_last = row_last[first_row]
    world.first_guardian_first = row_first[first_row]
    return frame


def _incident_frame(ctx: Context, world: SimWorld) -> pd.DataFrame:
    rng = ctx.rng("incidents")
    current = np.flatnonzero(world.is_current & (world.grade >= 1))
    grade = world.grade[current]
    mu = np.select([grade <= 6, grade <= 9], [0.12, 0.45], 0.6)
    mu = mu * VOLUME["incidents_per_student"] * len(world.student_id) / max(1e-9, mu.sum()) * 0.9
    counts = rng.negative_binomial(0.3, 0.3 / (0.3 + mu))
    person = np.repeat(current, counts)
    n = len(person)
    entry = world.cur_entry[person]
    span = np.maximum(1, (ctx.export_day - entry).astype(int))
    incident_dt = entry + days((rng.random(n) * span).astype(np.int64))
    weekday = (incident_dt.astype(np.int64) + 3) % 7
    incident_dt = incident_dt - days(np.where(weekday >= 5, weekday - 4, 0))
    incident_dt = np.maximum(incident_dt, entry)
    group = rng.choice(np.arange(1, 7), size=n, p=vocab.INFRACTION_GROUP_WEIGHTS)
    infraction = np.array([f"{g}-{k}" for g, k in zip(group.tolist(), rng.integers(1, 31, n).tolist(),
                                                       strict=True)], dtype=object)
    action = np.empty(n, dtype=object)
    for g, weights in vocab.ACTION_WEIGHTS_BY_GROUP.items():
        mask = group == g
        action[mask] = choice(rng, vocab.ACTIONS, int(mask.sum()), p=weights)
    suspended = np.select([action == "ISS", action == "OSS", action == "EXP"],
                          [rng.integers(1, 4, n), rng.integers(1, 11, n), 10 + rng.integers(0, 60, n)], 0)
    days_suspended = np.where(np.isin(action, ["WARN", "DET"]), np.nan,
                              suspended + np.where(rng.random(n) < 0.1, 0.5, 0.0))
    police = np.where((group >= 5) & (rng.random(n) < 0.4), "Y", "N").astype(object)
    order = np.lexsort((incident_dt, world.student_id[person]))
    incident_id = np.empty(n, dtype=np.int64)
    incident_id[order] = 7_000_001 + np.arange(n)
    unmapped = pick(rng, np.ones(n, dtype=bool), planted_count(RATES["unmapped_action_cd"], n))
    action[unmapped] = choice(rng, vocab.UNMAPPED_ACTION_CODES, len(unmapped))
    data = {
        "INCIDENT_ID": incident_id, "STUDENT_ID": world.student_id[person],
        "SCHOOL_ID": padded(world.schools.school_id[world.cur_school[person]]), "INCIDENT_DT": incident_dt,
        "INFRACTION_CD": infraction, "ACTION_CD": action, "DAYS_SUSPENDED": days_suspended,
        "POLICE_NOTIFIED_IND": police, "NARRATIVE": choice(rng, with_marker(NARRATIVES, ctx.marker), n),
    }
    ctx.manifest.anomaly("unmapped_code", "sim", "SIM_INCIDENT", "ACTION_CD",
                         [{"INCIDENT_ID": i} for i in sorted(incident_id[unmapped].tolist())])
    return make_frame(legacy_table(System.SIM, "SIM_INCIDENT"), data).sort_values("INCIDENT_ID", ignore_index=True)
