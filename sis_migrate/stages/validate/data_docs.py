"""GX Data Docs built from the stored, sanitized results of the unified and target validation points.

Input: ``validation/unified/`` and ``validation/target/`` results and the suites. Output:
``report/data_docs/`` (the static site GX builds), written through :class:`Staging`.

This is the one place that touches a file context: it is run by one task only (a shared file
context corrupts under parallel tasks) after the others have written results.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sis_migrate.stages.validate.context import import_gx
from sis_migrate.stages.validate.results import VALIDATION_DIR, sanitize_result
from sis_migrate.stages.validate.suites import load_suites
from sis_migrate.storage import Staging


def _stored_results(staging: Staging) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for point in ("unified", "target"):
        for path in staging.list(f"{VALIDATION_DIR}/{point}/"):
            stem = Path(path).stem
            if path.endswith(".json") and stem != "summary":
                yield point, stem, staging.read_json(path)


def build_data_docs(staging: Staging, suites: dict | None = None) -> str:
    """Build GX Data Docs from the stored (sanitized) results; copy them to ``report/data_docs/``.

    One file context under a temporary folder, used by this call only, so parallel tasks never
    share it; the site is then written through :class:`Staging`, so S3 staging works too. Returns
    the location of the index page.
    """
    gx = import_gx()
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
