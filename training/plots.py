"""Figures for each run: ROC, PR, reliability, gains, feature importance and SHAP summary.

Built as ``matplotlib.figure.Figure`` objects without pyplot, so no GUI backend or global
figure state is involved and a figure is freed when dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve

from training.evaluate import calibration_table, gains_table

Curves = dict[str, np.ndarray]


def roc_figure(y: np.ndarray, scores: Curves) -> Figure:
    figure, axes = _figure()
    for name, p in scores.items():
        fpr, tpr, _ = roc_curve(y, p)
        axes.plot(fpr, tpr, label=name)
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    axes.set(xlabel="false positive rate", ylabel="true positive rate (recall)", title="ROC, validation rows")
    axes.legend(loc="lower right")
    return figure


def pr_figure(y: np.ndarray, scores: Curves) -> Figure:
    figure, axes = _figure()
    for name, p in scores.items():
        precision, recall, _ = precision_recall_curve(y, p)
        axes.plot(recall, precision, label=name)
    axes.axhline(float(np.mean(y)), linestyle=":", color="grey", label="churn rate")
    axes.set(xlabel="recall", ylabel="precision", title="Precision-recall, validation rows")
    axes.legend(loc="upper right")
    return figure


def calibration_figure(y: np.ndarray, scores: Curves) -> Figure:
    figure, axes = _figure()
    top = 0.0
    for name, p in scores.items():
        table = calibration_table(y, p)
        axes.plot(table["predicted"], table["observed"], marker="o", label=name)
        top = max(top, table["predicted"].max(), table["observed"].max())
    top = min(1.0, top * 1.05 + 1e-3)
    axes.plot([0, top], [0, top], linestyle=":", color="grey", label="perfect")
    axes.set(xlabel="mean predicted churn probability", ylabel="observed churn rate",
             title="Reliability (10 equal-frequency bins)", xlim=(0, top), ylim=(0, top))
    axes.legend(loc="upper left")
    return figure


def lift_figure(y: np.ndarray, scores: Curves) -> Figure:
    figure = Figure(figsize=(10, 4.5), layout="constrained")
    gains, lift = figure.subplots(1, 2)
    for name, p in scores.items():
        table = gains_table(y, p)
        gains.plot(np.r_[0, table["contacted"]], np.r_[0, table["captured"]], marker="o", label=name)
        lift.plot(table["contacted"], table["lift"], marker="o", label=name)
    gains.plot([0, 1], [0, 1], linestyle=":", color="grey", label="random")
    gains.set(xlabel="share of accounts contacted (riskiest first)", ylabel="share of churners captured", title="Cumulative gains")
    lift.axhline(1.0, linestyle=":", color="grey")
    lift.set(xlabel="share of accounts contacted", ylabel="lift over random", title="Cumulative lift")
    gains.legend(loc="lower right")
    return figure


def importance_figure(importance: pd.Series, *, top: int = 20) -> Figure:
    shown = importance.head(top)[::-1]
    figure, axes = _figure(height=max(3.0, 0.3 * len(shown) + 1))
    axes.barh(shown.index, shown.to_numpy())
    axes.set(xlabel="total gain", title=f"Feature importance (top {len(shown)})")
    return figure


def shap_summary_figure(
    contributions: np.ndarray, matrix: np.ndarray, names: list[str], *, top: int = 20, max_points: int = 2000, seed: int = 0
) -> Figure:
    """Mean |SHAP value| per feature beside a beeswarm-like scatter coloured by the feature's value."""
    values = contributions[:, : len(names)]
    strength = np.abs(values).mean(axis=0)
    order = np.argsort(-strength, kind="stable")[:top][::-1]
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(values), size=min(max_points, len(values)), replace=False)

    figure = Figure(figsize=(12, max(3.5, 0.32 * len(order) + 1.2)), layout="constrained")
    bars, swarm = figure.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [1, 2]})
    labels = [names[j] for j in order]
    bars.barh(labels, strength[order])
    bars.set(xlabel="mean |SHAP value| (log-odds)", title="Drivers of the churn score")
    for position, j in enumerate(order):
        feature = matrix[sample, j]
        colour = _rank_scale(feature)
        jitter = rng.uniform(-0.3, 0.3, size=len(sample))
        swarm.scatter(values[sample, j], position + jitter, c=colour, cmap="coolwarm", s=4, alpha=0.6, vmin=0, vmax=1)
    swarm.axvline(0.0, color="grey", linewidth=0.8)
    swarm.set(xlabel="SHAP value (effect on log-odds of churn)", title="Per account (red = high feature value)")
    return figure


def _rank_scale(values: np.ndarray) -> np.ndarray:
    """Feature values as their rank in [0, 1], missing values in the middle."""
    ranks = pd.Series(values).rank(pct=True).to_numpy()
    return np.where(np.isnan(ranks), 0.5, ranks)


def _figure(height: float = 4.5) -> tuple[Figure, object]:
    figure = Figure(figsize=(6, height), layout="constrained")
    return figure, figure.subplots()
