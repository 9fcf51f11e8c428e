"""The per-system mapping files, the crosswalks and the deny-list: strict loaders and the closed world.

Mapping files (``mappings/<system>.yaml``) are target-keyed: for each legacy table, the unified
entities it feeds and, for each field, the legacy column(s) it comes from and the named transform
or crosswalk that turns them. Columns the new system does not need are ``ignored`` with a reason.
Tier-1 columns are only in ``mappings/deny_list.yaml`` and are never read.

Everything is checked when loaded, against the legacy catalog (:mod:`sis_migrate.legacy`), the
unified schema and the field-transform registry; a problem is a :class:`ConfigurationError` naming
the file and the line. :func:`check_closed_world` then proves every legacy column has exactly one
fate (mapped, ignored or denied), against the catalog or against the columns a live source has.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, field_validator, model_validator

from sis_migrate import legacy
from sis_migrate.config_yaml import Source, StrictModel
from sis_migrate.errors import ConfigurationError
from sis_migrate.legacy import System
from sis_migrate.schema import CROSSWALK_DIR, MAPPINGS_DIR, SCHEMA_FILE, UnifiedSchema, load_schema
from transforms.reasons import REASONS, Disposition

DENY_LIST_FILE = "deny_list.yaml"
DEFAULT_TRANSFORM = "copy"
CROSSWALK_HEADER = ("legacy_code", "code_value", "description")
DenyCategory = Literal["citizenship_immigration", "birth_place", "us_entry", "ssn", "identity_document",
                       "health_text", "staff_free_text", "not_needed"]
DENY_CATEGORIES: tuple[str, ...] = get_args(DenyCategory)


def mapping_file(system: System | str) -> str:
    return f"{System(system).value}.yaml"


def field_transform_names() -> frozenset[str]:
    """The transform names a mapping may use: the keys of ``transforms.fields.FIELD_TRANSFORMS``."""
    from transforms.fields import FIELD_TRANSFORMS

    return frozenset(FIELD_TRANSFORMS)


# --- models ------------------------------------------------------------------------------------

class FieldSource(StrictModel):
    """Where one target field comes from: legacy column(s) through a transform, a crosswalk, or a transform
    and then a crosswalk (the transform prepares the code the crosswalk maps); or a constant."""

    from_: tuple[str, ...] = Field(default=(), alias="from")
    transform: str | None = None
    crosswalk: str | None = None
    value: str | int | float | bool | None = None
    unknown_code_reason: str | None = None  # with a crosswalk: the quarantine reason of a code outside it

    @field_validator("from_", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_way(self) -> FieldSource:
        has_value = "value" in self.model_fields_set
        if bool(self.from_) == has_value:
            raise ValueError("give exactly one of 'from' (legacy columns) or 'value' (a constant)")
        if has_value and (self.transform or self.crosswalk):
            raise ValueError("a constant 'value' takes no transform or crosswalk")
        if self.unknown_code_reason and not self.crosswalk:
            raise ValueError("'unknown_code_reason' goes with a crosswalk")
        if self.unknown_code_reason and (
                REASONS.get(self.unknown_code_reason) is None
                or REASONS[self.unknown_code_reason].disposition is not Disposition.QUARANTINE):
            raise ValueError(f"'unknown_code_reason' {self.unknown_code_reason!r} is not a quarantine reason "
                             "of sis_migrate/reasons.py")
        return self

    @property
    def transform_name(self) -> str | None:
        """The field transform: ``copy`` unless named; before a crosswalk only if named; none for a constant."""
        if "value" in self.model_fields_set:
            return None
        if self.crosswalk:
            return self.transform
        return self.transform or DEFAULT_TRANSFORM


class TableMapping(StrictModel):
    targets: dict[str, dict[str, FieldSource]] = Field(min_length=1)  # entity -> field -> source
    ignored: dict[str, str] = {}  # column -> one-line reason

    @property
    def mapped_columns(self) -> tuple[str, ...]:
        """Every legacy column some target field reads, in first-use order, each once."""
        seen: dict[str, None] = {}
        for fields in self.targets.values():
            for source in fields.values():
                seen.update(dict.fromkeys(source.from_))
        return tuple(seen)

    def targets_of(self, column: str) -> list[str]:
        """``entity.field`` names the column feeds."""
        return [f"{entity}.{name}" for entity, fields in self.targets.items()
                for name, source in fields.items() if column in source.from_]


class SystemMapping(StrictModel):
    system: System
    tables: dict[str, TableMapping] = Field(min_length=1)


class CrosswalkRow(StrictModel):
    legacy_code: str
    code_value: str = Field(min_length=1)
    description: str


class Crosswalk(StrictModel):
    name: str
    namespace: str
    rows: tuple[CrosswalkRow, ...]

    @property
    def codes(self) -> dict[str, str]:
        """legacy code -> code value."""
        return {row.legacy_code: row.code_value for row in self.rows}

    @property
    def code_values(self) -> tuple[str, ...]:
        """The distinct code values, in file order: the rows this code set puts in the descriptor table."""
        return tuple(dict.fromkeys(row.code_value for row in self.rows))


class DenyEntry(StrictModel):
    system: System
    table: str
    column: str
    category: DenyCategory
    reason: str = Field(min_length=10)


class DenyList(StrictModel):
    denied: tuple[DenyEntry, ...]

    def columns_of(self, system: System | str, table: str) -> dict[str, DenyEntry]:
        return {entry.column: entry for entry in self.denied
                if entry.system is System(system) and entry.table == table}


@dataclass(frozen=True)
class Mappings:
    """The whole mapping configuration: schema, one mapping per system, crosswalks."""

    schema: UnifiedSchema
    systems: dict[System, SystemMapping]
    crosswalks: dict[str, Crosswalk]

    def table(self, system: System | str, table: str) -> TableMapping | None:
        system_mapping = self.systems.get(System(system))
        return system_mapping.tables.get(table) if system_mapping else None


# --- loaders -----------------------------------------------------------------------------------

def load_crosswalk(path: Path | str, namespace: str) -> Crosswalk:
    """One crosswalk CSV: header ``legacy_code,code_value,description``, no legacy code twice."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            lines = list(csv.reader(handle))
    except OSError as err:
        raise ConfigurationError(f"{path}: crosswalk cannot be read ({err.strerror})") from err
    except (csv.Error, UnicodeDecodeError) as err:
        raise ConfigurationError(f"{path}: crosswalk is not UTF-8 CSV ({type(err).__name__})") from err
    if not lines or tuple(lines[0]) != CROSSWALK_HEADER:
        raise ConfigurationError(f"{path}:1: crosswalk header must be {','.join(CROSSWALK_HEADER)}")
    rows, first_line = [], {}
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        if len(line) != len(CROSSWALK_HEADER):
            raise ConfigurationError(f"{path}:{number}: expected {len(CROSSWALK_HEADER)} fields, found {len(line)}")
        legacy_code, code_value, description = (part.strip() for part in line)
        if legacy_code in first_line:
            raise ConfigurationError(f"{path}:{number}: legacy code {legacy_code!r} is already on line "
                                     f"{first_line[legacy_code]}")
        if not code_value:
            raise ConfigurationError(f"{path}:{number}: code_value is empty")
        first_line[legacy_code] = number
        rows.append(CrosswalkRow(legacy_code=legacy_code, code_value=code_value, description=description))
    return Crosswalk(name=path.stem, namespace=namespace, rows=tuple(rows))


