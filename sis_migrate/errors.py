"""Errors grouped by what the caller should do about them.

- ``ConfigurationError``: fatal. A mapping, deny-list, parameter or location is wrong; retrying
  changes nothing. Fix the configuration and start again.
- ``SourceError``: retryable. A legacy system or target could not be reached or read right now.
- ``RowDataError``: one row's data is wrong. Names system, table, column and row key, never a value.
"""

from __future__ import annotations


class MigrationError(Exception):
    """Base of every error this project raises on purpose."""


class ConfigurationError(MigrationError):
    """Fatal: the run is configured wrongly (mapping, policy, parameter, location)."""


class SourceError(MigrationError):
    """Retryable: a source or target could not be reached or read."""


class RowDataError(MigrationError):
    """A row-level data error. The message names where, never the offending value."""

    def __init__(self, system: str, table: str, column: str, row_key: str, problem: str):
        self.system, self.table, self.column, self.row_key, self.problem = (
            system, table, column, row_key, problem)
        super().__init__(f"{system}.{table}.{column} at row {row_key}: {problem}")
