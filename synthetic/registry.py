"""Registry health-service use around the first admission (section 6.7, Tables 6.H-6.J): ``health_service_use``.

One row per patient per quarter: quarters -4 to -1 are the year before the first admission, 1 to 8 the
two years after it (quarter q >= 1 starts (q - 1) x 3 months after the admission date, quarter q <= -1
starts -q x 3 months before it; calendar months are added with ``pandas.DateOffset``, which moves the
31st to the last day of a shorter month). An after-quarter is written only when it ends on or before the
end of the data, so late admissions have fewer after-quarters; every patient has the four before.

**Definitions used for calibration** (the report gives none; :mod:`analysis.sections.health_services` uses the
same ones, written independently):

* the cost of a patient-quarter in a category is its counts times the unit costs of Supplementary
  Table B (ledger keys ``stb_*_unit_cost``); physiotherapy has no unit cost there and takes the assumed
  cost in ``data/reference/physiotherapy_unit_cost.csv``;
* a patient's cost in a period (before: quarters -4..-1; after: 1..8) is the mean cost per quarter over
  the quarters present; the printed columns of Table 6.J are the means of that over the patients with
  data in the period (all 136 before, the 132 with at least one after-quarter after);
* Table 6.J's *annualized change* is 4 x (after - before): the printed ratio is 4.0 in every row, so the
  columns must be costs per quarter (if they were a one-year and a two-year total, the yearly change
  would be after / 2 - before, which the print contradicts);
* trajectory groups follow the discharge type of the patient's last episode (none: continued). In
  the episodes of :mod:`synthetic.core` the whole cohort has 76 continued, 39 planned and 21 unplanned,
  not the 68/32/16 of the report's QALY sample (the 116 with two or more EQ-5D-5L answers, a subset
  chosen by :mod:`synthetic.questionnaires`). The report does not say which patients enter Tables 6.H
  and 6.I; the whole cohort is used, as in Table 6.J, and the calibration report lists the group sizes
  against the QALY sample's with that reason;
* an *offset* (Tables 6.H, 6.I) is a difference-in-differences of annualized costs (4 x the cell means
  of patient-period costs per quarter): the comparison group's change minus the continued group's,
  positive = a reduction in favour of continued treatment.

**How the counts are made.** Each patient has a frailty (gamma, mean 1, shape 2) that scales all their
expected counts. A cell (trajectory group x period) has an aimed mean cost per quarter in each category;
it is split over the contact kinds by fixed cost shares (:data:`COST_SHARES`), turned into expected
counts with the unit costs and drawn from negative binomials (inpatient days most dispersed, capped at
90 days a quarter; other contacts at 40 a quarter). The before-period aims: the whole-cohort value of
Table 6.J spread over the groups by :data:`BEFORE_PROFILE` (continued patients used the most somatic
care before, which is where their fall is largest); in primary care :data:`PRIMARY_LEVELS`. The
after-period aims follow from the published offsets and (specialist care) the whole-cohort after value.

Calibration: each cell's counts are moved one contact at a time (random patient-quarters, kinds drawn
by the cost shares) until its mean cost is near its aim, then to the aim by a search over combinations
of single-contact changes (meet in the middle over multisets of three to eight signed moves, the
different quarter weights 1/1..1/8 of the after-period giving a fine lattice of reachable values). The
before cells come first (the last group's aim makes the whole-cohort before value exact); the after
cells last, in the order unplanned, continued, planned, each aim recomputed from the cells achieved so
far, so that both offsets hold and, in specialist care, the whole-cohort after value too. In primary care,
where one unit cost and a cell's quarter weights can leave its total in steps too coarse for its offset
(or the services' small misses add up in the total), the three after cells are then chosen together
(:func:`_settle_together`). The whole-cohort values of Table 6.J are chosen by a small linear programme
(``scipy.optimize.linprog``) inside the intervals that every printed figure of the table allows
(components and totals; before, after, change, annualized change), once for the aims and once more with
the achieved before values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from analysis.data import schema
from synthetic.search import steepest
from synthetic.targets import Target, published, tolerance

#: The tables of earlier modules that :func:`generate` reads, the tables it makes, and whether it starts
#: worker processes of its own (see :func:`synthetic.__main__.generate`).
READS = ("episodes",)
MAKES = ("health_service_use",)
STARTS_WORKERS = False

QUARTERS_PER_YEAR = 4
GROUPS = ("continued", "planned", "unplanned")
AREAS = schema.SPECIALIST_AREAS
KINDS = schema.SPECIALIST_CONTACTS
SERVICES = schema.PRIMARY_CARE_SERVICES
PHYSIO_FILE = Path(__file__).resolve().parent.parent / "data" / "reference" / "physiotherapy_unit_cost.csv"

_STB = {"som": "som", "phv": "phv_psy", "tsb": "sud_tsb"}
_KIND = {"inpatient_days": "inpatient", "day_care": "day_care", "outpatient": "outpatient"}
#: Ledger stems of the tables' rows.
_T6I = {"som": "som", "phv": "phv", "tsb": "tsb_sud", "total": "total_specialist"}
_T6H = {
    "gp": "primary_care_physician",
    "physiotherapy": "physiotherapy",
    "emergency_primary_care": "emergency_room",
    "total": "total_primary_care",
}
_T6J = {"som": "som", "phv": "phv", "tsb": "tsb", "total": "total_specialist"}
_COMP = {"planned": "planned", "unplanned": "unplanned"}

#: Share of each specialist area's cost by contact kind (inpatient days, day care, outpatient).
COST_SHARES = {"som": (0.70, 0.05, 0.25), "phv": (0.40, 0.10, 0.50), "tsb": (0.70, 0.05, 0.25)}
#: Negative-binomial size (dispersion) by contact kind: smaller = more patient-quarters with none.
DISPERSION = {"inpatient_days": 0.25, "day_care": 0.6, "outpatient": 1.5, "primary": 1.5}
MAX_INPATIENT_DAYS = 90
#: Most day-care, outpatient or primary care contacts of one kind in one quarter.
MAX_CONTACTS = 40
#: Before-period level of each group relative to the whole cohort, by specialist area (continued, planned,
#: unplanned); rescaled so that the whole-cohort mean is the aim. Continued patients had most somatic care.
BEFORE_PROFILE = {"som": (1.15, 0.85, 0.70), "phv": (1.0, 1.05, 0.9), "tsb": (1.0, 1.0, 1.0)}
#: Primary care contacts per quarter: (before, continued after) for every group; the other groups' after
#: levels follow from the published offsets.
PRIMARY_LEVELS = {"gp": (1.8, 1.5), "physiotherapy": (0.30, 0.25), "emergency_primary_care": (0.35, 0.20)}


# --- unit costs -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def unit_costs() -> Mapping[str, float]:
    """NOK per count of every count column: Supplementary Table B (ledger), physiotherapy from the reference file
    (read-only: every caller shares it)."""
    units = {f"{a}_{k}": published(f"stb_{_STB[a]}_{_KIND[k]}_unit_cost") for a in AREAS for k in KINDS}
    units["gp_contacts"] = published("stb_primary_care_physician_consultation_unit_cost")
    units["emergency_primary_care_contacts"] = published("stb_primary_care_emergency_out_of_hours_unit_cost")
    physio = pd.read_csv(PHYSIO_FILE).set_index("service_code")
    units["physiotherapy_contacts"] = float(physio.loc["physiotherapy", "unit_cost_nok"])
    return MappingProxyType(units)


def _columns(category: str) -> list[str]:
    return [f"{category}_{k}" for k in KINDS] if category in AREAS else [f"{category}_contacts"]


# --- quarters and groups ------------------------------------------------------------------------------


def trajectory_groups(episodes: pd.DataFrame) -> pd.Series:
    """Group of each patient from the last episode: continued (no discharge), planned, unplanned."""
    last = episodes.sort_values(["patient_id", "admission_date"]).groupby("patient_id").tail(1).set_index("patient_id")
    return last["discharge_type"].where(last["discharge_date"].notna(), "continued").astype(str)


def quarter_frame(episodes: pd.DataFrame, data_end: pd.Timestamp) -> pd.DataFrame:
    """One row per patient and quarter present: patient_id, quarter, quarter_start, quarter_end, period."""
    first = episodes.groupby("patient_id")["admission_date"].min().sort_index()
    parts = []
    for q in schema.REGISTRY_QUARTERS:
        offset = 3 * (q - 1) if q > 0 else 3 * q
        start = first + pd.DateOffset(months=offset)
        end = first + pd.DateOffset(months=offset + 3) - pd.Timedelta(days=1)
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": first.index,
                    "quarter": q,
                    "quarter_start": start.to_numpy(),
                    "quarter_end": end.to_numpy(),
                }
            )
        )
    rows = pd.concat(parts, ignore_index=True)
    rows = rows[rows["quarter_end"] <= data_end].sort_values(["patient_id", "quarter"]).reset_index(drop=True)
    frame = rows
    frame["period"] = np.where(frame["quarter"] < 0, "before", "after")
    return frame


# --- the measures (own code; also used by targets) --------------------------------------------------


def period_costs(use: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    """One row per patient and period: group and mean cost per quarter of every category (and totals)."""
    units = unit_costs()
    cost = pd.DataFrame({"patient_id": use["patient_id"], "period": np.where(use["quarter"] < 0, "before", "after")})
    for category in (*AREAS, *SERVICES):
        cost[category] = sum(use[c].astype(float) * units[c] for c in _columns(category))
    cost["specialist"] = cost[list(AREAS)].sum(axis=1)
    cost["primary"] = cost[list(SERVICES)].sum(axis=1)
    out = cost.groupby(["patient_id", "period"], as_index=False).mean()
    out["group"] = out["patient_id"].map(groups)
    return out


def _cells(per: pd.DataFrame, category: str) -> dict[tuple[str, str], float]:
    return per.groupby(["group", "period"])[category].mean().to_dict()


def offset(per: pd.DataFrame, category: str, comparison: str) -> float:
    """Annualized change of the comparison group minus that of the continued group (NOK per patient-year)."""
    m = _cells(per, category)
    change = lambda g: m[(g, "after")] - m[(g, "before")]  # noqa: E731
    return QUARTERS_PER_YEAR * (change(comparison) - change("continued"))


def before_after(per: pd.DataFrame, category: str) -> dict[str, float]:
    """Table 6.J row: mean cost per quarter before and after, change, annualized change (x4)."""
    before = per.loc[per.period == "before", category].mean()
    after = per.loc[per.period == "after", category].mean()
    return {
        "before": before,
        "after": after,
        "change": after - before,
        "annualized_change": QUARTERS_PER_YEAR * (after - before),
    }


# --- calibration machinery ------------------------------------------------------------------------------


class _Block:
    """The count columns of one category and the rows (patient-quarters) of the table, with weights."""

    def __init__(self, counts: np.ndarray, units: np.ndarray, weight: np.ndarray, caps: np.ndarray):
        self.counts = counts  # rows x kinds, int
        self.units = units
        self.weight = weight  # 1 / quarters of the patient in the period
        self.caps = caps  # per kind, max count in one quarter

    def total(self, rows: np.ndarray) -> float:
        return float((self.counts[rows] @ self.units * self.weight[rows]).sum())


def _elementary(block: _Block, rows: np.ndarray):
    """Signed single-contact moves available in ``rows``: (value, kind, weight, sign, capacity)."""
    moves = []
    for w in np.unique(block.weight[rows]):
        at = rows[block.weight[rows] == w]
        for k, u in enumerate(block.units):
            moves.append((u * w, k, w, +1, int((block.counts[at, k] < block.caps[k]).sum()) * 1000))
            moves.append((-u * w, k, w, -1, int(block.counts[at, k].sum())))
    return moves


def _apply(rng, block: _Block, rows: np.ndarray, k: int, w: float, sign: int) -> bool:
    at = rows[np.isclose(block.weight[rows], w)]
    ok = at[block.counts[at, k] > 0] if sign < 0 else at[block.counts[at, k] < block.caps[k]]
    if not len(ok):
        return False
    block.counts[rng.choice(ok), k] += sign
    return True


def _adjust(rng, block: _Block, rows: np.ndarray, aim_total: float, shares, exact: float = 1e-6) -> None:
    """Move the cell's weighted cost total to ``aim_total``: coarse random moves, then an exact search.

    The exact search pairs two multisets of up to ``depth`` signed single-contact moves (three for cells
    with many distinct quarter weights, up to eight for cells where every patient has four quarters).
    """
    largest = float(block.units.max() * block.weight[rows].max())
    r = aim_total - block.total(rows)
    for _ in range(200000):  # coarse: one contact of a kind drawn by the cost shares
        if abs(r) <= largest:
            break
        k = rng.choice(len(block.units), p=shares)
        w = rng.choice(block.weight[rows])
        sign = 1 if r > 0 else -1
        if _apply(rng, block, rows, k, w, sign):
            r -= sign * block.units[k] * w

    def single_moves():  # one contact more or less, of a kind at a quarter weight
        r = aim_total - block.total(rows)
        for value, k, w, sign, capacity in _elementary(block, rows):
            if capacity > 0:
                yield abs(r - value), lambda k=k, w=w, sign=sign: _apply(rng, block, rows, k, w, sign)

    def miss_now():
        return abs(aim_total - block.total(rows))

    steepest(single_moves, miss_now(), 60, lambda _: False, loss_now=miss_now)  # the best while it helps
    for _ in range(40):  # exact: combinations of moves (meet in the middle)
        r = aim_total - block.total(rows)
        if abs(r) <= exact:
            return
        moves = [m for m in _elementary(block, rows) if m[4] > 0]
        values = np.array([0.0] + [m[0] for m in moves])
        depth = 3
        while depth < 8 and math.comb(len(values) + depth, depth + 1) <= 40000:
            depth += 1
        combos = _combos(len(values), depth)
        sums = values[combos].sum(axis=1)
        order = np.argsort(sums, kind="stable")
        sorted_sums = sums[order]
        want = r - sums
        pos = np.clip(np.searchsorted(sorted_sums, want), 1, len(sorted_sums) - 1)
        left, right = sorted_sums[pos - 1], sorted_sums[pos]
        partner = np.where(np.abs(want - left) <= np.abs(want - right), pos - 1, pos)
        error = np.abs(want - sorted_sums[partner])
        improved = False
        for i in np.argsort(error, kind="stable")[:2000]:
            if error[i] >= abs(r) - 1e-12:
                break
            chosen = [c for c in (*combos[i], *combos[order[partner[i]]]) if c > 0]
            need: dict[int, int] = {}
            for c in chosen:
                need[c] = need.get(c, 0) + 1
            if any(n > moves[c - 1][4] for c, n in need.items()):
                continue
            for c in chosen:
                _, k, w, sign, _ = moves[c - 1]
                _apply(rng, block, rows, k, w, sign)
            improved = True
            break
        if not improved:
            return


@lru_cache(maxsize=64)
def _combos(n: int, depth: int) -> np.ndarray:
    """Every multiset of ``depth`` indices out of ``n`` (index 0 is the empty move)."""
    return np.array(list(itertools.combinations_with_replacement(range(n), depth)))


def _draw(rng, mean: np.ndarray, size: float, cap: int | None = None) -> np.ndarray:
    mean = np.maximum(mean, 1e-9)
    counts = rng.negative_binomial(size, size / (size + mean))
    return np.minimum(counts, cap) if cap is not None else counts


def _lp_whole(before_fixed: dict[str, float] | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """Whole-cohort before means and changes (per quarter) inside every interval Table 6.J's prints allow.

    Maximises the smallest margin to the edges of the intervals (components, totals; before, after,
    change, annualized change). With ``before_fixed`` the before means are held at those values.
    """
    from scipy.optimize import linprog

    n = len(AREAS)
    # variables: B_a (n), C_a (n), t
    rows, lo, hi = [], [], []

    def add(coef_b, coef_c, value, scale=1.0):
        rows.append((np.r_[coef_b, coef_c], scale))
        lo.append(value - 0.5)
        hi.append(value + 0.5)

    for i, a in enumerate(AREAS + ("total",)):
        key = _T6J[a]
        b = np.ones(n) if a == "total" else np.eye(n)[i]
        zero = np.zeros(n)
        add(b, zero, published(f"t6j_{key}_before"))
        add(b, b, published(f"t6j_{key}_after"))
        add(zero, b, published(f"t6j_{key}_change"))
        add(zero, QUARTERS_PER_YEAR * b, published(f"t6j_{key}_annualized_change"))
    a_ub, b_ub = [], []
    for (coef, _), lower, upper in zip(rows, lo, hi):
        a_ub.append(np.r_[coef, 1.0])
        b_ub.append(upper)
        a_ub.append(np.r_[-coef, 1.0])
        b_ub.append(-lower)
    bounds = [(None, None)] * (2 * n) + [(None, 0.5)]
    if before_fixed is not None:
        for i, a in enumerate(AREAS):
            bounds[i] = (before_fixed[a], before_fixed[a])
    result = linprog(
        np.r_[np.zeros(2 * n), -1.0], A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs"
    )
    if not result.success or result.x[-1] <= 0:
        raise RuntimeError("Table 6.J: no whole-cohort values satisfy every printed figure")
    x = result.x
    return dict(zip(AREAS, x[:n])), dict(zip(AREAS, x[n : 2 * n]))


# --- generation -------------------------------------------------------------------------------------


def generate(
    rng: np.random.Generator, tables: dict[str, pd.DataFrame], data_end: pd.Timestamp
) -> dict[str, pd.DataFrame]:
    episodes = tables["episodes"]
    groups = trajectory_groups(episodes)
    frame = quarter_frame(episodes, data_end)
    frame["group"] = frame["patient_id"].map(groups)
    n_in_period = frame.groupby(["patient_id", "period"])["quarter"].transform("size")
    weight = 1.0 / n_in_period.to_numpy(dtype=float)
    patients = frame["patient_id"].unique()
    frailty = dict(zip(patients, rng.gamma(2.0, 0.5, size=len(patients))))
    z = frame["patient_id"].map(frailty).to_numpy()
    units = unit_costs()

    cell_rows = {
        (g, p): np.flatnonzero(((frame.group == g) & (frame.period == p)).to_numpy())
        for g in GROUPS
        for p in ("before", "after")
    }
    n_pat = {key: int(frame.iloc[rows]["patient_id"].nunique()) for key, rows in cell_rows.items()}
    n_period = {p: sum(n_pat[(g, p)] for g in GROUPS) for p in ("before", "after")}

    def make_block(category: str, aims: dict[tuple[str, str], float], shares) -> _Block:
        cols = _columns(category)
        u = np.array([units[c] for c in cols])
        counts = np.zeros((len(frame), len(cols)), dtype=np.int64)
        caps = np.array([MAX_INPATIENT_DAYS if c.endswith("inpatient_days") else MAX_CONTACTS for c in cols])
        for key, rows in cell_rows.items():
            for k, c in enumerate(cols):
                size = DISPERSION[c.split("_", 1)[1]] if category in AREAS else DISPERSION["primary"]
                mean = max(aims[key], 0.0) * shares[k] / u[k] * z[rows]
                counts[rows, k] = _draw(rng, mean, size, caps[k])
        return _Block(counts, u, weight, caps)

    def quarterly(key_stem: str) -> float:
        return published(key_stem) / QUARTERS_PER_YEAR

    out = frame[["patient_id", "quarter", "quarter_start"]].copy()

    # Specialist care: before cells, then the whole-cohort changes, then the after cells.
    before_aim, change_aim = _lp_whole()
    blocks: dict[str, tuple] = {}
    achieved_before: dict[str, dict[str, float]] = {}
    for a in AREAS:
        shares = np.array(COST_SHARES[a])
        profile = np.array(BEFORE_PROFILE[a])
        scale = (
            before_aim[a] * n_period["before"] / sum(profile[i] * n_pat[(g, "before")] for i, g in enumerate(GROUPS))
        )
        aims = {(g, "before"): profile[i] * scale for i, g in enumerate(GROUPS)}
        offsets = {c: quarterly(f"t6i_cont_vs_{_COMP[c]}_{_T6I[a]}") for c in ("planned", "unplanned")}
        # provisional after aims for the draw: continued after from the whole-cohort change
        a_whole = before_aim[a] + change_aim[a]
        b = {g: aims[(g, "before")] for g in GROUPS}
        a_c = (
            n_period["after"] * a_whole
            - sum(n_pat[(c, "after")] * (b[c] - b["continued"] + offsets[c]) for c in offsets)
        ) / n_period["after"]
        aims[("continued", "after")] = a_c
        for c in offsets:
            aims[(c, "after")] = a_c + b[c] - b["continued"] + offsets[c]
        block = make_block(a, aims, shares)
        total_before = before_aim[a] * n_period["before"]
        done = 0.0
        for g in GROUPS:
            rows = cell_rows[(g, "before")]
            aim = aims[(g, "before")] * n_pat[(g, "before")] if g != GROUPS[-1] else total_before - done
            _adjust(rng, block, rows, aim, shares)
            done += block.total(rows)
        achieved_before[a] = {g: block.total(cell_rows[(g, "before")]) / n_pat[(g, "before")] for g in GROUPS}
        blocks[a] = (block, aims, offsets, shares)
    whole_before = {
        a: sum(achieved_before[a][g] * n_pat[(g, "before")] for g in GROUPS) / n_period["before"] for a in AREAS
    }
    _, change_aim = _lp_whole(whole_before)
    for a in AREAS:
        block, aims, offsets, shares = blocks[a]
        b = achieved_before[a]
        a_whole = whole_before[a] + change_aim[a]
        _solve_after(rng, block, cell_rows, n_pat, b, offsets, shares, a_whole=a_whole, n_after=n_period["after"])
        for k, c in enumerate(_columns(a)):
            out[c] = block.counts[:, k]

    # Primary care: before cells at the set level, continued after at its level, the others from the offsets.
    total_missed = {c: 0.0 for c in ("planned", "unplanned")}  # annualized, summed over the services so far
    for s in SERVICES:
        before, after_continued = PRIMARY_LEVELS[s]
        u = units[f"{s}_contacts"]
        offsets = {c: quarterly(f"t6h_cont_vs_{_COMP[c]}_{_T6H[s]}") for c in ("planned", "unplanned")}
        aims = {(g, "before"): before * u for g in GROUPS}
        aims[("continued", "after")] = after_continued * u
        for c in offsets:
            aims[(c, "after")] = after_continued * u + offsets[c]  # every group has the same before level
        shares = np.array([1.0])
        block = make_block(s, aims, shares)
        for g in GROUPS:
            _adjust(rng, block, cell_rows[(g, "before")], aims[(g, "before")] * n_pat[(g, "before")], shares)
        b = {g: block.total(cell_rows[(g, "before")]) / n_pat[(g, "before")] for g in GROUPS}
        _solve_after(rng, block, cell_rows, n_pat, b, offsets, shares, a_continued=aims[("continued", "after")])
        missed = _offset_misses(block, cell_rows, n_pat, b, offsets)
        within = {c: tolerance(f"t6h_cont_vs_{_COMP[c]}_{_T6H[s]}") for c in offsets}
        within.update({("total", c): tolerance(f"t6h_cont_vs_{_COMP[c]}_{_T6H['total']}") for c in offsets})
        if any(
            abs(missed[c]) > within[c] or abs(total_missed[c] + missed[c]) > within[("total", c)] for c in offsets
        ):  # a comparison cell whose quarter weights allow no nearer total, or misses that add up
            _settle_together(rng, block, cell_rows, n_pat, b, offsets, shares, within, total_missed)
            missed = _offset_misses(block, cell_rows, n_pat, b, offsets)
        total_missed = {c: total_missed[c] + missed[c] for c in offsets}
        out[f"{s}_contacts"] = block.counts[:, 0]

    out = out.sort_values(["patient_id", "quarter"]).reset_index(drop=True)
    return {"health_service_use": out[schema.HEALTH_SERVICE_USE.columns]}


def _solve_after(
    rng, block, cell_rows, n_pat, b, offsets, shares, a_whole=None, n_after=None, a_continued=None
) -> None:
    """Adjust the after cells: unplanned first, then continued (from the unplanned offset), then planned.

    Specialist care (``a_whole``): the three after means satisfy the whole-cohort after mean and both
    offsets. Primary care (``a_continued``): the continued after mean is set, the others follow (the
    unplanned cell is adjusted once more to the continued mean achieved).
    """

    def mean(g):
        return block.total(cell_rows[(g, "after")]) / n_pat[(g, "after")]

    if a_whole is not None:
        a_c = (
            n_after * a_whole - sum(n_pat[(c, "after")] * (b[c] - b["continued"] + offsets[c]) for c in offsets)
        ) / n_after
    else:
        a_c = a_continued
    _adjust(
        rng,
        block,
        cell_rows[("unplanned", "after")],
        (a_c + b["unplanned"] - b["continued"] + offsets["unplanned"]) * n_pat[("unplanned", "after")],
        shares,
    )
    a_c = mean("unplanned") - b["unplanned"] + b["continued"] - offsets["unplanned"]
    _adjust(rng, block, cell_rows[("continued", "after")], a_c * n_pat[("continued", "after")], shares)
    a_c = mean("continued")
    if a_whole is None:  # primary care: the continued mean may miss its aim by a few NOK; the unplanned cell follows it
        _adjust(
            rng,
            block,
            cell_rows[("unplanned", "after")],
            (a_c + b["unplanned"] - b["continued"] + offsets["unplanned"]) * n_pat[("unplanned", "after")],
            shares,
        )
    _adjust(
        rng,
        block,
        cell_rows[("planned", "after")],
        (a_c + b["planned"] - b["continued"] + offsets["planned"]) * n_pat[("planned", "after")],
        shares,
    )


def _offset_misses(block, cell_rows, n_pat, b, offsets) -> dict[str, float]:
    """How far each comparison group's offset (its change minus the continued group's, annualized) lies from
    its aim, in the cells as they are: comparison group -> miss in NOK a year."""

    def change(g):
        return block.total(cell_rows[(g, "after")]) / n_pat[(g, "after")] - b[g]

    return {c: QUARTERS_PER_YEAR * (change(c) - change("continued") - offsets[c]) for c in offsets}


def _lattice_step(block: _Block, rows: np.ndarray) -> float:
    """The step of a one-kind cell's reachable totals: a contact at weight 1/n moves the total by the unit
    cost / n, so every total is a multiple of the unit cost / lcm of the cell's n (1/168 without n = 5)."""
    quarters = np.unique(np.round(1.0 / block.weight[rows]).astype(int))
    return float(block.units[0]) / math.lcm(*(int(n) for n in quarters))


