"""The transform of one legacy table (or one part of it), as its mapping declares: frames in, frames out.

A legacy table is mapped into a *wide* frame, one row per legacy row, with a column
``<entity>.<field>`` for every target field its mapping names. Every rule then works on that
frame, so a legacy row that feeds several entities (SIM_INCIDENT feeds an incident and an
action) is kept, merged or quarantined as one. Steps, in order:

1. field transforms of the mapping (fixes counted per legacy column);
2. tier-2 scrub of every migrated text field (SSN-shaped values emptied, counted);
3. crosswalks (an unknown code quarantines the row; it never passes through);
4. the row's school, as the mapping's ``school`` says (for per-school accounting);
5. references re-keyed to surviving students, then foreign keys to other tables' entities
   (``unknown_student``, ``unknown_school``, ``unknown_cim_course``, ``depends_on_quarantined``);
6. the table rules the mapping names (``table_rules.py``: duplicate students, contacts,
   enrollments, consents).

Nothing here reads or writes staging; :mod:`sis_migrate.stages.unify` does, and
:mod:`sis_migrate.stages.unify.state` carries what earlier tables leave for later ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError, RowDataError, row_named_by_key
from sis_migrate.mapping import MappedField, SchoolVia, TableMapping
from sis_migrate.schema import NO_SCHOOL, SOURCE_KEY, SOURCE_SCHOOL, SOURCE_TABLE, UnifiedSchema
from sis_migrate.stages.unify.state import TransformState
from sis_migrate.stages.unify.table_rules import RULES
from transforms.accounting import REASON, REASON_COLUMN, SURVIVOR_KEY, Outcome, check_accounting
from transforms.crosswalk import Crosswalk, apply_crosswalk
from transforms.errors import CodeSetError, FieldValueError
from transforms.fields import FIELD_TRANSFORMS
from transforms.identity import rekey_values
from transforms.references import split_missing_parents
from transforms.scrub import SSN_SCRUBBED, scrub_ssn

UNMAPPED_CODE = "unmapped_code"
# A missing parent of these entities has its own reason; any other missing parent either was
# quarantined itself (depends_on_quarantined) or never existed (unknown_parent).
MISSING_PARENT_REASON = {"student": "unknown_student", "school": "unknown_school", "course": "unknown_cim_course"}


@dataclass
class Context:
    """What the transform of a table needs: the schema, the code sets, the year, and the state so far."""

    schema: UnifiedSchema
    crosswalks: dict[str, Crosswalk]
    school_year: str
    state: TransformState
    hash_key: str  # keys the hash that names a row in an error message


@dataclass
class TableResult:
    """A legacy table (or one part of it) after the transform."""

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


def primary_entity(mapping: TableMapping, schema: UnifiedSchema) -> str:
    """The entity whose rows stand one-to-one for the table's kept rows (what 'loaded' counts)."""
    yielded = {entity for rule in mapping.rules for entity in RULES[rule].yields}
    for entity in mapping.targets:
        if not schema.entity(entity).deduplicate and entity not in yielded:
            return entity
    raise ConfigurationError(f"no one-to-one entity among {sorted(mapping.targets)}")


# --- 1-3: mapping ------------------------------------------------------------------------------

def source_keys(raw: pd.DataFrame, table: legacy.Table) -> pd.Series:
    """``KEY=value[,KEY=value]`` per row: how quarantine and merge records name a legacy row."""
    parts = [(name + "=" + raw[name].astype("string").fillna("").str.strip()) for name in table.key]
    keys = parts[0]
    for part in parts[1:]:
        keys = keys + "," + part
    return keys.astype(object)


