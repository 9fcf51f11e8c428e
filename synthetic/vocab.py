"""Value pools and proportions of a large urban (Chicago-like) district.

Faker builds the pools of names once per run (seeded); everything else is a fixed list here.
All text is kept inside the Latin-1 range, the encoding of Verify's exports: names from locales
with letters outside it (Polish, Vietnamese) are transliterated.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

# Grade index: 0 = PK, 1 = K, 2..13 = grades 1..12.
GRADE_LABELS = ("PK", "K", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12")
GRADE_WEIGHTS = np.array([4.5, 7.6, 7.6, 7.5, 7.4, 7.3, 7.2, 7.2, 7.1, 7.0, 7.6, 7.1, 6.6, 6.3])

# Home languages: (ISO 639-2 code, share, name-pool key, birth countries for the foreign-born).
LANGUAGES = (
    ("eng", 0.545, "en", ("US",)),
    ("spa", 0.300, "es", ("MX", "GT", "HN", "SV", "PR", "CO", "EC", "VE")),
    ("pol", 0.025, "pl", ("PL",)),
    ("ara", 0.020, "ar", ("IQ", "SY", "JO", "YE", "PS", "EG")),
    ("chi", 0.015, "zh", ("CN", "TW", "HK")),
    ("urd", 0.010, "ur", ("PK", "IN")),
    ("vie", 0.008, "vi", ("VN",)),
    ("tgl", 0.008, "tl", ("PH",)),
    ("rus", 0.006, "ru", ("RU", "UA")),
    ("ukr", 0.005, "ru", ("UA",)),
    ("fre", 0.005, "fr", ("HT", "CD", "FR")),
    ("hin", 0.004, "ur", ("IN",)),
    ("guj", 0.004, "ur", ("IN",)),
    ("kor", 0.003, "ko", ("KR",)),
    ("yor", 0.003, "yo", ("NG",)),
    ("swa", 0.003, "yo", ("KE", "TZ", "CD")),
    ("nep", 0.002, "ur", ("NP", "BT")),
)
LEGACY_TWO_LETTER = {"spa": "sp", "eng": "en"}
FOREIGN_BORN_SHARE = {"en": 0.02, "es": 0.22, "pl": 0.35, "ar": 0.55, "zh": 0.40, "ur": 0.45, "vi": 0.45,
                      "tl": 0.35, "ru": 0.40, "fr": 0.50, "ko": 0.40, "yo": 0.50}
ELL_SHARE_NON_ENGLISH = 0.48

# Race codes 1-7 by name pool (1 White, 2 Black, 3 Hispanic, 4 Asian, 5 AI/AN, 6 NH/PI, 7 Two or more).
RACE_BY_POOL = {
    "en": ((1, 2, 3, 4, 5, 6, 7), (0.19, 0.64, 0.08, 0.02, 0.01, 0.005, 0.055)),
    "es": ((3, 1, 7), (0.93, 0.04, 0.03)),
    "pl": ((1,), (1.0,)),
    "ar": ((1, 7), (0.9, 0.1)),
    "ru": ((1,), (1.0,)),
    "zh": ((4,), (1.0,)), "ko": ((4,), (1.0,)), "vi": ((4,), (1.0,)), "tl": ((4, 6), (0.9, 0.1)),
    "ur": ((4,), (1.0,)),
    "fr": ((2, 1), (0.9, 0.1)), "yo": ((2,), (1.0,)),
}

# Names for pools Faker has no Latin-script locale for (transliterated, Latin-1 only).
EXTRA_NAMES = {
    "ar": {
        "male": ("Ahmad", "Mohammed", "Omar", "Yousef", "Khalid", "Hassan", "Ali", "Ibrahim", "Mustafa", "Kareem",
                 "Tariq", "Samir", "Bilal", "Hamza", "Zaid", "Anas", "Faris", "Majed", "Nabil", "Rami"),
        "female": ("Fatima", "Aisha", "Mariam", "Noor", "Layla", "Huda", "Rania", "Yasmin", "Salma", "Amira",
                   "Dalia", "Hana", "Lina", "Rasha", "Sara", "Zainab", "Nadia", "Reem", "Samira", "Jana"),
        "last": ("Al-Hassan", "Haddad", "Khoury", "Nasser", "Saleh", "Mansour", "Abboud", "Hamdan", "Qasim",
                 "Darwish", "Al-Sayed", "Barakat", "Farah", "Jaber", "Kassem", "Mahmoud", "Odeh", "Shalabi",
                 "Yassin", "Zayed", "Abdallah", "El-Amin", "Hijazi", "Issa"),
    },
    "zh": {
        "male": ("Wei", "Jun", "Hao", "Jie", "Lei", "Ming", "Tao", "Yong", "Bo", "Kai", "Chen", "Long"),
        "female": ("Mei", "Li", "Xiu", "Ying", "Yan", "Jing", "Hui", "Lan", "Fang", "Xin", "Qing", "Ling"),
        "last": ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun",
                 "Ma", "Zhu", "Hu", "Guo", "Lin", "He", "Gao", "Luo"),
    },
    "ur": {
        "male": ("Muhammad", "Ahmed", "Usman", "Imran", "Faisal", "Asif", "Arjun", "Rahul", "Vikram", "Sanjay",
                 "Raj", "Arif", "Zubair", "Danish"),
        "female": ("Ayesha", "Sana", "Hira", "Mehwish", "Priya", "Anjali", "Kavya", "Nisha", "Sadia", "Farah",
                   "Rukhsar", "Deepa", "Sunita", "Zara"),
        "last": ("Khan", "Ahmed", "Malik", "Hussain", "Qureshi", "Siddiqui", "Patel", "Shah", "Sharma", "Singh",
                 "Desai", "Mehta", "Chaudhry", "Butt", "Iqbal", "Rana", "Thapa", "Gurung"),
    },
    "vi": {
        "male": ("Minh", "Tuan", "Hung", "Duc", "Quang", "Thanh", "Long", "Khoa", "Bao", "Phuc"),
        "female": ("Linh", "Trang", "Lan", "Huong", "Thuy", "Mai", "Ngoc", "Anh", "Hoa", "Vy"),
        "last": ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Phan", "Vu", "Dang", "Bui", "Do", "Ho", "Ngo"),
    },
    "tl": {
        "male": ("Jose", "Mark", "John Paul", "Jericho", "Rommel", "Arnel", "Joel", "Christian"),
        "female": ("Maria", "Kristine", "Joy", "Angelica", "Mary Grace", "Rowena", "Lea", "Jasmine"),
        "last": ("Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Dela Cruz", "Villanueva",
                 "Aquino", "Castillo", "Ramos", "Macaraeg"),
    },
    "ru": {
        "male": ("Dmitri", "Ivan", "Mykola", "Oleksandr", "Sergei", "Andriy", "Pavel", "Yuri", "Artem", "Bohdan"),
        "female": ("Anastasia", "Olena", "Natalia", "Svitlana", "Irina", "Oksana", "Daria", "Yulia", "Sofia"),
        "last": ("Ivanov", "Kovalenko", "Shevchenko", "Petrenko", "Bondarenko", "Smirnova", "Melnyk", "Popov",
                 "Tkachenko", "Kuznetsov", "Sokolova", "Boyko"),
    },
    "fr": {
        "male": ("Jean", "Pierre", "Jean-Baptiste", "Emmanuel", "Wilner", "Jacques", "Fabrice", "Frantz"),
        "female": ("Marie", "Rose-Marie", "Nadège", "Fabienne", "Mirlande", "Josette", "Chantal", "Guerline"),
        "last": ("Pierre", "Jean-Louis", "Joseph", "Louis", "Charles", "Desir", "Étienne", "Baptiste", "Lafleur",
                 "Théodore", "Saint-Fleur", "Dorvil"),
    },
    "ko": {
        "male": ("Min-jun", "Seo-jun", "Ji-ho", "Hyun-woo", "Joon", "Dong-hyun"),
        "female": ("Seo-yeon", "Ji-woo", "Ha-eun", "Min-seo", "Soo-ah", "Yuna"),
        "last": ("Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon"),
    },
    "yo": {
        "male": ("Oluwaseun", "Adebayo", "Chinedu", "Emeka", "Kwame", "Tunde", "Baraka", "Juma"),
        "female": ("Adaeze", "Folake", "Ngozi", "Amara", "Chioma", "Zawadi", "Imani", "Yetunde"),
        "last": ("Okafor", "Adeyemi", "Okonkwo", "Balogun", "Mensah", "Mwangi", "Otieno", "Adebayo", "Eze"),
    },
}
FAKER_LOCALES = {"en": "en_US", "es": "es_MX", "pl": "pl_PL"}
NAME_APOSTROPHE_HYPHEN = ("O'Brien", "O'Connor", "D'Angelo", "O'Neal", "McDonald-Hayes", "Smith-Jones",
                          "St. Clair", "De La Rosa", "N'Diaye", "Jean-Pierre")

# Chicago-like addresses.
STREETS = ("N Milwaukee Ave", "W Addison St", "S Pulaski Rd", "W Belmont Ave", "S Western Ave", "N Clark St",
           "W Irving Park Rd", "S Cicero Ave", "W Fullerton Ave", "S Halsted St", "W 63rd St", "W 47th St",
           "S Ashland Ave", "N Broadway", "W Lawrence Ave", "W Diversey Pkwy", "S Kedzie Ave", "W Chicago Ave",
           "W North Ave", "W Division St", "S Cottage Grove Ave", "E 79th St", "S Stony Island Ave", "W Madison St",
           "W Roosevelt Rd", "S Archer Ave", "W Cermak Rd", "N Sheridan Rd", "W Devon Ave", "N California Ave",
           "W Montrose Ave", "N Central Park Ave", "S Damen Ave", "W Garfield Blvd", "E 87th St", "S King Dr",
           "W Armitage Ave", "N Harlem Ave", "W Foster Ave", "S Racine Ave", "W 26th St", "W 18th St",
           "N Kimball Ave", "W Grand Ave", "S Pulaski Rd", "W Peterson Ave", "S Halsted Pkwy", "W Augusta Blvd")
CITIES = (("Chicago", 0.95), ("Cicero", 0.015), ("Evanston", 0.01), ("Oak Park", 0.01), ("Berwyn", 0.015))
ZIPS = tuple(f"606{n:02d}" for n in (1, 5, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
                                       26, 28, 29, 30, 31, 32, 34, 36, 37, 38, 39, 40, 41, 43, 44, 45, 46, 47,
                                       49, 51, 52, 53, 55, 56, 57, 59, 60))
AREA_CODES = ("312", "773", "872")
PHONE_FORMATS = ("({a}) {e}-{n}", "{a}.{e}.{n}", "{a}{e}{n}", "{a}-{e}-{n}")
FREE_EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")
DISTRICT_DOMAIN = "district.example.org"
STUDENT_DOMAIN = "students.district.example.org"

# Schools: type -> share of schools, grade-index span(s) and weight of each span, name suffix.
SCHOOL_TYPES = (
    ("ES", 0.70, (((0, 9), 0.7), ((0, 6), 0.3)), "Elementary School"),
    ("MS", 0.05, (((7, 9), 1.0),), "Middle School"),
    ("HS", 0.14, (((10, 13), 1.0),), "High School"),
    ("CH", 0.08, (((1, 9), 0.5), ((10, 13), 0.5)), "Charter Academy"),
    ("OP", 0.03, (((10, 13), 1.0),), "Options Academy"),
)
SCHOOL_NAMESAKES = ("Addams", "Banneker", "Brooks", "Burroughs", "Carver", "Chavez", "Clemente", "Curie",
                    "Douglass", "DuSable", "Earhart", "Einstein", "Ellington", "Franklin", "Goethe", "Hale",
                    "Hamilton", "Hansberry", "Hughes", "Jefferson", "Juarez", "Kelvyn", "Kosciuszko", "Lincoln",
                    "Madison", "Mann", "Marquette", "Mays", "Mitchell", "Monroe", "Morrill", "Nightingale",
                    "Owens", "Parks", "Pasteur", "Payton", "Pulaski", "Ruiz", "Sandburg", "Sor Juana", "Stowe",
                    "Tubman", "Twain", "Walsh", "Washington", "Wells", "Whitney", "Wright", "Young", "Zapata",
                    "Palmer", "Peck", "Owen", "Lozano", "Nobel", "Ericson", "Brentano", "Chopin", "Darwin", "Edison")

ENTRY_CODES = ("E1", "E2", "E3")
OUT_OF_DISTRICT_LEAVE_CODES = ("33", "40", "41", "60", "99")
RELATIONS = ("MO", "FA", "GM", "GF", "GU", "FO", "OT")
FEMALE_RELATIONS = frozenset({"MO", "GM"})
CITIZENSHIP_CODES = ("US", "LPR", "REF", "NON")
IMMIGRATION_CODES = ("LPR", "REF", "ASY", "TPS", "F1", "B2", "PAR", "UNK")

# Discipline: code-of-conduct groups 1-6 with their action weights over (WARN, DET, ISS, OSS, EXP).
ACTIONS = ("WARN", "DET", "ISS", "OSS", "EXP")
ACTION_WEIGHTS_BY_GROUP = {
    1: (0.60, 0.35, 0.05, 0.00, 0.00), 2: (0.35, 0.45, 0.15, 0.05, 0.00), 3: (0.10, 0.35, 0.35, 0.20, 0.00),
    4: (0.02, 0.13, 0.35, 0.50, 0.00), 5: (0.00, 0.05, 0.10, 0.80, 0.05), 6: (0.00, 0.00, 0.05, 0.75, 0.20),
}
INFRACTION_GROUP_WEIGHTS = (0.22, 0.30, 0.25, 0.15, 0.06, 0.02)
UNMAPPED_ACTION_CODES = ("SUSP", "RSTR", "CNSL", "SAT")
UNMAPPED_ATTENDANCE_MARKS = ("L", "U", "H")
ATTENDANCE_MARKS = ("P", "A", "T", "E", "X")

ENROLLMENT_CHECK_STATUSES = (("VERIFIED", 0.92), ("NO_SHOW", 0.04), ("NOT_FOUND", 0.02), ("DUPLICATE", 0.02))
RESIDENCY_PROOFS = (("UTIL", 0.34), ("LEASE", 0.28), ("DEED", 0.08), ("DL", 0.12), ("STATE_ID", 0.07),
                    ("PASSPORT", 0.05), ("VISA", 0.02), ("I94", 0.02), ("CONSULAR_ID", 0.02))
FOREIGN_PROOFS = frozenset({"PASSPORT", "VISA", "I94", "CONSULAR_ID"})
CONSENT_ACTIVITIES = {
    "TEXT_ALERTS": ("School-wide text alerts", "Attendance text alerts", "Weather and closing alerts"),
    "SAFETY_MEETUP": ("Varsity soccer away games", "Robotics competition travel", "Debate tournament",
                      "Summer internship check-ins", "Marching band travel", "College visit day"),
    "REENGAGEMENT": ("Back on Track outreach", "Re-enrollment counseling", "Credit recovery outreach"),
}

PROGRAMS = (("ELL", "English Learner Services"), ("SPED", "Special Education"), ("GIFT", "Gifted and Talented"),
            ("IB", "International Baccalaureate"), ("AP", "Advanced Placement"),
            ("CTE", "Career and Technical Education"), ("BIL", "Transitional Bilingual Education"))
PROGRAM_EXIT_REASONS = {"ELL": "Reclassified fluent English proficient", "SPED": "No longer eligible",
                        "GIFT": "Withdrawn by parent", "IB": "Left program", "AP": "End of school year",
                        "CTE": "Completed pathway", "BIL": "Transitioned to general program"}
ASSESSMENTS = (("Benchmark Reading", "Reading"), ("Benchmark Math", "Mathematics"))
ADMINISTRATIONS = ("FALL", "WINTER", "SPRING")

# Assignment categories and their shares, points possible and weights.
ASSIGNMENT_CATEGORIES = (("Homework", 0.42, (10, 20, 25), 0.10), ("Quiz", 0.25, (20, 25, 50), 0.20),
                         ("Test", 0.13, (50, 100), 0.40), ("Project", 0.08, (50, 100), 0.20),
                         ("Participation", 0.12, (5, 10), 0.10))
ASSIGNMENT_TITLE_WORDS = ("Chapter", "Unit", "Lesson", "Module", "Week")


@dataclass(frozen=True)
class CourseTemplate:
    """A course of the district catalog as schools offer it (one Gradebook Course per school)."""

    key: str            # unique: the catalog entry this template is (CIM course)
    prefix: str         # 3-letter local code prefix
    number: int         # 3-digit local code number
    name: str
    department: str
    subject_area: str
    grade: int          # grade index the course is for
    kind: str           # core (every student), pe, elective (chosen), language
    term: str           # YR, or SEM for electives offered in S1 and S2
    credit: float


def course_templates() -> tuple[CourseTemplate, ...]:
    """Courses per grade: core subjects for every student, electives to choose from."""
    templates: list[CourseTemplate] = []

    def add(prefix, number, name, dept, area, grade, kind, term="YR", credit=1.0):
        templates.append(CourseTemplate(f"{prefix}{number:03d}", prefix, number, name, dept, area, grade, kind,
                                        term, credit))

    add("PKL", 1, "Pre-K Literacy", "Early Childhood", "English Language Arts", 0, "core", credit=0.0)
    add("PKM", 2, "Pre-K Mathematics", "Early Childhood", "Mathematics", 0, "core", credit=0.0)
    add("PKD", 3, "Pre-K Play and Discovery", "Early Childhood", "Science", 0, "core", credit=0.0)
    for grade in range(1, 10):
        label = "Kindergarten" if grade == 1 else f"Grade {grade - 1}"
        number = grade * 10
        add("ELA", number, f"English Language Arts {label}", "English", "English Language Arts", grade, "core", 0.0)
        add("MAT", number, f"Mathematics {label}", "Mathematics", "Mathematics", grade, "core", credit=0.0)
        add("SCI", number, f"Science {label}", "Science", "Science", grade, "core", credit=0.0)
        add("SOC", number, f"Social Science {label}", "Social Science", "Social Studies", grade, "core", 0.0)
        add("PED", number, f"Physical Education {label}", "Physical Education", "Physical Education", grade, "pe",
            credit=0.0)
        add("ART", number, f"Visual Art {label}", "Fine Arts", "Fine Arts", grade, "elective", credit=0.0)
        add("MUS", number, f"General Music {label}", "Fine Arts", "Fine Arts", grade, "elective", credit=0.0)
        if grade >= 7:
            add("SPA", number, f"Spanish {label}", "World Languages", "World Languages", grade, "elective", 0.0)
            add("CSC", number, f"Computer Science {label}", "Technology", "Computer Science", grade, "elective", 0.0)
            add("BND", number, f"Band {label}", "Fine Arts", "Fine Arts", grade, "elective", credit=0.0)
    hs_core = {
        10: ("English I", "Algebra I", "Biology", "World Studies"),
        11: ("English II", "Geometry", "Chemistry", "United States History"),
        12: ("English III", "Algebra II", "Physics", "Civics and Economics"),
        13: ("English IV", "Precalculus", "Environmental Science", "Psychology"),
    }
    hs_prefix = (("ENG", "English", "English Language Arts"), ("MTH", "Mathematics", "Mathematics"),
                 ("SCN", "Science", "Science"), ("SST", "Social Science", "Social Studies"))
    for grade, names in hs_core.items():
        level = grade - 9
        for (prefix, dept, area), name in zip(hs_prefix, names, strict=True):
            add(prefix, 100 * level + 1, name, dept, area, grade, "core")
        add("PHE", 100 * level + 1, f"Physical Education {level}", "Physical Education", "Physical Education",
            grade, "pe", credit=0.5)
        for offset, (prefix, name, dept, area) in enumerate((
                ("SPN", f"Spanish {'I' * min(level, 3) if level < 4 else 'IV'}", "World Languages", "World Languages"),
                ("FRN", f"French {level}", "World Languages", "World Languages"),
                ("CHN", f"Mandarin Chinese {level}", "World Languages", "World Languages"))):
            add(prefix, 100 * level + 1 + offset * 10, name, dept, area, grade, "language")
        electives = (("ART", "Studio Art", "Fine Arts"), ("MUS", "Concert Choir", "Fine Arts"),
                     ("CSC", "Computer Science Principles", "Computer Science"), ("HLT", "Health", "Health"),
                     ("CTE", "Culinary Arts", "Career and Technical Education"),
                     ("CTE", "Automotive Technology", "Career and Technical Education"),
                     ("BUS", "Business and Entrepreneurship", "Career and Technical Education"),
                     ("JRN", "Journalism", "English Language Arts"), ("DRM", "Theater", "Fine Arts"),
                     ("PHO", "Digital Photography", "Fine Arts"))
        for offset, (prefix, name, area) in enumerate(electives):
            add(prefix, 100 * level + 50 + offset, f"{name} {level}", area, area, grade, "elective",
                term="SEM", credit=0.5)
        if grade >= 12:
            for offset, (prefix, name, area) in enumerate((("APE", "AP English Language", "English Language Arts"),
                                                           ("APC", "AP Calculus AB", "Mathematics"),
                                                           ("APB", "AP Biology", "Science"),
                                                           ("APU", "AP US History", "Social Studies"))):
                add(prefix, 100 * level + 80 + offset, name, "Advanced Placement", area, grade, "elective",
                    term="SEM", credit=0.5)
    return tuple(templates)


CATALOG_FILLER_TOPICS = ("Advanced Topics in", "Foundations of", "Seminar in", "Introduction to", "Applied",
                         "Honors", "Independent Study:", "Dual Credit")
CATALOG_FILLER_SUBJECTS = (("Literature", "English Language Arts"), ("Statistics", "Mathematics"),
                           ("Anatomy", "Science"), ("Geography", "Social Studies"), ("Ceramics", "Fine Arts"),
                           ("Robotics", "Computer Science"), ("Welding", "Career and Technical Education"),
                           ("Nutrition", "Health"), ("Portuguese", "World Languages"), ("Dance", "Fine Arts"),
                           ("Astronomy", "Science"), ("Law", "Social Studies"), ("Creative Writing",
                                                                                  "English Language Arts"))


def to_latin1(text: str) -> str:
    """The text itself when it is Latin-1, else with accents outside Latin-1 removed (Polish ł, Vietnamese ễ)."""
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        pass
    text = text.replace("ł", "l").replace("Ł", "L").replace("đ", "d").replace("Đ", "D")
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFKD", char)
            out.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return "".join(out)


def match_name(text: str) -> str:
    """Name as the matcher compares it: NFKD, combining marks dropped, casefold, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


