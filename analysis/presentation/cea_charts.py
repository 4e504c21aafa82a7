"""Charts of the cost-utility analysis and its uncertainty, in the book's theme (:mod:`analysis.presentation.charts`).

Each function takes the tidy frame made by :mod:`analysis.methods.cea` or :mod:`analysis.methods.uncertainty` and returns
an Altair chart; call :func:`analysis.presentation.charts.enable` once on the page before drawing. Money is in NOK and
effects in QALYs.
"""

from __future__ import annotations

from typing import cast  # alt.layer is typed LayerChart | FacetChart; layers without facet encodings give a LayerChart

import altair as alt
import numpy as np
import pandas as pd

from analysis.methods.uncertainty import WTP_SEVERE
from analysis.presentation.charts import CLINIC_COLOURS, TREATMENT_COLOURS

NEUTRAL = CLINIC_COLOURS["All"]
ACCENT = TREATMENT_COLOURS["HAT"]
LIGHT = TREATMENT_COLOURS["OAT"]
THRESHOLD_COLOUR = "#b2182b"
NOK = ",.0f"


def _wtp_label(wtp: float) -> str:
    return f"{wtp:,.0f} NOK per QALY"


def ce_plane_chart(
    plane: pd.DataFrame,
    wtp: float = WTP_SEVERE,
    estimate: tuple[float, float] | None = None,
    max_points: int | None = None,
    title: str | None = None,
) -> alt.LayerChart:
    """Cost-effectiveness plane: bootstrap replicates (delta_effect, delta_cost), the axes and the WTP line.

    ``plane`` has ``delta_effect`` and ``delta_cost`` (e.g. :func:`analysis.methods.uncertainty.ce_plane`);
    replicates below the line ``delta_cost = wtp * delta_effect`` are cost-effective at ``wtp``.
    ``estimate`` marks the point estimate; ``max_points`` keeps only the first replicates (smaller pages).
    The replicates are drawn from values rounded to what the plane shows (its tooltips give three decimals
    of a QALY and whole kroner; the data keep a digit or two more), which halves the page's weight of them.
    """
    data = plane if max_points is None else plane.head(max_points)
    data = data[["delta_effect", "delta_cost"]].copy()
    data["delta_effect"], data["delta_cost"] = data["delta_effect"].round(5), data["delta_cost"].round(1)
    # the WTP line, cut to the box that holds the replicates and the origin (so it does not stretch the axes)
    x_lo, x_hi = float(min(data["delta_effect"].min(), 0.0)), float(max(data["delta_effect"].max(), 0.0))
    y_lo, y_hi = float(min(data["delta_cost"].min(), 0.0)), float(max(data["delta_cost"].max(), 0.0))
    x_pad, y_pad = 0.05 * ((x_hi - x_lo) or 1.0), 0.05 * ((y_hi - y_lo) or 1.0)
    xa, xb = x_lo - x_pad, x_hi + x_pad
    if wtp > 0:
        xa, xb = max(xa, (y_lo - y_pad) / wtp), min(xb, (y_hi + y_pad) / wtp)
    xs = np.array([xa, xb]) if xa < xb else np.array([0.0, 0.0])
    line = pd.DataFrame({"delta_effect": xs, "delta_cost": wtp * xs, "what": _wtp_label(wtp)})
    x = alt.X("delta_effect:Q", title="Incremental QALYs")
    y = alt.Y("delta_cost:Q", title="Incremental cost (NOK)", axis=alt.Axis(format=NOK))
    points = (
        alt.Chart(data)
        .mark_circle(size=12, opacity=0.35, color=ACCENT)
        .encode(
            x=x, y=y, tooltip=[alt.Tooltip("delta_effect:Q", format=".3f"), alt.Tooltip("delta_cost:Q", format=NOK)]
        )
    )
    axes = pd.DataFrame({"zero": [0.0]})
    layers = [
        alt.Chart(axes).mark_rule(color=NEUTRAL, strokeWidth=1).encode(x="zero:Q"),
        alt.Chart(axes).mark_rule(color=NEUTRAL, strokeWidth=1).encode(y="zero:Q"),
        points,
        alt.Chart(line).mark_line(color=THRESHOLD_COLOUR, strokeDash=[6, 4]).encode(x=x, y=y, tooltip=["what:N"]),
    ]
    if estimate is not None:
        point = pd.DataFrame({"delta_effect": [estimate[0]], "delta_cost": [estimate[1]]})
        layers.append(
            alt.Chart(point).mark_point(shape="diamond", size=120, filled=True, color=NEUTRAL).encode(x=x, y=y)
        )
    chart = cast(alt.LayerChart, alt.layer(*layers))
    return chart.properties(title=title) if title else chart


