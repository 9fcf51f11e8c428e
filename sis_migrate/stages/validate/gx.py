"""Validation at three points of a run, with Great Expectations Core 1.x called directly.

1. :func:`profile_staged`: a profile of each staged legacy table (rows, null share and distinct
   count per column), compared with the run manifest; numbers only.
2. :func:`validate_unified`: the suites of ``expectations/`` on the unified Parquet, one
   ephemeral GX context per call (pandas datasource, one dataframe asset per entity). Large
   entities are validated batch by batch and the results summed; natural-key uniqueness is then
   recounted over all batches. Cross-entity rules run as pandas computations reported in GX's
   result format.
3. :func:`validate_target`: the same suites in the target database through GX's SQL datasource
   (PostgreSQL or SQLite): the checks run in the database, nothing is pulled into pandas. Plus row
   counts and keyed checksums of the natural keys, per school where the entity has one, reconciled
   with the unified Parquet.

:func:`build_data_docs` is the one function that touches a file context: it is run by one task
only (a shared file context corrupts under parallel tasks) after the others have written results.

Privacy: results are computed with ``SUMMARY`` and no partial unexpected values, then
:func:`sanitize_result` keeps only counts and percentages (and column names) before anything is
written. No stored result, data doc or log line holds a row value.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sis_migrate.errors import ConfigurationError, SourceError
from sis_migrate.locations import redact_url
from sis_migrate.schema import NO_SCHOOL, SOURCE_SCHOOL, UnifiedSchema, default_schema
from sis_migrate.stages.validate.suites import BLOCKING, WARNING, grade_ordinals, load_suites
from sis_migrate.storage import Staging
from transforms.grades import grade_number

RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0, "include_unexpected_rows": False}
# What a stored result may keep: counts, percentages and, where it names columns or counts rows, observed_value.
RESULT_KEYS = ("element_count", "missing_count", "missing_percent", "unexpected_count", "unexpected_percent",
               "unexpected_percent_total", "unexpected_percent_nonmissing")
OBSERVED_VALUE_IS_SAFE = ("expect_table_columns_to_match_set", "unexpected_rows_expectation",
                          "expect_table_row_count_to_be_between", "expect_table_row_count_to_equal")
# Named for the record: these carry row values and never survive sanitize_result.
VALUE_KEYS = ("partial_unexpected_list", "partial_unexpected_index_list", "partial_unexpected_counts",
              "unexpected_list", "unexpected_index_list", "unexpected_index_query", "unexpected_rows", "details")
ROWS_RULE = "unexpected_rows_expectation"
SCHOOL_FIELDS = ("school_id", "responsibility_school_id", "home_school_id")

ALL_SCHOOLS = "(all)"
DEFAULT_HASH_KEY = "rehearsal-report-key"
BATCH_ROWS = 1_000_000
VALIDATION_DIR = "validation"
ROWS_META = "sis_rows"  # rows a stored result covers, kept in its meta


# --- results ------------------------------------------------------------------------------------

def sanitize_result(suite_result: dict[str, Any]) -> dict[str, Any]:
    """A copy of a GX suite validation result that holds no row value: counts, percentages, names.

    Every expectation result keeps only :data:`RESULT_KEYS` (and ``observed_value`` for table-level
    expectations, where it is column names or a row count); exception details shrink to the
    exception's type, since a database error message can quote a value.
    """
    clean = {key: value for key, value in suite_result.items() if key != "results"}
    meta = dict(clean.get("meta") or {})
    markers = {k: v for k, v in (meta.get("batch_markers") or {}).items() if "fingerprint" not in k}
    if "batch_markers" in meta:
        meta["batch_markers"] = markers
    clean["meta"] = meta
    clean["results"] = [_sanitize_one(result) for result in suite_result.get("results", [])]
    return clean


def _sanitize_one(result: dict[str, Any]) -> dict[str, Any]:
    config = result.get("expectation_config") or {}
    raw = result.get("result") or {}
    kept = {key: raw[key] for key in RESULT_KEYS if key in raw}
    if config.get("type") in OBSERVED_VALUE_IS_SAFE and "observed_value" in raw:
        kept["observed_value"] = raw["observed_value"]
    info = result.get("exception_info") or {}
    raised = _raised(info)
    return {"success": bool(result.get("success")), "expectation_config": config, "result": kept,
            "meta": {k: v for k, v in (result.get("meta") or {}).items() if k not in VALUE_KEYS},
            "exception_info": {"raised_exception": raised,
                               "exception_message": _exception_types(info) if raised else None,
                               "exception_traceback": None}}


def _raised(info: dict[str, Any]) -> bool:
    if "raised_exception" in info:
        return bool(info["raised_exception"])
    return any(isinstance(v, dict) and v.get("raised_exception") for v in info.values())


_EXCEPTION_NAME = re.compile(r"\b((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Warning))\b")


def _exception_types(info: dict[str, Any]) -> str:
    """The exception class names GX reports (e.g. ``OperationalError``), never their messages."""
    entries = [info, *(v for v in info.values() if isinstance(v, dict))]
    texts = [entry.get(key) for entry in entries for key in ("exception_message", "exception_traceback")]
    names = sorted({match.rsplit(".", 1)[-1] for text in texts if isinstance(text, str)
                    for match in _EXCEPTION_NAME.findall(text)})
    return "error while computing the check: " + (", ".join(names) or "unknown")


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 4) if whole else 0.0


def _severity(config: dict[str, Any]) -> str:
    return (config.get("meta") or {}).get("severity", BLOCKING)


def _column_of(config: dict[str, Any]) -> str | None:
    kwargs = config.get("kwargs") or {}
    if "column" in kwargs:
        return kwargs["column"]
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    spec = (config.get("meta") or {}).get("spec") or {}
    return spec.get("date") or (",".join(spec["fields"]) if spec.get("fields") else None)


def summarize(point: str, results: dict[str, dict[str, Any]], rows: dict[str, int]) -> dict[str, Any]:
    """Counts of evaluated and failed expectations per entity, and the failures, blocking first."""
    failures, entities = [], {}
    for entity, suite_result in results.items():
        failed = {BLOCKING: 0, WARNING: 0}
        for result in suite_result["results"]:
            if result["success"]:
                continue
            config = result["expectation_config"]
            severity = _severity(config)
            failed[severity] = failed.get(severity, 0) + 1
            counts = result["result"]
            element = counts.get("element_count", rows.get(entity, 0))
            unexpected = counts.get("unexpected_count")
            failures.append({
                "entity": entity, "severity": severity, "check": (config.get("meta") or {}).get("check"),
                "expectation": config.get("type"), "column": _column_of(config),
                "unexpected_count": unexpected, "element_count": element,
                "unexpected_percent": counts.get("unexpected_percent",
                                                 _percent(unexpected, element) if unexpected is not None else None),
                "error": result["exception_info"]["exception_message"],
            })
        entities[entity] = {"rows": rows.get(entity, 0), "evaluated": len(suite_result["results"]),
                            "failed_blocking": failed[BLOCKING], "failed_warning": failed[WARNING]}
    failures.sort(key=lambda f: (f["severity"] != BLOCKING, -(f["unexpected_percent"] or 0), f["entity"]))
    blocking = sum(1 for f in failures if f["severity"] == BLOCKING)
    return {"point": point, "success": blocking == 0, "blocking_failures": blocking,
            "warning_failures": len(failures) - blocking, "entities": entities, "failures": failures}


# --- GX plumbing -----------------------------------------------------------------------------

def _gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    return gx


def _ephemeral_context():
    gx = _gx()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    return context


def _gx_suite(context, suite: dict[str, Any], tables: dict[str, str] | None):
    """The GX suite of one entity: cross-entity rules left out (``tables`` None) or their tables filled in."""
    gx = _gx()
    expectations = []
    for expectation in suite["expectations"]:
        if expectation["type"] == ROWS_RULE:
            if tables is None:
                continue
            spec = expectation["meta"]["spec"]
            needed = {spec["parent"]} if "parent" in spec else {spec.get("person")}
            if not needed <= set(tables):
                continue
            query = expectation["kwargs"]["unexpected_rows_query"].format(batch="{batch}", **tables)
            expectation = {**expectation, "kwargs": {**expectation["kwargs"], "unexpected_rows_query": query}}
        expectations.append(expectation)
    return context.suites.add(gx.ExpectationSuite(name=suite["name"], expectations=expectations,
                                                  meta=suite.get("meta", {})))


def _merge_results(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum per-batch results of one suite: counts add up, percentages are recomputed."""
    if len(parts) == 1:
        return parts[0]
    merged = dict(parts[0])
    results = []
    for position, first in enumerate(parts[0]["results"]):
        same = [part["results"][position] for part in parts]
        counts: dict[str, Any] = {}
        for key in ("element_count", "missing_count", "unexpected_count"):
            if all(key in r["result"] for r in same):
                counts[key] = sum(r["result"][key] for r in same)
        if "unexpected_count" in counts:
            counts["unexpected_percent"] = _percent(counts["unexpected_count"],
                                                    counts.get("element_count", 0) - counts.get("missing_count", 0))
            counts["unexpected_percent_total"] = _percent(counts["unexpected_count"], counts.get("element_count", 0))
        if "observed_value" in first["result"]:
            values = [r["result"]["observed_value"] for r in same]
            counts["observed_value"] = sum(values) if all(isinstance(v, int) for v in values) else values[0]
        info = next((r["exception_info"] for r in same if r["exception_info"]["raised_exception"]),
                    first["exception_info"])
        results.append({**first, "success": all(r["success"] for r in same), "result": counts,
                        "exception_info": info})
    merged["results"] = results
    merged["success"] = all(r["success"] for r in results)
    return _with_statistics(merged)


