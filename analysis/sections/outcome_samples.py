"""The samples of section 6.4's models and summaries, counted together so that one protection covers them.

This module sits above the four modules of the section's outcomes (``outcomes``, ``mental_health``,
``quality_of_life``, ``somatic``), which build on ``outcomes``' questionnaire helpers, so that none of them
needs to import another back.
"""

from __future__ import annotations

import pandas as pd

from analysis.sections import mental_health as mh
from analysis.sections import outcomes, somatic
from analysis.sections import quality_of_life as qol

#: The sample sizes section 6.4 states in its text, in the order of :func:`sample_sizes`.
SAMPLE_SIZES = (
    "gee_obs",
    "gee_patients",
    "mh_model_answers",
    "mh_model_patients",
    "ad_model_answers",
    "ad_model_patients",
    "qol_patients",
    "qol_values",
    "chronic_baseline",
    "lmm_patients",
    "lmm_questionnaires",
)


def sample_sizes(cohort) -> pd.DataFrame:
    """The sizes of the samples of section 6.4's models and summaries, one row each (``size``, ``n``), in the order
    of :data:`SAMPLE_SIZES` for every cohort: the questionnaires and patients of the hunger model
    (:func:`analysis.sections.outcomes.hunger_model_frame`), of the two proportional-odds models
    (:func:`analysis.sections.mental_health.model_frame`),
    the patients with two or more EQ-5D-5L index values and those values
    (:func:`analysis.sections.quality_of_life.trajectory_sample`), the baseline answers on chronic conditions, and the
    complete symptom questionnaires with a time in treatment and their patients (the mixed model's data). The
    table :func:`analysis.presentation.linked_suppression.protect_linked` protects, each count on its own."""
    questionnaires = cohort.questionnaires
    gee = outcomes.hunger_model_frame(questionnaires)
    mental = mh.model_frame(questionnaires, cohort.patients, "mental_health")
    anxiety = mh.model_frame(questionnaires, cohort.patients, "anxiety_depression")
    trajectory = qol.trajectory_sample(qol.index_values(questionnaires, cohort.episodes))
    chronic = questionnaires.loc[questionnaires["wave"] == 0, "chronic_conditions"].notna()
    scores = somatic.symptom_scores(questionnaires)
    years = qol.time_in_treatment(scores, cohort.episodes)["years"]
    timed = scores.assign(years=years).dropna(subset=["years", "burden_score"])
    sizes = {
        "gee_obs": len(gee),
        "gee_patients": gee["patient_id"].nunique(),
        "mh_model_answers": len(mental),
        "mh_model_patients": mental["patient_id"].nunique(),
        "ad_model_answers": len(anxiety),
        "ad_model_patients": anxiety["patient_id"].nunique(),
        "qol_patients": trajectory["patient_id"].nunique(),
        "qol_values": len(trajectory),
        "chronic_baseline": int(chronic.sum()),
        "lmm_patients": timed["patient_id"].nunique(),
        "lmm_questionnaires": len(timed),
    }
    return pd.DataFrame({"size": list(SAMPLE_SIZES), "n": [int(sizes[s]) for s in SAMPLE_SIZES]})
