"""Helpers shared by the transform tests: every outcome must account for every row it was given."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.accounting import Outcome, check_accounting


def _accounted(frame: pd.DataFrame, outcome: Outcome) -> Outcome:
    check_accounting("test", len(frame), outcome)
    assert set(outcome.kept.index) | set(outcome.quarantined.index) | set(outcome.merged.index) == set(frame.index)
    return outcome


@pytest.fixture
def accounted():
    """``accounted(frame, outcome)``: assert rows in = kept + merged + quarantined, no row twice; return outcome."""
    return _accounted
