"""The book's units of time, in one place.

* A year is 365.25 days (:data:`DAYS_PER_YEAR`): durations in treatment, person-years, QALYs and every
  annualisation divide days by it; a month is a twelfth of that year (:data:`DAYS_PER_MONTH`).
* A treatment-year is 365 days (:data:`TREATMENT_DAYS_PER_YEAR`): a clinic's cost per treatment day times 365
  gives the report's cost per patient-year (section 6.7).
"""

DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
TREATMENT_DAYS_PER_YEAR = 365
