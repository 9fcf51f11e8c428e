"""Errors grouped by what the caller should do about them, each group with its own exit code.

| class                | exit | what the caller does                                             | Airflow     |
|----------------------|------|------------------------------------------------------------------|-------------|
| ``ConfigurationError`` | 2  | fix the configuration (mapping, policy, parameter, location)     | no retry    |
| ``SourceError``      | 3    | retry when the source, staging or target is reachable again       | retried     |
| ``DataError``        | 4    | the legacy data must change (blocking validation, reconciliation) | no retry    |
| ``BugError`` or any other exception | 70 | report a bug: the traceback is shown               | no retry    |

A row-level message names system, table, column and a keyed hash of the row's key (or its
position), never the key itself: the policy counts student numbers as identifiers. The key goes
only to the restricted steward worklist; whoever holds the hash key finds the row by hashing the
candidate keys with :func:`row_named_by_key`.
"""

from __future__ import annotations

EXIT_CONFIGURATION = 2
EXIT_SOURCE = 3
EXIT_DATA = 4
EXIT_BUG = 70  # EX_SOFTWARE of sysexits.h

# Keys the hash that names a row in a message where no run configuration is at hand (and is the
# run configuration's default ``hash_key``).
DEFAULT_HASH_KEY = "rehearsal-report-key"


class MigrationError(Exception):
    """Base of every error this project raises on purpose."""

    group = "bug"
    exit_code = EXIT_BUG
    what_to_do = "report a bug with the traceback above"
    retryable = False


class ConfigurationError(MigrationError):
    """The run is configured wrongly (mapping, policy, parameter, location): retrying changes nothing."""

    group = "configuration error"
    exit_code = EXIT_CONFIGURATION
    what_to_do = "fix the configuration and start again"


class SourceError(MigrationError):
    """A source, the staging area or the target could not be reached or read right now."""

    group = "source error"
    exit_code = EXIT_SOURCE
    what_to_do = "retry when it is reachable"
    retryable = True


class DataError(MigrationError):
    """The legacy data must change before go-live: no retry and no configuration fixes it."""

    group = "data error"
    exit_code = EXIT_DATA
    what_to_do = "fix the records in the legacy system (see the report and the steward worklist)"


class ValidationFailed(DataError):
    """A blocking expectation failed on the unified data or in the target."""


class ReconciliationError(DataError):
    """Rows in differ from rows loaded + merged + quarantined for a table (and school), or the target's rows or
    natural keys from the unified data's for an entity (and school)."""


class RowDataError(DataError):
    """A row-level data error that no row-level decision could absorb: names where, never the value or key."""

    def __init__(self, system: str, table: str, column: str, row: str, problem: str):
        """``row`` is the row's position ("line 7") or :func:`row_named_by_key` of its legacy key."""
        self.system, self.table, self.column, self.row, self.problem = system, table, column, row, problem
        super().__init__(f"{system}.{table}.{column} at {row}: {problem}")


def row_named_by_key(legacy_key: str, hash_key: str = DEFAULT_HASH_KEY) -> str:
    """How a message names a row by its legacy key (``KEY=value[,KEY=value]``): a keyed hash, never the key."""
    import pandas as pd

    from transforms.privacy import keyed_hash

    return f"row key#{keyed_hash(pd.Series([legacy_key]), hash_key).iloc[0]}"


class BugError(MigrationError):
    """The pipeline broke one of its own promises (for example, a rule lost or invented rows)."""


GROUPS: tuple[type[MigrationError], ...] = (ConfigurationError, SourceError, DataError, BugError)


def group_of(err: BaseException) -> str:
    """The group an exception belongs to, as the CLI and the Airflow adapter name it."""
    return err.group if isinstance(err, MigrationError) else MigrationError.group


def exit_code_of(err: BaseException) -> int:
    return err.exit_code if isinstance(err, MigrationError) else EXIT_BUG


def what_to_do_of(err: BaseException) -> str:
    return err.what_to_do if isinstance(err, MigrationError) else MigrationError.what_to_do


def error_class_of(group: str) -> type[MigrationError]:
    """The class that raises an error of ``group`` again (a bug: :class:`BugError`)."""
    return next(cls for cls in GROUPS if cls.group == group)
