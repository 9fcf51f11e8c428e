"""The synthetic district generator: deterministic, exactly the legacy shapes and dtypes, realistic
proportions, Verify's two export days, bounded chunks."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

from sis_migrate.legacy import TABLES, System
from synthetic.generator import District, SynthSpec, TableChunk, spec_for_preset
from synthetic.presets import MAX_CHUNK_ROWS, PRESETS

# Brief's volumes at district scale (360,000 students), rows per student.
BRIEF_PER_STUDENT = {
    "sim.SIM_STUDENT": 400_000, "sim.SIM_GUARDIAN": 700_000, "sim.SIM_ENROLLMENT": 820_000,
    "sim.SIM_INCIDENT": 120_000, "gradebook.Teacher": 21_000, "gradebook.Course": 45_000,
    "gradebook.Section": 110_000, "gradebook.Roster": 2_400_000, "gradebook.Assignment": 4_000_000,
    "gradebook.Score": 90_000_000, "gradebook.PeriodGrade": 7_000_000, "gradebook.ClassAttendance": 50_000_000,
    "cim.cim_program_participation": 250_000, "cim.cim_assessment_result": 2_000_000,
    "verify.verify_enrollment_check": 400_000, "verify.verify_residency": 400_000, "verify.verify_consent": 400_000,
}


def expected_dtype(sql_type: str) -> str:
    """The contract's dtype rule, restated independently of synthetic.frames."""
    base = sql_type.split("(")[0].upper()
    if base in {"DATE", "TIMESTAMP", "DATETIME", "YYYYMMDD"}:
        return "datetime64[s]"
    if base in {"INT", "INTEGER", "SMALLINT"} or (base == "NUMERIC" and "," not in sql_type):
        return "Int64"
    if base == "DECIMAL" or base == "NUMERIC":
        return "float64"
    if base in {"BIT", "BOOLEAN"}:
        return "boolean"
    return "object"


def collect(spec: SynthSpec) -> tuple[list[TableChunk], dict]:
    district = District(spec)
    chunks = list(district.chunks())
    return chunks, district.manifest()


def by_table(chunks: list[TableChunk], spec: SynthSpec) -> dict[str, pd.DataFrame]:
    parts: dict[str, list[pd.DataFrame]] = {}
    for chunk in chunks:
        if chunk.export_day in (None, spec.export_day):
            parts.setdefault(f"{chunk.table.system.value}.{chunk.table.name}", []).append(chunk.frame)
    return {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}


@pytest.fixture(scope="module")
def tiny():
    spec = spec_for_preset("tiny", seed=7)
    chunks, manifest = collect(spec)
    return spec, chunks, manifest, by_table(chunks, spec)


def test_presets_and_spec_defaults():
    assert PRESETS == {"tiny": 200, "small": 5000, "district": 360000}
    spec = SynthSpec(students=200, seed=7)
    assert spec.school_year == "2018-2019" and spec.export_day == date(2019, 3, 29)
    with pytest.raises(ValueError):
        SynthSpec(students=200, seed=7, export_day=date(2019, 8, 1))


def test_same_spec_same_frames_other_seed_other_values(tiny):
    spec, chunks, manifest, _ = tiny
    again, manifest_again = collect(spec)
    assert len(again) == len(chunks)
    for first, second in zip(chunks, again, strict=True):
        assert first.table == second.table and first.export_day == second.export_day
        pd.testing.assert_frame_equal(first.frame, second.frame)
    assert json.dumps(manifest) == json.dumps(manifest_again)
    other = by_table(collect(spec_for_preset("tiny", seed=8))[0], spec)
    mine = by_table(chunks, spec)
    assert not mine["sim.SIM_STUDENT"]["LAST_NM"].equals(other["sim.SIM_STUDENT"]["LAST_NM"])
    assert not mine["gradebook.Score"]["Score"].equals(other["gradebook.Score"]["Score"])


def test_every_table_and_column_with_contract_dtypes(tiny):
    _, chunks, _, frames = tiny
    assert set(frames) == {f"{s.value}.{t}" for s, t in TABLES}
    for chunk in chunks:
        assert tuple(chunk.frame.columns) == chunk.table.column_names
        assert len(chunk.frame) <= MAX_CHUNK_ROWS
        for column in chunk.table.columns:
            actual = str(chunk.frame[column.name].dtype)
            assert actual == expected_dtype(column.sql_type), f"{chunk.table.name}.{column.name}: {actual}"
            if actual == "object":
                values = chunk.frame[column.name].dropna()
                assert values.map(lambda v: isinstance(v, str)).all(), f"{chunk.table.name}.{column.name}"
    for name, frame in frames.items():
        table = TABLES[(System(name.split(".")[0]), name.split(".")[1])]
        assert not frame.duplicated(list(table.key)).any(), f"{name} key {table.key} is not unique"
        if table.system is System.VERIFY:
            text = pd.concat([frame[c].dropna().astype(str) for c in frame.columns if frame[c].dtype == object])
            assert text.map(lambda v: v.encode("latin-1") is not None).all()


