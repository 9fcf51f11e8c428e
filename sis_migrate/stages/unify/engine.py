"""Transform: staged legacy rows to unified entities, with one fate for every legacy row.

A legacy table is mapped into a *wide* frame, one row per legacy row, with a column
``<entity>.<field>`` for every target field its mapping names. Every rule then works on that
frame, so a legacy row that feeds several entities (SIM_INCIDENT feeds an incident and an
action) is kept, merged or quarantined as one. Steps, in order:

1. field transforms of the mapping (fixes counted per legacy column);
2. tier-2 scrub of every migrated text field (SSN-shaped values emptied, counted);
3. crosswalks (an unknown code quarantines the row; it never passes through);
4. references re-keyed to surviving students, then foreign keys to other tables' entities
   (``unknown_student``, ``unknown_school``, ``unknown_cim_course``, ``depends_on_quarantined``);
5. the table's own rules (duplicate students and contacts, enrollments, consents).

Everything here is pure: frames in, frames out. ``sis_migrate.pipeline`` reads and writes staging.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sis_migrate import legacy
from sis_migrate.errors import RowDataError, row_named_by_key
from sis_migrate.schema import NO_SCHOOL, SOURCE_KEY, SOURCE_SCHOOL, SOURCE_TABLE, UnifiedSchema
from transforms.accounting import REASON, REASON_COLUMN, SURVIVOR_KEY, Outcome, check_accounting, split
from transforms.consent import check_consents
from transforms.crosswalk import Crosswalk, apply_crosswalk
from transforms.enrollment import leave_before_entry, overlapping_primary
from transforms.fields import FIELD_TRANSFORMS, FieldValueError
from transforms.grades import grade_by_student
from transforms.identity import contacts_from_guardians, rekey_values, resolve_duplicates
from transforms.names import match_name
from transforms.scrub import SSN_SCRUBBED, scrub_ssn

# A missing parent of these entities has its own reason; any other missing parent either was
# quarantined itself (depends_on_quarantined) or never existed (unknown_parent).
MISSING_PARENT_REASON = {"student": "unknown_student", "school": "unknown_school", "course": "unknown_cim_course"}


@dataclass(frozen=True)
class FieldSpec:
    """One target field of a legacy table's mapping."""

    entity: str
    field: str
    source: str  # the legacy column
    transform: str | None = None
    crosswalk: str | None = None
    unknown_code_reason: str = "unmapped_code"  # the quarantine reason of a code outside the crosswalk

    @property
    def column(self) -> str:
        return f"{self.entity}.{self.field}"


@dataclass
class Context:
    """What the rules of later tables need from earlier ones: kept keys, quarantined keys, maps."""

    schema: UnifiedSchema
    crosswalks: dict[str, Crosswalk]
    school_year: str
    kept_keys: dict[str, pd.DataFrame] = field(default_factory=dict)  # entity -> natural keys kept
    quarantined_keys: dict[str, pd.DataFrame] = field(default_factory=dict)  # entity -> keys not loaded
    student_key_map: pd.Series | None = None  # merged STUDENT_ID -> survivor
    grade_by_student: pd.Series | None = None
    school_of_section: pd.Series | None = None  # section_id -> school_id, for every legacy section
    school_of_entry: pd.Series | None = None  # AssignmentId -> school_id


@dataclass
class TableResult:
    """A legacy table (or one chunk of it) after the transform."""

    system: str
    table: str
    rows_in: int
    rows_in_by_school: dict[str, int]
    outcome: Outcome
    entities: dict[str, pd.DataFrame]

    def accounting(self) -> dict[str, Any]:
        quarantined = self.outcome.quarantined
        merged = self.outcome.merged
        return {
            "system": self.system, "table": self.table, "rows_in": self.rows_in,
            "loaded": len(self.outcome.kept), "merged": len(merged), "quarantined": len(quarantined),
            "by_reason": self.outcome.reason_counts(),
            "quarantined_by_column": _counts(quarantined, [REASON, REASON_COLUMN]),
            "fixes": {f"{code}:{column}": count for (code, column), count in sorted(self.outcome.fixes.items())},
            "rows_in_by_school": self.rows_in_by_school,
            "by_school": _by_school(self.outcome),
        }


def _counts(frame: pd.DataFrame, columns: list[str]) -> dict[str, int]:
    """Rows per combination of ``columns``, keyed ``a:b`` (NULL as empty)."""
    if frame.empty:
        return {}
    keys = frame[columns[0]].astype("string").fillna("")
    for column in columns[1:]:
        keys = keys + ":" + frame[column].astype("string").fillna("")
    return {str(key): int(count) for key, count in sorted(keys.value_counts().items())}