def _with_statistics(suite_result: dict[str, Any]) -> dict[str, Any]:
    results = suite_result["results"]
    passed = sum(1 for r in results if r["success"])
    suite_result["statistics"] = {"evaluated_expectations": len(results), "successful_expectations": passed,
                                  "unsuccessful_expectations": len(results) - passed,
                                  "success_percent": _percent(passed, len(results)) if results else None}
    suite_result["success"] = passed == len(results)
    return suite_result


# --- staged legacy data: profile ----------------------------------------------------------------

class _DistinctHashes:
    """Exact distinct count of a column seen part by part, holding 64-bit hashes rather than values.

    Each part's unique hashes are kept until they outgrow the last compacted set, then merged:
    memory stays near 8 bytes per distinct value and the merging cost is amortised.
    """

    def __init__(self) -> None:
        self._merged = np.empty(0, dtype=np.uint64)
        self._pending: list[np.ndarray] = []
        self._pending_size = 0

    def add(self, values: pd.Series) -> None:
        hashed = np.unique(pd.util.hash_pandas_object(values, index=False).to_numpy())
        self._pending.append(hashed)
        self._pending_size += len(hashed)
        if self._pending_size > max(len(self._merged), 1_000_000):
            self._compact()

    def _compact(self) -> None:
        self._merged = np.unique(np.concatenate([self._merged, *self._pending]))
        self._pending, self._pending_size = [], 0

    def count(self) -> int:
        self._compact()
        return len(self._merged)


