"""Great Expectations Core 1.x, called directly: the import, an ephemeral context, one entity's suite in it.

Input: a suite of ``expectations/`` (a dict, see :mod:`.suites`) and, for cross-entity rules,
the tables of the other entities. Output: a GX context with no files behind it (one per call,
so parallel tasks never share one) and the GX suite registered in it.
"""

from __future__ import annotations

import os
from typing import Any

from sis_migrate.stages.validate.results import ROWS_RULE


def import_gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    return gx


def ephemeral_context():
    gx = import_gx()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False, "metric_calculations": False}
    return context


def add_suite(context, suite: dict[str, Any], tables: dict[str, str] | None):
    """The GX suite of one entity: cross-entity rules left out (``tables`` None) or their tables filled in."""
    gx = import_gx()
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