def ceac_chart(curve: pd.DataFrame, wtp: float | None = WTP_SEVERE, title: str | None = None) -> alt.LayerChart:
    """Acceptability curve: probability of cost-effectiveness against willingness to pay.

    ``curve`` has ``wtp`` and ``probability`` (and ``strategy`` when several strategies are compared,
    coloured then). A vertical rule marks ``wtp``.
    """
    x = alt.X("wtp:Q", title="Willingness to pay (NOK per QALY)", axis=alt.Axis(format=NOK))
    y = alt.Y(
        "probability:Q", title="Probability cost-effective", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")
    )
    tooltip = [alt.Tooltip("wtp:Q", format=NOK), alt.Tooltip("probability:Q", format=".1%")]
    if "strategy" in curve:
        line = (
            alt.Chart(curve)
            .mark_line()
            .encode(x=x, y=y, color=alt.Color("strategy:N", title=None), tooltip=["strategy:N", *tooltip])
        )
    else:
        line = alt.Chart(curve).mark_line(color=ACCENT).encode(x=x, y=y, tooltip=tooltip)
    layers = [line]
    if wtp is not None:
        rule = pd.DataFrame({"wtp": [wtp], "what": [_wtp_label(wtp)]})
        layers.append(
            alt.Chart(rule).mark_rule(color=THRESHOLD_COLOUR, strokeDash=[6, 4]).encode(x="wtp:Q", tooltip=["what:N"])
        )
    chart = cast(alt.LayerChart, alt.layer(*layers))
    return chart.properties(title=title) if title else chart


def evpi_chart(
    curve: pd.DataFrame,
    value_title: str = "EVPI per patient (NOK)",
    wtp: float | None = WTP_SEVERE,
    title: str | None = None,
) -> alt.LayerChart:
    """Expected value of perfect information against willingness to pay (``curve``: ``wtp``, ``evpi``)."""
    x = alt.X("wtp:Q", title="Willingness to pay (NOK per QALY)", axis=alt.Axis(format=NOK))
    y = alt.Y("evpi:Q", title=value_title, axis=alt.Axis(format=NOK))
    layers = [
        alt.Chart(curve)
        .mark_line(color=ACCENT)
        .encode(x=x, y=y, tooltip=[alt.Tooltip("wtp:Q", format=NOK), alt.Tooltip("evpi:Q", format=NOK)])
    ]
    if wtp is not None:
        rule = pd.DataFrame({"wtp": [wtp], "what": [_wtp_label(wtp)]})
        layers.append(
            alt.Chart(rule).mark_rule(color=THRESHOLD_COLOUR, strokeDash=[6, 4]).encode(x="wtp:Q", tooltip=["what:N"])
        )
    chart = cast(alt.LayerChart, alt.layer(*layers))
    return chart.properties(title=title) if title else chart