def _by_school(outcome: Outcome) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = {}
    for fate, frame in (("loaded", outcome.kept), ("merged", outcome.merged), ("quarantined", outcome.quarantined)):
        for school, count in frame[SOURCE_SCHOOL].value_counts().items():
            result.setdefault(str(school), {})[fate] = int(count)
    return dict(sorted(result.items()))


# --- 1-3: mapping ------------------------------------------------------------------------------

def source_keys(raw: pd.DataFrame, table: legacy.Table) -> pd.Series:
    """``KEY=value[,KEY=value]`` per row: how quarantine and merge records name a legacy row."""
    parts = [(name + "=" + raw[name].astype("string").fillna("").str.strip()) for name in table.key]
    keys = parts[0]
    for part in parts[1:]:
        keys = keys + "," + part
    return keys.astype(object)


def map_rows(raw: pd.DataFrame, table: legacy.Table, specs: list[FieldSpec], ctx: Context) -> Outcome:
    """Steps 1-3 on one chunk of a legacy table (fixes, tier-2 counts included, in the outcome)."""
    raw = raw.reset_index(drop=True)
    wide = pd.DataFrame({SOURCE_KEY: source_keys(raw, table)})
    fixes: dict[tuple[str, str], int] = {}
    for spec in specs:
        if spec.crosswalk and not spec.transform:
            wide[_code_column(spec)] = raw[spec.source]
            continue
        try:
            result = FIELD_TRANSFORMS[spec.transform or "copy"](raw[spec.source])
        except FieldValueError as err:
            first = err.labels[0]
            raise RowDataError(table.system.value, table.name, spec.source,
                               row_named_by_key(wide[SOURCE_KEY].iloc[first]),
                               f"{err.problem} ({len(err.labels)} row(s); transform {err.transform})") from err
        values = result.values.to_numpy() if isinstance(result.values.dtype, np.dtype) else result.values
        if spec.crosswalk:  # the transform prepared the code; the crosswalk below maps it
            wide[_code_column(spec)] = values
            continue
        wide[spec.column] = values
        if result.fix_reason and result.cleared_count:
            fixes[(result.fix_reason, spec.source)] = max(fixes.get((result.fix_reason, spec.source), 0),
                                                          result.cleared_count)
    _scrub(wide, specs, ctx, fixes)
    outcome = Outcome.clean(wide, fixes)
    done: dict[tuple[str, str | None, str], str] = {}
    for spec in specs:
        if not spec.crosswalk:
            continue
        if (spec.source, spec.transform, spec.crosswalk) in done:
            first_column = done[(spec.source, spec.transform, spec.crosswalk)]
            outcome = Outcome(outcome.kept.assign(**{spec.column: outcome.kept[first_column]}),
                              outcome.quarantined, outcome.merged, outcome.fixes)
            continue
        nullable = ctx.schema.entity(spec.entity).field(spec.field).nullable
        outcome = outcome.then(lambda rows, s=spec, n=nullable, r=spec.unknown_code_reason: apply_crosswalk(
            rows, _code_column(s), ctx.crosswalks[s.crosswalk], s.column,
            case_insensitive=True, blank_is_null=n, reason=r))
        done[(spec.source, spec.transform, spec.crosswalk)] = spec.column
    quarantined = outcome.quarantined
    if len(quarantined):  # name the legacy column, not the working column of its code
        legacy_column = quarantined[REASON_COLUMN].str.extract(r"^_code\.([^~]+)", expand=False)
        quarantined = quarantined.assign(**{REASON_COLUMN: legacy_column.fillna(quarantined[REASON_COLUMN])})
    drop = [c for c in outcome.kept.columns if c.startswith("_code.")]
    return Outcome(outcome.kept.drop(columns=drop), quarantined.drop(columns=drop), outcome.merged,
                   outcome.fixes)


def _code_column(spec: FieldSpec) -> str:
    """The working column holding the code a crosswalk maps: the legacy value, or its transform's result."""
    return f"_code.{spec.source}" + (f"~{spec.transform}" if spec.transform else "")


def _scrub(wide: pd.DataFrame, specs: list[FieldSpec], ctx: Context, fixes: dict) -> None:
    """Tier 2: SSN-shaped values are emptied in every migrated text field, counted per legacy column."""
    text_columns = [s for s in specs if not s.crosswalk
                    and ctx.schema.entity(s.entity).field(s.field).type.startswith("string")]
    scrubbed, counts = scrub_ssn(wide, [s.column for s in text_columns])
    per_source: dict[str, int] = {}
    for spec in text_columns:
        if counts[spec.column]:
            wide[spec.column] = scrubbed[spec.column]
            per_source[spec.source] = max(per_source.get(spec.source, 0), counts[spec.column])
    for source, count in per_source.items():
        fixes[(SSN_SCRUBBED, source)] = count


