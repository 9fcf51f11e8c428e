"""The seeded synthetic legacy district: frames of all four systems plus a ground-truth manifest.

    spec = SynthSpec(students=200, seed=7)
    district = District(spec)
    for chunk in district.chunks():      # TableChunk(table, frame, export_day)
        ...
    manifest = district.manifest()       # only after chunks() is exhausted

The same spec yields identical frames: every part draws from its own seeded stream
(numpy PCG64 from a SeedSequence of the seed and the part's name), Faker is seeded and only
builds pools of values. Big Gradebook tables come in chunks of at most ``MAX_CHUNK_ROWS`` rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pandas as pd

from sis_migrate.legacy import System, Table
from sis_migrate.legacy import table as legacy_table
from synthetic import canary
from synthetic.cim import assessment_frames, build_catalog, program_frames
from synthetic.context import Context, SynthSpec
from synthetic.gradebook import BigTables, build_static
from synthetic.presets import GENERATOR_VERSION, MAX_CHUNK_ROWS, PRESETS, RATES, VARIANT_RATES, VOLUME
from synthetic.sim import build_sim
from synthetic.verify import build_verify

__all__ = ["District", "SynthSpec", "TableChunk", "spec_for_preset"]


@dataclass(frozen=True)
class TableChunk:
    """Rows of one legacy table; Verify chunks name the export day of their file, others None."""

    table: Table
    frame: pd.DataFrame
    export_day: date | None = None


def spec_for_preset(name: str, seed: int, **overrides) -> SynthSpec:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; known: {sorted(PRESETS)}")
    return SynthSpec(students=PRESETS[name], seed=seed, preset=name, **overrides)


class District:
    def __init__(self, spec: SynthSpec) -> None:
        self.spec = spec
        self._manifest: dict | None = None

    def manifest(self) -> dict:
        if self._manifest is None:
            raise RuntimeError("the manifest is complete only after chunks() has been exhausted")
        return self._manifest

    def chunks(self) -> Iterator[TableChunk]:
        ctx = Context(self.spec)
        world = build_sim(ctx)
        while world.frames:
            name, make_frame = next(iter(world.frames.items()))
            del world.frames[name]
            yield from _split(ctx, legacy_table(System.SIM, name), make_frame())

        catalog = build_catalog(ctx)
        yield from _split(ctx, legacy_table(System.CIM, "cim_course"), catalog.frame)
        programs, participation = program_frames(ctx, world)
        yield from _split(ctx, legacy_table(System.CIM, "cim_program"), programs)
        yield from _split(ctx, legacy_table(System.CIM, "cim_program_participation"), participation)
        assessments, results = assessment_frames(ctx, world)
        yield from _split(ctx, legacy_table(System.CIM, "cim_assessment"), assessments)
        yield from _split(ctx, legacy_table(System.CIM, "cim_assessment_result"), results)
        del participation, results

        classes, static = build_static(ctx, world, catalog)
        for name in ("Teacher", "Course", "Section"):
            yield from _split(ctx, legacy_table(System.GRADEBOOK, name), static.pop(name))
        buffers: dict[str, list[pd.DataFrame]] = {}
        for name, frame in BigTables(ctx, world, classes).chunks():
            table = legacy_table(System.GRADEBOOK, name)
            pending = buffers.setdefault(name, [])
            if pending and sum(len(f) for f in pending) + len(frame) > MAX_CHUNK_ROWS:
                yield _emit(ctx, table, pending)
            pending.append(frame)
        for name, pending in buffers.items():
            if pending:
                yield _emit(ctx, legacy_table(System.GRADEBOOK, name), pending)

        export_days: dict[str, list[str]] = {}
        for export in build_verify(ctx, world):
            table = legacy_table(System.VERIFY, export.table)
            day_text = export.export_day.strftime("%Y%m%d")
            export_days.setdefault(f"verify.{export.table}", []).append(day_text)
            newest = export.export_day == self.spec.export_day
            for start in range(0, max(1, len(export.frame)), MAX_CHUNK_ROWS):
                part = export.frame.iloc[start:start + MAX_CHUNK_ROWS].reset_index(drop=True)
                if newest:
                    ctx.manifest.count_rows("verify", export.table, len(part))
                yield TableChunk(table, part, export.export_day)
        self._manifest = self._build_manifest(ctx, world, export_days)

    def _build_manifest(self, ctx: Context, world, export_days: dict[str, list[str]]) -> dict:
        spec = self.spec
        header = {
            "seed": spec.seed, "students": spec.students, "preset": spec.preset, "school_year": spec.school_year,
            "prior_school_year": ctx.prior.school_year, "export_day": spec.export_day.isoformat(),
            "export_days": {name: sorted(days) for name, days in sorted(export_days.items())},
            "generator_version": GENERATOR_VERSION,
        }
        columns = dict(sorted(canary.TIER1_COLUMNS.items()))
        values = {"sim.SIM_STUDENT.SSN": world.ssn_canaries, "sim.SIM_STUDENT.STATE_ID": world.state_id_canaries}
        canary_part = {"marker": ctx.marker, "columns": columns, "values": dict(sorted(values.items()))}
        rates = {"anomalies": dict(sorted(RATES.items())), "variants": dict(sorted(VARIANT_RATES.items())),
                 "volume": dict(sorted(VOLUME.items()))}
        return ctx.manifest.build(header, rates, canary_part)


def _split(ctx: Context, table: Table, frame: pd.DataFrame) -> Iterator[TableChunk]:
    ctx.manifest.count_rows(table.system.value, table.name, len(frame))
    if len(frame) <= MAX_CHUNK_ROWS:
        yield TableChunk(table, frame)
        return
    for start in range(0, len(frame), MAX_CHUNK_ROWS):
        yield TableChunk(table, frame.iloc[start:start + MAX_CHUNK_ROWS].reset_index(drop=True))


def _emit(ctx: Context, table: Table, pending: list[pd.DataFrame]) -> TableChunk:
    frame = pending[0] if len(pending) == 1 else pd.concat(pending, ignore_index=True)
    pending.clear()
    ctx.manifest.count_rows(table.system.value, table.name, len(frame))
    return TableChunk(table, frame)
