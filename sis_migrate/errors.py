"""Errors grouped by what the caller should do about them, each group with its own exit code.

| class                | exit | what the caller does                                             | Airflow     |
|----------------------|------|------------------------------------------------------------------|-------------|
| ``ConfigurationError`` | 2  | fix the configuration (mapping, policy, parameter, location)     | no retry    |
| ``SourceError``      | 3    | retry when the source, staging or target is reachable again       | retried     |
| ``DataError``        | 4    | the legacy data must change (blocking validation, reconciliation) | no retry    |
| ``BugError`` or any other exception | 70 | report a bug: the traceback is shown               | no retry    |

A row-level message names system, table, column and a keyed hash of the row's key (or its
position), never the key itself: the policy counts student numbers as identifiers. The key goes
only to the restricted steward worklist.
"""

from __future__ import annotations

EXIT_CONFIGURATION = 2
EXIT_SOURCE = 3
EXIT_DATA = 4
EXIT_BUG = 70  # EX_SOFTWARE of sysexits.h


class MigrationError(Exception):
    """Base of every error this project raises on purpose."""

    exit_code = EXIT_BUG
    what_to_do = "report a bug with the traceback above"
    retryable = False


class ConfigurationError(MigrationError):
    """The run is configured wrongly (mapping, policy, parameter, location): retrying changes nothing."""

    exit_code = EXIT_CONFIGURATION
    what_to_do = "fix the configuration and start again"


class SourceError(MigrationError):
    """A source, the staging area or the target could not be reached or read right now."""

    exit_code = EXIT_SOURCE
    what_to_do = "retry when it is reachable"
    retryable = True


class DataError(MigrationError):
    """The legacy data must change before go-live: no retry and no configuration fixes it."""

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
        self.system, self.table, self.column, self.row, self.problem = system, table, column, row, problem
        super().__init__(f"{system}.{table}.{column} at row {row}: {problem}")


class BugError(MigrationError):
    """The pipeline broke one of its own promises (for example, a rule lost or invented rows)."""


def group_of(err: BaseException) -> str:
    """The group an exception belongs to, as the CLI and the Airflow adapter name it."""
    if isinstance(err, ConfigurationError):
        return "configuration error"
    if isinstance(err, SourceError):
        return "source error"
    if isinstance(err, DataError):
        return "data error"
    return "bug"


def exit_code_of(err: BaseException) -> int:
    return err.exit_code if isinstance(err, MigrationError) else EXIT_BUG