# --- 4: references ------------------------------------------------------------------------------

def _entities_of(specs: list[FieldSpec]) -> list[str]:
    return list(dict.fromkeys(spec.entity for spec in specs))


def rekey_students(outcome: Outcome, ctx: Context) -> Outcome:
    """Every student reference names the surviving STUDENT_ID of a merged duplicate."""
    kept = outcome.kept
    columns = [c for c in kept.columns if c.endswith(".student_unique_id")]
    if ctx.student_key_map is None or not columns:
        return outcome
    return Outcome(kept.assign(**{c: rekey_values(kept[c], ctx.student_key_map) for c in columns}),
                   outcome.quarantined, outcome.merged, outcome.fixes, outcome.key_map)


def check_references(outcome: Outcome, specs: list[FieldSpec], ctx: Context) -> Outcome:
    """Quarantine rows whose foreign keys name an entity row of another table that is not loaded."""
    produced = set(_entities_of(specs))
    for entity_name in _entities_of(specs):
        entity = ctx.schema.entity(entity_name)
        for fk in entity.foreign_keys:
            if fk.entity in produced:
                continue  # produced from the same legacy row: present by construction
            columns = [f"{entity_name}.{name}" for name in fk.fields]
            if not all(c in outcome.kept.columns for c in columns):
                continue
            outcome = outcome.then(lambda rows, fk=fk, cols=columns: _missing_parent(rows, fk.entity, cols, ctx))
    return outcome


def _key_index(frame: pd.DataFrame) -> pd.Index | pd.MultiIndex:
    if frame.shape[1] == 1:
        return pd.Index(frame.iloc[:, 0].dropna().unique())
    return pd.MultiIndex.from_frame(frame)


def _missing_parent(rows: pd.DataFrame, parent: str, columns: list[str], ctx: Context) -> Outcome:
    values = rows[columns]
    present = values.notna().all(axis=1).to_numpy(dtype=bool)  # a NULL optional reference is no reference
    known_keys = ctx.kept_keys.get(parent)
    if known_keys is None:
        raise KeyError(f"{parent} keys are needed before rows that reference it")
    probe = values.iloc[:, 0] if len(columns) == 1 else pd.MultiIndex.from_frame(values)
    known = np.asarray(probe.isin(_key_index(known_keys)), dtype=bool)
    missing = present & ~known
    if parent in MISSING_PARENT_REASON:
        return split(rows, missing, MISSING_PARENT_REASON[parent], columns[0])
    quarantined_keys = ctx.quarantined_keys.get(parent, pd.DataFrame())
    was_quarantined = (np.asarray(probe.isin(_key_index(quarantined_keys)), dtype=bool)
                       if len(quarantined_keys) else np.zeros(len(rows), dtype=bool))
    step = split(rows, missing & was_quarantined, "depends_on_quarantined", columns[0])
    never = (missing & ~was_quarantined)[~(missing & was_quarantined)]
    return step.then(lambda kept: split(kept, never, "unknown_parent", columns[0]))


# --- 5: table rules -----------------------------------------------------------------------------

def _students(outcome: Outcome, ctx: Context, extra: dict) -> Outcome:
    kept = outcome.kept
    match = pd.DataFrame({"last": match_name(kept["student.last_surname"]).array,
                          "first": match_name(kept["student.first_name"]).array,
                          "birth": kept["student.birth_date"].array})
    resolved = resolve_duplicates(kept, "student.student_unique_id", match, "duplicate_student")
    ctx.student_key_map = resolved.key_map
    return _merged_with_text_keys(outcome, resolved)


def _guardians(outcome: Outcome, ctx: Context, extra: dict) -> Outcome:
    contacts, associations = contacts_from_guardians(
        outcome.kept, key="contact.contact_unique_id", last="contact.last_surname", first="contact.first_name",
        cell="contact.mobile_phone", contact_key="student_contact_association.contact_unique_id")
    # every guardian row, the merged ones too, still says who the student's contact is
    extra["student_contact_association"] = associations.drop_duplicates(
        ["student_contact_association.student_unique_id", "student_contact_association.contact_unique_id"])
    return _merged_with_text_keys(outcome, contacts)


