"""``sis-migrate demo``: generate the tiny synthetic district into the embedded default and rehearse it.

Everything lands under ``work/``: the legacy district (``work/legacy``), the staging area
(``work/staging/demo``), the target (``work/target/demo.sqlite``) and the reports.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="tiny", help="synthetic district size (default: tiny)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")


def run(args: argparse.Namespace) -> int:
    from sis_migrate.cli import main

    status = main(["synth", "--preset", args.preset, "--seed", str(args.seed), "--replace"])
    if status:
        return status
    return main(["rehearse", "--run-label", "demo"])
