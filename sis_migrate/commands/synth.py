"""``sis-migrate synth``: generate a synthetic legacy district into all four systems, with its manifest.

The manifest is the ground truth a rehearsal is checked against: rows per table and every planted
anomaly, by reason code. Locations default to the embedded default (SQLite files and a Verify
folder under ``work/legacy``); any system can be sent to a server or bucket by URL instead.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from sis_migrate.errors import ConfigurationError
from sis_migrate.legacy import System
from sis_migrate.locations import LegacyLocations, default_legacy_dir, redact_url
from synthetic.presets import PRESETS

DEFAULT_SEED = 42

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=sorted(PRESETS, key=PRESETS.get), default="tiny",
                        help="district size: " + ", ".join(f"{name} = {n:,} students"
                                                           for name, n in PRESETS.items())
                        + " (default: tiny)")
    parser.add_argument("--students", type=int, default=None,
                        help="number of students, overriding the preset's (default: the preset's)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help="random seed; the same seed and size give byte-identical output "
                             f"(default: {DEFAULT_SEED})")
    parser.add_argument("--sim", metavar="URL", default=None,
                        help="SQLAlchemy URL for SIM (default: <legacy-dir>/sim.sqlite)")
    parser.add_argument("--gradebook", metavar="URL", default=None,
                        help="SQLAlchemy URL for Gradebook (default: <legacy-dir>/gradebook.sqlite)")
    parser.add_argument("--cim", metavar="URL", default=None,
                        help="SQLAlchemy URL for CIM (default: <legacy-dir>/cim.sqlite)")
    parser.add_argument("--verify", metavar="PATH|s3://bucket/prefix", default=None,
                        help="folder or S3 prefix for Verify's export files (default: <legacy-dir>/verify)")
    parser.add_argument("--legacy-dir", metavar="DIR", type=Path, default=None,
                        help=f"folder of the embedded default (default: {default_legacy_dir()})")
    parser.add_argument("--manifest", metavar="PATH", type=Path, default=None,
                        help="where to write the ground-truth manifest (default: <legacy-dir>/manifest.json)")
    parser.add_argument("--replace", action="store_true",
                        help="drop the legacy tables and delete the export files already at the locations "
                        "(default: stop if any is there)")
    parser.add_argument("--quiet", action="store_true",
                        help="no per-table progress lines, only the summary (default: progress on stderr)")


def run(args: argparse.Namespace) -> int:
    from synthetic.generator import District, SynthSpec
    from synthetic.writers import write_district

    students = args.students if args.students is not None else PRESETS[args.preset]
    if students <= 0:
        raise ConfigurationError(f"--students must be a positive number, not {students}")
    locations = LegacyLocations.from_options(
        legacy_dir=args.legacy_dir, sim=args.sim, gradebook=args.gradebook, cim=args.cim, verify=args.verify)
    manifest_path = args.manifest or (args.legacy_dir or default_legacy_dir()) / "manifest.json"

    preset = args.preset if args.students is None else None
    district = District(SynthSpec(students=students, seed=args.seed, preset=preset))
    rows = write_district(district.chunks(), locations, replace=args.replace,
                          progress=None if args.quiet else log.info)
    write_manifest(district.manifest(), manifest_path)

    places = ", ".join(f"{system.value} -> {redact_url(locations.url(system))}" for system in System)
    print(f"synth: {students:,} students (seed {args.seed}), {sum(rows.values()):,} rows in {len(rows)} tables: "
          f"{places}; manifest -> {manifest_path}")
    return 0


def write_manifest(manifest: dict, path: Path) -> None:
    """Write the manifest as JSON in the generator's own (fixed) key order: identical runs, identical bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
