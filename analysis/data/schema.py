"""The schema of the patient-level data, as code: one definition serves validation and the dictionary.

The real patient data of the evaluation stay in a secure research store; the bundled folder
``data/synthetic/`` holds a synthetic cohort with exactly this schema, so that real data of the same
shape can be put in its place. Every table is one CSV file with one row per observation:

* ``patients``: one row per patient (baseline questionnaire items of Table 6.A, income);
* ``previous_oat``: one row per patient and OAT medication tried before HAT (Figures 6.D and 6.E);
* ``episodes``: one row per treatment episode (admission, discharge or still in treatment);
* ``adverse_events``: one row per serious adverse event;
* ``referrals``: one row per referral to a HAT clinic (Appendix 5);
* ``medication``: one row per patient per medication registration (Appendix 3);
* ``questionnaires``: one row per patient per questionnaire wave (section 6.4, Supplementary Table A);
* ``health_service_use``: one row per patient per quarter around the first admission, from the national
  registries (section 6.7: specialist and primary health care).

This module imports nothing from the rest of :mod:`analysis`, so that the synthetic-data generator can
use it without touching analysis code. Each table's fields are listed in :data:`TABLES`; from that one
list :func:`pandera_schema` builds the validator and :func:`dictionary_resource` the entry of the
Frictionless data dictionary ``data/datapackage.json``. Rules that span rows or tables (an episode that
ends before it starts, an event outside every episode, ...) live in :mod:`analysis.data.cohort`, as do the rules
of a cell's text (ISO dates, ASCII digits, an integer written ``3.0`` read as 3, empty cells for missing
values).

Every count and day field has an upper bound, stated in its description and shown in the dictionary as
``maximum``: a value above it is a typing or extraction error that would otherwise flow into costs (a quarter
has at most 92 days; at most 500 contacts a quarter; at most 30 days of the previous 30). Identifiers are
ASCII (``[0-9]``, not ``\\d``, which takes other scripts' digits) and match as a whole value.
:data:`OPTIONAL_TABLES` are tables a data folder may bring (the clinics' accounts); the loader reads them
when their file is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandera.pandas as pa

#: First and last day that the evaluation's data cover.
STUDY_START = date(2022, 1, 1)
STUDY_END = date(2025, 12, 31)

CLINICS = ("Oslo", "Bergen")
SEXES = ("male", "female")

HOUSING = (
    "own_home",
    "rented",
    "temporary",
    "municipal_institution",
    "street",
    "friends_family_partner",
    "other",
)
EDUCATION = ("primary_not_completed", "primary", "upper_secondary", "higher")
INCOME = (
    "disability_benefit",
    "social_assistance",
    "work_assessment_allowance",
    "wages",
    "pension",
    "other",
    "none",
)
OAT_MEDICATIONS = (
    "methadone",
    "buprenorphine",
    "buprenorphine_naloxone",
    "depot_buprenorphine",
    "slow_release_oral_morphine",
    "levomethadone",
    "other",
)
OAT_END_REASONS = (
    "own_choice_dissatisfied_with_medication",
    "own_choice_side_effects",
    "own_choice_little_benefit",
    "own_choice_other",
    "involuntary_discharge",
    "moved_or_transferred",
    "still_on_medication",
    "other",
)

DISCHARGE_TYPES = ("planned", "unplanned")
#: Discharge reasons, each belonging to one discharge type.
DISCHARGE_REASONS = {
    "transition_to_oat": "planned",
    "agreed_other_follow_up": "planned",
    "non_attendance": "unplanned",
    "behaviour_or_violence": "unplanned",
    "other_unplanned": "unplanned",
}

ADVERSE_EVENT_CATEGORIES = (
    "nonfatal_overdose",
    "seizure",
    "allergic_reaction",
    "violence_acting_out_threats_self_harm",
    "other",
)

REFERRAL_TYPES = ("primary", "secondary")
REFERRAL_DECISIONS = ("accepted", "denied")
#: Referrers as in Supplementary Table G.
REFERRERS = (
    "specialist_addiction_other_trust",
    "specialist_addiction_excl_oat",
    "specialist_oat",
    "specialist_physician_at_hat",
    "specialist_psychiatric",
    "specialist_somatic",
    "ambulatory_psychiatry",
    "municipal_addiction",
    "low_threshold_oat",
    "low_threshold_addiction",
    "primary_care_physician",
    "nav",
    "user_organization",
    "self_referral",
)
#: Reasons for denial as in Supplementary Table H.
DENIAL_REASONS = (
    "other_treatment_more_suitable",
    "severe_mental_disorder",
    "risk_of_violence",
    "severe_somatic_disorder",
    "not_in_target_group",
    "new_medications_in_oat",
    "other",
    "not_attended_assessment",
    "reduced_cognitive_function",
    "patient_own_request",
    "admission_pause",
    "risk_of_violence_and_severe_mental_disorder",
    "not_able_to_attend",
)

DAM_ROUTES = ("intravenous", "intramuscular", "oral")
BRIDGE_OPIOIDS = ("methadone", "contalgin", "dolcontin", "levopidon", "other")
#: Planned registration times, in months after the start of treatment: one month, then every three.
REGISTRATION_MONTHS = (1,) + tuple(range(3, 49, 3))
#: Classes of regular co-medication registered in Appendix 3.
COMEDICATION_CLASSES = (
    "benzodiazepine",
    "somatic",
    "allergy",
    "antipsychotic",
    "antidepressant",
    "antiepileptic",
    "laxative",
    "analgesic",
    "hepatitis_c",
    "hiv",
)

#: Questionnaire waves, in months after the start of treatment (section 5.3): baseline, then follow-ups.
QUESTIONNAIRE_WAVES = (0, 3, 6, 12, 24, 36, 48)
#: Occupation (Supplementary Table A, footnote 1); "none" is neither work nor education.
OCCUPATIONS = ("none", "full_time_job", "part_time_job", "education", "part_time_job_and_education")
#: How often: hunger, and access to food (Figure 6.G).
FREQUENCIES = ("never", "rarely", "often", "always")
#: Self-rated mental health, 3-point scale (Figure 6.H), worst first.
MENTAL_HEALTH = ("bad", "fair", "good")
#: Self-rated anxiety and depression, 3-point scale (Figure 6.I), mildest first.
ANXIETY_DEPRESSION = ("none", "moderate", "severe")
#: Substances asked about as days of use in the previous 30 days (section 6.4, Supplementary Table A).
SUBSTANCES = ("heroin", "cocaine", "benzodiazepine", "amphetamine", "other_drug")
#: Somatic symptoms of the past three months, each rated 0 (not at all), 1 (a little), 2 (quite) or
#: 3 (very troublesome) (section 6.4, Supplementary Figure A).
SOMATIC_SYMPTOMS = (
    "sleep_problems",
    "dental_gum",
    "joint_pain",
    "memory",
    "digestive",
    "constipation",
    "headache",
    "back_pain",
    "breathing",
    "skin_wounds",
    "dizziness",
    "weight_loss",
    "poor_appetite",
    "sweating",
    "fatigue",
    "nausea",
    "chest_pain",
    "numbness",
)
#: The five EQ-5D-5L dimensions, each rated 1 (no problems) to 5 (extreme problems / unable).
EQ5D_DIMENSIONS = ("mo", "sc", "ua", "pd", "ad")


#: Quarters around the first admission in the registry data: -4 to -1 are the four 3-month periods before
#: the first admission, 1 to 8 the eight after it (there is no quarter 0).
REGISTRY_QUARTERS = tuple(range(-4, 0)) + tuple(range(1, 9))
#: Specialist health care areas (Supplementary Table B): somatic (SOM), mental health (PHV), addiction (TSB).
SPECIALIST_AREAS = ("som", "phv", "tsb")
#: Kinds of specialist contact, each with its own unit cost (Supplementary Table B).
SPECIALIST_CONTACTS = ("inpatient_days", "day_care", "outpatient")
#: Primary care services counted in the registry (Table 6.H).
PRIMARY_CARE_SERVICES = ("gp", "physiotherapy", "emergency_primary_care")


@dataclass(frozen=True)
class Field:
    """One column of a table: its type, whether it may be empty, and the rule its values follow."""

    name: str
    type: str  # "string", "integer", "number", "boolean", "date"
    description: str
    required: bool = True  # False: the cell may be empty (a missing answer, an open episode, ...)
    allowed: tuple[str, ...] | tuple[int, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    unit: str | None = None
    pattern: str | None = None
    unique: bool = False


@dataclass(frozen=True)
class Table:
    """A patient-level table: its file name, its primary key and its fields."""

    name: str
    description: str
    primary_key: tuple[str, ...]
    fields: tuple[Field, ...] = field(default_factory=tuple)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]


def _yes_no(name: str, description: str) -> Field:
    return Field(name, "boolean", description, required=False)


#: Upper bound of a patient's episode number: re-admissions are few (at most two in the bundled cohort).
MAX_EPISODES = 50

_BASELINE = "Baseline questionnaire at admission (Table 6.A); empty when the patient did not answer."

PATIENTS = Table(
    "patients",
    "One row per patient who started HAT and consented to the evaluation. Clinic and age refer to the first admission.",
    ("patient_id",),
    (
        Field("patient_id", "string", "Pseudonymous patient identifier.", pattern=r"^P[0-9]{3,}$", unique=True),
        Field("clinic", "string", "Clinic of the first admission.", allowed=CLINICS),
        Field("sex", "string", "Sex.", allowed=SEXES),
        Field(
            "age_at_admission", "number", "Age in years at the first admission.", minimum=18, maximum=90, unit="years"
        ),
        _yes_no("born_in_norway", f"Born in Norway. {_BASELINE}"),
        Field("housing", "string", f"Housing at admission. {_BASELINE}", required=False, allowed=HOUSING),
        _yes_no("living_with_others", f"Living with other people. {_BASELINE}"),
        _yes_no("unstable_housing_30d", f"Unstable housing in the previous 30 days. {_BASELINE}"),
        Field("education", "string", f"Highest completed education. {_BASELINE}", required=False, allowed=EDUCATION),
        _yes_no("reading_writing_difficulties", f"Self-reported reading and writing difficulties. {_BASELINE}"),
        _yes_no("work_or_education", f"In full- or part-time work or education. {_BASELINE}"),
        _yes_no("previous_treatment", f"Has been in treatment for substance use before. {_BASELINE}"),
        _yes_no(
            "involuntary_discharge_previous_oat",
            f"Was discharged involuntarily from a previous OAT treatment. {_BASELINE}",
        ),
        Field(
            "primary_income",
            "string",
            f"Primary source of income (Figure 6.C). {_BASELINE}",
            required=False,
            allowed=INCOME,
        ),
    ),
)

PREVIOUS_OAT = Table(
    "previous_oat",
    "One row per patient and OAT medication prescribed before HAT, with the reason that treatment ended "
    "(Figures 6.D and 6.E; several answers per patient possible). Patients who never had OAT have no rows.",
    ("patient_id", "medication"),
    (
        Field("patient_id", "string", "Patient identifier (patients.patient_id).", pattern=r"^P[0-9]{3,}$"),
        Field("medication", "string", "OAT medication prescribed before HAT.", allowed=OAT_MEDICATIONS),
        Field(
            "end_reason",
            "string",
            "Reason that treatment with this medication ended.",
            required=False,
            allowed=OAT_END_REASONS,
        ),
    ),
)

EPISODES = Table(
    "episodes",
    "One row per treatment episode in HAT. An episode still running at the end of the data has no "
    "discharge date, type or reason.",
    ("episode_id",),
    (
        Field("episode_id", "string", "Episode identifier.", pattern=r"^E[0-9]{3,}$", unique=True),
        Field("patient_id", "string", "Patient identifier (patients.patient_id).", pattern=r"^P[0-9]{3,}$"),
        Field(
            "episode_number",
            "integer",
            "1 for a patient's first episode, 2 for a re-admission, ...; at most "
            f"{MAX_EPISODES} (more episodes in one pilot is a data error).",
            minimum=1,
            maximum=MAX_EPISODES,
        ),
        Field("admission_date", "date", "Date of admission to HAT."),
        Field("discharge_date", "date", "Date of discharge; empty while in treatment.", required=False),
        Field(
            "discharge_type",
            "string",
            "Planned or unplanned discharge; empty while in treatment.",
            required=False,
            allowed=DISCHARGE_TYPES,
        ),
        Field(
            "discharge_reason",
            "string",
            "Reason for discharge; planned: transition to OAT or other agreed follow-up; unplanned: "
            "non-attendance, behaviour or violence, other.",
            required=False,
            allowed=tuple(DISCHARGE_REASONS),
        ),
    ),
)

ADVERSE_EVENTS = Table(
    "adverse_events",
    "One row per serious adverse event found in the review of medical records (section 6.5).",
    ("event_id",),
    (
        Field("event_id", "string", "Event identifier.", pattern=r"^A[0-9]{3,}$", unique=True),
        Field("patient_id", "string", "Patient identifier (patients.patient_id).", pattern=r"^P[0-9]{3,}$"),
        Field("event_date", "date", "Date of the event; it lies within one of the patient's episodes."),
        Field("category", "string", "Category of the event.", allowed=ADVERSE_EVENT_CATEGORIES),
    ),
)

REFERRALS = Table(
    "referrals",
    "One row per referral received by a HAT clinic (Appendix 5, Supplementary Tables E-H). A person "
    "may be referred more than once; person_id groups a person's referrals, patient_id links a person "
    "who later started HAT and consented to the evaluation.",
    ("referral_id",),
    (
        Field("referral_id", "string", "Referral identifier.", pattern=r"^R[0-9]{3,}$", unique=True),
        Field("person_id", "string", "Pseudonymous identifier of the referred person.", pattern=r"^Q[0-9]{3,}$"),
        Field(
            "patient_id",
            "string",
            "The person's patient identifier when in the cohort.",
            required=False,
            pattern=r"^P[0-9]{3,}$",
        ),
        Field("clinic", "string", "Clinic the referral was sent to.", allowed=CLINICS),
        Field("referral_date", "date", "Date the referral was received."),
        Field("age", "integer", "Age in whole years when referred.", minimum=18, maximum=90, unit="years"),
        Field("sex", "string", "Sex.", allowed=SEXES),
        Field(
            "referral_type",
            "string",
            "Primary (from outside OAT) or secondary (already in OAT).",
            allowed=REFERRAL_TYPES,
        ),
        Field("referrer", "string", "Who referred (Supplementary Table G).", allowed=REFERRERS),
        Field("decision", "string", "Whether the referral was accepted or denied.", allowed=REFERRAL_DECISIONS),
        Field(
            "denial_reason",
            "string",
            "Reason for a denial (Supplementary Table H); empty when accepted.",
            required=False,
            allowed=DENIAL_REASONS,
        ),
    ),
)

MEDICATION = Table(
    "medication",
    "One row per patient per medication registration: one month after the start of treatment, then "
    "every three months while in treatment (Appendix 3). Doses are those of a typical day in the week "
    "before the registration.",
    ("patient_id", "registration_month"),
    (
        Field("patient_id", "string", "Patient identifier (patients.patient_id).", pattern=r"^P[0-9]{3,}$"),
        Field(
            "registration_month",
            "integer",
            "Planned months since the start of treatment.",
            allowed=None,
            minimum=1,
            maximum=48,
            unit="months",
        ),
        Field("registration_date", "date", "Date of the registration; it lies within one of the patient's episodes."),
        _yes_no("dam_morning", "Received DAM in the morning."),
        _yes_no("dam_afternoon", "Received DAM in the afternoon."),
        Field("dam_route", "string", "Main route of DAM administration.", required=False, allowed=DAM_ROUTES),
        _yes_no("route_changes_weekly", "Changed route of administration several times per week."),
        Field("dam_morning_dose_mg", "number", "DAM morning dose.", required=False, minimum=0, maximum=1500, unit="mg"),
        Field(
            "dam_afternoon_dose_mg", "number", "DAM afternoon dose.", required=False, minimum=0, maximum=1500, unit="mg"
        ),
        _yes_no(
            "other_opioid_in_place_of_dam", "Another opioid was given in place of DAM in the morning or afternoon."
        ),
        Field(
            "bridge_opioid",
            "string",
            "Long-acting opioid given as overnight bridge medication.",
            required=False,
            allowed=BRIDGE_OPIOIDS,
        ),
        Field(
            "bridge_dose_mg", "number", "Dose of the bridge opioid.", required=False, minimum=0, maximum=2000, unit="mg"
        ),
        Field(
            "bonus_doses_per_week",
            "integer",
            "Bonus doses of DAM per week (Bergen); 0 when none.",
            required=False,
            minimum=0,
            maximum=7,
            unit="doses per week",
        ),
        Field(
            "bonus_dose_mg",
            "number",
            "Size of a bonus dose; empty when none.",
            required=False,
            minimum=0,
            maximum=500,
            unit="mg",
        ),
        _yes_no("comedication", "Received regular medication for comorbid conditions."),
        *(
            _yes_no(f"comedication_{name}", f"Regular co-medication of the class '{name}'.")
            for name in COMEDICATION_CLASSES
        ),
    ),
)

_ITEM = "Empty when not answered (no question was mandatory)."

QUESTIONNAIRES = Table(
    "questionnaires",
    "One row per patient per questionnaire wave: baseline (ideally within two weeks of admission), then "
    "3, 6, 12, 24, 36 and 48 months into treatment (section 5.3). A wave is dated inside one of the "
    "patient's episodes; a patient no longer in treatment has no further waves. Every item may be empty: "
    "no question was mandatory, so each item has its own number of answers (Supplementary Table A).",
    ("patient_id", "wave"),
    (
        Field("patient_id", "string", "Patient identifier (patients.patient_id).", pattern=r"^P[0-9]{3,}$"),
        Field(
            "wave",
            "integer",
            "Planned months since the start of treatment: " + ", ".join(map(str, QUESTIONNAIRE_WAVES)) + ".",
            allowed=QUESTIONNAIRE_WAVES,
            unit="months",
        ),
        Field(
            "questionnaire_date",
            "date",
            "Date the questionnaire was completed; it lies within one of the patient's episodes.",
        ),
        _yes_no("stable_housing_30d", f"Stable living situation in the previous 30 days. {_ITEM}"),
        Field(
            "occupation",
            "string",
            f"Work or education now (Supplementary Table A, footnote 1). {_ITEM}",
            required=False,
            allowed=OCCUPATIONS,
        ),
        Field(
            "money_food",
            "integer",
            f"Has enough money for monthly food expenses, 1 (never) to 5 (very often). {_ITEM}",
            required=False,
            minimum=1,
            maximum=5,
        ),
        Field(
            "money_other",
            "integer",
            f"Has money for other expenses and activities, 1 (never) to 5 (very often). {_ITEM}",
            required=False,
            minimum=1,
            maximum=5,
        ),
        _yes_no(
            "crime_victim_3m",
            f"Victim of theft, physical violence or psychological violence/threats in the previous three months. {_ITEM}",
        ),
        _yes_no(
            "crime_perpetrator_3m",
            f"Committed revenue-generating, drug, violent, traffic or other crime in the previous three months. {_ITEM}",
        ),
        Field(
            "crime_days_30d",
            "integer",
            f"Days with crime-related activity in the previous 30 days. {_ITEM}",
            required=False,
            minimum=0,
            maximum=30,
            unit="days",
        ),
        *(
            Field(
                f"{name}_days_30d",
                "integer",
                f"Days of {name.replace('_', ' ')} use in the previous 30 days"
                + (" (non-prescribed)" if name == "benzodiazepine" else "")
                + f". {_ITEM}",
                required=False,
                minimum=0,
                maximum=30,
                unit="days",
            )
            for name in SUBSTANCES
        ),
        Field(
            "hunger",
            "string",
            f"How often hungry because of too little food. {_ITEM}",
            required=False,
            allowed=FREQUENCIES,
        ),
        Field(
            "food_access",
            "string",
            f"How often has access to enough food. {_ITEM}",
            required=False,
            allowed=FREQUENCIES,
        ),
        Field("mental_health", "string", f"Self-rated mental health. {_ITEM}", required=False, allowed=MENTAL_HEALTH),
        Field(
            "anxiety_depression",
            "string",
            f"Self-rated symptoms of anxiety and depression. {_ITEM}",
            required=False,
            allowed=ANXIETY_DEPRESSION,
        ),
        _yes_no("suicide_attempt_ever", f"Has ever attempted suicide. {_ITEM}"),
        *(
            Field(
                f"symptom_{name}",
                "integer",
                f"How troublesome {name.replace('_', ' ')} were in the past three months, 0 (not at all) to 3 (very). {_ITEM}",
                required=False,
                minimum=0,
                maximum=3,
            )
            for name in SOMATIC_SYMPTOMS
        ),
        Field(
            "chronic_conditions",
            "integer",
            f"Number of persistent chronic health complaints. {_ITEM}",
            required=False,
            minimum=0,
            maximum=30,
        ),
        *(
            Field(
                f"eq5d_{name}",
                "integer",
                f"EQ-5D-5L dimension {name.upper()}, 1 (no problems) to 5 (extreme problems). {_ITEM}",
                required=False,
                minimum=1,
                maximum=5,
            )
            for name in EQ5D_DIMENSIONS
        ),
        Field(
            "eq5d_vas",
            "integer",
            f"EQ-5D visual analogue scale, 0 (worst) to 100 (best imaginable health). {_ITEM}",
            required=False,
            minimum=0,
            maximum=100,
        ),
        Field(
            "social_support",
            "integer",
            f"Has people to turn to for support, 1 (never) to 5 (always). {_ITEM}",
            required=False,
            minimum=1,
            maximum=5,
        ),
        Field(
            "meaning_in_life",
            "integer",
            f"Experiences life as meaningful, 1 (not at all) to 5 (completely). {_ITEM}",
            required=False,
            minimum=1,
            maximum=5,
        ),
    ),
)

#: Upper bounds of the registry counts per quarter. A quarter has at most 92 days, so a patient has at most 92
#: inpatient days and at most 92 day-care contacts (one a day) in it; contacts are capped at 500 a quarter
#: (more than five a day, every day: a registry or typing error, which would otherwise enter the costs).
MAX_DAYS_PER_QUARTER = 92
MAX_CONTACTS_PER_QUARTER = 500
_DAYS_RULE = f"at most {MAX_DAYS_PER_QUARTER} (a quarter has at most {MAX_DAYS_PER_QUARTER} days)."
_CONTACTS_RULE = f"at most {MAX_CONTACTS_PER_QUARTER} (more than five a day is a registry or typing error)."

HEALTH_SERVICE_USE = Table(
    "health_service_use",
    "One row per patient per quarter (3-month period) around the first admission, from the national "
    "registries: the Norwegian Patient Registry for specialist care (somatic, mental health and "
    "addiction treatment: inpatient days, day-care and outpatient contacts) and the municipal/primary "
    "care registry (GP, physiotherapy and emergency primary care contacts). Quarters -4 to -1 lie before "
    "the first admission, 1 to 8 after it; quarter q >= 1 starts (q - 1) x 3 months after the admission "
    "date, quarter q <= -1 starts -q x 3 months before it. A quarter is present only when it ends on or "
    "before the end of the data. Counts are complete registry counts: 0 means no contact.",
    ("patient_id", "quarter"),
    (
        Field("patient_id", "string", "Patient identifier (patients.patient_id).", pattern=r"^P[0-9]{3,}$"),
        Field(
            "quarter",
            "integer",
            "Quarter relative to the first admission: -4 to -1 before, 1 to 8 after.",
            allowed=REGISTRY_QUARTERS,
        ),
        Field("quarter_start", "date", "First day of the quarter."),
        *(
            Field(
                f"{area}_{contact}",
                "integer",
                f"{area.upper()} specialist care: {contact.replace('_', ' ')}"
                + (" (days)" if contact == "inpatient_days" else " (contacts)")
                + " in the quarter; "
                + (_DAYS_RULE if contact in ("inpatient_days", "day_care") else _CONTACTS_RULE),
                minimum=0,
                maximum=MAX_DAYS_PER_QUARTER if contact in ("inpatient_days", "day_care") else MAX_CONTACTS_PER_QUARTER,
                unit="days" if contact == "inpatient_days" else "contacts",
            )
            for area in SPECIALIST_AREAS
            for contact in SPECIALIST_CONTACTS
        ),
        *(
            Field(
                f"{service}_contacts",
                "integer",
                f"Primary care: {service.replace('_', ' ')} contacts in the quarter; {_CONTACTS_RULE}",
                minimum=0,
                maximum=MAX_CONTACTS_PER_QUARTER,
                unit="contacts",
            )
            for service in PRIMARY_CARE_SERVICES
        ),
    ),
)

#: Every patient-level table, in the order they are loaded and validated.
TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        PATIENTS,
        PREVIOUS_OAT,
        EPISODES,
        ADVERSE_EVENTS,
        REFERRALS,
        MEDICATION,
        QUESTIONNAIRES,
        HEALTH_SERVICE_USE,
    )
}

#: Upper bound of a clinic's yearly operating cost (NOK): accounts of 10 billion or more are a typing error.
ACCOUNTS_COST_LIMIT = 10**10

CLINIC_ACCOUNTS = Table(
    "clinic_accounts",
    "Optional. One row per clinic and calendar year: the clinic's total operating cost of that year, from "
    "its accounts (section 6.7, Table 6.C). A data folder without this file uses the report's published "
    "accounts. Years run from 2022 to the year of the data end.",
    ("clinic", "year"),
    (
        Field("clinic", "string", "Clinic whose accounts these are.", allowed=CLINICS),
        Field(
            "year",
            "integer",
            "Calendar year of the accounts; at most the year of the data end.",
            minimum=STUDY_START.year,
        ),
        Field(
            "total_cost_nok",
            "number",
            "The clinic's total operating cost of the calendar year, from its accounts; at least 0 and below "
            "10 000 000 000 (ten billion) NOK.",
            minimum=0,
            maximum=ACCOUNTS_COST_LIMIT - 1,
            unit="NOK",
        ),
    ),
)

#: Tables a data folder may bring but need not: the loader reads them when their file is there. They are not
#: in :data:`TABLES` (the synthetic generator writes every table of TABLES, and none of these).
OPTIONAL_TABLES: dict[str, Table] = {t.name: t for t in (CLINIC_ACCOUNTS,)}

_PANDERA_TYPES = {
    "string": "string",
    "integer": "Int64",
    "number": "Float64",
    "boolean": "boolean",
    "date": "datetime64[ns]",
}


def _bound(value: float) -> str:
    """A bound as written in a rule: whole numbers in full (9999999999, not 1e+10)."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _checks(f: Field) -> list[pa.Check]:
    checks = []
    if f.allowed is not None:
        checks.append(pa.Check.isin(list(f.allowed), error=f"value must be one of {', '.join(map(str, f.allowed))}"))
    if f.minimum is not None:
        checks.append(pa.Check.ge(f.minimum, error=f"value must be at least {_bound(f.minimum)}"))
    if f.maximum is not None:
        checks.append(pa.Check.le(f.maximum, error=f"value must be at most {_bound(f.maximum)}"))
    if f.pattern is not None:
        # The whole value must match: re.match's "$" would let a trailing line break through ("P001\n").
        whole = f.pattern.removeprefix("^").removesuffix("$")
        checks.append(pa.Check(lambda s, whole=whole: s.str.fullmatch(whole), error=f"value must match {f.pattern}"))
    return checks