def profile_staged(staging: Staging) -> dict[str, Any]:
    """Rows, null share and distinct count per column of each staged legacy table; no value leaves.

    Distinct counts are exact, over 64-bit hashes of the values, so memory holds hashes rather than
    data. Rows are compared with the run manifest's count for the table.
    """
    manifest = staging.read_json("manifest.json")
    tables = {}
    for name, entry in sorted((manifest.get("tables") or {}).items()):
        system, table = name.split(".", 1)
        rows, nulls, distinct = 0, {}, {}
        for frame in staging.read_parts(f"extract/{system}/{table}/"):
            rows += len(frame)
            for column in frame.columns:
                nulls[column] = nulls.get(column, 0) + int(frame[column].isna().sum())
                distinct.setdefault(column, _DistinctHashes()).add(frame[column].dropna())
        profile = {"table": name, "rows": rows, "manifest_rows": entry.get("rows"),
                   "rows_match": entry.get("rows") is None or entry.get("rows") == rows,
                   "columns": {column: {"null_share": round(nulls[column] / rows, 6) if rows else 0.0,
                                        "distinct": distinct[column].count()} for column in nulls}}
        staging.write_json(f"{VALIDATION_DIR}/profile/{name}.json", profile)
        tables[name] = {"rows": rows, "manifest_rows": profile["manifest_rows"], "rows_match": profile["rows_match"],
                        "columns": len(nulls)}
    summary = {"point": "staged", "success": all(t["rows_match"] for t in tables.values()), "tables": tables}
    staging.write_json(f"{VALIDATION_DIR}/profile/summary.json", summary)
    return summary