def load_crosswalks(schema: UnifiedSchema, crosswalk_dir: Path | str) -> dict[str, Crosswalk]:
    """Every code set the schema declares, each from ``<crosswalk_dir>/<name>.csv``."""
    crosswalk_dir = Path(crosswalk_dir)
    crosswalks = {}
    for name, namespace in schema.descriptors.items():
        path = crosswalk_dir / f"{name}.csv"
        if not path.is_file():
            raise ConfigurationError(f"{path}: crosswalk file for code set {name!r} does not exist")
        crosswalks[name] = load_crosswalk(path, namespace)
    return crosswalks


def load_system_mapping(path: Path | str, schema: UnifiedSchema, crosswalk_dir: Path | str,
                        transforms: frozenset[str] | None = None) -> SystemMapping:
    """One system's mapping file, checked against the catalog, the schema, transforms and crosswalks."""
    source = Source.read(path)
    mapping = source.validate(SystemMapping)
    _check_system_mapping(mapping, source, schema, Path(crosswalk_dir),
                          transforms if transforms is not None else field_transform_names())
    return mapping


def _check_system_mapping(mapping: SystemMapping, source: Source, schema: UnifiedSchema, crosswalk_dir: Path,
                          transforms: frozenset[str]) -> None:
    catalog = {table.name: table for table in legacy.tables_of(mapping.system)}
    for table_name, table_mapping in mapping.tables.items():
        at = ("tables", table_name)
        if table_name not in catalog:
            raise source.error(at, f"the legacy catalog has no table {mapping.system.value}.{table_name}")
        known_columns = catalog[table_name].column_names
        for entity_name, fields in table_mapping.targets.items():
            entity_at = (*at, "targets", entity_name)
            if entity_name not in schema.entities:
                raise source.error(entity_at, f"unknown target entity {entity_name!r}")
            entity = schema.entities[entity_name]
            if entity.origin != "mapped":
                raise source.error(entity_at, f"entity {entity_name!r} is {entity.origin}, not fed by a mapping")
            for field_name, field_source in fields.items():
                field_at = (*entity_at, field_name)
                if field_name not in entity.field_names:
                    raise source.error(field_at, f"unknown field {entity_name}.{field_name}")
                for column in field_source.from_:
                    if column not in known_columns:
                        raise source.error((*field_at, "from"), f"the legacy catalog has no column "
                                                                f"{mapping.system.value}.{table_name}.{column}")
                _check_field_conversion(field_source, entity.field(field_name).descriptor, field_at, source,
                                        schema, crosswalk_dir, transforms)
            missing = [name for name in entity.required_fields if name not in fields]
            if missing:
                raise source.error(entity_at, f"required field(s) of {entity_name} not mapped: {', '.join(missing)}")
        for column, reason in table_mapping.ignored.items():
            if column not in known_columns:
                raise source.error((*at, "ignored", column), f"the legacy catalog has no column "
                                                             f"{mapping.system.value}.{table_name}.{column}")
            if not reason or not reason.strip():
                raise source.error((*at, "ignored", column), "an ignored column needs a one-line reason")
        unmapped_keys = [key for key in catalog[table_name].key if key not in table_mapping.mapped_columns]
        if unmapped_keys:
            raise source.error(at, f"key column(s) {', '.join(unmapped_keys)} must be mapped: "
                                   "quarantine and lineage name rows by them")