def pandera_schema(table: Table) -> pa.DataFrameSchema:
    """The pandera validator of one table: column types (coerced from text), emptiness, rules, keys."""
    columns = {
        f.name: pa.Column(
            _PANDERA_TYPES[f.type],
            checks=_checks(f),
            nullable=not f.required,
            unique=f.unique,
            coerce=True,
            description=f.description,
            title=f.unit,
        )
        for f in table.fields
    }
    return pa.DataFrameSchema(
        columns,
        strict=True,
        ordered=False,
        unique=list(table.primary_key) if len(table.primary_key) > 1 else None,
        name=table.name,
    )


_FRICTIONLESS_TYPES = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
}


def dictionary_resource(table: Table, folder: str = "synthetic") -> dict:
    """The table's entry in the Frictionless data dictionary (``data/datapackage.json``)."""
    fields = []
    for f in table.fields:
        entry: dict = {"name": f.name, "type": _FRICTIONLESS_TYPES[f.type], "description": f.description}
        if f.type == "boolean":
            entry["trueValues"] = ["true"]
            entry["falseValues"] = ["false"]
        if f.unit:
            entry["unit"] = f.unit
        constraints: dict = {}
        if f.required:
            constraints["required"] = True
        if f.unique:
            constraints["unique"] = True
        if f.allowed is not None:
            constraints["enum"] = list(f.allowed)
        if f.minimum is not None:
            constraints["minimum"] = f.minimum
        if f.maximum is not None:
            constraints["maximum"] = f.maximum
        if f.pattern is not None:
            constraints["pattern"] = f.pattern.strip("^$")
        if constraints:
            entry["constraints"] = constraints
        fields.append(entry)
    return {
        "name": f"{folder}_{table.name}",
        "path": f"{folder}/{table.name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "encoding": "utf-8",
        "title": f"Patient-level table '{table.name}' ({folder} cohort)",
        "description": table.description
        + " Synthetic: generated by `python -m synthetic`, calibrated to the report's published figures; "
        "the real data with this schema stay in the secure research store.",
        "sources": [{"title": "Synthetic, generated by the synthetic package of this repository"}],
        "schema": {"fields": fields, "primaryKey": list(table.primary_key), "missingValues": [""]},
    }


