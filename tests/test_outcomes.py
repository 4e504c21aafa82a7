"""Self-reported outcomes (section 6.4, Supplementary Table A) on hand-built questionnaires with answers known by hand."""

from __future__ import annotations

from types import SimpleNamespace

import altair as alt
import pandas as pd
import pytest

from analysis.data import schema
from analysis.data.published import published_table
from analysis.sections import outcomes as oc

DTYPES = {"string": "string", "integer": "Int64", "number": "Float64", "boolean": "boolean", "date": "datetime64[ns]"}
MONTH = 365.25 / 12


def questionnaires(rows: list[dict]) -> pd.DataFrame:
    """Questionnaires with the loader's column types; items not given are empty."""
    defaults = {f.name: None for f in schema.QUESTIONNAIRES.fields}
    frame = pd.DataFrame([{**defaults, **row} for row in rows], columns=schema.QUESTIONNAIRES.columns)
    return frame.astype({f.name: DTYPES[f.type] for f in schema.QUESTIONNAIRES.fields})


def episodes(rows: list[tuple[str, str]]) -> pd.DataFrame:
    """Episodes from (patient_id, admission_date) pairs."""
    frame = pd.DataFrame(
        [
            {"episode_id": f"E{i:03d}", "patient_id": p, "episode_number": 1, "admission_date": d}
            for i, (p, d) in enumerate(rows, 1)
        ]
    )
    frame["admission_date"] = pd.to_datetime(frame["admission_date"])
    return frame


def q(pid: int, wave: int, date: str, **items) -> dict:
    return {"patient_id": f"P{pid:03d}", "wave": wave, "questionnaire_date": date, **items}


# Four patients admitted on 1 January 2023, each with one kind of housing change, and a fifth who
# answered once (excluded). Dates: wave 0 on day 0, wave 12 on day 365 (12.0 months), P004's last
# answer at wave 6 (day 182).
EPISODES = episodes([(f"P{i:03d}", "2023-01-01") for i in range(1, 6)])
HOUSING = questionnaires(
    [
        q(1, 0, "2023-01-01", stable_housing_30d=True),
        q(1, 12, "2024-01-01", stable_housing_30d=False),  # worsened
        q(2, 0, "2023-01-01", stable_housing_30d=False),
        q(2, 12, "2024-01-01", stable_housing_30d=True),  # improved
        q(3, 0, "2023-01-01", stable_housing_30d=True),
        q(3, 12, "2024-01-01", stable_housing_30d=True),  # stays good
        q(4, 0, "2023-01-01", stable_housing_30d=False),
        q(4, 6, "2023-07-02", stable_housing_30d=False),  # stays bad
        q(4, 12, "2024-01-01"),  # a questionnaire without the item: not P004's last answer
        q(5, 0, "2023-01-01", stable_housing_30d=False),  # one answer only
    ]
)


def test_each_kind_of_change_once_and_a_single_answer_excluded():
    row = oc.transitions(HOUSING, EPISODES, ["stable_living"]).iloc[0]
    assert row["n_patients"] == 4
    assert (row["positive_to_negative_n"], row["negative_to_positive_n"], row["no_change_n"]) == (1, 1, 2)
    assert row["positive_to_negative_percent"] == 25 and row["no_change_percent"] == 50
    assert row["first_measurement_months"] == 0
    # last answers at 365, 365, 365 and 182 days
    assert row["last_measurement_months"] == pytest.approx((3 * 365 + 182) / 4 / MONTH)


def test_bad_state_at_first_measurement_among_the_variables_patients():
    row = oc.bad_at_first(HOUSING, EPISODES, ["stable_living"]).iloc[0]
    # P002 and P004 unstable at first; P005 (one answer) is not counted
    assert (row["n_patients"], row["bad_n"], row["bad_percent"]) == (4, 2, 50)


def test_months_are_counted_from_the_first_admission():
    two_episodes = pd.concat(
        [episodes([("P001", "2023-01-01")]), episodes([("P001", "2024-01-01")])], ignore_index=True
    )
    frame = oc.with_months(questionnaires([q(1, 0, "2024-01-31")]), two_episodes)
    assert frame["months"].iloc[0] == pytest.approx(395 / MONTH)