@dataclass(frozen=True)
class NamePool:
    male: np.ndarray
    female: np.ndarray
    last: np.ndarray


def build_name_pools(seed: int, size: int = 1500) -> dict[str, NamePool]:
    """One pool of first (by sex) and last names per language group, drawn from seeded Faker locales."""
    from faker import Faker

    pools: dict[str, NamePool] = {}
    for key, locale in FAKER_LOCALES.items():
        fake = Faker(locale)
        fake.seed_instance(seed * 7919 + len(key) * 104729 + sum(map(ord, key)))
        male = sorted({to_latin1(fake.first_name_male()) for _ in range(size)})
        female = sorted({to_latin1(fake.first_name_female()) for _ in range(size)})
        last = sorted({to_latin1(fake.last_name()) for _ in range(size)})
        if key == "en":
            last = sorted(set(last) | set(NAME_APOSTROPHE_HYPHEN))
        pools[key] = NamePool(np.array(male, dtype=object), np.array(female, dtype=object),
                              np.array(last, dtype=object))
    for key, names in EXTRA_NAMES.items():
        pools[key] = NamePool(np.array(names["male"], dtype=object), np.array(names["female"], dtype=object),
                              np.array(names["last"], dtype=object))
    return pools


def build_word_pool(seed: int, size: int = 400) -> np.ndarray:
    """Plain words (for assignment titles and employer names), seeded."""
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed + 31337)
    words = sorted({fake.word().capitalize() for _ in range(size)})
    return np.array(words, dtype=object)