def _merged_with_text_keys(outcome: Outcome, resolved: Outcome) -> Outcome:
    merged = resolved.merged.assign(**{SURVIVOR_KEY: resolved.merged[SURVIVOR_KEY].astype("string")})
    return Outcome(resolved.kept, outcome.quarantined, pd.concat([outcome.merged, merged]) if len(outcome.merged)
                   else merged, outcome.fixes, resolved.key_map)


def _enrollments(outcome: Outcome, ctx: Context, extra: dict) -> Outcome:
    prefix = "student_school_association."
    checked = (outcome
               .then(lambda rows: leave_before_entry(rows, prefix + "entry_date", prefix + "exit_withdraw_date"))
               .then(lambda rows: overlapping_primary(rows, prefix + "student_unique_id", prefix + "entry_date",
                                                      prefix + "exit_withdraw_date", prefix + "primary_school",
                                                      prefix + "enroll_id")))
    ctx.grade_by_student = grade_by_student(
        checked.kept, ctx.school_year, student=prefix + "student_unique_id", year_column=prefix + "school_year",
        grade=prefix + "entry_grade_level_descriptor", primary=prefix + "primary_school",
        entry_date=prefix + "entry_date")
    return checked


def _consents(outcome: Outcome, ctx: Context, extra: dict) -> Outcome:
    prefix = "communication_consent."
    grades = ctx.grade_by_student if ctx.grade_by_student is not None else pd.Series(dtype="Int64")
    return outcome.then(lambda rows: check_consents(
        rows, ctx.school_year, grades, consent_type=prefix + "consent_type", school_year=prefix + "school_year",
        principal_signed_date=prefix + "principal_signed_date", revoked_date=prefix + "revoked_date",
        student=prefix + "student_unique_id"))


Rule = Callable[[Outcome, Context, dict], Outcome]
TABLE_RULES: dict[str, Rule] = {
    "SIM_STUDENT": _students,
    "SIM_GUARDIAN": _guardians,
    "SIM_ENROLLMENT": _enrollments,
    "verify_consent": _consents,
}


# --- lineage and entities -----------------------------------------------------------------------

def school_of_rows(wide: pd.DataFrame, table: legacy.Table, ctx: Context) -> pd.Series:
    """The school a legacy row belongs to, for per-school accounting ((none) where it has none)."""
    own = [c for c in wide.columns if c.endswith(".school_id") or c.endswith(".responsibility_school_id")]
    if own:
        school = wide[own[0]].astype("string")
    elif any(c.endswith(".section_id") for c in wide.columns) and ctx.school_of_section is not None:
        section = wide[next(c for c in wide.columns if c.endswith(".section_id"))]
        school = section.map(ctx.school_of_section).astype("string")
    elif "student_gradebook_entry.gradebook_entry_identifier" in wide.columns and ctx.school_of_entry is not None:
        school = wide["student_gradebook_entry.gradebook_entry_identifier"].map(ctx.school_of_entry).astype("string")
    else:
        school = pd.Series(pd.NA, index=wide.index, dtype="string")
    return school.fillna(NO_SCHOOL).astype(object)


