"""What every part of the generator shares: the spec, calendars, seeded random streams, the manifest."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from synthetic.calendar import SchoolCalendar, parse_school_year
from synthetic.canary import marker_for
from synthetic.manifest import ManifestBuilder
from synthetic.vocab import GRADE_LABELS, NamePool, build_name_pools, build_word_pool

MIN_STUDENTS = len(GRADE_LABELS)


@dataclass(frozen=True)
class SynthSpec:
    """What to generate: the number of (distinct, current) students, the seed, the year and export day."""

    students: int
    seed: int
    school_year: str = "2018-2019"
    export_day: date = date(2019, 3, 29)
    preset: str | None = None

    def __post_init__(self) -> None:
        if self.students < MIN_STUDENTS:
            raise ValueError(f"students must be at least {MIN_STUDENTS}, one per grade PK-12")
        parse_school_year(self.school_year)
        calendar = SchoolCalendar.for_year(self.school_year)
        if not (calendar.start + timedelta(days=14) <= self.export_day <= calendar.end):
            raise ValueError("export_day must fall inside the school year, at least two weeks after its start")


@dataclass
class Context:
    spec: SynthSpec
    calendar: SchoolCalendar = field(init=False)
    prior: SchoolCalendar = field(init=False)
    marker: str = field(init=False)
    manifest: ManifestBuilder = field(init=False)
    names: dict[str, NamePool] = field(init=False)
    words: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.calendar = SchoolCalendar.for_year(self.spec.school_year)
        self.prior = self.calendar.previous()
        self.marker = marker_for(self.spec.seed)
        self.manifest = ManifestBuilder()
        self.names = build_name_pools(self.spec.seed)
        self.words = build_word_pool(self.spec.seed)

    def rng(self, stream: str, *extra: int) -> np.random.Generator:
        """An independent seeded stream per named part (and batch), so parts never shift each other."""
        sequence = np.random.SeedSequence([self.spec.seed, zlib.crc32(stream.encode()), *extra])
        return np.random.Generator(np.random.PCG64(sequence))

    @property
    def export_day(self) -> np.datetime64:
        return np.datetime64(self.spec.export_day, "D")
