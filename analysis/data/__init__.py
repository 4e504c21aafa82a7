"""Layer 1, the data: the report's published tables and their ledger (``published``), the schema of the
patient-level data and its checks (``schema``), the cohort loader (``cohort``) and the units of time (``units``).
Imports nothing else of ``analysis``."""