def _settle_together(rng, block, cell_rows, n_pat, b, offsets, shares, within, carried, periods: int = 12) -> None:
    """Primary care, when an offset misses its print after the after cells were adjusted one at a time: a
    comparison cell's quarter weights may allow no total near enough to its aim (one unit cost, weights
    1/2 to 1/8 without 1/5: steps of about 20 NOK, where 5 NOK were needed), the continued cell can follow
    only one comparison cell, and the services' small misses add up in the total of primary care.

    The three totals are then chosen together on the steps each cell allows (:func:`_lattice_step`). A
    choice is judged by its largest miss in units of the tolerance it must keep: each offset's own
    (``within[c]``: NOK a year) and the total's, with the misses ``carried`` from the other services
    (``within[("total", c)]``, ``carried[c]``). The continued total nearest the present one that keeps every
    miss within a fifth of its tolerance is taken, or else the best one, searched ``periods`` times the
    largest step of a comparison mean either side; the cells are then moved there. The continued cell's
    level is no published figure, its offsets are."""
    rows = {g: cell_rows[(g, "after")] for g in GROUPS}
    n = {g: n_pat[(g, "after")] for g in GROUPS}
    step = {g: _lattice_step(block, rows[g]) for g in GROUPS}
    now = {g: block.total(rows[g]) for g in GROUPS}
    widest = max(step[c] / n[c] for c in offsets) * n["continued"]
    reach = math.ceil(periods * widest / step["continued"])
    best = None
    for k in sorted(range(-reach, reach + 1), key=abs):
        continued = now["continued"] + k * step["continued"]
        totals, worst = {"continued": continued}, 0.0
        for c in offsets:
            aim = (continued / n["continued"] + b[c] - b["continued"] + offsets[c]) * n[c]
            totals[c] = now[c] + round((aim - now[c]) / step[c]) * step[c]
            miss = QUARTERS_PER_YEAR * (totals[c] - aim) / n[c]
            worst = max(worst, abs(miss) / within[c], abs(carried[c] + miss) / within[("total", c)])
        if best is None or worst < best[0] - 1e-9:
            best = (worst, totals)
        if worst <= 0.2:
            break
    for g in ("continued", *offsets):
        _adjust(rng, block, rows[g], best[1][g], shares)


