"""The layout's rules hold, and `make lint` would catch a break of them (import-linter on the real tree)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"], cwd=tree,
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def _copy_of_the_tree(tmp_path: Path) -> Path:
    for package in ("sis_migrate", "transforms", "synthetic"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_import_rules_hold_and_a_transform_importing_the_application_breaks_them(tmp_path):
    tree = _copy_of_the_tree(tmp_path)
    kept = _lint(tree)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    (tree / "transforms" / "sneaky.py").write_text("from sis_migrate.errors import DataError  # noqa: F401\n")
    broken = _lint(tree)
    assert broken.returncode != 0
    assert "transforms.sneaky -> sis_migrate.errors" in broken.stdout


def test_a_stage_importing_a_cli_command_breaks_them(tmp_path):
    tree = _copy_of_the_tree(tmp_path)
    stage = tree / "sis_migrate" / "stages" / "check.py"
    late_import = "\n\ndef _late():\n    from sis_migrate.commands import check_mappings  # noqa: F401\n"
    stage.write_text(stage.read_text() + late_import)
    broken = _lint(tree)
    assert broken.returncode != 0
    assert "sis_migrate.stages.check -> sis_migrate.commands.check_mappings" in broken.stdout
