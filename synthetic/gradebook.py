"""Gradebook: teachers, courses, sections and the big per-section tables, produced in batches.

The static part (teachers, courses, sections, who sits in which section) is held as small arrays.
Roster, Assignment, Score, PeriodGrade and ClassAttendance are generated for a batch of sections
at a time (each batch with its own seeded stream), so memory stays flat at district size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from sis_migrate.legacy import System
from sis_migrate.legacy import table as legacy_table
from synthetic import vocab
from synthetic.canary import SCORE_COMMENTS, with_marker
from synthetic.cim import Catalog
from synthetic.context import Context
from synthetic.frames import choice, d64, days, int_str, make_frame, nullable_int, pick, ragged_arange
from synthetic.presets import MAX_CHUNK_ROWS, RATES, VARIANT_RATES, VOLUME, planted_count
from synthetic.sim import NAT, SimWorld, unpadded

STRANGER_ID_BASE = 96_000_000
TERMS = ("YR", "S1", "S2")
COURSE_CODE_WIDTH = 12


def normalise_course_code(code: str) -> str:
    """How course codes compare across Course and Section: upper case, all whitespace removed."""
    return "".join(code.split()).upper()


def _code_variant(rng: np.random.Generator, codes: np.ndarray, prefix_len: int = 3) -> np.ndarray:
    out = []
    for code, kind in zip(codes.tolist(), rng.integers(0, 4, len(codes)).tolist(), strict=True):
        options = (code.lower(), code[:prefix_len] + " " + code[prefix_len:], code + " ",
                   code[:prefix_len].lower() + " " + code[prefix_len:] + " ")
        variant = options[kind]
        out.append(variant if len(variant) <= COURSE_CODE_WIDTH else code.lower())
    return np.array(out, dtype=object)


@dataclass
class Classes:
    """Sections and their roster pairs (pairs sorted by section), as small arrays."""

    section_id: np.ndarray
    sec_school: np.ndarray
    sec_template: np.ndarray
    sec_term: np.ndarray          # index into TERMS
    quarantined: np.ndarray       # the section's course has an unknown CimCourseId
    pass_fail: np.ndarray         # PE/arts in the early grades are graded P
    pair_start: np.ndarray        # per section, offset of its first pair
    pair_count: np.ndarray
    assign_start: np.ndarray      # per section, offset of its first assignment
    assign_count: np.ndarray
    pair_number: np.ndarray       # the student number (SIM STUDENT_ID, or a stranger's number)
    pair_known: np.ndarray
    pair_form: np.ndarray         # 0 plain, 1 zero-padded to 10, 2 surrounding spaces
    pair_enrolled: np.ndarray
    pair_dropped: np.ndarray
    pair_ability: np.ndarray
    pair_absence: np.ndarray
    bad_mark_pair: np.ndarray     # bool per pair: its first attendance row carries an unmapped mark
    bad_due_assignment: np.ndarray  # sorted global assignment indices with an impossible DueDate


def build_static(ctx: Context, world: SimWorld, catalog: Catalog) -> tuple[Classes, dict[str, pd.DataFrame]]:
    rng = ctx.rng("gradebook-static")
    cal = ctx.calendar
    schools = world.schools
    templates = catalog.templates
    t_grade = np.array([t.grade for t in templates])
    t_kind = np.array([t.kind for t in templates], dtype=object)
    t_term = np.array([t.term for t in templates], dtype=object)

    # Which courses each current student takes.
    people = np.flatnonzero(world.is_current)
    late_for_s1 = world.cur_entry > d64(cal.s1_end) - 10
    pair_person, pair_template, pair_term = [], [], []
    for grade in range(len(vocab.GRADE_LABELS)):
        members = people[world.grade[people] == grade]
        if len(members) == 0:
            continue
        fixed = np.flatnonzero((t_grade == grade) & np.isin(t_kind, ["core", "pe"]))
        pair_person.append(np.repeat(members, len(fixed)))
        pair_template.append(np.tile(fixed, len(members)))
        pair_term.append(np.zeros(len(members) * len(fixed), dtype=np.int64))
        languages = np.flatnonzero((t_grade == grade) & (t_kind == "language"))
        if len(languages):
            pair_person.append(members)
            pair_template.append(languages[rng.integers(0, len(languages), len(members))])
            pair_term.append(np.zeros(len(members), dtype=np.int64))
        electives = np.flatnonzero((t_grade == grade) & (t_kind == "elective"))
        if len(electives):
            semester = t_term[electives[0]] == "SEM"
            wanted = 4 if semester else (1 if grade <= 6 else 2)
            wanted = min(wanted, len(electives))
            picks = np.argsort(rng.random((len(members), len(electives))), axis=1)[:, :wanted]
            pair_person.append(np.repeat(members, wanted))
            pair_template.append(electives[picks.ravel()])
            terms = np.tile(np.where(np.arange(wanted) < wanted // 2, 1, 2) if semester else np.zeros(wanted),
                            len(members)).astype(np.int64)
            pair_term.append(terms)
    person = np.concatenate(pair_person)
    template = np.concatenate(pair_template)
    term = np.concatenate(pair_term)
    keep = ~((term == 1) & late_for_s1[person])
    person, template, term = person[keep], template[keep], term[keep]
    school = world.cur_school[person]

    # Sections: per (school, course, term), as many as the class size needs; students dealt round-robin.
    frame = pd.DataFrame({"school": school, "template": template, "term": term, "person": person,
                          "r": rng.random(len(person))})
    frame = frame.sort_values(["school", "template", "term", "r"], ignore_index=True)
    group = frame.groupby(["school", "template", "term"], sort=True)
    size = group["person"].transform("size").to_numpy()
    rank = group.cumcount().to_numpy()
    n_sections = np.ceil(size / VOLUME["class_size"]).astype(np.int64)
    frame["k"] = rank % n_sections
    sections = frame[["school", "template", "term", "k"]].drop_duplicates().reset_index(drop=True)
    sections = sections.sort_values(["school", "template", "term", "k"], ignore_index=True)
    n_sec = len(sections)
    section_index = pd.MultiIndex.from_frame(sections)
    frame["section"] = section_index.get_indexer(pd.MultiIndex.from_frame(frame[["school", "template", "term", "k"]]))
    sec_school = sections["school"].to_numpy()
    sec_template = sections["template"].to_numpy()
    sec_term = sections["term"].to_numpy()
    section_id = 100_001 + np.arange(n_sec)

    # Courses: every catalog course a school offers for its grades (plus some local-only courses).
    offered = [(s, t) for s in range(schools.n_open) for t in range(len(templates))
               if schools.lo[s] <= templates[t].grade <= schools.hi[s]]
    width = max(3, len(str(schools.n_open)))
    local_only = pick(rng, np.ones(schools.n_open, dtype=bool), max(1, round(0.3 * schools.n_open)))
    canonical = np.array([f"{templates[t].prefix}{templates[t].number:03d}-{s:0{width}d}"
                          for s, t in offered] + [f"ADV{900 + 0:03d}-{s:0{width}d}" for s in local_only.tolist()],
                         dtype=object)
    n_courses = len(canonical)
    course_of = {(s, t): i for i, (s, t) in enumerate(offered)}
    sec_course = np.array([course_of[(s, t)] for s, t in zip(sec_school.tolist(), sec_template.tolist(),
                                                             strict=True)], dtype=np.int64)
    has_sections = np.zeros(n_courses, dtype=bool)
    has_sections[sec_course] = True
    unknown_courses = pick(rng, has_sections, planted_count(RATES["unknown_cim_course"], int(has_sections.sum())))
    cim_id = np.array([catalog.course_id[templates[t].key] for _, t in offered] + [None] * len(local_only),
                      dtype=object)
    cim_id[unknown_courses] = catalog.unknown_ids(rng, len(unknown_courses))
    course_typed = canonical.copy()
    vary = rng.random(n_courses) < VARIANT_RATES["course_code_variant"]
    course_typed[vary] = _code_variant(rng, canonical[vary])
    ctx.manifest.variant("course_code_variant", "gradebook", "Course", "CourseCode", int(vary.sum()))
    names = np.array([templates[t].name for _, t in offered] + ["Advisory"] * len(local_only), dtype=object)
    depts = np.array([templates[t].department for _, t in offered] + ["Student Services"] * len(local_only),
                     dtype=object)
    credit = np.array([templates[t].credit for _, t in offered] + [0.0] * len(local_only))
    course_frame = make_frame(legacy_table(System.GRADEBOOK, "Course"), {
        "CourseCode": course_typed, "CourseName": names, "Department": depts, "CreditValue": credit,
        "CimCourseId": cim_id}).sort_values("CourseCode", ignore_index=True)
    ctx.manifest.anomaly("unknown_cim_course", "gradebook", "Course", "CimCourseId",
                         [{"CourseCode": c} for c in sorted(course_typed[unknown_courses].tolist())])
    quarantined = np.isin(sec_course, unknown_courses)

    # Teachers: a school's sections dealt to its teachers in course order; a few inactive teachers.
    sec_per_school = np.bincount(sec_school, minlength=schools.n_open)
    teachers_per_school = np.maximum(1, np.round(sec_per_school / VOLUME["sections_per_teacher"])).astype(np.int64)
    teacher_start = np.cumsum(teachers_per_school) - teachers_per_school
    school_first_section = np.cumsum(sec_per_school) - sec_per_school
    rank_in_school = np.arange(n_sec) - school_first_section[sec_school]
    sec_teacher = teacher_start[sec_school] + (rank_in_school * teachers_per_school[sec_school]
                                               // np.maximum(1, sec_per_school[sec_school]))
    n_active = int(teachers_per_school.sum())
    n_inactive = max(1, round(VOLUME["inactive_teacher_share"] * n_active))
    n_teachers = n_active + n_inactive
    teacher_school = np.concatenate([np.repeat(np.arange(schools.n_open), teachers_per_school),
                                     rng.integers(0, schools.n_open, n_inactive)])
    teacher_frame = _teacher_frame(ctx, rng, teacher_school, n_active, n_teachers, schools.school_id)

    sec_code = canonical[sec_course]
    sec_vary = rng.random(n_sec) < VARIANT_RATES["course_code_variant"]
    sec_code_typed = sec_code.copy()
    sec_code_typed[sec_vary] = _code_variant(rng, sec_code[sec_vary])
    ctx.manifest.variant("course_code_variant", "gradebook", "Section", "CourseCode", int(sec_vary.sum()))
    ctx.manifest.variant("school_id_unpadded", "gradebook", "Section", "SchoolCode", n_sec)
    rooms = np.where(np.array([templates[t].kind == "pe" for t in sec_template]), "GYM",
                     int_str(rng.integers(100, 400, n_sec))).astype(object)
    section_frame = make_frame(legacy_table(System.GRADEBOOK, "Section"), {
        "SectionId": section_id, "SchoolCode": unpadded(schools.school_id[sec_school]), "CourseCode": sec_code_typed,
        "TeacherId": 1001 + sec_teacher, "SchoolYear": np.full(n_sec, cal.first_year + 1),
        "Term": np.array(TERMS, dtype=object)[sec_term], "Period": int_str(rng.integers(1, 9, n_sec)),
        "Room": rooms})

    # Roster pairs, then strangers (student numbers SIM does not know) in a few healthy sections.
    pair_section = frame["section"].to_numpy()
    pair_person = frame["person"].to_numpy()
    term_start = np.array([d64(cal.term_window(t)[0]) for t in TERMS])
    term_last_day = np.array([d64(min(cal.term_window(t)[1], ctx.spec.export_day)) for t in TERMS])
    term_has_days = np.array([len(cal.class_days(cal.term_window(t)[0], min(cal.term_window(t)[1],
                                                                              ctx.spec.export_day))) > 0
                              for t in TERMS])
    enrolled = np.maximum(term_start[sec_term[pair_section]], world.cur_entry[pair_person])
    n_pairs = len(pair_person)
    dropped = np.full(n_pairs, NAT)
    window = (term_last_day[sec_term[pair_section]] - enrolled).astype(np.int64)
    drop = (rng.random(n_pairs) < VOLUME["dropped_roster_share"]) & (window > 10)
    dropped[drop] = enrolled[drop] + days((rng.random(int(drop.sum())) * (window[drop] - 5)).astype(np.int64) + 3)

    healthy = ~quarantined & term_has_days[sec_term]
    stranger_sections = pick(rng, healthy, planted_count(RATES["unknown_student_sections"], n_sec))
    per_section = rng.integers(1, 3, len(stranger_sections))
    s_section = np.repeat(stranger_sections, per_section)
    n_strangers = len(s_section)
    s_number = STRANGER_ID_BASE + np.cumsum(rng.integers(1, 5000, n_strangers))

    number = np.concatenate([world.student_id[pair_person], s_number])
    section_of_pair = np.concatenate([pair_section, s_section])
    known = np.concatenate([np.ones(n_pairs, dtype=bool), np.zeros(n_strangers, dtype=bool)])
    enrolled = np.concatenate([enrolled, term_start[sec_term[s_section]]])
    dropped = np.concatenate([dropped, np.full(n_strangers, NAT)])
    ability = np.concatenate([world.ability[pair_person], rng.beta(4, 2, n_strangers)])
    order = np.lexsort((number, section_of_pair))
    number, section_of_pair, known = number[order], section_of_pair[order], known[order]
    enrolled, dropped, ability = enrolled[order], dropped[order], ability[order]
    total_pairs = len(number)
    form = rng.choice(3, size=total_pairs, p=[1 - VARIANT_RATES["student_number_zero_padded"]
                                              - VARIANT_RATES["student_number_spaces"],
                                              VARIANT_RATES["student_number_zero_padded"],
                                              VARIANT_RATES["student_number_spaces"]])
    pair_count = np.bincount(section_of_pair, minlength=n_sec)
    pair_start = np.cumsum(pair_count) - pair_count

    clean_pair = known & ~quarantined[section_of_pair] & np.isnat(dropped) & term_has_days[sec_term[section_of_pair]]
    clean_pair &= enrolled == term_start[sec_term[section_of_pair]]
    bad_mark_pair = np.zeros(total_pairs, dtype=bool)
    bad_mark_pair[pick(rng, clean_pair, planted_count(RATES["unmapped_attendance_mark"], int(known.sum())))] = True

    full_year = VOLUME["assignments_per_year_section"]
    mean_assign = np.where(sec_term == 0, full_year, full_year // 2 + 2)
    assign_count = np.maximum(3, rng.poisson(mean_assign))
    assign_start = np.cumsum(assign_count) - assign_count
    healthy_assignment = np.repeat(~quarantined, assign_count)
    bad_due = pick(rng, healthy_assignment, planted_count(RATES["invalid_due_date"], int(assign_count.sum())))
    pass_fail = np.array([templates[t].grade <= 6 and templates[t].kind in ("pe", "elective") for t in sec_template])

    classes = Classes(section_id=section_id, sec_school=sec_school, sec_template=sec_template, sec_term=sec_term,
                      quarantined=quarantined, pass_fail=pass_fail, pair_start=pair_start, pair_count=pair_count,
                      assign_start=assign_start, assign_count=assign_count, pair_number=number, pair_known=known,
                      pair_form=form, pair_enrolled=enrolled, pair_dropped=dropped, pair_ability=ability,
                      pair_absence=rng.beta(1.3, 25, total_pairs), bad_mark_pair=bad_mark_pair,
                      bad_due_assignment=bad_due)
    ctx.manifest.consequence("gradebook", "Section", int(quarantined.sum()))
    return classes, {"Teacher": teacher_frame, "Course": course_frame, "Section": section_frame}


def _teacher_frame(ctx: Context, rng: np.random.Generator, teacher_school: np.ndarray, n_active: int,
                   n_teachers: int, school_ids: np.ndarray) -> pd.DataFrame:
    pool = choice(rng, ["en", "es", "pl", "ar", "zh", "ur"], n_teachers, p=[0.62, 0.22, 0.05, 0.04, 0.04, 0.03])
    female = rng.random(n_teachers) < 0.72
    first = np.empty(n_teachers, dtype=object)
    last = np.empty(n_teachers, dtype=object)
    for key in sorted(set(pool.tolist())):
        names = ctx.names[key]
        for is_female, source in ((True, names.female), (False, names.male)):
            mask = (pool == key) & (female == is_female)
            first[mask] = source[rng.integers(0, len(source), int(mask.sum()))]
        mask = pool == key
        last[mask] = names.last[rng.integers(0, len(names.last), int(mask.sum()))]
    employee = 10_000_000 + np.cumsum(rng.integers(1, 3000, n_teachers))
    seen: dict[str, int] = {}
    emails = []
    for f, ln in zip(first.tolist(), last.tolist(), strict=True):
        local = (vocab.strip_accents(f)[0] + vocab.strip_accents(ln)).lower().replace(" ", "").replace("'", "")
        count = seen.get(local, 0)
        seen[local] = count + 1
        emails.append(f"{local}{count if count else ''}@{vocab.DISTRICT_DOMAIN}")
    home = unpadded(school_ids[teacher_school])
    spaces = rng.random(n_teachers) < VARIANT_RATES["home_school_trailing_spaces"]
    pad = rng.integers(1, 4, n_teachers)
    home = np.array([h + " " * p if s and len(h) + p <= 8 else h for h, p, s in
                     zip(home.tolist(), pad.tolist(), spaces.tolist(), strict=True)], dtype=object)
    ctx.manifest.variant("home_school_trailing_spaces", "gradebook", "Teacher", "HomeSchool",
                         sum(1 for h in home.tolist() if h != h.rstrip()))
    ctx.manifest.variant("school_id_unpadded", "gradebook", "Teacher", "HomeSchool", n_teachers)
    return make_frame(legacy_table(System.GRADEBOOK, "Teacher"), {
        "TeacherId": 1001 + np.arange(n_teachers), "EmployeeNumber": np.array(["E" + e for e in int_str(
            employee, 8).tolist()], dtype=object), "FirstName": first, "LastName": last,
        "Email": np.array(emails, dtype=object), "HomeSchool": home, "Active": np.arange(n_teachers) < n_active})


def _student_numbers(numbers: np.ndarray, forms: np.ndarray) -> np.ndarray:
    out = []
    for number, form in zip(numbers.tolist(), forms.tolist(), strict=True):
        out.append(f"{number:08d}" if form == 0 else f"{number:010d}" if form == 1 else f" {number:08d} ")
    return np.array(out, dtype=object)


class DayText:
    """'MM/DD/YYYY' text for every day of a range, looked up by index (fast)."""

    def __init__(self, first: np.datetime64, last: np.datetime64) -> None:
        self.first = first
        all_days = np.arange(first, last + 1)
        self.text = np.array([f"{d.month:02d}/{d.day:02d}/{d.year:04d}" for d in all_days.tolist()], dtype=object)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        return self.text[(values - self.first).astype(np.int64)]


IMPOSSIBLE_DATES = ("02/30/{y}", "02/31/{y}", "04/31/{y}", "06/31/{y}", "09/31/{y}", "11/31/{y}", "13/05/{y}")


def batches(classes: Classes) -> list[tuple[int, int]]:
    """Section ranges whose Score and ClassAttendance rows each stay within MAX_CHUNK_ROWS."""
    cost = classes.assign_count * classes.pair_count
    cost = np.maximum(cost, VOLUME["attendance_days_per_section"] * classes.pair_count)
    bounds, start, running = [], 0, 0
    for index, value in enumerate(cost.tolist()):
        if running + value > MAX_CHUNK_ROWS and index > start:
            bounds.append((start, index))
            start, running = index, 0
        running += value
    bounds.append((start, len(cost)))
    return bounds


class BigTables:
    """Generates Roster, Assignment, Score, PeriodGrade and ClassAttendance batch by batch."""

    def __init__(self, ctx: Context, world: SimWorld, classes: Classes) -> None:
        self.ctx, self.world, self.classes = ctx, world, classes
        cal = ctx.calendar
        self.term_start = np.array([d64(cal.term_window(t)[0]) for t in TERMS])
        self.term_end = np.array([d64(cal.term_window(t)[1]) for t in TERMS])
        self.term_days = [cal.class_days(cal.term_window(t)[0], min(cal.term_window(t)[1], ctx.spec.export_day))
                          for t in TERMS]
        self.periods = [[(name, d64(end)) for name, end in cal.grading_periods(t)
                         if end + timedelta(days=7) <= ctx.spec.export_day] for t in TERMS]
        self.day_text = DayText(d64(ctx.prior.start), d64(cal.end) + 400)
        self.comments = with_marker(SCORE_COMMENTS, ctx.marker)
        max_points = 2 * 110 * 2 + 20
        self.score_text = np.array([f"{v / 2:g}" for v in range(max_points)], dtype=object)
        self.titles = self._titles()
        self.tables = {name: legacy_table(System.GRADEBOOK, name) for name in
                       ("Roster", "Assignment", "Score", "PeriodGrade", "ClassAttendance")}

    def _titles(self) -> list[np.ndarray]:
        words = self.ctx.words
        out = []
        for category, *_ in vocab.ASSIGNMENT_CATEGORIES:
            titles = [f"{category} {k}" for k in range(1, 41)]
            titles += [f"{w} {k} {category}" for w in vocab.ASSIGNMENT_TITLE_WORDS for k in range(1, 13)]
            titles += [f"{category}: {w}" for w in words.tolist()[:60]]
            out.append(np.array(titles, dtype=object))
        return out

    def chunks(self) -> Iterator[tuple[str, pd.DataFrame]]:
        for index, (first, last) in enumerate(batches(self.classes)):
            yield from self._batch(index, first, last)

    def _batch(self, index: int, first: int, last: int) -> Iterator[tuple[str, pd.DataFrame]]:
        ctx, c = self.ctx, self.classes
        rng = ctx.rng("gradebook-batch", index)
        manifest = ctx.manifest
        export_day = ctx.export_day
        sections = np.arange(first, last)
        p0, p1 = c.pair_start[first], c.pair_start[last - 1] + c.pair_count[last - 1]
        a0, a1 = c.assign_start[first], c.assign_start[last - 1] + c.assign_count[last - 1]
        pairs = np.arange(p0, p1)
        pair_sec = np.repeat(sections, c.pair_count[first:last])
        forms = c.pair_form[pairs]
        numbers = _student_numbers(c.pair_number[pairs], forms)
        known = c.pair_known[pairs]
        enrolled = c.pair_enrolled[pairs]
        dropped = c.pair_dropped[pairs]
        quarantined_pair = c.quarantined[pair_sec]
        section_ids = c.section_id

        # Roster
        roster = make_frame(self.tables["Roster"], {
            "SectionId": section_ids[pair_sec], "StudentNumber": numbers,
            "EnrolledOn": enrolled.astype("datetime64[s]") + np.timedelta64(8 * 3600, "s"),
            "DroppedOn": dropped.astype("datetime64[s]") + np.timedelta64(15 * 3600, "s")})
        self._account("Roster", roster, quarantined_pair, ~known,
                      lambda rows: [{"SectionId": s, "StudentNumber": n} for s, n in
                                    zip(section_ids[pair_sec[rows]].tolist(), numbers[rows].tolist(), strict=True)])
        self._variants(forms, "Roster")
        yield "Roster", roster

        # Assignment
        assignments = np.arange(a0, a1)
        a_sec = np.repeat(sections, c.assign_count[first:last])
        n_a = len(assignments)
        term = c.sec_term[a_sec]
        window_end = np.minimum(self.term_end[term], export_day + 14)
        span = np.maximum(1, (window_end - self.term_start[term]).astype(np.int64))
        due = self.term_start[term] + days((rng.random(n_a) * span).astype(np.int64))
        weekday = (due.astype(np.int64) + 3) % 7
        due = due - days(np.where(weekday >= 5, weekday - 4, 0))
        category = rng.choice(len(vocab.ASSIGNMENT_CATEGORIES), size=n_a,
                              p=[share for _, share, _, _ in vocab.ASSIGNMENT_CATEGORIES])
        points = np.empty(n_a)
        weight = np.empty(n_a)
        title = np.empty(n_a, dtype=object)
        for k, (_, _, options, cat_weight) in enumerate(vocab.ASSIGNMENT_CATEGORIES):
            mask = category == k
            points[mask] = np.array(options, dtype=float)[rng.integers(0, len(options), int(mask.sum()))]
            weight[mask] = cat_weight
            title[mask] = self.titles[k][rng.integers(0, len(self.titles[k]), int(mask.sum()))]
        due_text = self.day_text(due)
        blank = rng.random(n_a) < VARIANT_RATES["blank_due_date"]
        bad = c.bad_due_assignment[(c.bad_due_assignment >= a0) & (c.bad_due_assignment < a1)] - a0
        blank[bad] = False
        due_text[blank] = ""
        year = due[bad].astype("datetime64[Y]").astype(np.int64) + 1970
        due_text[bad] = [IMPOSSIBLE_DATES[k].format(y=y) for k, y in
                         zip(rng.integers(0, len(IMPOSSIBLE_DATES), len(bad)).tolist(), year.tolist(), strict=True)]
        assignment_id = 1_000_001 + assignments
        assignment = make_frame(self.tables["Assignment"], {
            "AssignmentId": assignment_id, "SectionId": section_ids[a_sec], "Title": title,
            "Category": np.array([vocab.ASSIGNMENT_CATEGORIES[k][0] for k in range(len(vocab.ASSIGNMENT_CATEGORIES))],
                                 dtype=object)[category], "DueDate": due_text, "PointsPossible": points,
            "Weight": weight})
        manifest.anomaly("invalid_date_cleared", "gradebook", "Assignment", "DueDate",
                         [{"AssignmentId": a} for a in assignment_id[bad].tolist()])
        manifest.variant("blank_due_date", "gradebook", "Assignment", "DueDate", int(blank.sum()))
        self._account("Assignment", assignment, c.quarantined[a_sec], np.zeros(n_a, dtype=bool), None)
        yield "Assignment", assignment

        # Score: one row per (assignment, student on the section's roster)
        local_pair_start = c.pair_start[a_sec] - p0
        reps = c.pair_count[a_sec]
        s_assign = np.repeat(np.arange(n_a), reps)
        s_pair = np.repeat(local_pair_start, reps) + ragged_arange(reps)
        n_s = len(s_pair)
        s_due = due[s_assign]
        s_points = points[s_assign]
        graded = (s_due <= export_day) & ~(s_due >= dropped[s_pair])
        before_enrolled = s_due < enrolled[s_pair]
        pct = np.clip(0.45 + 0.55 * c.pair_ability[pairs][s_pair] + rng.normal(0, 0.12, n_s), 0.0, 1.0)
        halves = np.round(pct * s_points * 2).astype(np.int64)
        extra = rng.random(n_s) < 0.03
        halves = np.where(extra, (s_points * 2).astype(np.int64) + rng.integers(1, 10, n_s), halves)
        text = self.score_text[halves]
        special = rng.random(n_s)
        text = np.where(special < 0.03, "M", np.where(special < 0.04, "EX", np.where(
            special < 0.045, "INC", np.where(special < 0.055, "", text))))
        text = np.where(before_enrolled, "EX", text)
        text = np.where(graded, text, "").astype(object)
        is_graded = graded & (text != "")
        comment = np.where(is_graded & (rng.random(n_s) < 0.015),
                           self.comments[rng.integers(0, len(self.comments), n_s)], None)
        modified = s_due.astype("datetime64[s]") + rng.integers(3600, 7 * 86400, n_s).astype("timedelta64[s]")
        modified = np.minimum(modified, export_day.astype("datetime64[s]") - np.timedelta64(60, "s"))
        modified = np.where(is_graded, modified, np.datetime64("NaT", "s"))
        score = make_frame(self.tables["Score"], {
            "AssignmentId": assignment_id[s_assign], "StudentNumber": numbers[s_pair], "Score": text,
            "Comment": comment, "LastModified": modified})
        self._account("Score", score, c.quarantined[a_sec][s_assign], ~known[s_pair],
                      lambda rows: [{"AssignmentId": a, "StudentNumber": n} for a, n in
                                    zip(assignment_id[s_assign[rows]].tolist(), numbers[s_pair[rows]].tolist(),
                                        strict=True)])
        self._variants(forms[s_pair], "Score")
        yield "Score", score

        # PeriodGrade: posted grading periods of the section's term, for students SIM knows
        yield from self._period_grades(rng, pairs, pair_sec, numbers, forms, known, dropped)

        # ClassAttendance: a sample of class meetings per section, for every rostered student
        yield from self._attendance(rng, sections, pairs, pair_sec, numbers, forms, known, enrolled, dropped)

    def _period_grades(self, rng, pairs, pair_sec, numbers, forms, known, dropped):
        c = self.classes
        parts = []
        for term, periods in enumerate(self.periods):
            if not periods:
                continue
            rows = np.flatnonzero(known & (c.sec_term[pair_sec] == term))
            n_p = len(periods)
            g_pair = np.repeat(rows, n_p)
            g_period = np.tile(np.arange(n_p), len(rows))
            period_end = np.array([end for _, end in periods])[g_period]
            parts.append((g_pair, np.array([name for name, _ in periods], dtype=object)[g_period], period_end))
        if not parts:
            return
        g_pair = np.concatenate([p[0] for p in parts])
        g_name = np.concatenate([p[1] for p in parts])
        g_end = np.concatenate([p[2] for p in parts])
        n_g = len(g_pair)
        pct = np.clip(0.55 + 0.45 * c.pair_ability[pairs][g_pair] + rng.normal(0, 0.05, n_g), 0.3, 1.0) * 100
        percent = np.round(pct, 2)
        letter = np.select([percent >= 90, percent >= 80, percent >= 70, percent >= 60], ["A", "B", "C", "D"], "F")
        letter = letter.astype(object)
        incomplete = rng.random(n_g) < 0.01
        letter[incomplete] = "I"
        withdrawn = ~np.isnat(dropped[g_pair]) & (dropped[g_pair] <= g_end)
        letter[withdrawn] = "W"
        passed = c.pass_fail[pair_sec[g_pair]] & ~withdrawn & ~incomplete
        letter[passed] = "P"
        percent = np.where(incomplete | withdrawn | passed, np.nan, percent)
        posted = (g_end + days(rng.integers(3, 8, n_g))).astype("datetime64[s]") + rng.integers(
            8 * 3600, 18 * 3600, n_g).astype("timedelta64[s]")
        frame = make_frame(self.tables["PeriodGrade"], {
            "SectionId": c.section_id[pair_sec[g_pair]], "StudentNumber": numbers[g_pair], "GradingPeriod": g_name,
            "LetterGrade": letter, "Percent": percent, "PostedOn": posted})
        self._account("PeriodGrade", frame, c.quarantined[pair_sec[g_pair]], np.zeros(n_g, dtype=bool), None)
        self._variants(forms[g_pair], "PeriodGrade")
        yield "PeriodGrade", frame

    def _attendance(self, rng, sections, pairs, pair_sec, numbers, forms, known, enrolled, dropped):
        c = self.classes
        per_section = VOLUME["attendance_days_per_section"]
        sec_term = c.sec_term[sections]
        d_count = np.array([min(per_section, len(self.term_days[t])) for t in sec_term.tolist()], dtype=np.int64)
        width = max(1, int(d_count.max()) if len(d_count) else 1)
        day_matrix = np.full((len(sections), width), NAT)
        for term in range(len(TERMS)):
            rows = np.flatnonzero(sec_term == term)
            pool = self.term_days[term]
            if len(rows) == 0 or len(pool) == 0:
                continue
            k = min(per_section, len(pool))
            picked = np.sort(np.argsort(rng.random((len(rows), len(pool))), axis=1)[:, :k], axis=1)
            day_matrix[rows, :k] = pool[picked]
        local_sec = pair_sec - sections[0]
        reps = d_count[local_sec]
        a_pair = np.repeat(np.arange(len(pairs)), reps)
        a_day = day_matrix[local_sec[a_pair], ragged_arange(reps)]
        keep = (a_day >= enrolled[a_pair]) & ~(a_day >= dropped[a_pair])
        a_pair, a_day = a_pair[keep], a_day[keep]
        n_att = len(a_pair)
        u = rng.random(n_att)
        absence = c.pair_absence[pairs][a_pair]
        mark_index = np.select([u < absence, u < absence + 0.03, u < absence + 0.045, u < absence + 0.05],
                               [1, 2, 3, 4], 0)
        marks = np.array(vocab.ATTENDANCE_MARKS, dtype=object)[mark_index]
        late = rng.integers(1, 31, n_att)
        late_null = mark_index != 2
        bad_pairs = np.flatnonzero(c.bad_mark_pair[pairs])
        first_row = np.searchsorted(a_pair, bad_pairs)
        marks[first_row] = choice(rng, vocab.UNMAPPED_ATTENDANCE_MARKS, len(first_row))
        late_null[first_row] = True
        frame = make_frame(self.tables["ClassAttendance"], {
            "SectionId": c.section_id[pair_sec[a_pair]], "StudentNumber": numbers[a_pair], "ClassDate": a_day,
            "Mark": marks, "MinutesLate": nullable_int(np.where(late_null, 0, late), late_null)})
        self.ctx.manifest.anomaly("unmapped_code", "gradebook", "ClassAttendance", "Mark", [
            {"SectionId": s, "StudentNumber": n, "ClassDate": d} for s, n, d in
            zip(c.section_id[pair_sec[a_pair[first_row]]].tolist(), numbers[a_pair[first_row]].tolist(),
                a_day[first_row].tolist(), strict=True)])
        self._account("ClassAttendance", frame, c.quarantined[pair_sec[a_pair]], ~known[a_pair],
                      lambda rows: [{"SectionId": s, "StudentNumber": n, "ClassDate": d} for s, n, d in
                                    zip(c.section_id[pair_sec[a_pair[rows]]].tolist(), numbers[a_pair[rows]].tolist(),
                                        a_day[rows].tolist(), strict=True)])
        self._variants(forms[a_pair], "ClassAttendance")
        yield "ClassAttendance", frame

    def _account(self, table, frame, quarantined, unknown, keys_of) -> None:
        """Count consequences of quarantined sections and record rows of unknown students."""
        self.ctx.manifest.consequence("gradebook", table, int(np.count_nonzero(quarantined)))
        rows = np.flatnonzero(unknown)
        if keys_of is not None:
            self.ctx.manifest.anomaly("unknown_student", "gradebook", table, "StudentNumber", keys_of(rows))

    def _variants(self, forms: np.ndarray, table: str) -> None:
        counts = np.bincount(forms, minlength=3)
        self.ctx.manifest.variant("student_number_zero_padded", "gradebook", table, "StudentNumber", int(counts[1]))
        self.ctx.manifest.variant("student_number_spaces", "gradebook", table, "StudentNumber", int(counts[2]))