# --- calibration targets ----------------------------------------------------------------------------


def targets(tables: dict[str, pd.DataFrame]) -> list[Target]:
    use = tables["health_service_use"]
    episodes = tables["episodes"]
    groups = trajectory_groups(episodes)
    per = period_costs(use, groups)
    out: list[Target] = []
    for a in (*AREAS, "total"):
        row = before_after(per, "specialist" if a == "total" else a)
        stem = _T6J[a]
        out += [
            Target(f"t6j_{stem}_before", row["before"]),
            Target(f"t6j_{stem}_after", row["after"]),
            Target(f"t6j_{stem}_change", row["change"]),
            Target(f"t6j_{stem}_annualized_change", row["annualized_change"]),
        ]
    for c in ("planned", "unplanned"):
        for a in (*AREAS, "total"):
            out.append(Target(f"t6i_cont_vs_{_COMP[c]}_{_T6I[a]}", offset(per, "specialist" if a == "total" else a, c)))
        for s in (*SERVICES, "total"):
            out.append(Target(f"t6h_cont_vs_{_COMP[c]}_{_T6H[s]}", offset(per, "primary" if s == "total" else s, c)))
    # structure: every patient has the four quarters before; after-quarters end by the data end
    first = episodes.groupby("patient_id")["admission_date"].min()
    before = use[use.quarter < 0].groupby("patient_id").size().reindex(first.index, fill_value=0)
    out.append(
        Target(
            "registry_patients_with_four_quarters_before",
            float((before == 4).sum()),
            target=float(len(first)),
            tolerance=0,
            description="patients with all four quarters before the first admission",
        )
    )
    sizes = groups.value_counts()
    for g, stem in (
        ("continued", "continued"),
        ("planned", "planned_termination"),
        ("unplanned", "unplanned_termination"),
    ):
        out.append(
            Target(
                f"registry_group_{g}",
                float(sizes.get(g, 0)),
                target=published(f"t6f_{stem}_n"),
                tolerance=0,
                description=f"patients in the {g} group of Tables 6.H/6.I (Table 6.F's N of the QALY sample as target)",
                reason="Tables 6.H/6.I are computed in the whole cohort (the report does not say which patients enter "
                "them); the 116 patients of the QALY sample are a subset with two or more EQ-5D-5L answers",
            )
        )
    return out