def map_rows(raw: pd.DataFrame, table: legacy.Table, mapping: TableMapping, ctx: Context) -> Outcome:
    """Steps 1-3 on one part of a legacy table (fixes, tier-2 counts included, in the outcome)."""
    raw = raw.reset_index(drop=True)
    wide = pd.DataFrame({SOURCE_KEY: source_keys(raw, table)})
    fixes: dict[tuple[str, str], int] = {}
    for mapped in mapping.fields:
        source = mapped.source
        if source.crosswalk and not source.transform:
            wide[_code_column(mapped)] = raw[source.column]
            continue
        try:
            result = FIELD_TRANSFORMS[source.transform_name](raw[source.column])
        except FieldValueError as err:
            first = err.labels[0]
            raise RowDataError(table.system.value, table.name, source.column,
                               row_named_by_key(wide[SOURCE_KEY].iloc[first], ctx.hash_key),
                               f"{err.problem} ({len(err.labels)} row(s); transform {err.transform})") from err
        values = result.values.to_numpy() if isinstance(result.values.dtype, np.dtype) else result.values
        if source.crosswalk:  # the transform prepared the code; the crosswalk below maps it
            wide[_code_column(mapped)] = values
            continue
        wide[mapped.column] = values
        if result.fix_reason and result.cleared_count:
            fixes[(result.fix_reason, source.column)] = max(fixes.get((result.fix_reason, source.column), 0),
                                                            result.cleared_count)
    _scrub(wide, mapping, ctx, fixes)
    outcome = Outcome.clean(wide, fixes)
    done: dict[tuple[str, str], str] = {}  # (code column, crosswalk) -> the first target column it filled
    for mapped in mapping.fields:
        source = mapped.source
        if not source.crosswalk:
            continue
        code_column = _code_column(mapped)
        if (code_column, source.crosswalk) in done:
            first_column = done[(code_column, source.crosswalk)]
            outcome = Outcome(outcome.kept.assign(**{mapped.column: outcome.kept[first_column]}),
                              outcome.quarantined, outcome.merged, outcome.fixes)
            continue
        nullable = ctx.schema.entity(mapped.entity).field(mapped.field).nullable
        try:
            outcome = outcome.then(lambda rows, m=mapped, n=nullable, c=code_column: apply_crosswalk(
                rows, c, ctx.crosswalks[m.source.crosswalk], m.column, case_insensitive=True, blank_is_null=n,
                reason=m.source.unknown_code_reason or UNMAPPED_CODE))
        except CodeSetError as err:
            raise ConfigurationError(f"{table.qualified}.{source.column}: {err}") from err
        done[(code_column, source.crosswalk)] = mapped.column
    quarantined = outcome.quarantined
    if len(quarantined):  # name the legacy column, not the working column of its code
        legacy_column = quarantined[REASON_COLUMN].str.extract(r"^_code\.([^~]+)", expand=False)
        quarantined = quarantined.assign(**{REASON_COLUMN: legacy_column.fillna(quarantined[REASON_COLUMN])})
    drop = [c for c in outcome.kept.columns if c.startswith("_code.")]
    return Outcome(outcome.kept.drop(columns=drop), quarantined.drop(columns=drop), outcome.merged,
                   outcome.fixes)


def _code_column(mapped: MappedField) -> str:
    """The working column holding the code a crosswalk maps: the legacy value, or its transform's result."""
    source = mapped.source
    return f"_code.{source.column}" + (f"~{source.transform}" if source.transform else "")


def _scrub(wide: pd.DataFrame, mapping: TableMapping, ctx: Context, fixes: dict) -> None:
    """Tier 2: SSN-shaped values are emptied in every migrated text field, counted per legacy column."""
    text_fields = [f for f in mapping.fields if not f.source.crosswalk
                   and ctx.schema.entity(f.entity).field(f.field).type.startswith("string")]
    scrubbed, counts = scrub_ssn(wide, [f.column for f in text_fields])
    per_source: dict[str, int] = {}
    for mapped in text_fields:
        if counts[mapped.column]:
            wide[mapped.column] = scrubbed[mapped.column]
            per_source[mapped.source.column] = max(per_source.get(mapped.source.column, 0), counts[mapped.column])
    for column, count in per_source.items():
        fixes[(SSN_SCRUBBED, column)] = count


# --- 4: the row's school --------------------------------------------------------------------------

def school_of_rows(wide: pd.DataFrame, mapping: TableMapping, ctx: Context) -> pd.Series:
    """The school a legacy row belongs to, as the mapping's ``school`` says ((none) where it has none)."""
    school = mapping.school
    if isinstance(school, str):
        found = wide[school].astype("string")
    elif isinstance(school, SchoolVia):
        found = wide[school.key].map(ctx.state.school_of[school.via]).astype("string")
    else:
        found = pd.Series(pd.NA, index=wide.index, dtype="string")
    return found.fillna(NO_SCHOOL).astype(object)


def _with_school(outcome: Outcome, school: pd.Series) -> Outcome:
    """Attach the school to every row (mapping merges nothing yet, so kept then quarantined)."""
    kept_rows = len(outcome.kept)
    return Outcome(outcome.kept.assign(**{SOURCE_SCHOOL: school.iloc[:kept_rows].to_numpy()}),
                   outcome.quarantined.assign(**{SOURCE_SCHOOL: school.iloc[kept_rows:].to_numpy()}),
                   outcome.merged.assign(**{SOURCE_SCHOOL: pd.Series(dtype=object)}), outcome.fixes)