def tornado_chart(tornado: pd.DataFrame, outcome_title: str, title: str | None = None) -> alt.LayerChart:
    """Tornado diagram of a one-way sensitivity analysis (:func:`analysis.methods.uncertainty.one_way_sensitivity`).

    One row per parameter, widest first; each bar runs from the base-case outcome to the outcome with
    the parameter at its low value (grey) and at its high value (blue). A rule marks the base case.
    """
    order = tornado["label"].tolist()
    long = pd.concat(
        [
            tornado.assign(end="low value", outcome=tornado["outcome_low"], value=tornado["low"].astype(str)),
            tornado.assign(end="high value", outcome=tornado["outcome_high"], value=tornado["high"].astype(str)),
        ]
    )[["label", "end", "value", "base_outcome", "outcome"]]
    y = alt.Y("label:N", sort=order, title=None)
    bars = (
        alt.Chart(long)
        .mark_bar(opacity=0.9)
        .encode(
            y=y,
            x=alt.X("base_outcome:Q", title=outcome_title, axis=alt.Axis(format=NOK)),
            x2="outcome:Q",
            color=alt.Color(
                "end:N", title=None, scale=alt.Scale(domain=["low value", "high value"], range=[LIGHT, ACCENT])
            ),
            tooltip=["label:N", "end:N", "value:N", alt.Tooltip("outcome:Q", format=NOK)],
        )
    )
    base = pd.DataFrame({"base_outcome": [float(tornado["base_outcome"].iloc[0])] if len(tornado) else [0.0]})
    rule = alt.Chart(base).mark_rule(color=NEUTRAL).encode(x="base_outcome:Q")
    chart = cast(alt.LayerChart, alt.layer(bars, rule)).properties(height=max(120, 28 * len(order)))
    return chart.properties(title=title) if title else chart


def nmb_slider_chart(
    comparisons: pd.DataFrame,
    label: str = "comparison",
    wtp: float = WTP_SEVERE,
    wtp_max: float = 2_000_000,
    step: float = 5_000,
    title: str | None = None,
) -> alt.Chart:
    """Interactive incremental net monetary benefit: the reader moves the WTP and the bars follow.

    ``comparisons`` has one row per comparison with ``label``, ``delta_cost`` and ``delta_effect``. The
    slider is an Altair parameter bound to a range input, evaluated by Vega in the page (no kernel);
    the static picture shows the bars at ``wtp``.
    """
    data = comparisons[[label, "delta_cost", "delta_effect"]].copy()
    slider = alt.param(
        name="wtp",
        value=wtp,
        bind=alt.binding_range(min=0, max=wtp_max, step=step, name="Willingness to pay (NOK per QALY): "),
    )
    chart = (
        alt.Chart(data)
        .add_params(slider)
        .transform_calculate(inmb="wtp * datum.delta_effect - datum.delta_cost")
        .mark_bar()
        .encode(
            y=alt.Y(f"{label}:N", title=None),
            x=alt.X(
                "inmb:Q", title="Incremental net monetary benefit (NOK per patient-year)", axis=alt.Axis(format=NOK)
            ),
            color=alt.condition("datum.inmb > 0", alt.value(ACCENT), alt.value(LIGHT)),
            tooltip=[
                f"{label}:N",
                alt.Tooltip("delta_cost:Q", format=NOK),
                alt.Tooltip("delta_effect:Q", format=".3f"),
                alt.Tooltip("inmb:Q", format=NOK),
            ],
        )
        .properties(height=max(80, 40 * len(data)))
    )
    return chart.properties(title=title) if title else chart


