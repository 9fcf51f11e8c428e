"""What the tables transformed whole leave for the tables after them, and for the parallel part tasks.

Later tables need from earlier ones: the natural keys each entity loaded and those it did not
(references are checked against them), who survived a merge (references are re-keyed to the
survivor), the school of a section or an assignment (facts are counted per school), and each
student's current grade (consents are checked against grade bands). :class:`TransformState` holds
them; :meth:`TransformState.save` stages what the part-by-part tables need under ``state/`` and
:meth:`TransformState.load` reads it back in their own tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from sis_migrate.errors import BugError
from sis_migrate.schema import SOURCE_SCHOOL, UnifiedSchema
from sis_migrate.stages.unify.table_rules import GRADE_BY_STUDENT, STUDENT_KEY_MAP

if TYPE_CHECKING:
    from sis_migrate.mapping import TableMapping
    from sis_migrate.stages.unify.engine import TableResult
    from sis_migrate.storage import Staging

STATE_DIR = "state/"


@dataclass
class TransformState:
    kept_keys: dict[str, pd.DataFrame] = field(default_factory=dict)  # entity -> natural keys loaded
    quarantined_keys: dict[str, pd.DataFrame] = field(default_factory=dict)  # entity -> keys not loaded
    key_maps: dict[str, pd.Series] = field(default_factory=dict)  # entity -> merged key -> survivor key
    school_of: dict[str, pd.Series] = field(default_factory=dict)  # lookup -> key -> school of the row
    grade_by_student: pd.Series | None = None  # student -> current grade number

    def remember(self, result: TableResult, mapping: TableMapping, schema: UnifiedSchema) -> None:
        """Record the keys this table loaded and those it did not, and its school lookup."""
        not_loaded = pd.concat([result.outcome.quarantined, result.outcome.merged])
        for entity_name, frame in result.entities.items():
            key = list(schema.entity(entity_name).natural_key)
            self.kept_keys[entity_name] = _append(self.kept_keys.get(entity_name), frame[key])
            wide_key = [f"{entity_name}.{name}" for name in key]
            if all(c in not_loaded.columns for c in wide_key):
                lost = not_loaded[wide_key].dropna()
                lost.columns = key
                self.quarantined_keys[entity_name] = _append(self.quarantined_keys.get(entity_name), lost)
        if mapping.school_lookup:
            every_row = pd.concat([result.outcome.kept, not_loaded])[[mapping.school_lookup, SOURCE_SCHOOL]]
            every_row = every_row.dropna(subset=[mapping.school_lookup]).drop_duplicates(mapping.school_lookup)
            self.school_of[mapping.lookup_name] = pd.Series(
                every_row[SOURCE_SCHOOL].to_numpy(), index=pd.Index(every_row[mapping.school_lookup].to_numpy()))

    def save(self, staging: Staging, needs: set[str]) -> None:
        """Stage what ``needs`` names (``entity:X``, ``school_of:X``, ``state:grade_by_student``), and the key maps.

        The key maps always go: every table re-keys its references to merged rows.
        """
        for need in sorted(needs):
            kind, name = need.split(":", 1)
            if kind == "entity":
                kept = self.kept_keys[name]
                staging.write_frame(f"{STATE_DIR}kept/{name}.parquet", kept)
                staging.write_frame(f"{STATE_DIR}quarantined/{name}.parquet",
                                    self.quarantined_keys.get(name, kept.iloc[:0]))
            elif kind == "school_of":
                _write_series(staging, f"{STATE_DIR}school_of/{name}.parquet", self.school_of[name])
            elif need == f"state:{GRADE_BY_STUDENT}" and self.grade_by_student is not None:
                _write_series(staging, f"{STATE_DIR}{GRADE_BY_STUDENT}/current.parquet", self.grade_by_student)
            elif need != f"state:{STUDENT_KEY_MAP}":
                raise BugError(f"the transform state cannot stage {need!r}")
        for name, key_map in self.key_maps.items():
            _write_series(staging, f"{STATE_DIR}key_map/{name}.parquet", key_map)

    @classmethod
    def load(cls, staging: Staging) -> TransformState:
        state = cls()
        for path in staging.list(STATE_DIR):
            kind, file_name = path[len(STATE_DIR):].split("/", 1)
            name = file_name.removesuffix(".parquet")
            if kind == "kept":
                state.kept_keys[name] = staging.read_frame(path)
            elif kind == "quarantined":
                state.quarantined_keys[name] = staging.read_frame(path)
            elif kind == "school_of":
                state.school_of[name] = _read_series(staging, path)
            elif kind == "key_map":
                state.key_maps[name] = _read_series(staging, path)
            elif kind == GRADE_BY_STUDENT:
                state.grade_by_student = _read_series(staging, path)
        return state


def _append(existing: pd.DataFrame | None, frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    return frame if existing is None else pd.concat([existing, frame], ignore_index=True)


def _write_series(staging: Staging, path: str, series: pd.Series) -> None:
    staging.write_frame(path, pd.DataFrame({"key": series.index.to_numpy(), "value": series.to_numpy()}))


def _read_series(staging: Staging, path: str) -> pd.Series:
    frame = staging.read_frame(path)
    return pd.Series(frame["value"].to_numpy(), index=pd.Index(frame["key"].to_numpy()))
