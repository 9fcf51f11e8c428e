"""Extract: read one legacy table into the run's staging area as typed Parquet parts.

Input: the run configuration and one ``{system, table}``. Output: ``extract/<system>/<table>/``
Parquet parts, and the rows, columns, files (with SHA-256) and tier-2 counts of the table.

The stage only picks the source, stages the parts and counts; reading belongs to
:mod:`sis_migrate.sources`: :mod:`~sis_migrate.sources.sql` streams a relational table's mapped
columns in chunks through a read-only connection, :mod:`~sis_migrate.sources.verify` parses the
newest export of a Verify table keeping only the mapped fields, and
:mod:`~sis_migrate.sources.arrow` types each chunk by the legacy data dictionary and empties its
tier-2 values before anything is staged.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sis_migrate import legacy
from sis_migrate.legacy import System
from sis_migrate.progress import Progress
from sis_migrate.sources.sql import DEFAULT_CHUNK_ROWS
from sis_migrate.storage import Staging

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class ExtractResult:
    system: str
    table: str
    rows: int = 0
    columns: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    source_file: str | None = None  # Verify: the export file read
    scrubbed: dict[str, int] = field(default_factory=dict)  # tier 2: SSN-shaped values emptied, per column

    def add_scrubbed(self, counts: dict[str, int]) -> None:
        for column, count in counts.items():
            if count:
                self.scrubbed[column] = self.scrubbed.get(column, 0) + count


def staged_prefix(system: str, table: str) -> str:
    return f"extract/{system}/{table}/"


def _stage_part(staging: Staging, table: legacy.Table, part: int, arrow_table: pa.Table, result: ExtractResult,
                progress: Progress | None) -> None:
    """Scrub tier 2 from one chunk, stage it as part ``part`` and count it."""
    from sis_migrate.sources.arrow import scrub_tier2

    arrow_table, scrubbed = scrub_tier2(arrow_table, table)
    result.add_scrubbed(scrubbed)
    staged = staging.write_arrow(f"{staged_prefix(table.system.value, table.name)}part-{part:05d}.parquet",
                                 arrow_table)
    result.files.append(staged.as_dict())
    result.rows += arrow_table.num_rows
    if progress:
        progress.add(arrow_table.num_rows, f"{table.system.value}.{table.name}")


def extract_relational(url: str, system: System, table_name: str, staging: Staging,
                       chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: Progress | None = None) -> ExtractResult:
    from sis_migrate.sources.arrow import empty_table, rows_to_arrow
    from sis_migrate.sources.sql import extract_columns, read_rows

    table = legacy.table(system, table_name)
    columns = extract_columns(system, table_name)
    result = ExtractResult(system.value, table_name, columns=columns)
    staging.clear(staged_prefix(system.value, table_name))
    with closing(read_rows(url, system, table_name, chunk_rows)) as chunks:
        for part, rows in enumerate(chunks):
            _stage_part(staging, table, part, rows_to_arrow(rows, columns, table), result, progress)
    if not result.files:  # an empty table still stages one empty, typed part
        _stage_part(staging, table, 0, empty_table(table, columns), result, progress)
    return result


def extract_verify(location: str, table_name: str, staging: Staging,
                   chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: Progress | None = None) -> ExtractResult:
    from sis_migrate.sources.sql import extract_columns
    from sis_migrate.sources.verify import read_newest_export

    table = legacy.table(System.VERIFY, table_name)
    columns = extract_columns(System.VERIFY, table_name)
    result = ExtractResult(System.VERIFY.value, table_name, columns=columns)
    staging.clear(staged_prefix(System.VERIFY.value, table_name))
    export, rows = read_newest_export(location, table_name, columns)
    result.source_file = export.name
    for part, start in enumerate(range(0, max(rows.num_rows, 1), chunk_rows)):
        _stage_part(staging, table, part, rows.slice(start, chunk_rows), result, progress)
    return result


def extract_table(locations, system: System | str, table_name: str, staging: Staging,
                  chunk_rows: int = DEFAULT_CHUNK_ROWS, progress: Progress | None = None) -> ExtractResult:
    """Extract one legacy table from wherever its system lives (``LegacyLocations``)."""
    system = System(system)
    if system is System.VERIFY:
        return extract_verify(locations.verify, table_name, staging, chunk_rows, progress)
    return extract_relational(locations.url(system), system, table_name, staging, chunk_rows, progress)


def extract(cfg, table: dict[str, str]) -> dict[str, Any]:
    """The stage: one legacy table of the run's sources into its staging area; counts and files out."""
    progress = Progress(f"extract {table['system']}.{table['table']}")
    result = extract_table(cfg.locations(), table["system"], table["table"], cfg.staging_area(), cfg.chunk_rows,
                           progress)
    progress.done()
    return {"system": result.system, "table": result.table, "rows": result.rows, "columns": result.columns,
            "files": result.files, "source_file": result.source_file, "scrubbed": result.scrubbed}
