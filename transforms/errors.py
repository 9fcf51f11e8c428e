"""The errors the pure transforms raise; the application translates them into its own groups.

``transforms`` imports nothing from ``sis_migrate`` (``make lint`` enforces it), so it names its
failures itself: values a transform cannot read (the data), a code set that contradicts itself
(the configuration), and rows lost or invented by a rule (a bug).
"""

from __future__ import annotations


class TransformError(Exception):
    """Base of every error a transform raises on purpose."""


class FieldValueError(TransformError):
    """Values a field transform cannot read where the legacy type promises readable ones.

    ``labels`` are index labels of the offending rows (never their values), so the caller can
    name the rows.
    """

    def __init__(self, transform: str, labels, problem: str):
        self.transform, self.labels, self.problem = transform, labels, problem
        super().__init__(f"field transform {transform!r}: {len(labels)} value(s) {problem}")


class CodeSetError(TransformError):
    """A crosswalk or code set contradicts itself (a code with two meanings, a missing column)."""


class AccountingError(TransformError):
    """Rows were lost or invented between the input of a table and its outcome: a bug in a rule."""

    def __init__(self, table: str, rows_in: int, kept: int, merged: int, quarantined: int):
        self.table, self.difference = table, rows_in - (kept + merged + quarantined)
        what = f"{self.difference} row(s) lost" if self.difference > 0 else f"{-self.difference} row(s) invented"
        super().__init__(
            f"{table}: {rows_in} rows in, but kept {kept} + merged {merged} + quarantined {quarantined} "
            f"= {kept + merged + quarantined}: {what}")
