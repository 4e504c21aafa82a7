"""A synthetic patient-level cohort with the schema of the real evaluation data.

The generator works from the report's definitions and published figures only: it imports
:mod:`analysis.data.schema` (the schema the data must follow) and nothing else from :mod:`analysis`, so that
when the book's analysis code reproduces the report from these data, that is evidence the analysis is
right rather than an echo of it.

* :mod:`synthetic.targets`: the published figures the cohort is calibrated to, and the calibration report;
* :mod:`synthetic.aims`: the figures each search steers to and the unit it measures a miss in, declared
  once; the searches' losses and the report's ``aimed_by`` column read it;
* :mod:`synthetic.search`: the search engine (random moves kept when they help, or the best of all moves)
  that the modules' searches are built on;
* :mod:`synthetic.core`: patients, their previous OAT and their treatment episodes (6.1, 6.2, Table 6.C);
  it runs the two modules below;
* :mod:`synthetic.episodes`: the search for the episodes' dates and outcomes (6.1, Table 6.C);
* :mod:`synthetic.costfit`: random moves, then integer programmes (HiGHS), that shift episode dates by whole
  days or weeks until the cost-utility sample's programme costs and follow-up round to Tables 6.D-6.G;
* :mod:`synthetic.economics`: the cost-utility measures (section 6.7) and the EQ-5D-5L level search;
* :mod:`synthetic.events`: serious adverse events (6.5) and medication registrations (Appendix 3);
* :mod:`synthetic.referrals`: referrals to the clinics (6.6, Appendix 5);
* :mod:`synthetic.questionnaires`: the repeated questionnaires (6.4, Supplementary Table A, Table 6.L);
* :mod:`synthetic.registry`: registry health-service use around the first admission (6.7, Tables 6.H-6.J);
* :mod:`synthetic.write`: writing the tables as CSV, atomically and byte-for-byte reproducibly;
* :mod:`synthetic.units`, :mod:`synthetic.survival` and :mod:`synthetic.parallel`: what several modules share
  (units of time and the calendar, Kaplan-Meier retention, independent searches run side by side).

Each module declares the tables of the others that it reads and the tables it makes; the modules that wait
for none of each other's tables run side by side (:func:`synthetic.__main__.waves`). Run
``python -m synthetic`` to regenerate ``data/synthetic/`` and ``python -m synthetic --check`` for
the calibration report.
"""
