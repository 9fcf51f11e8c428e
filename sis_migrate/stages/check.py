"""Check: every location reached, the run label locked, the closed world held, before any row is read.

Input: the run configuration (where the sources, staging and target are; which DAG run this is).
Output: the legacy tables to extract, and a fresh attempt folder in staging for this DAG run.

In order: the preflight of every location (:mod:`sis_migrate.preflight`; the hash key is asked
for there too), the run label's locks in the target and in staging (:mod:`sis_migrate.locks`),
a publication cut short by an earlier run settled (:func:`~sis_migrate.stages.publish.settle`),
then the closed world: every column of every legacy table must be mapped, ignored or denied
exactly once; otherwise the run stops here, naming system, table and column. Nothing the label
published before (its target, its reports) is touched: the publish task replaces them at the end.
"""

from __future__ import annotations

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError
from sis_migrate.run_config import RunConfig


def check_mappings(cfg: RunConfig) -> list[dict[str, str]]:
    """Preflight, locks, closed world against the live sources; this attempt's staging folder cleared."""
    from sis_migrate import locks
    from sis_migrate.mapping import check_closed_world, default_deny_list, default_mappings
    from sis_migrate.preflight import preflight
    from sis_migrate.sources.catalog import read_live_columns
    from sis_migrate.stages.publish import settle

    preflight(cfg)
    locks.acquire(cfg, locks.holder_for(cfg))
    settle(cfg)
    problems = check_closed_world(default_mappings(), default_deny_list(), read_live_columns(cfg.locations()))
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise ConfigurationError(f"the closed world does not hold ({len(problems)} problem(s)); "
                                 f"no row is read until every column has one fate:\n{listed}")
    if cfg.attempt:
        cfg.staging_area().clear()  # a retried check starts its own attempt folder again, nothing else
    return [{"system": table.system.value, "table": table.name} for table in legacy.TABLES.values()]
