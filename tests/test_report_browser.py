"""The report and the data docs as a steward sees them: headless Chromium, a screenshot, figures on the page."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from unified_sample import PERSONAL_VALUES, make_run

from sis_migrate.stages.report import migration_report as report
from sis_migrate.stages.validate.data_docs import build_data_docs
from sis_migrate.stages.validate.unified import validate_unified

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run",
                  "--host-resolver-rules=MAP * ~NOTFOUND")  # no network: the data docs' CDN links fail fast


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium")
    if not found:
        message = "chromium is not installed (Debian package 'chromium'; `make test` installs it)"
        if IN_CI:
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    return found


def _render(chromium: str, page: Path, work: Path) -> tuple[bytes, str]:
    """A 1280x2000 screenshot of ``page`` and its DOM after rendering."""
    screenshot = work / f"{page.stem}.png"
    common = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={work / 'profile'}"]
    subprocess.run([*common, f"--screenshot={screenshot}", "--window-size=1280,2000", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], check=True, capture_output=True, timeout=120)
    return screenshot.read_bytes(), dom.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def rendered_run(tmp_path_factory):
    staging = make_run(tmp_path_factory.mktemp("staging"), "r1", duplicate_student=True, ssn_in_state_id=True)
    validate_unified(staging)
    build_data_docs(staging)
    written = report.write_report(staging)
    return staging, written["headline"]


def test_report_page_shows_the_headline_figures(chromium, rendered_run, tmp_path):
    staging, headline = rendered_run
    png, dom = _render(chromium, staging.root / "report" / "report.html", tmp_path)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    for element, value in (("rows-in", headline["rows_in"]), ("quarantined", headline["quarantined"]),
                           ("blocking-failures", headline["blocking_failures"]), ("merged", headline["merged"])):
        assert f'id="{element}">{value:,}<' in dom, element
    assert headline["blocking_failures"] == 2  # duplicate key and the SSN in state_id
    assert "natural_key_unique" in dom and "tier2_ssn" in dom and "<svg" in dom
    assert [value for value in PERSONAL_VALUES if value in dom] == []


def test_data_docs_index_lists_the_validation_results(chromium, rendered_run, tmp_path):
    staging, _ = rendered_run
    index = staging.root / "report" / "data_docs" / "index.html"
    png, dom = _render(chromium, index, tmp_path)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert "unified.student" in dom and "unified.gradebook_entry" in dom
    assert [value for value in PERSONAL_VALUES if value in dom] == []
    results_folder = staging.root / "report" / "data_docs" / "validations" / "unified" / "student"
    student_pages = sorted(results_folder.rglob("*.html"))
    assert student_pages
    _, page = _render(chromium, student_pages[0], tmp_path)
    assert "student_unique_id" in page and "Failed" in page
    assert [value for value in PERSONAL_VALUES if value in page] == []