def test_first_and_last_are_the_earliest_and_latest_wave_answered():
    frame = oc.with_months(HOUSING, EPISODES)
    pairs = oc.first_and_last(frame, frame["stable_housing_30d"]).set_index("patient_id")
    assert list(pairs.index) == ["P001", "P002", "P003", "P004"]
    assert pairs.loc["P004", "n_answers"] == 2 and pairs.loc["P004", "last_months"] == pytest.approx(182 / MONTH)


MONEY = questionnaires(
    [
        q(1, 0, "2023-01-01", money_food=1),
        q(1, 12, "2024-01-01", money_food=2),  # +1: no change
        q(2, 0, "2023-01-01", money_food=1),
        q(2, 12, "2024-01-01", money_food=3),  # +2: improved
        q(3, 0, "2023-01-01", money_food=5),
        q(3, 12, "2024-01-01", money_food=4),  # -1: no change
        q(4, 0, "2023-01-01", money_food=5),
        q(4, 3, "2023-04-01", money_food=1),
        q(4, 12, "2024-01-01", money_food=3),  # -2: worsened
    ]
)


def test_money_counts_a_change_only_from_two_points():
    row = oc.transitions(MONEY, EPISODES, ["money_food"]).iloc[0]
    assert row["n_patients"] == 4
    assert (row["negative_to_positive_n"], row["positive_to_negative_n"], row["no_change_n"]) == (1, 1, 2)


def test_occupation_crime_and_frequent_use_good_states():
    frame = questionnaires(
        [
            q(
                1,
                0,
                "2023-01-01",
                occupation="none",
                crime_victim_3m=True,
                crime_perpetrator_3m=False,
                heroin_days_30d=12,
            ),
            q(
                1,
                3,
                "2023-04-01",
                occupation="education",
                crime_victim_3m=False,
                crime_perpetrator_3m=True,
                heroin_days_30d=13,
            ),
        ]
    )
    assert list(oc.good_state(frame, "occupation")) == [False, True]
    assert list(oc.good_state(frame, "victim_of_crime")) == [False, True]
    assert list(oc.good_state(frame, "perpetrator_of_crime")) == [True, False]
    # 12 days is not frequent, 13 is
    assert list(oc.good_state(frame, "frequent_heroin")) == [True, False]
    rows = oc.transitions(
        frame, EPISODES, ["occupation", "victim_of_crime", "perpetrator_of_crime", "frequent_heroin"]
    ).set_index("variable")
    assert (
        rows.loc["occupation", "negative_to_positive_n"] == 1
        and rows.loc["victim_of_crime", "negative_to_positive_n"] == 1
    )
    assert (
        rows.loc["perpetrator_of_crime", "positive_to_negative_n"] == 1
        and rows.loc["frequent_heroin", "positive_to_negative_n"] == 1
    )


def test_polysubstance_status_needs_two_answered_substances():
    frame = questionnaires(
        [
            q(1, 0, "2023-01-01", heroin_days_30d=30),  # one substance answered: undefined
            q(1, 3, "2023-04-01", heroin_days_30d=20, cocaine_days_30d=15),  # two frequent: frequent poly
            q(1, 6, "2023-07-01", heroin_days_30d=20, cocaine_days_30d=0),  # one frequent of two: not frequent
            q(2, 0, "2023-01-01", heroin_days_30d=20, amphetamine_days_30d=13, other_drug_days_30d=2),
            q(2, 3, "2023-04-01", heroin_days_30d=20),  # undefined: P002 has one defined status only
        ]
    )
    state = oc.good_state(frame, "frequent_polysubstance")
    assert state.isna().tolist() == [True, False, False, False, True]
    assert state.dropna().tolist() == [False, True, False]
    row = oc.transitions(frame, EPISODES, ["frequent_polysubstance"]).iloc[0]
    assert row["n_patients"] == 1 and row["negative_to_positive_n"] == 1
    # P001's first defined status is at 3 months (day 90)
    assert row["first_measurement_months"] == pytest.approx(90 / MONTH)


def test_days_of_use_means_and_sd_of_the_change():
    frame = questionnaires(
        [
            q(1, 0, "2023-01-01", heroin_days_30d=30),
            q(1, 12, "2024-01-01", heroin_days_30d=10),  # -20
            q(2, 0, "2023-01-01", heroin_days_30d=20),
            q(2, 12, "2024-01-01", heroin_days_30d=20),  # 0
            q(3, 0, "2023-01-01", heroin_days_30d=10),
            q(3, 3, "2023-04-01"),
            q(3, 6, "2023-07-01", heroin_days_30d=0),  # -10
            q(4, 0, "2023-01-01", heroin_days_30d=25),  # one answer
        ]
    )
    row = oc.days_of_use(frame, EPISODES, ["heroin"]).iloc[0]
    assert row["variable"] == "days_heroin" and row["n_patients"] == 3
    assert row["mean_days_first_measurement"] == 20 and row["mean_days_last_measurement"] == 10
    assert row["mean_change"] == -10 and row["sd"] == pytest.approx(10)  # changes -20, 0, -10