def specification_curve_chart(
    icers: pd.DataFrame,
    choices,
    wtp: float = WTP_SEVERE,
    value: str = "icer",
    value_title: str = "ICER (NOK per QALY)",
    title: str | None = None,
) -> alt.VConcatChart:
    """A specification curve: every specification's ``value`` (e.g. :func:`analysis.sections.choices.icer_curve`,
    sorted, with ``rank`` and ``published``) as a dot, the published reading marked, the ``wtp`` threshold
    drawn; below it a panel with one row per option of ``choices`` (:data:`analysis.sections.choices.CHOICES`)
    showing which options each specification uses. Specifications without a ``value`` (no ICER) are left
    out of the top panel but keep their column below."""
    data = icers.copy()
    data["reading"] = np.where(data["published"], "Published reading", "Other specification")
    names = [c.name for c in choices if c.name in data.columns]
    top_data = data.dropna(subset=[value])
    x = alt.X(
        "rank:Q",
        title="Specification (sorted by ICER)",
        scale=alt.Scale(domain=[0.5, len(data) + 0.5]),
        axis=alt.Axis(labels=False, ticks=False),
    )
    dots = (
        alt.Chart(top_data)
        .mark_point(filled=True, size=40)
        .encode(
            x=x,
            y=alt.Y(f"{value}:Q", title=value_title, axis=alt.Axis(format=",.0f")),
            color=alt.Color(
                "reading:N",
                scale=alt.Scale(domain=["Other specification", "Published reading"], range=[NEUTRAL, ACCENT]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            size=alt.condition("datum.published", alt.value(140), alt.value(40)),
            tooltip=[
                alt.Tooltip(f"{value}:Q", title=value_title, format=",.0f"),
                "reading:N",
                *[alt.Tooltip(f"{n}:N") for n in names],
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"wtp": [wtp], "label": [_wtp_label(wtp)]}))
        .mark_rule(color=THRESHOLD_COLOUR, strokeDash=[4, 3])
        .encode(y="wtp:Q", tooltip=alt.Tooltip("label:N", title="Threshold"))
    )
    top = alt.layer(dots, rule).properties(width=620, height=260, title=title or "")
    long = []
    for choice in choices:
        if choice.name not in data.columns:
            continue
        for option, words in choice.options.items():
            used = data[data[choice.name] == option]
            long.append(
                pd.DataFrame(
                    {"rank": used["rank"], "option": f"{choice.label}: {words}", "published": used["published"]}
                )
            )
    panel_data = pd.concat(long, ignore_index=True) if long else pd.DataFrame(columns=["rank", "option", "published"])
    order = list(dict.fromkeys(panel_data["option"]))
    panel = (
        alt.Chart(panel_data)
        .mark_tick(thickness=2, size=10)
        .encode(
            x=alt.X(
                "rank:Q",
                title=None,
                scale=alt.Scale(domain=[0.5, len(data) + 0.5]),
                axis=alt.Axis(labels=False, ticks=False),
            ),
            y=alt.Y("option:N", sort=order, title=None),
            color=alt.condition("datum.published", alt.value(ACCENT), alt.value(NEUTRAL)),
        )
    )
    return alt.vconcat(top, panel.properties(width=620, height=14 * max(len(order), 1))).resolve_scale(
        color="independent"
    )


def convergence_chart(running: pd.DataFrame, title: str | None = None) -> alt.LayerChart:
    """The running estimate of a probability as replicates accumulate (:func:`analysis.methods.uncertainty.running_probability`:
    ``n``, ``probability``, ``lower``, ``upper``), with its band of -/+ 1.96 Monte Carlo standard errors."""
    data = running[["n", "probability", "lower", "upper"]].copy()
    x = alt.X("n:Q", title="Replicates", axis=alt.Axis(format=",.0f"))
    band = (
        alt.Chart(data)
        .mark_area(opacity=0.25, color=LIGHT)
        .encode(x=x, y=alt.Y("lower:Q", title="Probability cost-effective", axis=alt.Axis(format=".0%")), y2="upper:Q")
    )
    line = (
        alt.Chart(data)
        .mark_line(color=ACCENT)
        .encode(
            x=x,
            y="probability:Q",
            tooltip=[
                alt.Tooltip("n:Q", title="Replicates", format=",.0f"),
                alt.Tooltip("probability:Q", title="Probability", format=".1%"),
            ],
        )
    )
    return cast(alt.LayerChart, alt.layer(band, line)).properties(width=560, height=220, title=title or "")