def _check_field_conversion(field_source: FieldSource, descriptor: str | None, at: tuple, source: Source,
                            schema: UnifiedSchema, crosswalk_dir: Path, transforms: frozenset[str]) -> None:
    if field_source.transform and field_source.transform not in transforms:
        raise source.error((*at, "transform"), f"unknown transform {field_source.transform!r}; "
                                               f"known: {', '.join(sorted(transforms))}")
    if field_source.crosswalk:
        name = field_source.crosswalk
        if name not in schema.descriptors:
            raise source.error((*at, "crosswalk"), f"unknown crosswalk {name!r} (not declared in {SCHEMA_FILE})")
        if not (crosswalk_dir / f"{name}.csv").is_file():
            raise source.error((*at, "crosswalk"), f"crosswalk file {crosswalk_dir / (name + '.csv')} does not exist")
        if descriptor != name:
            expected = f"the {descriptor!r} code set" if descriptor else "no code set (it is not a descriptor)"
            raise source.error((*at, "crosswalk"), f"the field holds {expected}, not {name!r}")
        return
    if descriptor and field_source.from_:
        raise source.error(at, f"the field holds a {descriptor!r} code: map it with crosswalk: {descriptor}")


def load_mappings(mappings_dir: Path | str | None = None) -> Mappings:
    """The schema, every system's mapping and every crosswalk under ``mappings_dir`` (default: the project's)."""
    base = Path(mappings_dir) if mappings_dir else MAPPINGS_DIR
    schema = load_schema(base / SCHEMA_FILE)
    crosswalk_dir = base / CROSSWALK_DIR
    crosswalks = load_crosswalks(schema, crosswalk_dir)
    transforms = field_transform_names()
    systems = {}
    for system in System:
        path = base / mapping_file(system)
        system_mapping = load_system_mapping(path, schema, crosswalk_dir, transforms)
        if system_mapping.system is not system:
            raise ConfigurationError(f"{path}:{Source.read(path).line_of(('system',))}: the file is for "
                                     f"{system.value}, but says system: {system_mapping.system.value}")
        systems[system] = system_mapping
    fed = {entity for mapping in systems.values() for table in mapping.tables.values() for entity in table.targets}
    unfed = [name for name, entity in schema.entities.items() if entity.origin == "mapped" and name not in fed]
    if unfed:
        raise ConfigurationError(f"{base / SCHEMA_FILE}: no mapping feeds the entities {', '.join(unfed)}")
    return Mappings(schema=schema, systems=systems, crosswalks=crosswalks)