def test_verify_has_an_older_superseded_export(tiny):
    spec, chunks, manifest, frames = tiny
    older_day = spec.export_day - timedelta(days=7)
    for table in ("verify_enrollment_check", "verify_residency", "verify_consent"):
        days = {c.export_day for c in chunks if c.table.name == table}
        assert days == {older_day, spec.export_day}
        assert manifest["export_days"][f"verify.{table}"] == [older_day.strftime("%Y%m%d"),
                                                              spec.export_day.strftime("%Y%m%d")]
        older = pd.concat([c.frame for c in chunks if c.table.name == table and c.export_day == older_day])
        assert 0 < len(older) <= len(frames[f"verify.{table}"])
    assert all(c.export_day is None for c in chunks if c.table.system is not System.VERIFY)
    addr = frames["verify.verify_residency"]["addr"]
    assert addr.str.count(r"\|").eq(3).all()


def test_realistic_district_shape(tiny):
    _, _, _, frames = tiny
    schools = frames["sim.SIM_SCHOOL"]
    assert len(schools) >= 4 and {"ES", "MS", "HS"} <= set(schools["SCHOOL_TYPE_CD"])
    current = frames["sim.SIM_ENROLLMENT"]
    grades = set(current["GRADE_LVL_CD"].replace({"KG": "K"}).map(lambda g: g.zfill(2) if g.isdigit() else g))
    assert {"PK", "K", *(f"{g:02d}" for g in range(1, 13))} <= grades
    languages = frames["sim.SIM_STUDENT"]["HOME_LANG_CD"].value_counts(normalize=True)
    assert 0.15 < languages.get("spa", 0) + languages.get("sp", 0) < 0.45
    assert {"spa", "eng"} <= set(languages.index)
    teachers = frames["gradebook.Teacher"]
    assert (teachers["HomeSchool"] != teachers["HomeSchool"].str.rstrip()).any()
    assert not teachers["HomeSchool"].str.startswith("0").any()
    roster = frames["gradebook.Roster"]["StudentNumber"]
    assert (roster.str.len() == 10).any() and roster.str.startswith(" ").any()
    keys = frames["verify.verify_consent"]["stu_key"]
    assert keys.str.startswith("S").any() and (~keys.str.startswith("S")).any()
    assert frames["sim.SIM_STUDENT"]["GENDER_CD"].str.islower().any()
    assert frames["sim.SIM_STUDENT"]["HOME_LANG_CD"].str.len().eq(2).any()
    assert frames["sim.SIM_SCHOOL"]["PHONE_NO"].str.contains(r"[().]").any()


def test_volumes_roughly_proportional(tiny):
    spec, _, manifest, frames = tiny
    for name, rows in manifest["rows"].items():
        assert rows == len(frames[name]), name
    for name in ("gradebook.Score", "gradebook.ClassAttendance", "gradebook.Roster", "sim.SIM_GUARDIAN",
                 "sim.SIM_ENROLLMENT", "verify.verify_residency"):
        per_student = manifest["rows"][name] / spec.students
        brief = BRIEF_PER_STUDENT[name] / 360_000
        assert brief / 2 < per_student < brief * 2, (name, per_student, brief)


@pytest.mark.slow
def test_small_preset_volumes_and_anomaly_counts():
    spec = spec_for_preset("small", seed=3)
    district = District(spec)
    chunk_rows: dict[str, int] = {}
    for chunk in district.chunks():
        assert len(chunk.frame) <= MAX_CHUNK_ROWS
        name = f"{chunk.table.system.value}.{chunk.table.name}"
        chunk_rows[name] = chunk_rows.get(name, 0) + len(chunk.frame)
    manifest = district.manifest()
    for name, brief in BRIEF_PER_STUDENT.items():
        per_student = manifest["rows"][name] / spec.students
        assert brief / 360_000 / 2 < per_student < brief / 360_000 * 2, (name, per_student)
    counts = {(a["code"], a["table"], a["column"]): a["count"] for a in manifest["anomalies"]}
    rates = manifest["rates"]["anomalies"]
    persons = manifest["rows"]["sim.SIM_STUDENT"] - counts[("duplicate_student", "SIM_STUDENT", None)]
    assert counts[("duplicate_student", "SIM_STUDENT", None)] == round(rates["duplicate_student"] * persons)
    assert counts[("ssn_scrubbed", "SIM_STUDENT", "STATE_ID")] == round(rates["ssn_in_state_id"] * persons)
    sections = manifest["rows"]["gradebook.Section"]
    roster_unknown = counts[("unknown_student", "Roster", "StudentNumber")]
    planted_sections = round(rates["unknown_student_sections"] * sections)
    assert planted_sections <= roster_unknown <= 2 * planted_sections
    incidents = manifest["rows"]["sim.SIM_INCIDENT"]
    assert counts[("unmapped_code", "SIM_INCIDENT", "ACTION_CD")] == round(rates["unmapped_action_cd"] * incidents)
    consents = manifest["rows"]["verify.verify_consent"]
    assert counts[("consent_revoked", "verify_consent", None)] == pytest.approx(
        rates["consent_revoked"] * consents, rel=0.1)
    assert all(count >= 1 for count in counts.values())


def test_manifest_only_after_chunks_are_exhausted():
    district = District(SynthSpec(students=200, seed=1))
    with pytest.raises(RuntimeError):
        district.manifest()


@pytest.mark.parametrize("students", [14, 30])
def test_the_smallest_districts_still_plant_every_anomaly(students):
    _, manifest = collect(SynthSpec(students=students, seed=5))
    counts = {(a["code"], a["table"], a["column"]): a["count"] for a in manifest["anomalies"]}
    assert len({code for code, _, _ in counts}) == 15
    assert all(count >= 1 for count in counts.values()), counts
    with pytest.raises(ValueError):
        SynthSpec(students=13, seed=5)
