"""Derive: the entities no legacy system holds as rows.

Input: the unified class attendance and the school of every section (transform state), the
crosswalks. Output: ``unified/student_school_attendance_event/derived.parquet`` (daily school
attendance from class attendance) and ``unified/descriptor/derived.parquet`` (every code value of
every code set), then the batches of entities the validation tasks take.
"""

from __future__ import annotations

import logging
from typing import Any

from sis_migrate.run_config import RunConfig


def derive(cfg: RunConfig, facts: list[dict[str, Any]]) -> dict[str, Any]:
    """Entities the legacy systems do not hold as rows: daily school attendance and the descriptors."""
    import pandas as pd

    from sis_migrate.mapping import default_mappings
    from sis_migrate.schema import arrow_table
    from sis_migrate.stages.validate import validation_batches
    from transforms.attendance import daily_attendance

    staging = cfg.staging_area()
    schema = default_mappings().schema
    events = [staging.read_frame(path, ["student_unique_id", "section_id", "event_date",
                                        "attendance_event_category_descriptor"])
              for path in staging.list("unified/student_section_attendance_event/")]
    school_of_section = staging.read_frame("lookups/school_of_section.parquet")
    days = daily_attendance(pd.concat(events, ignore_index=True) if events else pd.DataFrame(
        columns=["student_unique_id", "section_id", "event_date", "attendance_event_category_descriptor"]),
        pd.Series(school_of_section["value"].to_numpy(), index=pd.Index(school_of_section["key"].to_numpy())),
        cfg.school_year)
    days = days.assign(_source_table=pd.NA, _source_key=pd.NA, _source_school=days["school_id"])
    staging.write_arrow("unified/student_school_attendance_event/derived.parquet",
                        arrow_table(schema.entity("student_school_attendance_event"), days))
    mappings = default_mappings()
    descriptors = pd.DataFrame([
        {"namespace": crosswalk.namespace, "code_value": value,
         "description": next(r.description for r in crosswalk.rows if r.code_value == value) or None}
        for crosswalk in mappings.crosswalks.values() for value in crosswalk.code_values
    ]).drop_duplicates(["namespace", "code_value"])
    descriptors = descriptors.assign(_source_table=pd.NA, _source_key=pd.NA, _source_school=pd.NA)
    staging.write_arrow("unified/descriptor/derived.parquet", arrow_table(schema.entity("descriptor"), descriptors))
    logging.getLogger(__name__).info(f"[derive] {len(days):,} school attendance days, {len(descriptors):,} descriptors")
    return validation_batches(schema)
