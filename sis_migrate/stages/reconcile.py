"""Reconcile: every legacy row accounted for, from the target itself.

Input: the run manifest (rows extracted per legacy table), ``accounting/`` and the loaded target.
Output: ``reconcile.json``; per legacy table and per school, rows in = loaded + merged +
quarantined, or the run fails naming the table and the difference.
"""

from __future__ import annotations

from typing import Any

from sis_migrate import legacy
from sis_migrate.errors import ReconciliationError
from sis_migrate.run_config import RunConfig


def reconcile(cfg: RunConfig, loaded: dict[str, Any]) -> dict[str, Any]:
    """Per legacy table and school, from the target itself: rows in = loaded + merged + quarantined."""
    from sqlalchemy import text

    from sis_migrate.schema import MERGE_TABLE, SOURCE_SCHOOL, SOURCE_TABLE, quarantine_table_name
    from sis_migrate.stages.load import Target

    staging = cfg.staging_area()
    manifest = staging.read_json("manifest.json")
    target = Target(cfg.target_url(), cfg.run_id)
    prefix = f'"{target.schema}".' if target.schema else ""
    engine = target.engine()
    tables, mismatches = {}, []
    with engine.connect() as conn:
        def by_school(sql: str, **bind) -> dict[str, int]:
            return {str(school): int(count) for school, count in conn.execute(text(sql), bind)}

        for table in legacy.TABLES.values():
            name = table.qualified
            accounting = staging.read_json(f"accounting/{name}.json")
            extracted = manifest["tables"][name]["rows"]
            found = {
                "loaded": by_school(f'SELECT "{SOURCE_SCHOOL}", count(*) FROM {prefix}"{accounting["primary_entity"]}" '
                                    f'WHERE "{SOURCE_TABLE}" = :name GROUP BY 1', name=name),
                "quarantined": by_school(f'SELECT "{SOURCE_SCHOOL}", count(*) FROM '
                                         f'{prefix}"{quarantine_table_name(table.system, table.name)}" GROUP BY 1'),
                "merged": by_school(f'SELECT "{SOURCE_SCHOOL}", count(*) FROM {prefix}"{MERGE_TABLE}" '
                                    'WHERE system = :system AND legacy_table = :table GROUP BY 1',
                                    system=table.system.value, table=table.name),
            }
            totals = {fate: sum(counts.values()) for fate, counts in found.items()}
            out = sum(totals.values())
            if extracted != out:
                mismatches.append(f"{name}: {extracted:,} rows in, {out:,} accounted for "
                                  f"(loaded {totals['loaded']:,} + merged {totals['merged']:,} + quarantined "
                                  f"{totals['quarantined']:,}; difference {extracted - out:+,})")
            for school, rows_in in accounting["rows_in_by_school"].items():
                school_out = sum(found[fate].get(school, 0) for fate in found)
                if rows_in != school_out:
                    mismatches.append(f"{name} school {school}: {rows_in:,} rows in, {school_out:,} accounted for "
                                      f"(difference {rows_in - school_out:+,})")
            tables[name] = {"rows_in": extracted, **totals}
    engine.dispose()
    result = {"tables": tables, "mismatches": mismatches, "balanced": not mismatches}
    staging.write_json("reconcile.json", result)
    if mismatches:
        raise ReconciliationError("reconciliation failed:\n" + "\n".join(f"  {m}" for m in mismatches))
    return {"balanced": True, "tables": len(tables),
            "rows_in": sum(t["rows_in"] for t in tables.values())}
