"""``sis-migrate check-mappings``: prove every legacy column is mapped, ignored or denied exactly once.

Reads the columns the legacy sources really have (table and column names only, never a row):
the relational systems through SQLAlchemy's inspector, keeping identifier case, and Verify from
the header line of the newest export of each table. Any column that is unclassified, classified
twice, or classified but gone from its source is one line of output, and the command ends in a
configuration error (exit 2): the mappings must follow the sources before any row is read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sis_migrate import legacy
from sis_migrate.errors import ConfigurationError
from sis_migrate.locations import LegacyLocations
from sis_migrate.mapping import (
    DENY_LIST_FILE,
    catalog_columns,
    check_closed_world,
    fates,
    load_deny_list,
    load_mappings,
)
from sis_migrate.schema import MAPPINGS_DIR
from sis_migrate.sources.catalog import read_live_columns
from sis_migrate.stages.report.disposition import write_disposition_report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    for system in legacy.RELATIONAL_SYSTEMS:
        parser.add_argument(f"--{system.value}", metavar="URL",
                            help=f"SQLAlchemy URL of {system.value.upper()} (default: the embedded SQLite file)")
    parser.add_argument("--verify", metavar="PATH|s3://bucket/prefix",
                        help="folder or S3 prefix of the Verify exports (default: the embedded folder)")
    parser.add_argument("--legacy-dir", type=Path, help="folder of the embedded default legacy systems")
    parser.add_argument("--mappings-dir", type=Path, default=MAPPINGS_DIR,
                        help="the mapping configuration to check (default: the project's mappings/)")
    parser.add_argument("--catalog-only", action="store_true",
                        help="check against the legacy data dictionary instead of reading the sources")
    parser.add_argument("--report-dir", type=Path,
                        help="also write the column-disposition report (Markdown and JSON) into this folder")


def run(args: argparse.Namespace) -> int:
    mappings = load_mappings(args.mappings_dir)
    deny_list = load_deny_list(args.mappings_dir / DENY_LIST_FILE)
    if args.catalog_only:
        live, origin = catalog_columns(), "the legacy data dictionary"
    else:
        locations = LegacyLocations.from_options(args.legacy_dir, sim=args.sim, gradebook=args.gradebook,
                                                 cim=args.cim, verify=args.verify)
        live, origin = read_live_columns(locations), "the live sources"
    problems = check_closed_world(mappings, deny_list, live)
    for problem in problems:
        print(problem)
    if problems:
        raise ConfigurationError(f"the closed world does not hold against {origin}: {len(problems)} problem(s) "
                                 "above; no row may be read until every column has one fate")
    counts = {"mapped": 0, "ignored": 0, "denied": 0}
    for (system, table_name), columns in live.items():
        table_fates = fates(mappings, deny_list, system, table_name)
        for column in columns:
            counts[table_fates[column][0]] += 1
    print(f"check-mappings: closed world holds against {origin}: {len(live)} tables, "
          f"{sum(counts.values())} columns: {counts['mapped']} mapped, {counts['ignored']} ignored, "
          f"{counts['denied']} denied")
    if args.report_dir:
        for path in write_disposition_report(args.report_dir, mappings, deny_list):
            print(f"check-mappings: wrote {path}")
    return 0