def test_text_statistics_derive_from_the_table_rows():
    trans = oc.transitions(HOUSING, EPISODES, ["stable_living"])
    full = pd.concat(
        [
            trans.assign(variable=v)
            for v in [
                "stable_living",
                "occupation",
                "money_food",
                "money_other",
                "victim_of_crime",
                "perpetrator_of_crime",
                "frequent_heroin",
                "frequent_polysubstance",
            ]
        ],
        ignore_index=True,
    )
    bad = pd.DataFrame(
        {
            "variable": ["victim_of_crime", "perpetrator_of_crime", "frequent_heroin", "frequent_polysubstance"],
            "n_patients": 4,
            "bad_n": 2,
            "bad_percent": [50.0, 40.0, 30.0, 20.0],
        }
    )
    days = pd.DataFrame(
        [
            {
                "variable": "days_heroin",
                "n_patients": 3,
                "first_measurement_months": 0,
                "last_measurement_months": 9,
                "mean_days_first_measurement": 20.0,
                "mean_days_last_measurement": 10.0,
                "mean_change": -10.0,
                "sd": 10.0,
            }
        ]
    )
    hunger = pd.DataFrame({"wave": [0, 12], "hunger": ["often", "often"], "percent": [44.0, 54.0]})
    values = oc.text_statistics(full, bad, days, hunger).set_index("key")["value"]
    assert values["s6_4_housing_changed_pct"] == 50 and values["s6_4_housing_worsened_pct"] == 25
    assert values["s6_4_housing_improved_pct"] == 25
    assert values["s6_4_perpetrator_baseline_pct"] == 40 and values["s6_4_freq_poly_baseline_pct"] == 20
    assert values["s6_4_heroin_days_change_mean"] == 10  # a reduction is positive
    assert values["s6_4_hunger_often_12m_pct"] == 54


def test_supplementary_table_a_long_form_has_the_published_statistics():
    trans = oc.transitions(HOUSING, EPISODES, ["stable_living"])
    days = oc.days_of_use(HOUSING, EPISODES, ["heroin"])
    long = oc.supplementary_table_a(trans, days)
    published = published_table("supp_table_a_self_reported_measures")
    wanted = set(
        map(
            tuple,
            published.loc[
                published.variable.isin(["stable_living", "days_heroin"]), ["variable", "statistic"]
            ].to_numpy(),
        )
    )
    assert set(map(tuple, long[["variable", "statistic"]].to_numpy())) == wanted
    assert set(published["variable"]) == set(oc.TABLE_A_LABELS)


def test_hunger_distribution_shares_of_the_answers_at_each_wave():
    frame = questionnaires(
        [
            q(1, 0, "2023-01-01", hunger="often"),
            q(2, 0, "2023-01-01", hunger="never"),
            q(3, 0, "2023-01-01", hunger="often"),
            q(4, 0, "2023-01-01", hunger="always"),
            q(1, 3, "2023-04-01", hunger="rarely"),
            q(2, 3, "2023-04-01"),
            q(1, 24, "2025-01-01", hunger="often"),
        ]
    )
    dist = oc.hunger_distribution(frame).set_index(["wave", "hunger"])
    assert dist.loc[(0, "often"), "percent"] == 50 and dist.loc[(0, "rarely"), "n"] == 0
    assert dist.loc[(3, "rarely"), "denominator"] == 1 and dist.loc[(3, "rarely"), "percent"] == 100
    assert 24 not in dist.index.get_level_values("wave")
    assert pd.isna(dist.loc[(6, "often"), "percent"])


def protective_food_questionnaires() -> pd.DataFrame:
    """60 patients x 4 waves; frequent hunger is common without food access, rare with it."""
    rows = []
    for pid in range(1, 61):
        for j, wave in enumerate(oc.FIRST_YEAR_WAVES):
            access = (pid + j) % 2 == 0
            hungry = (pid * 7 + j * 3) % 10 < (2 if access else 8)
            amph = (pid + 2 * j) % 3 == 0
            rows.append(
                q(
                    pid,
                    wave,
                    "2023-01-01",
                    hunger="often" if hungry else "never",
                    food_access="always" if access else "rarely",
                    amphetamine_days_30d=3 if amph else 0,
                )
            )
    return questionnaires(rows)