# --- unified Parquet -----------------------------------------------------------------------------

def _parts(staging: Staging, entity: str) -> list[str]:
    return [path for path in staging.list(f"unified/{entity}/") if path.endswith(".parquet")]


def _read_entity_frames(staging: Staging, paths: list[str], columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
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
            frames = list(_read_entity_frames(self.staging, _parts(self.staging, entity), columns))
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
                       "unexpected_percent": _percent(unexpected, element_count)},
            "meta": {"computed_by": computed_by},
            "exception_info": {"raised_exception": False, "exception_message": None, "exception_traceback": None}}


def _global_duplicates(staging: Staging, paths: list[str], key: list[str]) -> int:
    """Rows whose natural key occurs more than once across every part (64-bit hashes of the key)."""
    hashes = [pd.util.hash_pandas_object(frame[key], index=False).to_numpy()
              for frame in _read_entity_frames(staging, paths, key)]
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
    context = _ephemeral_context()
    datasource = context.data_sources.add_pandas("unified")
    parents = _Parents(staging, schema)
    results = {}
    for name in wanted:
        paths = _parts(staging, name)
        if not paths or name not in suites:
            continue
        results[name] = _validate_entity(staging, schema.entity(name), suites[name], paths, context, datasource,
                                         parents, batch_rows)
        staging.write_json(f"{VALIDATION_DIR}/unified/{name}.json", results[name])
    summary = summarize("unified", results, {name: _rows_of(result) for name, result in results.items()})
    if entities is None:
        staging.write_json(f"{VALIDATION_DIR}/unified/summary.json", summary)
    return summary


def gather_results(staging: Staging, point: str = "unified") -> dict[str, Any]:
    """The summary of every stored result of a validation point, written as ``validation/<point>/summary.json``."""
    results = {Path(path).stem: staging.read_json(path) for path in staging.list(f"{VALIDATION_DIR}/{point}/")
               if path.endswith(".json") and Path(path).stem not in ("summary", "reconcile")}
    summary = summarize(point, results, {name: _rows_of(result) for name, result in results.items()})
    staging.write_json(f"{VALIDATION_DIR}/{point}/summary.json", summary)
    return summary


def _rows_of(suite_result: dict[str, Any]) -> int:
    return int((suite_result.get("meta") or {}).get(ROWS_META, 0))