# --- 5: references ------------------------------------------------------------------------------

def rekey_merged(outcome: Outcome, ctx: Context) -> Outcome:
    """Every reference to a merged entity row (a duplicate student) names its survivor instead."""
    kept = outcome.kept
    changed = {}
    for entity, key_map in ctx.state.key_maps.items():
        (key,) = ctx.schema.entity(entity).natural_key
        for column in kept.columns:
            if column.endswith(f".{key}"):
                changed[column] = rekey_values(kept[column], key_map)
    if not changed:
        return outcome
    return Outcome(kept.assign(**changed), outcome.quarantined, outcome.merged, outcome.fixes, outcome.key_map)


def check_references(outcome: Outcome, mapping: TableMapping, ctx: Context) -> Outcome:
    """Quarantine rows whose foreign keys name an entity row of another table that is not loaded."""
    produced = set(mapping.targets)
    for entity_name in mapping.targets:
        for fk in ctx.schema.entity(entity_name).foreign_keys:
            if fk.entity in produced:
                continue  # produced from the same legacy row: present by construction
            columns = [f"{entity_name}.{name}" for name in fk.fields]
            if not all(c in outcome.kept.columns for c in columns):
                continue
            known = ctx.state.kept_keys.get(fk.entity)
            if known is None:
                raise ConfigurationError(f"{entity_name} references {fk.entity}, whose keys no earlier table left")
            outcome = outcome.then(lambda rows, fk=fk, cols=columns, known=known: split_missing_parents(
                rows, cols, known, ctx.state.quarantined_keys.get(fk.entity), MISSING_PARENT_REASON.get(fk.entity)))
    return outcome


# --- 6: table rules, entities -------------------------------------------------------------------

def entity_frames(kept: pd.DataFrame, mapping: TableMapping, table: legacy.Table, ctx: Context,
                  extra: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Split the kept wide rows into one frame per entity, fields in schema order, lineage last."""
    frames = {}
    for entity_name in mapping.targets:
        entity = ctx.schema.entity(entity_name)
        source = extra.get(entity_name, kept)
        columns = {name: source.get(f"{entity_name}.{name}", pd.Series(pd.NA, index=source.index))
                   for name in entity.field_names}
        frame = pd.DataFrame(columns)
        frame[SOURCE_TABLE] = table.qualified
        frame[SOURCE_KEY] = source[SOURCE_KEY].to_numpy()
        frame[SOURCE_SCHOOL] = source[SOURCE_SCHOOL].to_numpy()
        if entity.deduplicate:
            frame = frame.drop_duplicates(list(entity.natural_key))
        frames[entity_name] = frame.reset_index(drop=True)
    return frames


def transform_table(raw: pd.DataFrame, table: legacy.Table, mapping: TableMapping, ctx: Context) -> TableResult:
    """Map, scrub, place, check and rule one legacy table (or one part of a table processed in parts)."""
    rows_in = len(raw)
    mapped = map_rows(raw, table, mapping, ctx)
    school = school_of_rows(pd.concat([mapped.kept, mapped.quarantined]), mapping, ctx)
    mapped = _with_school(mapped, school)
    rows_in_by_school = {str(k): int(v) for k, v in school.value_counts().sort_index().items()}
    outcome = check_references(rekey_merged(mapped, ctx), mapping, ctx)
    extra: dict[str, pd.DataFrame] = {}
    for name in mapping.rules:
        ruled = RULES[name].apply(outcome, ctx)
        outcome, extra = ruled.outcome, {**extra, **ruled.extra}
    check_accounting(table.qualified, rows_in, outcome)
    outcome = _name_legacy_columns(outcome, mapping)
    return TableResult(table.system.value, table.name, rows_in, rows_in_by_school, outcome,
                       entity_frames(outcome.kept, mapping, table, ctx, extra))


def _name_legacy_columns(outcome: Outcome, mapping: TableMapping) -> Outcome:
    """Quarantine records name the legacy column a steward must fix, not the target field a rule read."""
    quarantined = outcome.quarantined
    if quarantined.empty:
        return outcome
    source_of = {mapped.column: mapped.source.column for mapped in mapping.fields}
    named = quarantined[REASON_COLUMN].map(lambda column: source_of.get(column, column), na_action="ignore")
    return Outcome(outcome.kept, quarantined.assign(**{REASON_COLUMN: named.astype("string")}), outcome.merged,
                   outcome.fixes, outcome.key_map)


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