def entity_frames(kept: pd.DataFrame, specs: list[FieldSpec], table: legacy.Table, ctx: Context,
                  extra: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Split the kept wide rows into one frame per entity, fields in schema order, lineage last."""
    frames = {}
    for entity_name in _entities_of(specs):
        entity = ctx.schema.entity(entity_name)
        source = extra.get(entity_name, kept)
        columns = {name: source.get(f"{entity_name}.{name}", pd.Series(pd.NA, index=source.index))
                   for name in entity.field_names}
        frame = pd.DataFrame(columns)
        frame[SOURCE_TABLE] = f"{table.system.value}.{table.name}"
        frame[SOURCE_KEY] = source[SOURCE_KEY].to_numpy()
        frame[SOURCE_SCHOOL] = source[SOURCE_SCHOOL].to_numpy()
        if entity.deduplicate:
            frame = frame.drop_duplicates(list(entity.natural_key))
        frames[entity_name] = frame.reset_index(drop=True)
    return frames


def transform_table(raw: pd.DataFrame, table: legacy.Table, specs: list[FieldSpec], ctx: Context) -> TableResult:
    """Map, scrub, check and rule one legacy table (or a chunk of a table that needs no whole-table rule)."""
    rows_in = len(raw)
    mapped = map_rows(raw, table, specs, ctx)
    school = school_of_rows(pd.concat([mapped.kept, mapped.quarantined]), table, ctx) if rows_in else None
    mapped = _with_school(mapped, school)
    rows_in_by_school = ({str(k): int(v) for k, v in school.value_counts().sort_index().items()}
                         if school is not None else {})
    outcome = check_references(rekey_students(mapped, ctx), specs, ctx)
    extra: dict[str, pd.DataFrame] = {}
    rule = TABLE_RULES.get(table.name)
    if rule:
        outcome = rule(outcome, ctx, extra)
    check_accounting(f"{table.system.value}.{table.name}", rows_in, outcome)
    outcome = _name_legacy_columns(outcome, specs)
    return TableResult(table.system.value, table.name, rows_in, rows_in_by_school, outcome,
                       entity_frames(outcome.kept, specs, table, ctx, extra))


def _name_legacy_columns(outcome: Outcome, specs: list[FieldSpec]) -> Outcome:
    """Quarantine records name the legacy column a steward must fix, not the target field a rule read."""
    quarantined = outcome.quarantined
    if quarantined.empty:
        return outcome
    source_of = {spec.column: spec.source for spec in specs}
    named = quarantined[REASON_COLUMN].map(lambda column: source_of.get(column, column), na_action="ignore")
    return Outcome(outcome.kept, quarantined.assign(**{REASON_COLUMN: named.astype("string")}), outcome.merged,
                   outcome.fixes, outcome.key_map)


def _with_school(outcome: Outcome, school: pd.Series | None) -> Outcome:
    """Attach the school to every row (mapping merges nothing yet, so kept then quarantined)."""
    if school is None:
        school = pd.Series(dtype=object)
    kept_rows = len(outcome.kept)
    return Outcome(outcome.kept.assign(**{SOURCE_SCHOOL: school.iloc[:kept_rows].to_numpy()}),
                   outcome.quarantined.assign(**{SOURCE_SCHOOL: school.iloc[kept_rows:].to_numpy()}),
                   outcome.merged.assign(**{SOURCE_SCHOOL: pd.Series(dtype=object)}), outcome.fixes)


def remember(result: TableResult, specs: list[FieldSpec], ctx: Context) -> None:
    """Record the natural keys this table loaded and those it did not, for the tables that follow."""
    quarantined_rows = pd.concat([result.outcome.quarantined, result.outcome.merged])
    for entity_name, frame in result.entities.items():
        key = list(ctx.schema.entity(entity_name).natural_key)
        ctx.kept_keys[entity_name] = _append(ctx.kept_keys.get(entity_name), frame[key])
        wide_key = [f"{entity_name}.{name}" for name in key]
        if all(c in quarantined_rows.columns for c in wide_key):
            lost = quarantined_rows[wide_key].dropna()
            lost.columns = key
            ctx.quarantined_keys[entity_name] = _append(ctx.quarantined_keys.get(entity_name), lost)


def _append(existing: pd.DataFrame | None, frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    return frame if existing is None else pd.concat([existing, frame], ignore_index=True)


# --- outputs as staged records ------------------------------------------------------------------

def quarantine_records(result: TableResult, table: legacy.Table, run_id: str) -> pd.DataFrame:
    """Rows for the table's quarantine table: legacy key columns as text, reason, column, run id."""
    quarantined = result.outcome.quarantined
    keys = _split_source_keys(quarantined[SOURCE_KEY], table)
    keys["_reason"] = quarantined[REASON].astype(object).to_numpy()
    keys["_reason_column"] = quarantined[REASON_COLUMN].astype(object).to_numpy()
    keys["run_id"] = run_id
    keys[SOURCE_SCHOOL] = quarantined[SOURCE_SCHOOL].to_numpy()
    return keys


def merge_records(result: TableResult, run_id: str) -> pd.DataFrame:
    merged = result.outcome.merged
    return pd.DataFrame({
        "system": result.system, "legacy_table": result.table,
        "legacy_key": merged[SOURCE_KEY].to_numpy(),
        "survivor_key": merged[SURVIVOR_KEY].astype("string").to_numpy(dtype=object),
        "_reason": merged[REASON].astype(object).to_numpy(), "run_id": run_id,
        SOURCE_SCHOOL: merged[SOURCE_SCHOOL].to_numpy(),
    })


def _split_source_keys(keys: pd.Series, table: legacy.Table) -> pd.DataFrame:
    columns = {}
    parts = keys.astype("string").str.split(",", n=len(table.key) - 1, expand=True) if len(keys) else None
    for position, name in enumerate(table.key):
        if parts is None:
            columns[name] = pd.Series(dtype=object)
        else:
            columns[name] = parts[position].str.split("=", n=1).str[1].astype(object).to_numpy()
    return pd.DataFrame(columns)

