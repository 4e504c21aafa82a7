"""A Markov cohort model of HAT over a lifetime: an illustration beyond the report.

The report's cost-utility analysis stops at the end of the pilot. This module follows a cohort of
patients who start HAT month by month until the end of a lifetime horizon and compares it with a cohort
that has no HAT to go to. It is an extension of the edition, not part of the report. Definitions:

* *states*: ``hat`` (in heroin-assisted treatment), ``oat`` (in conventional opioid agonist treatment),
  ``out`` (out of treatment) and ``dead`` (absorbing). The first ``tunnel_months`` months after leaving
  treatment are tunnel states ``left_1`` ... ``left_k`` (reported as part of ``out``), where mortality is
  that of people who have just left treatment; after them a patient moves on to ``out``. With
  ``tunnel_months = 0`` leavers go straight to ``out``.
* *cycles* are months. A cohort starts in one state at cycle 0 (age = the cohort's mean age at admission)
  and is followed for ``n_cycles`` cycles, to the horizon age.
* *transitions* come from constant monthly hazards that compete within a cycle: a state with exit
  hazards ``r_1 ... r_m`` (total ``R``) is left with probability ``1 - exp(-R)``, to destination ``j``
  with probability ``(1 - exp(-R)) * r_j / R``; it is kept (or, in a tunnel, the next tunnel state is
  reached) with probability ``exp(-R)``. An annual probability ``q`` is turned into a monthly hazard
  ``-ln(1 - q) / 12``.
* from ``hat`` patients leave with the HAT exit hazard (discharges / person-months in treatment, from the
  episodes); the planned share of discharges goes to ``oat``, the rest to the first tunnel state. From
  ``oat`` patients leave to the tunnel; from the tunnel and from ``out`` they (re-)enter ``oat``. There
  is no re-admission to HAT. Mortality: ``death_treatment`` in ``hat`` and ``oat``,
  ``death_after_leaving`` in the tunnel, ``death_out`` in ``out``. These hold at the start age; with a
  ``mortality_doubling_years`` of D every mortality hazard of month t (from cycle t to t + 1) is
  multiplied by ``2 ** (t / (12 D))`` (a Gompertz-type rise with age); without it (None) mortality is
  constant over the horizon.
* *payoffs* per month in a state: life-years 1/12 (alive states), QALYs utility/12, costs the annual cost
  / 12. Utilities of the tunnel states are those of ``out``.
* *half-cycle correction* by the trapezoid rule over cycle boundaries: the occupancy at boundary ``t``
  (t = 0 ... T) is weighted 1/2 at the first and last boundary and 1 in between. *Discounting* at an
  annual rate ``r`` is applied per cycle: boundary ``t`` (month t) is weighted ``(1 + r) ** (-t / 12)``.
  Life-years are undiscounted; costs and QALYs discounted (both weights multiply).
* *strategies*: "HAT available" starts everyone in ``hat``; the comparator starts everyone in ``out``
  ("Leave treatment") or in ``oat`` ("Conventional OAT"). Incremental results and the ICER are taken with
  :func:`analysis.methods.cea.compare` (HAT available minus the comparator).
* the *probabilistic sensitivity analysis* (PSA) draws every input at once from its distribution (beta
  for probabilities, shares and utility differences, gamma for rates and costs; a seeded
  :class:`numpy.random.Generator`) and reruns the model for all draws together; it returns one row per
  draw with ``delta_cost`` and ``delta_effect``, the layout of :mod:`analysis.methods.uncertainty`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import altair as alt
import numpy as np
import pandas as pd

from analysis.methods import cea
from analysis.presentation.charts import CLINIC_COLOURS, TREATMENT_COLOURS
from analysis.sections import quality_of_life as qol
from analysis.sections import retention

#: The states reported (tunnel states are shown as ``out``).
STATES = ("hat", "oat", "out", "dead")
STATE_LABELS = {"hat": "In HAT", "oat": "In conventional OAT", "out": "Out of treatment", "dead": "Dead"}
STATE_COLOURS = {
    "hat": TREATMENT_COLOURS["HAT"],
    "oat": TREATMENT_COLOURS["OAT"],
    "out": CLINIC_COLOURS["Bergen"],
    "dead": "#d9d9d9",
}
MONTHS_PER_YEAR = 12
HAT_AVAILABLE = "HAT available"
COMPARATORS = {"out": "Leave treatment", "oat": "Conventional OAT"}
#: Payoffs accumulated per state and month, in this order.
OUTCOMES = ("life_years", "costs", "qalys")


# --- conversions ---------------------------------------------------------------------------------------


def annual_probability_to_monthly_rate(q):
    """Monthly hazard with the same one-year probability: ``-ln(1 - q) / 12`` (numbers or arrays)."""
    return -np.log1p(-np.asarray(q, dtype=float)) / MONTHS_PER_YEAR


def rate_to_probability(rate):
    """Probability of at least one event in one period at a constant hazard: ``1 - exp(-rate)``."""
    return -np.expm1(-np.asarray(rate, dtype=float))


# --- inputs from the cohort and the published record ---------------------------------------------------


def hat_exits(episodes: pd.DataFrame, data_end) -> dict[str, float]:
    """The HAT exit hazard and the split of leavers, from the episodes.

    ``person_months``: days from admission to discharge summed over all episodes, an open episode counted
    to ``data_end`` (:func:`analysis.sections.retention.duration_days`), divided by 365.25 / 12. ``discharges``:
    episodes with a discharge date; ``planned`` / ``unplanned`` by ``discharge_type``. ``rate`` =
    discharges / person-months (per month); ``probability`` = 1 - exp(-rate), the monthly probability of
    leaving if nothing else happened. ``planned_share`` = planned / discharges (0 when nobody left).
    """
    days = retention.duration_days(episodes, data_end)
    person_months = float(days.sum()) / retention.DAYS_PER_MONTH
    closed = episodes[episodes["discharge_date"].notna()]
    n = int(len(closed))
    planned = int((closed["discharge_type"] == "planned").sum())
    rate = n / person_months if person_months > 0 else np.nan
    return {
        "discharges": n,
        "planned": planned,
        "unplanned": n - planned,
        "person_months": person_months,
        "rate": rate,
        "probability": float(rate_to_probability(rate)),
        "planned_share": planned / n if n else 0.0,
    }


def hat_utility(
    questionnaires: pd.DataFrame, episodes: pd.DataFrame, values: pd.DataFrame | None = None
) -> dict[str, float]:
    """Utility in HAT: the mean over patients of each patient's mean EQ-5D-5L index at follow-up.

    Follow-up answers are those of the waves after admission (wave > 0; every questionnaire lies within an
    episode, so these are answers given while in treatment). The admission questionnaire (wave 0) describes
    the state patients arrive in and is left out. Each patient counts once. ``se`` = standard deviation of
    the patient means / sqrt(patients) (NaN with fewer than two patients). Returns ``mean``, ``se``,
    ``patients``, ``answers``.
    """
    index = qol.index_values(questionnaires, episodes, values)
    follow_up = index[index["wave"] > 0]
    per_patient = follow_up.groupby("patient_id")["eq5d_index"].mean()
    n = int(len(per_patient))
    se = float(per_patient.std(ddof=1) / np.sqrt(n)) if n >= 2 else np.nan
    return {"mean": float(per_patient.mean()) if n else np.nan, "se": se, "patients": n, "answers": int(len(follow_up))}


def registry_mortality(registry: pd.DataFrame) -> dict[str, float]:
    """Annual all-cause mortality by treatment status from the Norwegian OAT registry, 1997-2003.

    ``registry`` is the published table ``oat_registry_2015`` (the review of OMT outcomes in Norway).
    Returns annual probabilities (percent per year / 100): ``waiting_list`` (outside treatment, waiting),
    ``in_treatment`` and ``after_leaving`` (after leaving treatment).
    """
    rows = registry[
        (registry["domain"] == "mortality")
        & (registry["measure"] == "all_cause_mortality")
        & (registry["period_start"] == 1997)
        & (registry["unit"] == "percent per year")
    ]
    values = rows.set_index("group")["value"].astype(float) / 100
    return {group: float(values[group]) for group in ("waiting_list", "in_treatment", "after_leaving")}


def hat_cost_per_year(program_costs: pd.DataFrame, clinic: str = "all", through_year: int | None = None) -> float:
    """Gross cost of one patient-year of HAT: total clinic cost / patient-days x 365 (Table 6.C).

    ``program_costs`` is the published Table 6.C. ``clinic="all"`` with every year uses the table's total
    row; otherwise the clinic-year rows of that clinic (both clinics for ``"all"``) up to ``through_year``
    are summed. Computed with :func:`analysis.methods.cea.gross_cost_per_patient_year`.
    """
    rows = program_costs[program_costs["row_type"] == "clinic_year"]
    last = int(rows["year"].max())
    if clinic == "all" and (through_year is None or int(through_year) >= last):
        total = program_costs[program_costs["row_type"] == "total"].iloc[0]
        return cea.gross_cost_per_patient_year(total["total_cost_nok"], total["patient_days"])
    if clinic != "all":
        rows = rows[rows["clinic"] == clinic]
    if through_year is not None:
        rows = rows[rows["year"] <= int(through_year)]
    return cea.gross_cost_per_patient_year(rows["total_cost_nok"].sum(), rows["patient_days"].sum())


def hat_cost_per_year_from(costs: pd.DataFrame) -> float:
    """Gross cost of one patient-year of HAT from an edition's Table 6.C rows (:func:`analysis.sections.cost_utility.program_costs`:
    ``total_cost`` and ``patient_days`` per clinic-year): summed cost / summed patient-days x 365. NaN without
    patient-days."""
    days = float(costs["patient_days"].sum())
    return cea.gross_cost_per_patient_year(float(costs["total_cost"].sum()), days) if days > 0 else float("nan")


def report_utility_gaps(annualized_icer: pd.DataFrame) -> dict[str, float]:
    """The report's annualised QALY gains of continued HAT (Table 6.G), used as utility differences.

    ``oat``: continued HAT against planned termination (most planned leavers moved to OAT); ``out``:
    against unplanned termination. A QALY gain per year equals a difference in mean utility.
    """
    gaps = annualized_icer.set_index("comparison")["delta_qaly"].astype(float)
    return {
        "oat": float(gaps["continued_vs_planned_termination"]),
        "out": float(gaps["continued_vs_unplanned_termination"]),
    }


def horizon_cycles(start_age: float, horizon_age: float) -> int:
    """Monthly cycles from ``start_age`` to ``horizon_age``: round(12 x years), at least 1."""
    return max(1, int(round((float(horizon_age) - float(start_age)) * MONTHS_PER_YEAR)))


# --- the model -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameters:
    """Every input of the model. Numbers, or arrays of one value per PSA draw (then all of one length).

    Rates and probabilities: ``hat_exit_rate`` per month; ``oat_exit``, ``reentry`` and the three
    mortalities are annual probabilities. Costs are NOK per year; utilities EQ-5D-5L index values.
    """

    hat_exit_rate: float
    planned_share: float
    oat_exit: float
    reentry: float
    death_treatment: float
    death_out: float
    death_after_leaving: float
    cost_hat: float
    cost_oat: float
    cost_out: float
    utility_hat: float
    utility_oat: float
    utility_out: float
    tunnel_months: int = 12
    mortality_doubling_years: float | None = None

    @property
    def n_draws(self) -> int:
        """1 for numbers, else the common length of the array inputs."""
        sizes = {np.size(getattr(self, name)) for name in DRAWN}
        sizes.discard(1)
        if len(sizes) > 1:
            raise ValueError(f"array inputs of different lengths: {sorted(sizes)}")
        return sizes.pop() if sizes else 1

    def array(self, name: str) -> np.ndarray:
        """The input ``name`` as an array of length :attr:`n_draws`."""
        return np.broadcast_to(np.asarray(getattr(self, name), dtype=float), (self.n_draws,)).copy()


#: The inputs a PSA draws (every field but the tunnel length and the mortality doubling time).
DRAWN = tuple(f.name for f in fields(Parameters) if f.name not in ("tunnel_months", "mortality_doubling_years"))


def state_names(tunnel_months: int) -> list[str]:
    """The model's states: hat, oat, left_1 ... left_k (tunnel), out, dead."""
    return ["hat", "oat", *[f"left_{j}" for j in range(1, int(tunnel_months) + 1)], "out", "dead"]


