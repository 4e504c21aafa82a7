"""The generator's units of time and its calendar, in one place for every module.

The report counts a year as 365.25 days and a month as a twelfth of that (its retention and follow-up times);
the pilot's data run over the calendar years 2022 to 2025 at its two clinics.
"""

from __future__ import annotations

YEAR_DAYS = 365.25
MONTH_DAYS = YEAR_DAYS / 12
YEARS = (2022, 2023, 2024, 2025)
CLINICS = ("Oslo", "Bergen")
