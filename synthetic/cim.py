"""CIM: the district course catalog, instructional programs and benchmark assessments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from sis_migrate.legacy import System
from sis_migrate.legacy import table as legacy_table
from synthetic import vocab
from synthetic.canary import ACCOMMODATION_NOTES, with_marker
from synthetic.context import Context
from synthetic.frames import choice, d64, days, int_str, make_frame
from synthetic.presets import VARIANT_RATES, VOLUME
from synthetic.sim import NAT, SimWorld, padded, unpadded

GRADE_TEXT = ("PK", "K", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")


@dataclass
class Catalog:
    templates: tuple[vocab.CourseTemplate, ...]
    course_id: dict[str, str]      # template key -> cim course_id
    known_ids: frozenset[str]
    frame: pd.DataFrame

    def unknown_ids(self, rng: np.random.Generator, count: int) -> list[str]:
        """Catalog-shaped ids that are not in the catalog."""
        out: list[str] = []
        while len(out) < count:
            candidate = f"C{int(rng.integers(900000, 999999)):06d}"
            if candidate not in self.known_ids and candidate not in out:
                out.append(candidate)
        return out


def build_catalog(ctx: Context) -> Catalog:
    rng = ctx.rng("cim-catalog")
    templates = vocab.course_templates()
    target = max(len(templates), round(VOLUME["cim_courses_at_district"] * ctx.spec.students / 360000))
    n = max(target, len(templates))
    numbers = 100000 + np.cumsum(rng.integers(1, 250, n))  # all below 900000 at district size
    ids = int_str(numbers, 6)
    ids = np.array(["C" + i for i in ids.tolist()], dtype=object)
    order = rng.permutation(n)
    ids = ids[order]
    titles, areas, low, high, credits, active = [], [], [], [], [], []
    for template in templates:
        titles.append(template.name)
        areas.append(template.subject_area)
        low.append(GRADE_TEXT[template.grade])
        high.append(GRADE_TEXT[template.grade])
        credits.append(template.credit)
        active.append(True)
    filler = n - len(templates)
    topic = choice(rng, vocab.CATALOG_FILLER_TOPICS, filler)
    subject = rng.integers(0, len(vocab.CATALOG_FILLER_SUBJECTS), filler)
    band_low = rng.integers(2, 14, filler)
    for t, s, lo in zip(topic.tolist(), subject.tolist(), band_low.tolist(), strict=True):
        name, area = vocab.CATALOG_FILLER_SUBJECTS[s]
        titles.append(f"{t} {name}")
        areas.append(area)
        low.append(GRADE_TEXT[lo])
        high.append(GRADE_TEXT[min(13, lo + 3)])
        credits.append(0.5 if lo >= 10 else 0.0)
    active.extend((rng.random(filler) < 0.7).tolist())
    state_code = np.array([f"{a[:2].upper()}{k:08d}" for a, k in
                           zip(areas, rng.integers(0, 10**8, n).tolist(), strict=True)], dtype=object)
    data = {"course_id": ids, "title": np.array(titles, dtype=object), "subject_area": np.array(areas, dtype=object),
            "grade_low": np.array(low, dtype=object), "grade_high": np.array(high, dtype=object),
            "credits": np.array(credits, dtype=float), "state_course_code": state_code, "active": np.array(active)}
    frame = make_frame(legacy_table(System.CIM, "cim_course"), data).sort_values("course_id", ignore_index=True)
    mapping = {template.key: ids[i] for i, template in enumerate(templates)}
    return Catalog(templates=templates, course_id=mapping, known_ids=frozenset(ids.tolist()), frame=frame)


def program_frames(ctx: Context, world: SimWorld) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = ctx.rng("cim-programs")
    programs = make_frame(legacy_table(System.CIM, "cim_program"), {
        "program_code": np.array([c for c, _ in vocab.PROGRAMS], dtype=object),
        "program_name": np.array([n for _, n in vocab.PROGRAMS], dtype=object)})
    cur = np.flatnonzero(world.is_current)
    grade = world.grade[cur]
    start, prev_start, prev_end = d64(ctx.calendar.start), d64(ctx.prior.start), d64(ctx.prior.end)
    chosen: list[tuple[np.ndarray, str]] = [
        (cur[world.ell[cur]], "ELL"), (cur[world.sped[cur]], "SPED"),
        (cur[world.ell[cur] & (rng.random(len(cur)) < 0.4)], "BIL"),
        (cur[(grade >= 2) & (grade <= 9) & (rng.random(len(cur)) < 0.06)], "GIFT"),
        (cur[(grade >= 10) & (rng.random(len(cur)) < 0.06)], "IB"),
        (cur[(grade >= 12) & (rng.random(len(cur)) < 0.35)], "AP"),
        (cur[(grade >= 10) & (rng.random(len(cur)) < 0.2)], "CTE"),
    ]
    rows_person, rows_code, rows_begin, rows_end, rows_reason, rows_school = [], [], [], [], [], []
    for person, code in chosen:
        n = len(person)
        continuing = world.prior_school[person] >= 0
        split = continuing & (rng.random(n) < 0.35)
        begin = np.where(continuing, prev_start + days(rng.integers(0, 30, n)), world.cur_entry[person])
        # a prior-year row ending at the end of that year, then a new row this year
        rows_person.append(person[split])
        rows_code.append(np.full(int(split.sum()), code, dtype=object))
        rows_begin.append(begin[split])
        rows_end.append(np.full(int(split.sum()), prev_end))
        rows_reason.append(np.full(int(split.sum()), "End of school year", dtype=object))
        rows_school.append(world.prior_school[person[split]])
        rows_person.append(person)
        rows_code.append(np.full(n, code, dtype=object))
        rows_begin.append(np.where(split, np.maximum(start, world.cur_entry[person]), begin))
        rows_end.append(np.full(n, NAT))
        rows_reason.append(np.full(n, None, dtype=object))
        rows_school.append(world.cur_school[person])
    # Former English learners, exited in the prior year.
    former = cur[~world.ell[cur] & (world.pool[cur] != "en") & (world.prior_school[cur] >= 0)
                 & (rng.random(len(cur)) < 0.3)]
    rows_person.append(former)
    rows_code.append(np.full(len(former), "ELL", dtype=object))
    rows_begin.append(prev_start - days(rng.integers(300, 1500, len(former))))
    rows_end.append(prev_start + days(rng.integers(30, 250, len(former))))
    rows_reason.append(np.full(len(former), vocab.PROGRAM_EXIT_REASONS["ELL"], dtype=object))
    rows_school.append(world.prior_school[former])
    person = np.concatenate(rows_person)
    school = np.concatenate(rows_school)
    unpad = rng.random(len(person)) < VARIANT_RATES["participation_school_unpadded"]
    school_ids = world.schools.school_id[school]
    school_text = np.where(unpad, unpadded(school_ids), padded(school_ids))
    ctx.manifest.variant("school_id_unpadded", "cim", "cim_program_participation", "school_id", int(unpad.sum()))
    data = {"student_id": world.student_id[person], "program_code": np.concatenate(rows_code),
            "school_id": school_text, "begin_date": np.concatenate(rows_begin), "end_date": np.concatenate(rows_end),
            "exit_reason": np.concatenate(rows_reason)}
    frame = make_frame(legacy_table(System.CIM, "cim_program_participation"), data)
    frame = frame.sort_values(["student_id", "program_code", "begin_date"], ignore_index=True)
    return programs, frame


def assessment_frames(ctx: Context, world: SimWorld) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = ctx.rng("cim-assessments")
    names = [(name, subject, adm) for name, subject in vocab.ASSESSMENTS for adm in vocab.ADMINISTRATIONS]
    assessments = make_frame(legacy_table(System.CIM, "cim_assessment"), {
        "assessment_id": np.arange(1, len(names) + 1), "name": np.array([n for n, _, _ in names], dtype=object),
        "subject": np.array([s for _, s, _ in names], dtype=object),
        "administration": np.array([a for _, _, a in names], dtype=object)})
    cal, prev = ctx.calendar, ctx.prior
    windows = {
        (cal.school_year, "FALL"): (date(cal.first_year, 9, 17), 28),
        (cal.school_year, "WINTER"): (date(cal.first_year + 1, 1, 14), 25),
        (prev.school_year, "SPRING"): (date(prev.first_year + 1, 5, 1), 28),
        (prev.school_year, "WINTER"): (date(prev.first_year + 1, 1, 14), 25),
    }
    tested = world.is_current & (world.grade >= 1) & (world.grade <= 12)
    parts = []
    for (year, adm), (first_day, span) in windows.items():
        if year == cal.school_year:
            people = np.flatnonzero(tested & (world.cur_entry <= d64(first_day)))
            grade = world.grade[people]
        else:
            people = np.flatnonzero(tested & (world.prior_school >= 0) & (world.grade >= 2))
            if adm == "WINTER":
                people = people[rng.random(len(people)) < 0.3]
            grade = world.grade[people] - 1
        test_date = d64(first_day) + days(rng.integers(0, span, len(people)))
        if test_date.size and test_date.max() >= ctx.export_day:
            keep = test_date < ctx.export_day
            people, grade, test_date = people[keep], grade[keep], test_date[keep]
        for subject_index in range(len(vocab.ASSESSMENTS)):
            aid = 1 + subject_index * len(vocab.ADMINISTRATIONS) + vocab.ADMINISTRATIONS.index(adm)
            skill = np.clip(world.ability[people] + rng.normal(0, 0.08, len(people)), 0.01, 0.99)
            percentile = np.clip(np.round(skill * 100), 1, 99).astype(np.int64)
            scale = (150 + 12 * grade + (skill - 0.5) * 80 + rng.normal(0, 6, len(people))).round().astype(np.int64)
            level = 1 + np.searchsorted([25, 50, 75], percentile, side="right")
            note = np.where((world.ell[people] | world.sped[people]) & (rng.random(len(people)) < 0.35),
                            choice(rng, with_marker(ACCOMMODATION_NOTES, ctx.marker), len(people)), None)
            parts.append({"student_id": world.student_id[people], "assessment_id": np.full(len(people), aid),
                          "school_year": np.full(len(people), year, dtype=object),
                          "administration": np.full(len(people), adm, dtype=object), "test_date": test_date,
                          "scale_score": scale, "percentile": percentile, "proficiency_level": level,
                          "accommodations_note": note})
    data = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    frame = make_frame(legacy_table(System.CIM, "cim_assessment_result"), data)
    frame = frame.sort_values(["student_id", "school_year", "assessment_id"], ignore_index=True)
    return assessments, frame
