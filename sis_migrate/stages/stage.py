"""Stage: the run manifest, and a value-free profile of every staged legacy table.

Input: what every extract task returned. Output: ``manifest.json`` (rows, columns and SHA-256 of
every staged file, the hash of the mapping and expectation files, where the sources and target
are, passwords redacted) and the staged profile (validation point 1).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sis_migrate import legacy
from sis_migrate.errors import BugError
from sis_migrate.legacy import System
from sis_migrate.locations import PROJECT_ROOT, redact_url
from sis_migrate.run_config import RunConfig

CONFIG_DIRS = ("mappings", "expectations")


def config_hash() -> str:
    """SHA-256 over every mapping and expectation file: which rules this run applied."""
    digest = hashlib.sha256()
    for folder in CONFIG_DIRS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(PROJECT_ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def stage(cfg: RunConfig, extracted: list[dict[str, Any]]) -> dict[str, Any]:
    """Write the run manifest: rows, columns and SHA-256 of every staged file, and the config hash."""
    from sis_migrate.stages.validate.profile import profile_staged

    tables = {f"{r['system']}.{r['table']}": {key: r[key] for key in ("rows", "columns", "files", "source_file",
                                                                      "scrubbed")}
              for r in sorted(extracted, key=lambda r: (r["system"], r["table"]))}
    missing = sorted({table.qualified for table in legacy.TABLES.values()} - set(tables))
    if missing:
        raise BugError(f"extract results are missing for {', '.join(missing)}")
    manifest = {
        "run_id": cfg.run_id, "school_year": cfg.school_year, "staged_at": datetime.now(UTC).isoformat(),
        "config_hash": config_hash(), "tables": tables,
        "sources": {s.value: redact_url(cfg.locations().url(s)) for s in System},
        "target": redact_url(cfg.target_url()),
    }
    staging = cfg.staging_area()
    staging.write_json("manifest.json", manifest)
    profile_staged(staging)  # validation point 1: a value-free profile of each staged source table
    return {"manifest": "manifest.json", "rows": sum(t["rows"] for t in tables.values()), "tables": len(tables)}
