"""Time the cost-utility bootstrap on this machine, write the figures to JSON and print them side by side.

    .venv/bin/python benchmarks/bootstrap.py [--replicates 5000] [--repeat 5] [--out benchmarks/bootstrap.json]

Measured on the bundled synthetic cohort's cost-utility sample (section 6.7: 116 patients in three
groups), each the median of ``--repeat`` runs:

* ``bootstrap_means``: resampling patients within groups, ``--replicates`` replicates (the issue's budget
  is 5 seconds for 5,000);
* ``bootstrap_and_curves``: the same plus the deltas of both comparisons, the acceptability curve
  (0 to 2,000,000 NOK per QALY) and the EVPI curve;
* ``bootstrap_mcse``: the Monte Carlo standard errors of the figures of one comparison (closed form and
  batch means, :func:`analysis.methods.uncertainty.bootstrap_mcse`) and the running estimate of the probability;
* ``specification_curve``: the samples under every value set and every combination of the open choices
  (:mod:`analysis.sections.choices`, section 6.7's specification curve);
* ``same_seed_identical``: whether two runs with the same seed give identical replicates (not a time).

The previous figures in the output file, if any, are printed next to the new ones before it is replaced.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.data.cohort import load_cohort  # noqa: E402
from analysis.methods import uncertainty  # noqa: E402
from analysis.sections import choices, cost_utility, health_services  # noqa: E402
from benchmarks.record import write_and_compare  # noqa: E402


def _timed(function, repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        runs.append(round(time.perf_counter() - start, 3))
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "bootstrap.json"))
    args = parser.parse_args(argv)

    cohort = load_cohort()
    sample = cost_utility.patient_table(cohort.episodes, cohort.patients, cohort.questionnaires, cohort.data_end)
    n = args.replicates

    def means():
        return uncertainty.bootstrap_means(sample, "group", "annual_cost", "annual_qalys", n_replicates=n, seed=1)

    def curves():
        replicates = means()
        for comparator in ("planned", "unplanned"):
            deltas = uncertainty.replicate_deltas(replicates, "continued", comparator)
            uncertainty.ceac(deltas)
            uncertainty.evpi(deltas)

    deltas = uncertainty.replicate_deltas(means(), "continued", "unplanned")

    def mcse():
        uncertainty.bootstrap_mcse(deltas)
        uncertainty.running_probability(deltas)

    def curve():
        samples = choices.samples_by_value_set(cohort, cost_utility.clinic_accounts())
        choices.specification_curve(
            samples,
            health_services.registry_periods(cohort.health_service_use),
            health_services.trajectory_groups(cohort.episodes),
        )

    first, second = means(), means()
    figures = {
        "bootstrap_means": {"median_seconds": statistics.median(runs := _timed(means, args.repeat)), "runs": runs},
        "bootstrap_and_curves": {
            "median_seconds": statistics.median(runs := _timed(curves, args.repeat)),
            "runs": runs,
        },
        "bootstrap_mcse": {"median_seconds": statistics.median(runs := _timed(mcse, args.repeat)), "runs": runs},
        "specification_curve": {"median_seconds": statistics.median(runs := _timed(curve, args.repeat)), "runs": runs},
        "same_seed_identical": bool(first.equals(second)),
    }
    write_and_compare(Path(args.out), {"replicates": n, "patients": int(len(sample)), "figures": figures})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
