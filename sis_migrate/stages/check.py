"""Check: the closed world against the live sources, before any row is read.

Input: the run configuration (where the sources are). Output: the legacy tables to extract, and a
fresh staging area for the run. Every column of every legacy table must be mapped, ignored or
denied exactly once; otherwise the run stops here, naming system, table and column.
"""

from __future__ import annotations

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError
from sis_migrate.run_config import RunConfig


def check_mappings(cfg: RunConfig) -> list[dict[str, str]]:
    """Closed world against the live sources; the run's staging area cleared for a fresh run."""
    from sis_migrate.mapping import check_closed_world, default_deny_list, default_mappings
    from sis_migrate.sources.catalog import read_live_columns

    problems = check_closed_world(default_mappings(), default_deny_list(), read_live_columns(cfg.locations()))
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise ConfigurationError(f"the closed world does not hold ({len(problems)} problem(s)); "
                                 f"no row is read until every column has one fate:\n{listed}")
    cfg.staging_area().clear()  # re-running a run id replaces its own results
    return [{"system": table.system.value, "table": table.name} for table in legacy.TABLES.values()]