def optional_resource(table: Table, folder: str = "synthetic") -> dict:
    """The dictionary entry of an optional table (:data:`OPTIONAL_TABLES`): marked ``"optional": true``.

    The bundled cohort has no such file; :func:`analysis.data.published.check_dictionary` validates the file only where
    a folder has it.
    """
    resource = dictionary_resource(table, folder)
    resource["name"] = f"optional_{table.name}"
    resource["optional"] = True
    resource["title"] = f"Optional patient-level table '{table.name}'"
    resource["description"] = table.description + " The bundled synthetic cohort has no such file."
    resource["sources"] = [{"title": "The clinics' accounts, where a data folder brings them"}]
    return resource


def update_dictionary(path) -> None:
    """Write the patient-level tables' entries into the data dictionary at ``path``, replacing old ones.

    Run ``python -m analysis.data.schema`` after changing this module; a test checks that the dictionary
    and the schema agree.
    """
    import json
    from pathlib import Path

    path = Path(path)
    package = json.loads(path.read_text(encoding="utf-8"))
    kept = [r for r in package["resources"] if not r["name"].startswith(("synthetic_", "optional_"))]
    package["resources"] = (
        kept
        + [dictionary_resource(t) for t in TABLES.values()]
        + [optional_resource(t) for t in OPTIONAL_TABLES.values()]
    )
    path.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    from pathlib import Path

    update_dictionary(Path(__file__).resolve().parents[2] / "data" / "datapackage.json")
    print("updated data/datapackage.json from analysis/data/schema.py")
