"""``sis-migrate``: one command line for every stage the migration team runs by hand.

Each subcommand lives in ``sis_migrate.commands.<name>`` and exposes ``add_arguments(parser)``
and ``run(args) -> int``. A command's result goes to stdout; diagnostics (progress lines) are
``logging`` records of the ``sis_migrate`` loggers, shown on stderr. An error ends in one last
line on stderr naming its group, its cause and what to do, with the group's exit code
(:mod:`sis_migrate.errors`); a bug shows its traceback first.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback

from sis_migrate.errors import GROUPS, BugError, MigrationError, exit_code_of, group_of, what_to_do_of

# name -> one-line help; each lives in sis_migrate.commands.<name with _ for ->
COMMANDS: dict[str, str] = {
    "check-mappings": "Prove every legacy column is mapped, ignored or denied exactly once.",
    "synth": "Generate a synthetic legacy district (all four systems) with a ground-truth manifest.",
    "rehearse": "Run a whole rehearsal migration through the Airflow DAG for given sources and target.",
    "demo": "Generate the tiny district into the embedded default and rehearse it.",
}


def exit_codes_epilog() -> str:
    """The exit codes for ``--help``, from the error groups themselves."""
    lines = ["exit codes:", "  0   done"]
    lines += [f"  {cls.exit_code:<3} {cls.group}: {cls.what_to_do}" for cls in GROUPS]
    return "\n".join(lines) + "\n(argparse also exits 2 for options it cannot read: a configuration error)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sis-migrate", description=__doc__.splitlines()[0],
                                     epilog=exit_codes_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = _command_module(name)
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def _command_module(name: str):
    return importlib.import_module(f"sis_migrate.commands.{name.replace('-', '_')}")


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (a test's capture, a redirect)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging() -> None:
    """Show the project's INFO records (progress lines) on stderr, as bare lines; once per process.

    The records do not propagate further: Airflow's own handlers, set up when ``rehearse`` runs the
    DAG in this process, would print each line a second time.
    """
    logger = logging.getLogger("sis_migrate")
    if not any(isinstance(handler, _StderrHandler) for handler in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        return args._run(args)
    except Exception as err:  # noqa: BLE001 - every error ends in its group's line and exit code
        return _fail(args.command, err)


def _fail(command: str, err: Exception) -> int:
    """Print the error's last line (its traceback first if it is a bug) and return its exit code.

    A message of several lines (a list of problems) keeps its first line for the last line and
    shows the others above it.
    """
    sys.stdout.flush()
    if group_of(err) == BugError.group:
        traceback.print_exception(err, file=sys.stderr)
    first, *details = str(err).splitlines() or [""]
    if not isinstance(err, MigrationError):
        first = f"{type(err).__name__}: {first}"
    for line in details:
        print(line, file=sys.stderr)
    print(f"sis-migrate {command}: {group_of(err)}: {first.rstrip(':')} ({what_to_do_of(err)})",
          file=sys.stderr, flush=True)
    return exit_code_of(err)


if __name__ == "__main__":
    sys.exit(main())