def _validate_entity(staging: Staging, entity, suite: dict[str, Any], paths: list[str], context, datasource,
                     parents: _Parents, batch_rows: int) -> dict[str, Any]:
    name = suite["meta"]["entity"]
    gx_suite = _gx_suite(context, suite, tables=None)
    batch_definition = datasource.add_dataframe_asset(name).add_batch_definition_whole_dataframe("all")
    frames: Iterable[pd.DataFrame] = _read_entity_frames(staging, paths)
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
    merged = _merge_results(batch_results)
    if len(batch_results) > 1 and not entity.deduplicate:
        _recount_uniqueness(merged, staging, paths, list(entity.natural_key))
    merged["results"] += [_rule_result(rule, total, count, "pandas")
                          for rule, count in zip(rules, rule_counts, strict=True)]
    merged.setdefault("meta", {})[ROWS_META] = total
    return sanitize_result(_with_statistics(merged))


def _recount_uniqueness(merged: dict[str, Any], staging: Staging, paths: list[str], key: list[str]) -> None:
    duplicates = _global_duplicates(staging, paths, key)
    for result in merged["results"]:
        if (result["expectation_config"].get("meta") or {}).get("check") == "natural_key_unique":
            counts = result["result"]
            counts["unexpected_count"] = duplicates
            counts["unexpected_percent"] = _percent(duplicates, counts.get("element_count", 0))
            result["success"] = duplicates == 0


# --- target database ---------------------------------------------------------------------------

def _gx_url(url: str) -> str:
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _checksum_of(text: str, hash_key: str) -> int:
    """A 32-bit keyed hash of a natural key's text; sums of it stand for the set of keys."""
    return int(hashlib.md5(f"{hash_key}|{text}".encode()).hexdigest()[:8], 16)


def _key_texts(frame: pd.DataFrame, fields: list[str]) -> pd.Series:
    parts = []
    for field in fields:
        column = frame[field]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            parts.append(column.dt.strftime("%Y-%m-%d").astype(object))
        else:
            parts.append(column.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else
                                    str(int(v)) if isinstance(v, (int, np.integer, float, np.floating)) else str(v)))
    text = parts[0].astype(str)
    for part in parts[1:]:
        text = text + "|" + part.astype(str)
    return text


def _school_column(entity, columns: Iterable[str]) -> str | None:
    """The entity's own school field, else the lineage school the pipeline records; None if neither."""
    available = set(columns)
    return next((field for field in (*SCHOOL_FIELDS, SOURCE_SCHOOL)
                 if field in available and (field in entity.field_names or field == SOURCE_SCHOOL)), None)


def _unified_checksums(staging: Staging, name: str, entity, hash_key: str) -> dict[str, dict[str, int]]:
    """Per school: rows and checksum of the distinct natural keys in the unified Parquet."""
    key = list(entity.natural_key)
    paths = _parts(staging, name)
    if not paths:
        return {}
    school = _school_column(entity, [*entity.field_names, *_parquet_columns(staging, paths[0])])
    columns = key + ([school] if school and school not in key else [])
    frame = pd.concat(list(_read_entity_frames(staging, paths, columns)), ignore_index=True).drop_duplicates(key)
    groups = (frame[school].astype(object).where(frame[school].notna(), NO_SCHOOL) if school
              else pd.Series(ALL_SCHOOLS, index=frame.index))
    sums = _key_texts(frame, key).map(lambda text: _checksum_of(text, hash_key))
    table = pd.DataFrame({"school": groups.astype(str), "checksum": sums.astype(object)})
    return {str(school_id): {"rows": len(group), "checksum": int(sum(group["checksum"]))}
            for school_id, group in table.groupby("school", sort=True)}


def _parquet_columns(staging: Staging, path: str) -> list[str]:
    return list(staging.read_arrow(path).schema.names)


