"""Fault injection, for tests and drills: make a task fail, or its process die, at a named point.

Input: the environment variable ``SIS_FAULT=<task>:<point>:<how>``, several separated by ``,``;
``how`` is ``raise`` (an :class:`InjectedFault`, a bug: the task fails and is not retried) or
``kill`` (the process sends itself SIGKILL, as ``kill -9`` or the OOM killer would). Output:
nothing unless the variable names the point being passed.

The Airflow adapter passes ``<stage>:start`` before a stage runs and ``<stage>:end`` after it
returned (its result not yet handed to Airflow); a few points inside a stage are named where a
fault there matters most: ``load:after_copy`` (every table copied into the candidate, the foreign
keys not yet added), ``publish:before_swap`` (the candidate marked, the swap not yet committed)
and ``publish:after_swap`` (the target swapped, the report not yet published). Without the
variable :func:`fault_point` costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

from sis_migrate.errors import BugError, ConfigurationError

FAULT_ENV = "SIS_FAULT"
HOW = ("raise", "kill")


class InjectedFault(BugError):
    """The fault ``SIS_FAULT`` asked for: never raised unless the variable is set."""


def _wanted() -> dict[tuple[str, str], str]:
    wanted = {}
    for entry in filter(None, (part.strip() for part in os.environ.get(FAULT_ENV, "").split(","))):
        task, _, rest = entry.partition(":")
        point, _, how = rest.partition(":")
        if not task or not point or how not in HOW:
            raise ConfigurationError(f"{FAULT_ENV} entry {entry!r} must look like <task>:<point>:raise|kill")
        wanted[(task, point)] = how
    return wanted


def fault_point(task: str, point: str) -> None:
    """Fail or die here if ``SIS_FAULT`` names this task and point."""
    if FAULT_ENV not in os.environ:
        return
    how = _wanted().get((task, point))
    if how == "raise":
        raise InjectedFault(f"fault injected at {task}:{point} ({FAULT_ENV})")
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