def test_hunger_gee_finds_a_protective_food_access_effect():
    model_frame = oc.hunger_model_frame(protective_food_questionnaires())
    assert len(model_frame) == 240 and set(model_frame.columns) == {
        "patient_id",
        "wave",
        "frequent_hunger",
        "food_access",
        "amphetamine",
    }
    table = oc.hunger_gee(model_frame).set_index("term")
    food = table.loc["food_access"]
    assert food["odds_ratio"] < 1 and food["p_value"] < 0.05
    assert food["ci_low"] < food["odds_ratio"] < food["ci_high"]
    assert table.loc["wave_3", "label"] == "3 months (against baseline)" and "Intercept" not in table.index


def test_hunger_model_is_keyed_by_term_ids_and_labels_only_display(monkeypatch):
    """The hunger GEE's table carries the term's id (``term``: the covariate's column, ``wave_3`` for a time point)
    and its display name (``label``) apart, ids unique; renaming every label changes the label column and the
    table shown, never a glued value or sentence of the section."""
    model_frame = oc.hunger_model_frame(protective_food_questionnaires())
    page, sizes = SimpleNamespace(sdc=None), pd.Series({"gee_obs": 240, "gee_patients": 60})
    section = oc.hunger_model_section(page, model_frame, sizes)
    gee = section["gee"]
    assert list(gee.columns[:2]) == ["term", "label"] and gee["term"].is_unique
    assert set(gee["term"]) == {"wave_3", "wave_6", "wave_12", "food_access", "amphetamine"}
    assert gee.set_index("term").loc["food_access", "label"] == "Access to food often or always"
    assert oc.gee_term("C(wave)[T.12]") == ("wave_12", "12 months (against baseline)")
    statistics = section["statistics"].set_index("key")["value"]
    assert statistics["o64_gee_food_odds_ratio"] == gee.set_index("term").loc["food_access", "odds_ratio"] < 1

    monkeypatch.setattr(oc, "HUNGER_TERMS", {name: f"Renamed: {label}" for name, label in oc.HUNGER_TERMS.items()})
    monkeypatch.setattr(oc, "WAVE_LABELS", {wave: f"Renamed: {label}" for wave, label in oc.WAVE_LABELS.items()})
    relabelled = oc.hunger_model_section(page, model_frame, sizes)
    assert relabelled["gee"].drop(columns="label").equals(gee.drop(columns="label"))
    assert relabelled["gee"]["label"].str.startswith("Renamed: ").all()
    assert relabelled["statistics"].equals(section["statistics"])
    assert relabelled["tab-6-4-hunger-gee"].data["Term"].str.startswith("Renamed: ").all()


def test_hunger_gee_is_not_estimable_under_perfect_separation(recwarn):
    rows = []
    # food access predicts hunger exactly: the logit runs off, so no odds ratio is reported (and no
    # warning escapes into a page)
    for pid in range(1, 31):
        for j, wave in enumerate(oc.FIRST_YEAR_WAVES):
            access = (pid + j) % 2 == 0
            rows.append(
                q(
                    pid,
                    wave,
                    "2023-01-01",
                    hunger="never" if access else "often",
                    food_access="always" if access else "rarely",
                    amphetamine_days_30d=3 if pid % 3 == 0 else 0,
                )
            )
    table = oc.hunger_gee(oc.hunger_model_frame(questionnaires(rows)))
    assert len(table) and table[["odds_ratio", "ci_low", "ci_high", "p_value"]].isna().all().all()
    assert not [w for w in recwarn if "separation" in str(w.message).lower()]


def test_charts_are_altair_charts():
    trans = oc.transitions(HOUSING, EPISODES, ["stable_living"])
    assert isinstance(oc.transition_chart(trans, {"stable_living": "Housing"}), alt.Chart)
    assert isinstance(
        oc.hunger_chart(oc.hunger_distribution(questionnaires([q(1, 0, "2023-01-01", hunger="often")]))), alt.Chart
    )
    days = oc.days_of_use(HOUSING, EPISODES, ["heroin"]).assign(n_patients=0)
    assert oc.days_chart(days).to_dict()["layer"]