def _target_checksums(engine, table: str, columns: list[str], entity, hash_key: str) -> dict[str, dict[str, int]]:
    from sqlalchemy import text

    key = list(entity.natural_key)
    school = _school_column(entity, columns)
    group = f"COALESCE(CAST({school} AS TEXT), '{NO_SCHOOL}')" if school else f"'{ALL_SCHOOLS}'"
    key_text = " || '|' || ".join(f"CAST({field} AS TEXT)" for field in key)
    if engine.dialect.name == "postgresql":
        hashed = f"(('x' || substr(md5(CAST(:hash_key AS TEXT) || '|' || {key_text}), 1, 8))::bit(32)::bigint)"
    else:
        hashed = f"sis_keyed_checksum(:hash_key, {key_text})"
    query = text(f"SELECT {group} AS school, COUNT(*) AS n, SUM({hashed}) AS checksum FROM {table} GROUP BY 1")
    with engine.connect() as connection:
        rows = connection.execute(query, {"hash_key": hash_key}).all()
    return {str(school_id): {"rows": int(count), "checksum": int(checksum or 0)} for school_id, count, checksum in rows}


def _engine(url: str):
    from sqlalchemy import create_engine, event

    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _register(dbapi_connection, _record) -> None:  # the checksum the PostgreSQL side computes with md5
            dbapi_connection.create_function("sis_keyed_checksum", 2,
                                             lambda key, text: _checksum_of(text, key), deterministic=True)
    return engine


def _reconcile(unified: dict[str, dict[str, int]], target: dict[str, dict[str, int]]) -> dict[str, Any]:
    schools = sorted(set(unified) | set(target))
    mismatched = [school for school in schools if unified.get(school) != target.get(school)]
    return {"rows_unified": sum(v["rows"] for v in unified.values()),
            "rows_target": sum(v["rows"] for v in target.values()),
            "count_match": sum(v["rows"] for v in unified.values()) == sum(v["rows"] for v in target.values()),
            "checksum_match": not mismatched, "schools": len(schools), "schools_mismatched": mismatched,
            "by_school": {school: {"unified": unified.get(school, {}).get("rows", 0),
                                   "target": target.get(school, {}).get("rows", 0),
                                   "checksum_match": school not in mismatched} for school in schools}}


def validate_target(target_url: str, schema_name: str | None, staging: Staging, schema: UnifiedSchema | None = None,
                    suites: dict | None = None, hash_key: str = DEFAULT_HASH_KEY) -> dict[str, Any]:
    """Run the suites in the target database (GX SQL datasource) and reconcile counts and checksums.

    ``schema_name`` is the run's PostgreSQL schema (None on SQLite or the default schema). Writes
    ``validation/target/<entity>.json``, ``validation/target/reconcile.json`` and
    ``validation/target/summary.json``; returns the summary. Success: no blocking failure and
    every entity's count and checksum equal to the unified Parquet's, per school.
    """
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    schema = schema or default_schema()
    suites = suites or load_suites()
    url = _gx_url(target_url)
    engine = _engine(url)
    try:
        present = set(inspect(engine).get_table_names(schema=schema_name))
    except SQLAlchemyError as err:
        raise SourceError(f"target {redact_url(url)} cannot be inspected ({type(err).__name__})") from err
    qualify = (lambda t: f'"{schema_name}"."{t}"') if schema_name else (lambda t: f'"{t}"')
    tables = {name: qualify(name) for name in schema.entities if name in present}
    context = _ephemeral_context()
    if engine.dialect.name == "postgresql":
        datasource = context.data_sources.add_postgres("target", connection_string=url)
    elif engine.dialect.name == "sqlite":
        datasource = context.data_sources.add_sqlite("target", connection_string=url)
    else:
        raise ConfigurationError(f"target validation supports PostgreSQL and SQLite, not {engine.dialect.name}")
    results, rows, reconcile = {}, {}, {}
    try:
        for name, entity in schema.entities.items():
            if name not in tables or name not in suites:
                continue
            columns = [c["name"] for c in inspect(engine).get_columns(name, schema=schema_name)]
            target_sums = _target_checksums(engine, tables[name], columns, entity, hash_key)
            reconcile[name] = _reconcile(_unified_checksums(staging, name, entity, hash_key), target_sums)
            rows[name] = reconcile[name]["rows_target"]
            if not rows[name] and not reconcile[name]["rows_unified"]:
                continue  # an entity this run has no row of: nothing for the suite to look at
            asset = datasource.add_table_asset(name, table_name=name, schema_name=schema_name)
            batch = asset.add_batch_definition_whole_table("all").get_batch()
            suite_result = batch.validate(_gx_suite(context, suites[name], tables), result_format=RESULT_FORMAT)
            checked = _with_row_counts(suite_result.to_json_dict(), rows[name])
            checked.setdefault("meta", {})[ROWS_META] = rows[name]
            results[name] = sanitize_result(checked)
            staging.write_json(f"{VALIDATION_DIR}/target/{name}.json", results[name])
    except SQLAlchemyError as err:
        raise SourceError(f"target {redact_url(url)} could not be validated ({type(err).__name__})") from err
    finally:
        engine.dispose()
    for name, entity in schema.entities.items():
        if name not in reconcile and _parts(staging, name):
            reconcile[name] = _reconcile(_unified_checksums(staging, name, entity, hash_key), {})
    summary = summarize("target", results, rows)
    unreconciled = sorted(name for name, entry in reconcile.items()
                          if not (entry["count_match"] and entry["checksum_match"]))
    summary.update({"reconciled": not unreconciled, "unreconciled_entities": unreconciled,
                    "success": summary["success"] and not unreconciled})
    staging.write_json(f"{VALIDATION_DIR}/target/reconcile.json", reconcile)
    staging.write_json(f"{VALIDATION_DIR}/target/summary.json", summary)
    return summary


