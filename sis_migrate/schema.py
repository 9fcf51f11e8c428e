"""The unified schema (``mappings/unified_schema.yaml``) as frozen models and as SQLAlchemy tables.

The schema is the one description of the target: the loaders check mapping files against it,
:func:`build_metadata` makes the tables the load stage writes (natural key = primary key, NOT NULL,
foreign keys), and the validation suites are generated from the same models (natural keys,
required fields, descriptor fields, foreign keys). Next to the entity tables sit one quarantine
table per legacy table and one merge table, so every legacy row has a place to land.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from sis_migrate import legacy
from sis_migrate.config_yaml import Source, StrictModel
from sis_migrate.locations import PROJECT_ROOT

MAPPINGS_DIR = PROJECT_ROOT / "mappings"
SCHEMA_FILE = "unified_schema.yaml"
CROSSWALK_DIR = "crosswalks"

_SNAKE = r"^[a-z][a-z0-9_]*$"
_TYPE = re.compile(r"^(?:string\((?P<length>\d+)\)|int|bigint|decimal\((?P<precision>\d+),\s*(?P<scale>\d+)\)"
                   r"|date|datetime|bool)$")

MERGE_TABLE = "merge_record"
QUARANTINE_REASON, QUARANTINE_REASON_COLUMN, RUN_ID = "_reason", "_reason_column", "run_id"
# Lineage beside every entity row: the legacy table and key it came from, and its school.
SOURCE_TABLE, SOURCE_KEY, SOURCE_SCHOOL = "_source_table", "_source_key", "_source_school"
LINEAGE = (SOURCE_TABLE, SOURCE_KEY, SOURCE_SCHOOL)
NO_SCHOOL = "(none)"  # the school of a legacy row that belongs to none


class FieldDef(StrictModel):
    name: str = Field(pattern=_SNAKE)
    type: str
    nullable: bool
    descriptor: str | None = None  # the crosswalk (code set) whose code_value this field holds

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if not _TYPE.match(value):
            raise ValueError(f"type {value!r} is not one of string(n), int, bigint, decimal(p,s), date, datetime, bool")
        return value

    def sql_type(self):
        """The SQLAlchemy type of this field."""
        from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer, Numeric, String

        match = _TYPE.match(self.type)
        if match["length"]:
            return String(int(match["length"]))
        if match["precision"]:
            return Numeric(int(match["precision"]), int(match["scale"]))
        return {"int": Integer, "bigint": BigInteger, "date": Date, "datetime": DateTime,
                "bool": Boolean}[self.type]()


class ForeignKeyDef(StrictModel):
    """``fields`` of this entity reference the natural key of ``entity``, in order."""

    entity: str
    fields: tuple[str, ...] = Field(min_length=1)


class Entity(StrictModel):
    description: str
    origin: Literal["mapped", "derived", "descriptors"] = "mapped"
    derived_from: str | None = None
    deduplicate: bool = False  # many legacy rows yield one row per natural key (e.g. sessions)
    fields: tuple[FieldDef, ...] = Field(min_length=1)
    natural_key: tuple[str, ...] = Field(min_length=1)
    foreign_keys: tuple[ForeignKeyDef, ...] = ()

    def field(self, name: str) -> FieldDef:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    @property
    def required_fields(self) -> tuple[str, ...]:
        """Fields that may not be NULL (the natural key among them)."""
        return tuple(field.name for field in self.fields if not field.nullable)

    @property
    def descriptor_fields(self) -> dict[str, str]:
        """Field name -> the crosswalk whose code values it holds."""
        return {field.name: field.descriptor for field in self.fields if field.descriptor}


class UnifiedSchema(StrictModel):
    descriptors: dict[str, str]  # crosswalk name -> descriptor namespace
    entities: dict[str, Entity]

    def entity(self, name: str) -> Entity:
        try:
            return self.entities[name]
        except KeyError as err:
            raise KeyError(f"the unified schema has no entity {name!r}") from err

    def foreign_keys(self) -> list[tuple[str, ForeignKeyDef]]:
        """Every (entity name, foreign key) of the schema, for the validation suites."""
        return [(name, fk) for name, entity in self.entities.items() for fk in entity.foreign_keys]


def load_schema(path: Path | str | None = None) -> UnifiedSchema:
    """Load and check the unified schema; any problem is a ConfigurationError naming file and line."""
    source = Source.read(Path(path) if path else MAPPINGS_DIR / SCHEMA_FILE)
    schema = source.validate(UnifiedSchema)
    _check_schema(schema, source)
    return schema


@cache
def default_schema() -> UnifiedSchema:
    return load_schema()


def _check_schema(schema: UnifiedSchema, source: Source) -> None:
    for namespace_name in schema.descriptors:
        if not re.match(_SNAKE, namespace_name):
            raise source.error(("descriptors", namespace_name), "a code-set name must be snake_case")
    for name, entity in schema.entities.items():
        at = ("entities", name)
        if not re.match(_SNAKE, name):
            raise source.error(at, "an entity name must be snake_case")
        names = entity.field_names
        for index, field in enumerate(entity.fields):
            if names.count(field.name) > 1:
                raise source.error((*at, "fields", index), f"field {field.name!r} is declared twice")
            if field.descriptor and field.descriptor not in schema.descriptors:
                raise source.error((*at, "fields", index),
                                   f"descriptor {field.descriptor!r} is not declared under descriptors")
        for key_field in entity.natural_key:
            if key_field not in names:
                raise source.error((*at, "natural_key"), f"natural key field {key_field!r} is not a field")
            if entity.field(key_field).nullable:
                raise source.error((*at, "natural_key"), f"natural key field {key_field!r} must not be nullable")
        if (entity.origin == "derived") != bool(entity.derived_from):
            raise source.error(at, "derived_from is given exactly when origin is derived")
        if entity.derived_from and entity.derived_from not in schema.entities:
            raise source.error((*at, "derived_from"), f"unknown entity {entity.derived_from!r}")
        for index, fk in enumerate(entity.foreign_keys):
            fk_at = (*at, "foreign_keys", index)
            if fk.entity not in schema.entities:
                raise source.error(fk_at, f"foreign key to unknown entity {fk.entity!r}")
            referenced = schema.entities[fk.entity]
            if len(fk.fields) != len(referenced.natural_key):
                raise source.error(fk_at, f"{len(fk.fields)} field(s) cannot reference the natural key "
                                          f"{list(referenced.natural_key)} of {fk.entity}")
            for own, theirs in zip(fk.fields, referenced.natural_key, strict=True):
                if own not in names:
                    raise source.error(fk_at, f"foreign key field {own!r} is not a field")
                if entity.field(own).type != referenced.field(theirs).type:
                    raise source.error(fk_at, f"{own} ({entity.field(own).type}) cannot reference "
                                              f"{fk.entity}.{theirs} ({referenced.field(theirs).type})")


# --- SQLAlchemy ---------------------------------------------------------------------------------

def quarantine_table_name(system: legacy.System | str, table_name: str) -> str:
    """``quarantine_<system>_<legacy table, lower case>``, e.g. ``quarantine_gradebook_classattendance``."""
    return f"quarantine_{legacy.System(system).value}_{table_name.lower()}"


def build_metadata(schema: UnifiedSchema | None = None, schema_name: str | None = None):
    """SQLAlchemy MetaData: one table per entity, one quarantine table per legacy table, the merge table.

    Entity tables: primary key = natural key, NOT NULL where the schema says so, foreign keys to
    the referenced entity's natural key, then the lineage columns. Quarantine tables hold only the
    legacy key columns (as text), the reason, the column at fault, the run id and the school:
    never the rest of a row. The same metadata creates on SQLite and PostgreSQL; ``schema_name``
    puts every table in that schema.
    """
    from sqlalchemy import Column, ForeignKeyConstraint, MetaData, PrimaryKeyConstraint, String, Table

    schema = schema or default_schema()
    metadata = MetaData(schema=schema_name)
    prefix = f"{schema_name}." if schema_name else ""
    for name, entity in schema.entities.items():
        columns = [Column(field.name, field.sql_type(), nullable=field.nullable) for field in entity.fields]
        constraints = [PrimaryKeyConstraint(*entity.natural_key, name=f"pk_{name}")]
        for fk in entity.foreign_keys:
            referenced = schema.entities[fk.entity]
            constraints.append(ForeignKeyConstraint(
                list(fk.fields), [f"{prefix}{fk.entity}.{key}" for key in referenced.natural_key],
                name=f"fk_{name}_{'_'.join(fk.fields)}"[:63]))
        lineage = [Column(column, String(200), nullable=True) for column in LINEAGE]
        Table(name, metadata, *columns, *lineage, *constraints)
    for table in legacy.TABLES.values():
        Table(quarantine_table_name(table.system, table.name), metadata,
              *[Column(key, String(200), nullable=True) for key in table.key],
              Column(QUARANTINE_REASON, String(64), nullable=False),
              Column(QUARANTINE_REASON_COLUMN, String(128), nullable=True),
              Column(RUN_ID, String(64), nullable=False),
              Column(SOURCE_SCHOOL, String(16), nullable=True))
    Table(MERGE_TABLE, metadata,
          Column("system", String(16), nullable=False),
          Column("legacy_table", String(64), nullable=False),
          Column("legacy_key", String(200), nullable=False),
          Column("survivor_key", String(200), nullable=False),
          Column(QUARANTINE_REASON, String(64), nullable=False),
          Column(RUN_ID, String(64), nullable=False),
          Column(SOURCE_SCHOOL, String(16), nullable=True),
          PrimaryKeyConstraint(RUN_ID, "system", "legacy_table", "legacy_key", name=f"pk_{MERGE_TABLE}"))
    return metadata


# --- Arrow --------------------------------------------------------------------------------------

def arrow_table(entity: Entity, frame):
    """An entity frame as an Arrow table typed by the schema, lineage last, so all parts of an entity agree."""
    import pyarrow as pa

    arrays = [_arrow_array(frame[field.name], field.type) for field in entity.fields]
    arrays += [pa.array(frame[name].astype("string"), pa.string()) for name in LINEAGE]
    return pa.Table.from_arrays(arrays, names=[*entity.field_names, *LINEAGE])


def _arrow_array(series, type_name: str):
    import pandas as pd
    import pyarrow as pa

    if type_name.startswith("string"):
        return pa.array(series.astype("string"), pa.string())
    if type_name in {"int", "bigint"}:
        return pa.array(pd.array(series, dtype="Int64"), pa.int64())
    if type_name.startswith("decimal"):
        return pa.array(pd.array(series, dtype="Float64"), pa.float64())
    if type_name == "bool":
        return pa.array(pd.array(series, dtype="boolean"), pa.bool_())
    moments = pd.to_datetime(series).astype("datetime64[s]") if len(series) else series.astype("datetime64[s]")
    stamps = pa.array(moments, pa.timestamp("s"))
    return stamps.cast(pa.date32()) if type_name == "date" else stamps