def load_deny_list(path: Path | str | None = None) -> DenyList:
    """The deny-list, each entry checked against the catalog; an entry listed twice is an error."""
    source = Source.read(Path(path) if path else MAPPINGS_DIR / DENY_LIST_FILE)
    deny_list = source.validate(DenyList)
    seen: set[tuple[System, str, str]] = set()
    for index, entry in enumerate(deny_list.denied):
        at = ("denied", index)
        try:
            table = legacy.table(entry.system, entry.table)
        except KeyError as err:
            raise source.error(at, f"the legacy catalog has no table {entry.system.value}.{entry.table}") from err
        if entry.column not in table.column_names:
            where = f"{entry.system.value}.{entry.table}.{entry.column}"
            raise source.error(at, f"the legacy catalog has no column {where}")
        if entry.column in table.key:
            raise source.error(at, f"{entry.column} is a key column of {entry.table}; a key cannot be denied")
        if (entry.system, entry.table, entry.column) in seen:
            raise source.error(at, f"{entry.system.value}.{entry.table}.{entry.column} is listed twice")
        seen.add((entry.system, entry.table, entry.column))
    return deny_list


@cache
def default_mappings() -> Mappings:
    return load_mappings()


@cache
def default_deny_list() -> DenyList:
    return load_deny_list()


# --- closed world ------------------------------------------------------------------------------

ProblemKind = Literal["unclassified", "classified_twice", "missing_from_source", "table_missing"]


@dataclass(frozen=True)
class Problem:
    """One break of the closed world, naming system, table and column (never a value)."""

    system: str
    table: str
    column: str | None
    kind: ProblemKind
    detail: str

    def __str__(self) -> str:
        where = f"{self.system}.{self.table}" + (f".{self.column}" if self.column else "")
        return f"{where}: {self.detail}"


def fates(mappings: Mappings, deny_list: DenyList, system: System | str, table: str) -> dict[str, list[str]]:
    """Column -> every fate it is given (``mapped``, ``ignored``, ``denied``); one is the rule."""
    result: dict[str, list[str]] = {}
    table_mapping = mappings.table(system, table)
    if table_mapping:
        for column in table_mapping.mapped_columns:
            result.setdefault(column, []).append("mapped")
        for column in table_mapping.ignored:
            result.setdefault(column, []).append("ignored")
    for column in deny_list.columns_of(system, table):
        result.setdefault(column, []).append("denied")
    return result


def catalog_columns() -> dict[tuple[System, str], list[str]]:
    """The columns of every legacy table as the catalog declares them."""
    return {(table.system, table.name): list(table.column_names) for table in legacy.TABLES.values()}


def check_closed_world(mappings: Mappings, deny_list: DenyList,
                       live_columns: dict[tuple[System | str, str], list[str]] | None = None) -> list[Problem]:
    """Every column of every legacy table must be exactly one of mapped, ignored or denied.

    ``live_columns`` are the columns the sources really have, by (system, table); the catalog's
    when not given. A table absent from it is reported once as missing. Problems come in
    catalog order: unclassified, classified twice, classified but missing from the source.
    """
    live = {(System(system), table): list(columns)
            for (system, table), columns in (live_columns or catalog_columns()).items()}
    problems = []
    for table in legacy.TABLES.values():
        system = table.system.value
        table_fates = fates(mappings, deny_list, table.system, table.name)
        if (table.system, table.name) not in live:
            problems.append(Problem(system, table.name, None, "table_missing",
                                    "the source has no such table (or no export of it)"))
            continue
        columns = live[(table.system, table.name)]
        for column in columns:
            given = table_fates.get(column, [])
            if not given:
                problems.append(Problem(system, table.name, column, "unclassified",
                                        "column is not mapped, ignored or denied: classify it before any row is read"))
            elif len(given) > 1:
                counted = ", ".join(f"{fate} x{count}" if count > 1 else fate
                                    for fate, count in Counter(given).items())
                problems.append(Problem(system, table.name, column, "classified_twice",
                                        f"column is classified more than once ({counted})"))
        present = set(columns)
        for column, given in table_fates.items():
            if column not in present:
                problems.append(Problem(system, table.name, column, "missing_from_source",
                                        f"column is {'/'.join(given)} but the source does not have it"))
    return problems