def _with_row_counts(suite_result: dict[str, Any], row_count: int) -> dict[str, Any]:
    """SQL rules report only a count of unexpected rows; give them the table's rows and a percentage."""
    for result in suite_result["results"]:
        if result["expectation_config"]["type"] == ROWS_RULE and "observed_value" in (result.get("result") or {}):
            unexpected = int(result["result"]["observed_value"])
            result["result"].update({"element_count": row_count, "unexpected_count": unexpected,
                                     "unexpected_percent": _percent(unexpected, row_count)})
    return suite_result


# --- data docs -------------------------------------------------------------------------------

def _stored_results(staging: Staging) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for point in ("unified", "target"):
        for path in staging.list(f"{VALIDATION_DIR}/{point}/"):
            stem = Path(path).stem
            if path.endswith(".json") and stem not in ("summary", "reconcile"):
                yield point, stem, staging.read_json(path)


def build_data_docs(staging: Staging, suites: dict | None = None) -> str:
    """Build GX Data Docs from the stored (sanitized) results; copy them to ``report/data_docs/``.

    One file context under a temporary folder, used by this call only, so parallel tasks never
    share it; the site is then written through :class:`Staging`, so S3 staging works too. Returns
    the location of the index page.
    """
    gx = _gx()
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    suites = suites or load_suites()
    with tempfile.TemporaryDirectory(prefix="sis-data-docs-") as folder:
        context = gx.get_context(mode="file", project_root_dir=folder)
        for suite in suites.values():
            context.suites.add(gx.ExpectationSuite(name=suite["name"], expectations=suite["expectations"],
                                                   meta=suite.get("meta", {})))
        for point, entity, stored in _stored_results(staging):
            run_id = RunIdentifier(run_name=f"{staging.run_id}.{point}")
            clean = sanitize_result(stored)
            clean["meta"]["run_id"] = run_id
            key = ValidationResultIdentifier(
                expectation_suite_identifier=ExpectationSuiteIdentifier(name=stored["suite_name"]),
                run_id=run_id, batch_identifier=f"{point}.{entity}")
            context.validation_results_store.set(key, ExpectationSuiteValidationResult(**clean))
        sites = context.build_data_docs()
        site_root = Path(sites["local_site"].removeprefix("file://")).parent
        staging.clear("report/data_docs")
        for path in sorted(site_root.rglob("*")):
            if path.is_file():
                staging.write_bytes(f"report/data_docs/{path.relative_to(site_root)}", path.read_bytes())
    return f"{staging.uri}/report/data_docs/index.html"
