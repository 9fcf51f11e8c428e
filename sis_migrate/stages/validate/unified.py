"""Validation point 2: the suites of ``expectations/`` on the unified Parquet, cross-entity rules included.

Input: ``unified/<entity>/`` Parquet and the suites. Output: ``validation/unified/<entity>.json``
(sanitized results) and, for a whole run, ``validation/unified/summary.json``.

One ephemeral GX context per call (pandas datasource, one dataframe asset per entity). Large
entities are validated batch by batch and the results summed; natural-key uniqueness is then
recounted over all batches. Cross-entity rules (foreign keys, dates against a school year, age
against grade) run as pandas computations reported in GX's result format: the twins of the SQL
the target's suites run (:mod:`.target`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pandas as pd

from sis_migrate.errors import ConfigurationError
from sis_migrate.schema import UnifiedSchema, default_schema
from sis_migrate.stages.validate.context import add_suite, ephemeral_context
from sis_migrate.stages.validate.results import (
    RESULT_FORMAT,
    ROWS_META,
    ROWS_RULE,
    VALIDATION_DIR,
    merge_results,
    percent,
    rows_of,
    sanitize_result,
    summarize,
    with_statistics,
)
from sis_migrate.stages.validate.suites import grade_ordinals, load_suites
from sis_migrate.storage import Staging
from transforms.grades import grade_number

BATCH_ROWS = 1_000_000


def unified_parts(staging: Staging, entity: str) -> list[str]:
    return [path for path in staging.list(f"unified/{entity}/") if path.endswith(".parquet")]


def read_entity_frames(staging: Staging, paths: list[str], columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    for path in paths:
        yield staging.read_frame(path, columns)


def _batches(frames: Iterable[pd.DataFrame], batch_rows: int) -> Iterator[pd.DataFrame]:
    pending: list[pd.DataFrame] = []
    size = 0
    for frame in frames:
        pending.append(frame)
        size += len(frame)
        if size >= batch_rows:
            yield pd.concat(pending, ignore_index=True)
            pending, size = [], 0
    if pending:
        yield pd.concat(pending, ignore_index=True)


class _Parents:
    """Key columns (and the few attributes rules need) of other entities, read once per call."""

    def __init__(self, staging: Staging, schema: UnifiedSchema):
        self.staging, self.schema, self._cache = staging, schema, {}

    def frame(self, entity: str, columns: list[str]) -> pd.DataFrame:
        cache_key = (entity, tuple(columns))
        if cache_key not in self._cache:
            frames = list(read_entity_frames(self.staging, unified_parts(self.staging, entity), columns))
            frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
            self._cache[cache_key] = frame.drop_duplicates().reset_index(drop=True)
        return self._cache[cache_key]


def _key_index(frame: pd.DataFrame) -> pd.Index:
    if frame.shape[1] == 1:
        return pd.Index(frame.iloc[:, 0].dropna().astype(object).unique())
    return pd.MultiIndex.from_frame(frame.astype(object))


def _probe(frame: pd.DataFrame, fields: list[str]) -> pd.Index:
    values = frame[fields].astype(object)
    return pd.Index(values.iloc[:, 0]) if len(fields) == 1 else pd.MultiIndex.from_frame(values)


def _outside_year(dates: pd.Series, years: pd.Series) -> np.ndarray:
    at = pd.to_datetime(dates, errors="coerce")
    text = years.astype("string")
    start = pd.to_datetime(text.str[:4] + "-07-01", errors="coerce")
    end = pd.to_datetime(text.str[5:9] + "-06-30", errors="coerce")
    outside = (at < start) | (at > end)
    return np.asarray(outside.fillna(False), dtype=bool)


def _age_years(at: pd.Series, birth: pd.Series) -> pd.Series:
    at, birth = pd.to_datetime(at, errors="coerce"), pd.to_datetime(birth, errors="coerce")
    years = at.dt.year - birth.dt.year
    before_birthday = (at.dt.month * 100 + at.dt.day) < (birth.dt.month * 100 + birth.dt.day)
    return years - before_birthday.astype("Int64")


def _lookup(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    """``value`` by ``key`` (the first row of a duplicated key: uniqueness is reported by its own check)."""
    return frame.drop_duplicates(key).set_index(key)[value]


def evaluate_rule(spec: dict[str, Any], frame: pd.DataFrame, parents: _Parents) -> int:
    """Rows of ``frame`` that break a cross-entity rule (the pandas twin of the rule's SQL)."""
    kind = spec["kind"]
    if kind == "foreign_key":
        present = np.asarray(frame[spec["fields"]].notna().all(axis=1), dtype=bool)
        parent = parents.frame(spec["parent"], spec["parent_fields"])
        known = np.asarray(_probe(frame, spec["fields"]).isin(_key_index(parent)), dtype=bool)
        return int((present & ~known).sum())
    if kind == "date_in_school_year":
        return int(_outside_year(frame[spec["date"]], frame[spec["school_year"]]).sum())
    if kind == "date_in_parent_school_year":
        parent = parents.frame(spec["parent"], [*spec["parent_fields"], spec["school_year"]])
        years = frame[spec["fields"][0]].map(_lookup(parent, spec["parent_fields"][0], spec["school_year"]))
        return int(_outside_year(frame[spec["date"]], years).sum())
    if kind == "age_for_grade":
        person = parents.frame(spec["person"], [*spec["parent_fields"], spec["birth_date"]])
        birth = frame[spec["fields"][0]].map(_lookup(person, spec["parent_fields"][0], spec["birth_date"]))
        grade = grade_number(frame[spec["grade"]], grade_ordinals(spec["code_set"]))
        age = _age_years(frame[spec["date"]], birth)
        bad = (age < grade + spec["min_offset"]) | (age > grade + spec["max_offset"])
        return int(bad.fillna(False).sum())
    raise ConfigurationError(f"unknown cross-entity rule kind {kind!r} in the expectation suites")


def _rule_result(expectation: dict[str, Any], element_count: int, unexpected: int, computed_by: str) -> dict:
    return {"success": unexpected == 0, "expectation_config": expectation,
            "result": {"observed_value": unexpected, "element_count": element_count, "unexpected_count": unexpected,
                       "unexpected_percent": percent(unexpected, element_count)},
            "meta": {"computed_by": computed_by},
            "exception_info": {"raised_exception": False, "exception_message": None, "exception_traceback": None}}


def _global_duplicates(staging: Staging, paths: list[str], key: list[str]) -> int:
    """Rows whose natural key occurs more than once across every part (64-bit hashes of the key)."""
    hashes = [pd.util.hash_pandas_object(frame[key], index=False).to_numpy()
              for frame in read_entity_frames(staging, paths, key)]
    if not hashes:
        return 0
    values = pd.Series(np.concatenate(hashes))
    return int(values.duplicated(keep=False).sum())


def validate_unified(staging: Staging, schema: UnifiedSchema | None = None, suites: dict | None = None,
                     batch_rows: int = BATCH_ROWS, entities: Iterable[str] | None = None) -> dict[str, Any]:
    """Run the entities' suites on the unified Parquet; write one result per entity under ``validation/unified/``.

    With ``entities`` None every entity is validated and the summary is also written as
    ``validation/unified/summary.json``; success means no blocking failure, and failures are listed
    blocking first with counts and percentages. Parallel tasks pass their own ``entities`` (each
    call has its own ephemeral context), get that part's summary back, and one task then calls
    :func:`gather_results` to write the run's summary.
    """
    schema = schema or default_schema()
    suites = suites or load_suites()
    wanted = list(schema.entities) if entities is None else list(entities)
    unknown = [name for name in wanted if name not in schema.entities]
    if unknown:
        raise ConfigurationError(f"validate_unified: the unified schema has no entity {', '.join(unknown)}")
    context = ephemeral_context()
    datasource = context.data_sources.add_pandas("unified")
    parents = _Parents(staging, schema)
    results = {}
    for name in wanted:
        paths = unified_parts(staging, name)
        if not paths or name not in suites:
            continue
        results[name] = _validate_entity(staging, schema.entity(name), suites[name], paths, context, datasource,
                                         parents, batch_rows)
        staging.write_json(f"{VALIDATION_DIR}/unified/{name}.json", results[name])
    summary = summarize("unified", results, {name: rows_of(result) for name, result in results.items()})
    if entities is None:
        staging.write_json(f"{VALIDATION_DIR}/unified/summary.json", summary)
    return summary


def _validate_entity(staging: Staging, entity, suite: dict[str, Any], paths: list[str], context, datasource,
                     parents: _Parents, batch_rows: int) -> dict[str, Any]:
    name = suite["meta"]["entity"]
    gx_suite = add_suite(context, suite, tables=None)
    batch_definition = datasource.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
    frames: Iterable[pd.DataFrame] = read_entity_frames(staging, paths)
    if entity.deduplicate:  # many legacy rows, one entity row per key: validate what will load
        whole = pd.concat(list(frames), ignore_index=True)
        frames = [whole.drop_duplicates(list(entity.field_names)).reset_index(drop=True)]
    rules = [e for e in suite["expectations"] if e["type"] == ROWS_RULE]
    batch_results, rule_counts, total = [], [0] * len(rules), 0
    for frame in _batches(frames, batch_rows):
        total += len(frame)
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        batch_results.append(batch.validate(gx_suite, result_format=RESULT_FORMAT).to_json_dict())
        for position, rule in enumerate(rules):
            rule_counts[position] += evaluate_rule(rule["meta"]["spec"], frame, parents)
    merged = merge_results(batch_results)
    if len(batch_results) > 1 and not entity.deduplicate:
        _recount_uniqueness(merged, staging, paths, list(entity.natural_key))
    merged["results"] += [_rule_result(rule, total, count, "pandas")
                          for rule, count in zip(rules, rule_counts, strict=True)]
    merged.setdefault("meta", {})[ROWS_META] = total
    return sanitize_result(with_statistics(merged))


def _recount_uniqueness(merged: dict[str, Any], staging: Staging, paths: list[str], key: list[str]) -> None:
    duplicates = _global_duplicates(staging, paths, key)
    for result in merged["results"]:
        if (result["expectation_config"].get("meta") or {}).get("check") == "natural_key_unique":
            counts = result["result"]
            counts["unexpected_count"] = duplicates
            counts["unexpected_percent"] = percent(duplicates, counts.get("element_count", 0))
            result["success"] = duplicates == 0