def reported_state(state: str) -> str:
    """The reported state of a model state: tunnel states ``left_j`` are ``out``."""
    return "out" if state.startswith("left_") else state


def _competing(*hazards: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Monthly probabilities from competing constant hazards (see the module docstring).

    Returns the probability of no event, ``exp(-R)``, and for each hazard ``r_j`` the probability
    ``(1 - exp(-R)) * r_j / R`` that it is the one that happens (0 where ``R`` is 0).
    """
    total = sum(hazards)
    leave = rate_to_probability(total)
    safe = np.where(total > 0, total, 1.0)
    return 1.0 - leave, [np.where(total > 0, leave * h / safe, 0.0) for h in hazards]


def _monthly_hazards(params: Parameters) -> dict[str, np.ndarray]:
    """The model's monthly hazards at the start age, one array of length :attr:`Parameters.n_draws` each."""
    n = params.n_draws

    def value(name):
        return np.broadcast_to(np.asarray(getattr(params, name), dtype=float), (n,))

    return {
        "death_treatment": annual_probability_to_monthly_rate(value("death_treatment")),
        "death_out": annual_probability_to_monthly_rate(value("death_out")),
        "death_after_leaving": annual_probability_to_monthly_rate(value("death_after_leaving")),
        "oat_exit": annual_probability_to_monthly_rate(value("oat_exit")),
        "reentry": annual_probability_to_monthly_rate(value("reentry")),
        "to_oat": value("hat_exit_rate") * value("planned_share"),
        "to_out": value("hat_exit_rate") * (1.0 - value("planned_share")),
    }


def _assemble(tunnel_months: int, hazards: dict[str, np.ndarray], ageing: float) -> np.ndarray:
    """The (draws, S, S) matrix from the monthly hazards, mortality multiplied by ``ageing``."""
    k = int(tunnel_months)
    hat, oat, out, dead = 0, 1, 2 + k, 3 + k  # the order of state_names
    first_out = 2 if k > 0 else out
    n = len(hazards["to_oat"])
    matrix = np.zeros((n, 4 + k, 4 + k))
    treat, after, outside = (ageing * hazards[name] for name in ("death_treatment", "death_after_leaving", "death_out"))

    stay, (p_dead, p_oat, p_out) = _competing(treat, hazards["to_oat"], hazards["to_out"])
    matrix[:, hat, hat] += stay
    matrix[:, hat, dead] += p_dead
    matrix[:, hat, oat] += p_oat
    matrix[:, hat, first_out] += p_out

    stay, (p_dead, p_out) = _competing(treat, hazards["oat_exit"])
    matrix[:, oat, oat] += stay
    matrix[:, oat, dead] += p_dead
    matrix[:, oat, first_out] += p_out

    if k:
        rows = np.arange(2, 2 + k)  # left_1 ... left_k; each leads to the next state in order, left_k to out
        stay, (p_dead, p_oat) = _competing(after, hazards["reentry"])
        matrix[:, rows, rows + 1] = stay[:, None]
        matrix[:, rows, dead] = p_dead[:, None]
        matrix[:, rows, oat] = p_oat[:, None]

    stay, (p_dead, p_oat) = _competing(outside, hazards["reentry"])
    matrix[:, out, out] += stay
    matrix[:, out, dead] += p_dead
    matrix[:, out, oat] += p_oat
    matrix[:, dead, dead] = 1.0
    return matrix


def mortality_factor(params: Parameters, cycle: int) -> float:
    """Multiplier of every mortality hazard in month ``cycle``: ``2 ** (cycle / (12 D))``, 1 without ageing."""
    if params.mortality_doubling_years is None:
        return 1.0
    return 2.0 ** (cycle / (MONTHS_PER_YEAR * float(params.mortality_doubling_years)))


def transition_matrix(params: Parameters, cycle: int = 0) -> np.ndarray:
    """Monthly transition probabilities, shape (draws, S, S), rows summing to one; states as :func:`state_names`.

    Row ``i`` holds the probabilities of moving from state ``i`` (at the start of month ``cycle``) to
    each state (at its end), from competing constant hazards (see the module docstring). ``cycle`` only
    matters when mortality rises with age (``mortality_doubling_years``).
    """
    return _assemble(params.tunnel_months, _monthly_hazards(params), mortality_factor(params, cycle))


def start_vector(states: list[str], start: str) -> np.ndarray:
    """Everyone in state ``start`` at cycle 0."""
    vector = np.zeros(len(states))
    vector[states.index(start)] = 1.0
    return vector


def _stepper(matrix):
    """A function of the cycle giving the (draws, S, S) matrix of that month, from a fixed matrix or a function."""
    if callable(matrix):

        def step(t):
            current = np.asarray(matrix(t), dtype=float)
            return current[None] if current.ndim == 2 else current

        return step
    fixed = np.asarray(matrix, dtype=float)
    fixed = fixed[None] if fixed.ndim == 2 else fixed
    return lambda t: fixed


def model_matrices(params: Parameters):
    """The transition matrices of ``params``: one array when they do not change over time, else a
    function of the cycle (mortality rising with age)."""
    if params.mortality_doubling_years is None:
        return transition_matrix(params)
    hazards = _monthly_hazards(params)
    return lambda t: _assemble(params.tunnel_months, hazards, mortality_factor(params, t))


def trace_array(matrix, start: np.ndarray, n_cycles: int) -> np.ndarray:
    """State occupancy at the cycle boundaries 0 ... n_cycles: shape (draws, n_cycles + 1, S).

    ``matrix`` is (S, S) or (draws, S, S), or a function of the cycle ``t`` giving the matrix of month
    ``t`` (from boundary t to t + 1); ``start`` is the occupancy at cycle 0 (summing to one).
    """
    step = _stepper(matrix)
    first = step(0)
    out = np.empty((first.shape[0], n_cycles + 1, first.shape[-1]))
    out[:, 0] = start
    for t in range(n_cycles):
        out[:, t + 1] = np.matmul(out[:, t, None, :], step(t))[:, 0]
    return out


def run_cohort(matrix: np.ndarray, states: list[str], start: str, n_cycles: int) -> pd.DataFrame:
    """The cohort trace as a tidy frame: one row per cycle boundary and model state.

    Columns ``cycle`` (0 ... n_cycles), ``years`` (cycle / 12), ``state`` (model state), ``share`` (the
    proportion of the starting cohort in that state). ``matrix`` is one transition matrix, (S, S) or
    (1, S, S), or a function of the cycle giving it (see :func:`trace_array`). Everyone starts in ``start``.
    """
    occupancy = trace_array(matrix, start_vector(states, start), n_cycles)
    if occupancy.shape[0] != 1:
        raise ValueError("run_cohort takes one set of parameters; use evaluate() for draws")
    cycles = np.repeat(np.arange(n_cycles + 1), len(states))
    return pd.DataFrame(
        {
            "cycle": cycles,
            "years": cycles / MONTHS_PER_YEAR,
            "state": np.tile(np.asarray(states, dtype=object), n_cycles + 1),
            "share": occupancy[0].ravel(),
        }
    )


def occupancy(trace: pd.DataFrame) -> pd.DataFrame:
    """A trace summed to the reported states (tunnel states into ``out``): cycle, years, state, share.

    Extra grouping columns of ``trace`` (e.g. ``strategy``) are kept.
    """
    keys = [c for c in trace.columns if c not in ("state", "share")]
    out = (
        trace.assign(state=trace["state"].map(reported_state))
        .groupby(keys + ["state"], sort=False, as_index=False)["share"]
        .sum()
    )
    order = {s: i for i, s in enumerate(STATES)}
    return out.sort_values(
        keys + ["state"], key=lambda s: s.map(order) if s.name == "state" else s, kind="stable"
    ).reset_index(drop=True)


def cycle_weights(n_cycles: int, discount_rate: float = 0.0) -> np.ndarray:
    """Weights of the cycle boundaries 0 ... n_cycles: half-cycle (trapezoid) times discount.

    1/2 at the first and last boundary and 1 in between, times ``(1 + discount_rate) ** (-t / 12)``.
    A payoff of ``x`` per month in every month then totals ``sum(weights) * x``.
    """
    weights = np.ones(n_cycles + 1)
    weights[[0, -1]] = 0.5
    return weights * (1.0 + discount_rate) ** (-np.arange(n_cycles + 1) / MONTHS_PER_YEAR)


def payoffs(params: Parameters) -> np.ndarray:
    """Payoffs per month in each model state: shape (draws, S, 3) for life-years, costs (NOK), QALYs."""
    names = state_names(params.tunnel_months)
    n = params.n_draws
    out = np.zeros((n, len(names), len(OUTCOMES)))
    for i, name in enumerate(names):
        kind = reported_state(name)
        if kind == "dead":
            continue
        out[:, i, 0] = 1.0
        out[:, i, 1] = params.array(f"cost_{kind}")
        out[:, i, 2] = params.array(f"utility_{kind}")
    return out / MONTHS_PER_YEAR


def summarise(trace: pd.DataFrame, params: Parameters, discount_rate: float) -> dict[str, float]:
    """Totals per person of one cohort trace (from :func:`run_cohort`, one set of parameters).

    ``life_years``: undiscounted; ``costs`` (NOK) and ``qalys``: discounted at ``discount_rate`` per year.
    ``costs_undiscounted`` and ``qalys_undiscounted`` too. All with the half-cycle (trapezoid) weights of
    :func:`cycle_weights`.
    """
    names = state_names(params.tunnel_months)
    wide = trace.pivot(index="cycle", columns="state", values="share")[names].sort_index().to_numpy()
    n_cycles = wide.shape[0] - 1
    pay = payoffs(params)[0]
    per_cycle = wide @ pay  # (T + 1, 3)
    plain, discounted = cycle_weights(n_cycles), cycle_weights(n_cycles, discount_rate)
    return {
        "life_years": float(plain @ per_cycle[:, 0]),
        "costs": float(discounted @ per_cycle[:, 1]),
        "qalys": float(discounted @ per_cycle[:, 2]),
        "costs_undiscounted": float(plain @ per_cycle[:, 1]),
        "qalys_undiscounted": float(plain @ per_cycle[:, 2]),
    }


def totals(params: Parameters, start: str, n_cycles: int, discount_rate: float) -> pd.DataFrame:
    """Per draw: undiscounted life-years, discounted costs and QALYs of a cohort starting in ``start``.

    The same quantities as :func:`summarise`, for all draws at once and without keeping the trace (the
    occupancy is carried forward one month at a time). Columns: ``life_years``, ``costs``, ``qalys``.
    """
    step = _stepper(model_matrices(params))
    pay = payoffs(params)
    plain, discounted = cycle_weights(n_cycles), cycle_weights(n_cycles, discount_rate)
    names = state_names(params.tunnel_months)
    state = np.broadcast_to(start_vector(names, start), (params.n_draws, len(names))).copy()
    result = np.zeros((params.n_draws, len(OUTCOMES)))
    undiscounted_part, discounted_part = (
        np.array([1.0, 0.0, 0.0]),
        np.array([0.0, 1.0, 1.0]),
    )  # life-years; costs, QALYs
    for t in range(n_cycles + 1):
        earned = np.einsum("ns,nsk->nk", state, pay)
        result += earned * (plain[t] * undiscounted_part + discounted[t] * discounted_part)
        if t < n_cycles:
            state = np.einsum("ns,nsk->nk", state, step(t))
    return pd.DataFrame(result, columns=list(OUTCOMES))


def strategy_traces(params: Parameters, n_cycles: int, comparator: str = "out") -> pd.DataFrame:
    """The traces of both strategies (one set of parameters), reported states: strategy (its display name), start
    (its id: the state it starts in, ``hat``, ``out`` or ``oat``, which code looks a strategy up by), cycle, years,
    state, share."""
    matrix = model_matrices(params)
    names = state_names(params.tunnel_months)
    parts = []
    for strategy, start in ((HAT_AVAILABLE, "hat"), (COMPARATORS[comparator], comparator)):
        parts.append(occupancy(run_cohort(matrix, names, start, n_cycles)).assign(strategy=strategy, start=start))
    frame = pd.concat(parts, ignore_index=True)
    return frame[["strategy", "start", "cycle", "years", "state", "share"]]


def compare_strategies(
    params: Parameters, n_cycles: int, discount_rate: float, comparator: str = "out"
) -> pd.DataFrame:
    """One row per strategy (one set of parameters): strategy (its display name), start (its id, which code looks
    a strategy up by), life_years, costs, qalys.

    "HAT available" starts in ``hat``; the comparator in ``comparator`` (``out`` or ``oat``).
    """
    if comparator not in COMPARATORS:
        raise ValueError(f"comparator must be one of {sorted(COMPARATORS)} (got {comparator!r})")
    rows = []
    for strategy, start in ((HAT_AVAILABLE, "hat"), (COMPARATORS[comparator], comparator)):
        one = totals(params, start, n_cycles, discount_rate).iloc[0]
        rows.append({"strategy": strategy, "start": start, **one.to_dict()})
    return pd.DataFrame(rows)


def incremental(strategies: pd.DataFrame) -> pd.DataFrame:
    """HAT available against the comparator: delta cost and QALYs, ICER and quadrant (:func:`analysis.methods.cea.compare`),
    plus the difference in undiscounted life-years (``delta_life_years``)."""
    out = cea.compare(strategies, "strategy", "costs", "qalys", intervention=HAT_AVAILABLE)
    years = strategies.set_index("strategy")["life_years"]
    out["delta_life_years"] = [years[HAT_AVAILABLE] - years[other] for other in out["comparator"]]
    return out


# --- probabilistic sensitivity analysis -------------------------------------------------------------


def beta_draws(mean: float, se: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws from the beta distribution with this mean and standard error (method of moments).

    ``alpha = mean * k``, ``beta = (1 - mean) * k`` with ``k = mean (1 - mean) / se**2 - 1``. A mean
    outside (0, 1), or no uncertainty (se 0 or NaN), gives the mean itself every time.
    """
    if not (0 < mean < 1) or not np.isfinite(se) or se <= 0:
        return np.full(n, float(mean))
    k = mean * (1 - mean) / se**2 - 1
    if k <= 0:
        raise ValueError(f"a standard error of {se} is too large for a beta with mean {mean}")
    return rng.beta(mean * k, (1 - mean) * k, size=n)


def gamma_draws(mean: float, se: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws from the gamma distribution with this mean and standard error (method of moments):
    shape ``(mean / se) ** 2``, scale ``se ** 2 / mean``. A mean of 0 or no uncertainty gives the mean."""
    if mean <= 0 or not np.isfinite(se) or se <= 0:
        return np.full(n, float(mean))
    return rng.gamma((mean / se) ** 2, se**2 / mean, size=n)


def _signed_beta(mean: float, se_share: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """Beta draws of ``|mean|`` (standard error ``se_share * |mean|``) carrying the sign of ``mean``."""
    return np.sign(mean) * beta_draws(abs(mean), se_share * abs(mean), n, rng)


def draw_parameters(
    base: Parameters, n_draws: int, seed: int | np.random.Generator, exits: dict, utility: dict, relative_se: float
) -> pd.DataFrame:
    """One row per draw of every model input, for a PSA (column ``draw`` and the fields of :class:`Parameters`).

    Inputs estimated from the cohort carry their own sampling uncertainty:

    * ``hat_exit_rate``: gamma with shape = discharges and rate = person-months (``exits`` from
      :func:`hat_exits`); fixed when there were no discharges;
    * ``planned_share``: beta(planned, unplanned); fixed when either count is 0;
    * ``utility_hat``: beta with the cohort mean and standard error (``utility`` from :func:`hat_utility`).

    Every other input (mortality, OAT flows, costs, and the utility differences of ``oat`` and ``out``
    below ``hat``) is given a standard error of ``relative_se`` times its base value: beta for
    probabilities and utility differences, gamma for costs. ``utility_oat`` and ``utility_out`` are the
    drawn HAT utility minus the drawn difference. Draws are made in a fixed order from one generator, so
    the same seed gives the same frame.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = int(n_draws)
    out: dict[str, np.ndarray] = {"draw": np.arange(n)}
    if exits["discharges"] > 0:
        out["hat_exit_rate"] = rng.gamma(exits["discharges"], 1.0 / exits["person_months"], size=n)
    else:
        out["hat_exit_rate"] = np.full(n, float(base.hat_exit_rate))
    if exits["planned"] > 0 and exits["unplanned"] > 0:
        out["planned_share"] = rng.beta(exits["planned"], exits["unplanned"], size=n)
    else:
        out["planned_share"] = np.full(n, float(base.planned_share))
    for name in ("oat_exit", "reentry", "death_treatment", "death_out", "death_after_leaving"):
        value = float(getattr(base, name))
        out[name] = beta_draws(value, relative_se * value, n, rng)
    for name in ("cost_hat", "cost_oat", "cost_out"):
        value = float(getattr(base, name))
        out[name] = gamma_draws(value, relative_se * value, n, rng)
    out["utility_hat"] = beta_draws(float(base.utility_hat), float(utility.get("se", np.nan)), n, rng)
    for kind in ("oat", "out"):
        gap = float(base.utility_hat) - float(getattr(base, f"utility_{kind}"))
        out[f"utility_{kind}"] = out["utility_hat"] - _signed_beta(gap, relative_se, n, rng)
    frame = pd.DataFrame(out)
    return frame[["draw", *DRAWN]]


def parameters_from_draws(draws: pd.DataFrame, base: Parameters) -> Parameters:
    """The :class:`Parameters` of a frame of draws (one array per input; tunnel and ageing from ``base``)."""
    return replace(base, **{name: draws[name].to_numpy(dtype=float) for name in DRAWN})


def evaluate(params: Parameters, n_cycles: int, discount_rate: float, comparator: str = "out") -> pd.DataFrame:
    """Both strategies for every draw of ``params``: one row per draw.

    Columns ``replicate`` (the draw), ``cost_hat``, ``qalys_hat``, ``life_years_hat`` (HAT available),
    ``cost_comparator``, ``qalys_comparator``, ``life_years_comparator``, and the differences (HAT
    available minus comparator) ``delta_cost``, ``delta_effect`` (QALYs) and ``delta_life_years``, the
    columns :mod:`analysis.methods.uncertainty` reads.
    """
    hat = totals(params, "hat", n_cycles, discount_rate)
    other = totals(params, comparator, n_cycles, discount_rate)
    return pd.DataFrame(
        {
            "replicate": np.arange(params.n_draws),
            "cost_hat": hat["costs"],
            "qalys_hat": hat["qalys"],
            "life_years_hat": hat["life_years"],
            "cost_comparator": other["costs"],
            "qalys_comparator": other["qalys"],
            "life_years_comparator": other["life_years"],
            "delta_cost": hat["costs"] - other["costs"],
            "delta_effect": hat["qalys"] - other["qalys"],
            "delta_life_years": hat["life_years"] - other["life_years"],
        }
    )


def psa(
    base: Parameters,
    n_cycles: int,
    discount_rate: float,
    exits: dict,
    utility: dict,
    n_draws: int = 1000,
    seed: int | np.random.Generator = 2026,
    relative_se: float = 0.2,
    comparator: str = "out",
) -> pd.DataFrame:
    """Probabilistic sensitivity analysis: :func:`draw_parameters` then :func:`evaluate`, joined by draw.

    One row per draw: the drawn inputs, then the columns of :func:`evaluate`.
    """
    draws = draw_parameters(base, n_draws, seed, exits, utility, relative_se)
    results = evaluate(parameters_from_draws(draws, base), n_cycles, discount_rate, comparator)
    return pd.concat([draws.reset_index(drop=True), results], axis=1)


def with_inputs(params: Parameters, **changes) -> Parameters:
    """A copy of ``params`` with some inputs changed (for scenarios)."""
    return replace(params, **changes)


# --- chart ---------------------------------------------------------------------------------------------


def trace_chart(traces: pd.DataFrame, every: int = MONTHS_PER_YEAR) -> alt.Chart:
    """Stacked areas of state occupancy (percent of the starting cohort) over years, one panel per strategy.

    ``traces`` from :func:`strategy_traces`; every ``every``-th cycle is drawn (yearly by default).
    """
    data = traces[traces["cycle"] % every == 0].copy()
    data["percent"] = 100 * data["share"]
    data["label"] = data["state"].map(STATE_LABELS)
    data["order"] = data["state"].map({s: i for i, s in enumerate(STATES)})
    labels = [STATE_LABELS[s] for s in STATES]
    return (
        alt.Chart(data[["strategy", "years", "label", "order", "percent"]])
        .mark_area()
        .encode(
            x=alt.X("years:Q", title="Years since the start"),
            y=alt.Y("percent:Q", title="Share of the cohort (%)", stack="zero", scale=alt.Scale(domain=[0, 100])),
            color=alt.Color(
                "label:N",
                title=None,
                sort=labels,
                scale=alt.Scale(domain=labels, range=[STATE_COLOURS[s] for s in STATES]),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                "strategy:N",
                alt.Tooltip("years:Q", format=".0f"),
                "label:N",
                alt.Tooltip("percent:Q", format=".1f"),
            ],
        )
        .properties(width=260, height=240)
        .facet(column=alt.Column("strategy:N", title=None, sort=[HAT_AVAILABLE, *COMPARATORS.values()]))
    )


def model_counts(cohort) -> pd.DataFrame:
    """The counts the model's cohort-based inputs rest on, with fixed rows: ``count`` (``patients``,
    ``planned`` and ``unplanned`` discharges of :func:`hat_exits`, ``utility_patients`` of :func:`hat_utility`)
    and ``n``; for protecting them together with the other editions of the year
    (:func:`analysis.presentation.linked_suppression.linked_hidden`): a model fed by a count that an edition must hide is
    withheld with it."""
    exits = hat_exits(cohort.episodes, cohort.data_end)
    utility = hat_utility(cohort.questionnaires, cohort.episodes)
    rows = [
        ("patients", len(cohort.patients)),
        ("planned", exits["planned"]),
        ("unplanned", exits["unplanned"]),
        ("utility_patients", utility["patients"]),
    ]
    return pd.DataFrame(rows, columns=["count", "n"]).astype({"n": int})
