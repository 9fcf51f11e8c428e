"""Value-free validation results: what a stored result may keep, and the summaries built from them.

Input: GX suite validation results as JSON dicts (from :mod:`.unified` and :mod:`.target`), or
the results stored under ``validation/<point>/``. Output: sanitized results (counts, percentages
and column names only), per-batch results summed, and summaries (evaluated and failed
expectations per entity, the failures blocking first), written as ``validation/<point>/summary.json``
by :func:`gather_results`.

Privacy: results are computed with ``SUMMARY`` and no partial unexpected values, then
:func:`sanitize_result` keeps only counts and percentages (and column names) before anything is
written. No stored result, data doc or log line holds a row value.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sis_migrate.stages.validate.suites import BLOCKING, WARNING
from sis_migrate.storage import Staging

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
VALIDATION_DIR = "validation"
ROWS_META = "sis_rows"  # rows a stored result covers, kept in its meta


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


def percent(part: int, whole: int) -> float:
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
                                                 percent(unexpected, element) if unexpected is not None else None),
                "error": result["exception_info"]["exception_message"],
            })
        entities[entity] = {"rows": rows.get(entity, 0), "evaluated": len(suite_result["results"]),
                            "failed_blocking": failed[BLOCKING], "failed_warning": failed[WARNING]}
    failures.sort(key=lambda f: (f["severity"] != BLOCKING, -(f["unexpected_percent"] or 0), f["entity"]))
    blocking = sum(1 for f in failures if f["severity"] == BLOCKING)
    return {"point": point, "success": blocking == 0, "blocking_failures": blocking,
            "warning_failures": len(failures) - blocking, "entities": entities, "failures": failures}


def merge_results(parts: list[dict[str, Any]]) -> dict[str, Any]:
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
            counts["unexpected_percent"] = percent(counts["unexpected_count"],
                                                   counts.get("element_count", 0) - counts.get("missing_count", 0))
            counts["unexpected_percent_total"] = percent(counts["unexpected_count"], counts.get("element_count", 0))
        if "observed_value" in first["result"]:
            values = [r["result"]["observed_value"] for r in same]
            counts["observed_value"] = sum(values) if all(isinstance(v, int) for v in values) else values[0]
        info = next((r["exception_info"] for r in same if r["exception_info"]["raised_exception"]),
                    first["exception_info"])
        results.append({**first, "success": all(r["success"] for r in same), "result": counts,
                        "exception_info": info})
    merged["results"] = results
    merged["success"] = all(r["success"] for r in results)
    return with_statistics(merged)


def with_statistics(suite_result: dict[str, Any]) -> dict[str, Any]:
    results = suite_result["results"]
    passed = sum(1 for r in results if r["success"])
    suite_result["statistics"] = {"evaluated_expectations": len(results), "successful_expectations": passed,
                                  "unsuccessful_expectations": len(results) - passed,
                                  "success_percent": percent(passed, len(results)) if results else None}
    suite_result["success"] = passed == len(results)
    return suite_result


def gather_results(staging: Staging, point: str = "unified") -> dict[str, Any]:
    """The summary of every stored result of a validation point, written as ``validation/<point>/summary.json``."""
    results = {Path(path).stem: staging.read_json(path) for path in staging.list(f"{VALIDATION_DIR}/{point}/")
               if path.endswith(".json") and Path(path).stem != "summary"}
    summary = summarize(point, results, {name: rows_of(result) for name, result in results.items()})
    staging.write_json(f"{VALIDATION_DIR}/{point}/summary.json", summary)
    return summary


def rows_of(suite_result: dict[str, Any]) -> int:
    return int((suite_result.get("meta") or {}).get(ROWS_META, 0))

