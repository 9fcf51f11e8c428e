"""``sis-migrate``: one command line for every stage the migration team runs by hand.

Each subcommand lives in ``sis_migrate.commands.<name>`` and exposes ``add_arguments(parser)``
and ``run(args) -> int``. Errors this project raises on purpose end in one clear line (exit 2
for configuration, 3 for an unreachable source); anything else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sis_migrate.errors import ConfigurationError, MigrationError, SourceError

# name -> one-line help; each lives in sis_migrate.commands.<name with _ for ->
COMMANDS: dict[str, str] = {
    "check-mappings": "Prove every legacy column is mapped, ignored or denied exactly once.",
    "synth": "Generate a synthetic legacy district (all four systems) with a ground-truth manifest.",
    "rehearse": "Run a whole rehearsal migration through the Airflow DAG for given sources and target.",
    "demo": "Generate the tiny district into the embedded default and rehearse it.",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sis-migrate", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = _command_module(name)
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def _command_module(name: str):
    return importlib.import_module(f"sis_migrate.commands.{name.replace('-', '_')}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args._run(args)
    except ConfigurationError as err:
        print(f"sis-migrate {args.command}: configuration error: {err}", file=sys.stderr)
        return 2
    except SourceError as err:
        print(f"sis-migrate {args.command}: source error (retry when reachable): {err}", file=sys.stderr)
        return 3
    except MigrationError as err:
        print(f"sis-migrate {args.command}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
