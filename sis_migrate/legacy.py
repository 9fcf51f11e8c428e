"""The four legacy systems as they stand before go-live: systems, tables, columns and types.

These are facts of the world the migration starts from (the district's data dictionary), not a
design of ours. The synthetic generator writes exactly these shapes and the extract stage reads
exactly these shapes, so a real district export in the same shapes runs through unchanged.

Types are written in the legacy systems' own SQL vocabulary. Where the data dictionary gives no
length (plain ``VARCHAR``), a generous length is chosen here and noted. Verify has no database:
its "types" describe the pipe-delimited text of its export files (dates as ``YYYYMMDD``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class System(StrEnum):
    SIM = "sim"
    GRADEBOOK = "gradebook"
    CIM = "cim"
    VERIFY = "verify"


# Where each system lives in production, and so which kinds of location it can be read from.
RELATIONAL_SYSTEMS = (System.SIM, System.GRADEBOOK, System.CIM)
FILE_SYSTEMS = (System.VERIFY,)


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # e.g. "CHAR(6)", "NUMERIC(8)", "VARCHAR(80)", "DATE", "TIMESTAMP", "BIT"

    @property
    def base_type(self) -> str:
        return self.sql_type.split("(", 1)[0].upper()

    @property
    def type_args(self) -> tuple[int, ...]:
        match = re.search(r"\(([^)]*)\)", self.sql_type)
        if not match:
            return ()
        return tuple(int(part) for part in match.group(1).split(","))


@dataclass(frozen=True)
class Table:
    system: System
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the columns that identify a row in messages, reports and quarantine

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def qualified(self) -> str:
        """``system.table``: how staging, accounting and reports name a legacy table."""
        return f"{self.system.value}.{self.name}"

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.system}.{self.name} has no column {name!r}")


def _cols(spec: str) -> tuple[Column, ...]:
    """Parse ``"NAME TYPE, NAME TYPE"`` (types may hold commas inside parentheses)."""
    columns = []
    for part in re.split(r",\s*(?![^()]*\))", spec.strip()):
        name, sql_type = part.split(None, 1)
        columns.append(Column(name, sql_type.strip()))
    return tuple(columns)


_TABLES = (
    # --- SIM: system of record (UPPER_SNAKE, SIM_ prefix) -------------------------------------
    Table(System.SIM, "SIM_SCHOOL", _cols("""
        SCHOOL_ID CHAR(6), SCHOOL_NM VARCHAR(80), SCHOOL_TYPE_CD CHAR(2), NETWORK_CD VARCHAR(10),
        ADDR_LINE1 VARCHAR(80), CITY VARCHAR(40), STATE_CD CHAR(2), ZIP_CD VARCHAR(10),
        PHONE_NO VARCHAR(20), OPEN_DT DATE, CLOSE_DT DATE, ACTIVE_IND CHAR(1)
    """), key=("SCHOOL_ID",)),
    Table(System.SIM, "SIM_STUDENT", _cols("""
        STUDENT_ID NUMERIC(8), STATE_ID VARCHAR(12), LAST_NM VARCHAR(60), FIRST_NM VARCHAR(60),
        MIDDLE_NM VARCHAR(60), SUFFIX_NM VARCHAR(10), PREF_NM VARCHAR(60), BIRTH_DT DATE,
        GENDER_CD CHAR(1), RACE_CD CHAR(1), HISPANIC_IND CHAR(1), HOME_LANG_CD VARCHAR(3),
        ELL_IND CHAR(1), SPED_IND CHAR(1), FRL_STATUS_CD CHAR(1), ADDR_LINE1 VARCHAR(80),
        ADDR_LINE2 VARCHAR(80), CITY VARCHAR(40), STATE_CD CHAR(2), ZIP_CD VARCHAR(10),
        HOME_PHONE VARCHAR(20), EMAIL_ADDR VARCHAR(120), CITIZENSHIP_STATUS_CD VARCHAR(4),
        BIRTH_COUNTRY_CD CHAR(2), BIRTH_CITY VARCHAR(60), IMMIGRATION_STATUS_CD VARCHAR(4),
        US_ENTRY_DT DATE, FIRST_US_SCHOOL_DT DATE, SSN CHAR(11), MEDICAL_NOTES VARCHAR(2000),
        CREATE_TS TIMESTAMP, UPDATE_TS TIMESTAMP
    """), key=("STUDENT_ID",)),
    Table(System.SIM, "SIM_GUARDIAN", _cols("""
        GUARDIAN_ID NUMERIC(10), STUDENT_ID NUMERIC(8), RELATION_CD CHAR(2), LAST_NM VARCHAR(60),
        FIRST_NM VARCHAR(60), HOME_PHONE VARCHAR(20), CELL_PHONE VARCHAR(20), WORK_PHONE VARCHAR(20),
        EMAIL_ADDR VARCHAR(120), LIVES_WITH_IND CHAR(1), CUSTODY_IND CHAR(1), PICKUP_OK_IND CHAR(1),
        EMERGENCY_IND CHAR(1), PRIMARY_LANG_CD VARCHAR(3), EMPLOYER_NM VARCHAR(80),
        CITIZENSHIP_STATUS_CD VARCHAR(4), UPDATE_TS TIMESTAMP
    """), key=("GUARDIAN_ID",)),
    Table(System.SIM, "SIM_ENROLLMENT", _cols("""
        ENROLL_ID NUMERIC(10), STUDENT_ID NUMERIC(8), SCHOOL_ID CHAR(6), SCHOOL_YR CHAR(9),
        GRADE_LVL_CD VARCHAR(2), ENTRY_DT DATE, ENTRY_CD CHAR(2), LEAVE_DT DATE, LEAVE_CD CHAR(2),
        HOMEROOM_CD VARCHAR(6), PRIMARY_IND CHAR(1)
    """), key=("ENROLL_ID",)),
    Table(System.SIM, "SIM_INCIDENT", _cols("""
        INCIDENT_ID NUMERIC(10), STUDENT_ID NUMERIC(8), SCHOOL_ID CHAR(6), INCIDENT_DT DATE,
        INFRACTION_CD VARCHAR(6), ACTION_CD VARCHAR(4), DAYS_SUSPENDED NUMERIC(4,1),
        POLICE_NOTIFIED_IND CHAR(1), NARRATIVE VARCHAR(4000)
    """), key=("INCIDENT_ID",)),
    # --- Gradebook: teachers, sections, grades, class attendance (PascalCase) -----------------
    Table(System.GRADEBOOK, "Teacher", _cols("""
        TeacherId INT, EmployeeNumber VARCHAR(9), FirstName VARCHAR(60), LastName VARCHAR(60),
        Email VARCHAR(120), HomeSchool VARCHAR(8), Active BIT
    """), key=("TeacherId",)),
    Table(System.GRADEBOOK, "Course", _cols("""
        CourseCode VARCHAR(12), CourseName VARCHAR(80), Department VARCHAR(40),
        CreditValue DECIMAL(3,2), CimCourseId VARCHAR(10)
    """), key=("CourseCode",)),
    Table(System.GRADEBOOK, "Section", _cols("""
        SectionId INT, SchoolCode VARCHAR(8), CourseCode VARCHAR(12), TeacherId INT, SchoolYear INT,
        Term VARCHAR(2), Period VARCHAR(4), Room VARCHAR(10)
    """), key=("SectionId",)),
    Table(System.GRADEBOOK, "Roster", _cols("""
        SectionId INT, StudentNumber VARCHAR(10), EnrolledOn DATETIME, DroppedOn DATETIME
    """), key=("SectionId", "StudentNumber")),
    Table(System.GRADEBOOK, "Assignment", _cols("""
        AssignmentId INT, SectionId INT, Title VARCHAR(120), Category VARCHAR(20),
        DueDate VARCHAR(10), PointsPossible DECIMAL(6,2), Weight DECIMAL(4,2)
    """), key=("AssignmentId",)),
    Table(System.GRADEBOOK, "Score", _cols("""
        AssignmentId INT, StudentNumber VARCHAR(10), Score VARCHAR(8), Comment VARCHAR(500),
        LastModified DATETIME
    """), key=("AssignmentId", "StudentNumber")),
    Table(System.GRADEBOOK, "PeriodGrade", _cols("""
        SectionId INT, StudentNumber VARCHAR(10), GradingPeriod VARCHAR(2), LetterGrade VARCHAR(1),
        Percent DECIMAL(5,2), PostedOn DATETIME
    """), key=("SectionId", "StudentNumber", "GradingPeriod")),
    Table(System.GRADEBOOK, "ClassAttendance", _cols("""
        SectionId INT, StudentNumber VARCHAR(10), ClassDate DATE, Mark VARCHAR(1), MinutesLate INT
    """), key=("SectionId", "StudentNumber", "ClassDate")),
    # --- CIM: curriculum and instruction (lower_snake, cim_ prefix) ----------------------------
    Table(System.CIM, "cim_course", _cols("""
        course_id VARCHAR(10), title VARCHAR(120), subject_area VARCHAR(40), grade_low VARCHAR(2),
        grade_high VARCHAR(2), credits NUMERIC(3,2), state_course_code VARCHAR(12), active BOOLEAN
    """), key=("course_id",)),
    Table(System.CIM, "cim_program", _cols("""
        program_code VARCHAR(4), program_name VARCHAR(80)
    """), key=("program_code",)),
    Table(System.CIM, "cim_program_participation", _cols("""
        student_id INTEGER, program_code VARCHAR(4), school_id VARCHAR(6), begin_date DATE,
        end_date DATE, exit_reason VARCHAR(40)
    """), key=("student_id", "program_code", "begin_date")),
    Table(System.CIM, "cim_assessment", _cols("""
        assessment_id INTEGER, name VARCHAR(80), subject VARCHAR(40), administration VARCHAR(6)
    """), key=("assessment_id",)),
    Table(System.CIM, "cim_assessment_result", _cols("""
        student_id INTEGER, assessment_id INTEGER, school_year VARCHAR(9), administration VARCHAR(6),
        test_date DATE, scale_score INTEGER, percentile SMALLINT, proficiency_level SMALLINT,
        accommodations_note VARCHAR(500)
    """), key=("student_id", "assessment_id", "school_year", "administration")),
    # --- Verify: nightly pipe-delimited Latin-1 exports (TEXT = a field of the file) -----------
    Table(System.VERIFY, "verify_enrollment_check", _cols("""
        check_id TEXT, stu_key TEXT, school_num TEXT, school_yr TEXT, check_date YYYYMMDD,
        status TEXT, verified_by TEXT, notes TEXT
    """), key=("check_id",)),
    Table(System.VERIFY, "verify_residency", _cols("""
        stu_key TEXT, addr TEXT, proof_type TEXT, proof_doc_no TEXT, proof_country TEXT,
        verified_on YYYYMMDD, expires_on YYYYMMDD
    """), key=("stu_key", "verified_on")),
    Table(System.VERIFY, "verify_consent", _cols("""
        consent_id TEXT, stu_key TEXT, guardian_last TEXT, guardian_first TEXT, consent_type TEXT,
        activity TEXT, school_yr TEXT, parent_signed_on YYYYMMDD, principal_signed_on YYYYMMDD,
        parent_copy_ind TEXT, revoked_on YYYYMMDD
    """), key=("consent_id",)),
)

TABLES: dict[tuple[System, str], Table] = {(table.system, table.name): table for table in _TABLES}


def tables_of(system: System | str) -> tuple[Table, ...]:
    system = System(system)
    return tuple(table for table in _TABLES if table.system is system)


def table(system: System | str, name: str) -> Table:
    try:
        return TABLES[(System(system), name)]
    except (KeyError, ValueError) as err:
        raise KeyError(f"the legacy data dictionary has no table {system}.{name}") from err


# Verify's file format, as the nightly export writes it.
VERIFY_ENCODING = "iso-8859-1"
VERIFY_DELIMITER = "|"
VERIFY_LINE_END = "\r\n"
VERIFY_FILE_PATTERN = re.compile(r"^(?P<table>verify_[a-z_]+)_(?P<day>\d{8})\.txt$")
