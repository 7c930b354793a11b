"""Figures for the frames of ``features.analysis``.

Each helper takes a frame those functions return and gives back a matplotlib
``Figure`` built without pyplot, so nothing is drawn, shown or kept in global state
until a notebook displays it or a script saves it.
"""

from __future__ import annotations

import math

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

CHURNED, STAYED = "#c0392b", "#2e86c1"


def plot_monthly_churn(monthly: pd.DataFrame) -> Figure:
    """Logo churn next to gross and net MRR churn, month by month (from ``monthly_churn``); logo churn alone for
    data without MRR."""
    priced = monthly["mrr_start"].notna().any()
    fig = Figure(figsize=(11, 3.8) if priced else (6, 3.8), layout="constrained")
    axes = fig.subplots(1, 2) if priced else [fig.subplots()]
    logos = axes[0]
    labels = monthly["month"].dt.strftime("%Y-%m")
    logos.bar(labels, monthly["churn_rate"], color=CHURNED)
    logos.set_title("Accounts lost / (existing + new)")
    if priced:
        revenue = axes[1]
        revenue.plot(labels, monthly["gross_mrr_churn"], marker="o", color=CHURNED, label="gross MRR churn")
        revenue.plot(labels, monthly["net_mrr_churn"], marker="o", color=STAYED, label="net MRR churn")
        revenue.axhline(0, color="grey", linewidth=0.8)
        revenue.set_title("MRR churn, share of MRR at month start")
        revenue.legend()
    for ax in axes:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.tick_params(axis="x", labelrotation=60)
    return fig


def plot_retention(curves: pd.DataFrame, *, title: str = "Retention by sign-up cohort") -> Figure:
    """One retention curve per group (from ``retention_curves``)."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    for group, curve in curves.groupby("group"):
        ax.plot(curve["months"], curve["retention"], marker="o", markersize=3, label=str(group))
    ax.set_xlabel("months since sign-up")
    ax.set_ylabel("share of accounts paying")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_title(title)
    if len(curves):
        ax.legend(fontsize="small", ncols=2)
    return fig


def plot_family_comparison(comparison: pd.DataFrame, *, top: int = 6) -> Figure:
    """The ``top`` features of each family by standardised difference, churned minus stayed."""
    families = list(dict.fromkeys(comparison["family"]))
    fig = Figure(figsize=(11, 2.2 + 1.6 * math.ceil(max(len(families), 1) / 2)), layout="constrained")
    # A shared axis keeps families comparable: a long bar means the same separation in every panel.
    axes = fig.subplots(math.ceil(max(len(families), 1) / 2), 2, squeeze=False, sharex=True).ravel()
    for ax, family in zip(axes, families):
        rows = comparison[comparison["family"] == family].dropna(subset=["std_diff"]).head(top).iloc[::-1]
        ax.barh(rows["feature"], rows["std_diff"], color=[CHURNED if d > 0 else STAYED for d in rows["std_diff"]])
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_title(family)
        ax.tick_params(axis="y", labelsize="small")
        ax.tick_params(axis="x", labelbottom=True)
    for ax in axes[len(families):]:
        ax.set_visible(False)
    fig.supxlabel("standardised difference (churned − stayed) / pooled SD")
    return fig


def plot_signal_distributions(
    feature_table: pd.DataFrame, features: list[str], *, label: str = "churned", columns: int = 3
) -> Figure:
    """Box plots of each feature for churned and stayed rows, outliers hidden so the bulk stays readable."""
    rows = max(1, math.ceil(len(features) / columns))
    fig = Figure(figsize=(3.6 * columns, 2.8 * rows), layout="constrained")
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    labelled = feature_table[feature_table[label].notna()]
    churned = labelled[label].astype(int) == 1
    for ax, feature in zip(axes, features):
        groups = [labelled.loc[~churned, feature].dropna(), labelled.loc[churned, feature].dropna()]
        parts = ax.boxplot(groups, tick_labels=["stayed", "churned"], showfliers=False, patch_artist=True)
        for box, colour in zip(parts["boxes"], (STAYED, CHURNED)):
            box.set_facecolor(colour)
            box.set_alpha(0.5)
        ax.set_title(feature, fontsize="small")
    for ax in axes[len(features):]:
        ax.set_visible(False)
    return fig


def plot_churn_by_tenure(by_tenure: pd.DataFrame) -> Figure:
    """Churn rate within the label horizon by account age (from ``churn_by_tenure``)."""
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.subplots()
    ax.bar(by_tenure["tenure"].astype(str), by_tenure["churn_rate"], color=CHURNED)
    for x, (rate, rows) in enumerate(zip(by_tenure["churn_rate"], by_tenure["rows"])):
        if pd.notna(rate):
            ax.annotate(f"n={rows}", (x, rate), ha="center", va="bottom", fontsize="small")
    ax.set_xlabel("account age at observation date")
    ax.set_ylabel("churn within horizon")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    return fig
