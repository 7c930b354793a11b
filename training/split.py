"""Which rows train, which stop and calibrate, and which judge the model.

With a time column the split is a backtest: the latest observation dates are the validation
rows and the training part's own latest dates are the holdout, so the model is always judged
on dates after everything it learned from. Without one (a flat customer table) the split is a
stratified random one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, train_test_split

from features.errors import ChurnInputError

BACKTEST = "backtest"
STRATIFIED = "stratified"
GROUPED = "grouped-stratified"


@dataclass(frozen=True)
class Split:
    """Row positions of each part; ``kind`` says how they were chosen."""

    kind: str
    train: np.ndarray
    holdout: np.ndarray
    validation: np.ndarray
    validation_dates: tuple[pd.Timestamp, ...] = ()
    holdout_dates: tuple[pd.Timestamp, ...] = ()

    @property
    def fit_rows(self) -> np.ndarray:
        """Every row a model may learn from: training and holdout together."""
        return np.sort(np.concatenate([self.train, self.holdout]))

    def describe(self) -> str:
        sizes = f"train {len(self.train)}, holdout {len(self.holdout)}, validation {len(self.validation)} rows"
        if self.kind != BACKTEST:
            return f"{self.kind} split: {sizes}"
        first, last = self.validation_dates[0], self.validation_dates[-1]
        span = f"{first:%Y-%m-%d}" if first == last else f"{first:%Y-%m-%d}..{last:%Y-%m-%d}"
        return f"backtest split: validation on {span}; {sizes}"


def split_rows(
    y: np.ndarray,
    *,
    times: pd.Series | None = None,
    groups: pd.Series | None = None,
    validation_fraction: float = 0.2,
    holdout_fraction: float = 0.2,
    seed: int = 0,
) -> Split:
    """Backtest split when ``times`` are given and span at least three dates, else a random one.

    A random split keeps each group (account) on one side when ``groups`` are given.
    """
    if times is not None and pd.Series(times).nunique() >= 3:
        return backtest_split(times, validation_fraction=validation_fraction, holdout_fraction=holdout_fraction)
    return random_split(
        y, groups=groups, validation_fraction=validation_fraction, holdout_fraction=holdout_fraction, seed=seed
    )


def backtest_split(times: pd.Series, *, validation_fraction: float = 0.2, holdout_fraction: float = 0.2) -> Split:
    """Whole dates, latest first: about ``validation_fraction`` of the rows validate, and of the
    rest about ``holdout_fraction`` (the latest remaining dates) stop early and calibrate."""
    times = pd.Series(times).reset_index(drop=True)
    dates = np.sort(times.unique())
    if len(dates) < 3:
        raise ChurnInputError("a backtest needs at least three observation dates", table="features")
    rows_per_date = times.value_counts().reindex(dates).to_numpy()
    n_validation = _latest_dates(rows_per_date, validation_fraction * len(times), keep=2)
    train_dates, validation_dates = dates[:-n_validation], dates[-n_validation:]
    n_holdout = _latest_dates(rows_per_date[: len(train_dates)], holdout_fraction * rows_per_date[: len(train_dates)].sum(), keep=1)
    holdout_dates = train_dates[-n_holdout:]
    part = np.where(times.isin(validation_dates), 2, np.where(times.isin(holdout_dates), 1, 0))
    return Split(
        kind=BACKTEST,
        train=np.flatnonzero(part == 0),
        holdout=np.flatnonzero(part == 1),
        validation=np.flatnonzero(part == 2),
        validation_dates=tuple(pd.Timestamp(d) for d in validation_dates),
        holdout_dates=tuple(pd.Timestamp(d) for d in holdout_dates),
    )


def random_split(
    y: np.ndarray,
    *,
    groups: pd.Series | None = None,
    validation_fraction: float = 0.2,
    holdout_fraction: float = 0.2,
    seed: int = 0,
) -> Split:
    """Stratified random split; grouped (no account on two sides) when ``groups`` are given."""
    index = np.arange(len(y))
    rest, validation = stratified_part(index, y, groups, validation_fraction, seed)
    train, holdout = stratified_part(rest, y[rest], None if groups is None else groups.iloc[rest], holdout_fraction, seed)
    return Split(kind=STRATIFIED if groups is None else GROUPED, train=train, holdout=holdout, validation=validation)


def cv_folds(
    y: np.ndarray, *, groups: pd.Series | None = None, n_folds: int = 5, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """k stratified folds; grouped by account when ``groups`` are given, so no account is on both sides."""
    n_folds = min(n_folds, int(np.bincount(y, minlength=2).min()))
    if n_folds < 2:
        raise ChurnInputError("too few rows of one class for cross-validation", table="features")
    placeholder = np.zeros(len(y))
    if groups is None:
        folds = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(placeholder, y)
    else:
        codes = pd.factorize(pd.Series(groups), sort=True)[0]
        folds = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(placeholder, y, codes)
    return [(np.sort(train), np.sort(test)) for train, test in folds]


def check_positives(y: np.ndarray, split: Split, *, min_train: int = 20, min_validation: int = 5, min_holdout: int = 4) -> None:
    """Enough churners on each side to learn from and to judge by, or a clear error."""
    needs = (("training", split.train, min_train), ("holdout", split.holdout, min_holdout), ("validation", split.validation, min_validation))
    for part, rows, minimum in needs:
        positives = int(y[rows].sum())
        negatives = int(len(rows) - positives)
        if positives < minimum or negatives < minimum:
            total = int(y.sum())
            raise ChurnInputError(
                f"too few churned rows to learn from: the {part} part has {positives} churned and {negatives} "
                f"retained rows, at least {minimum} of each are needed ({total} churned of {len(y)} labelled rows in all)",
                table="features",
            )


def _latest_dates(rows_per_date: np.ndarray, target_rows: float, *, keep: int) -> int:
    """How many of the latest dates hold about ``target_rows`` rows, leaving at least ``keep`` dates."""
    cumulative = np.cumsum(rows_per_date[::-1])
    n = int(np.searchsorted(cumulative, target_rows, side="left")) + 1
    if n > 1 and abs(cumulative[n - 2] - target_rows) <= abs(cumulative[n - 1] - target_rows):
        n -= 1
    return max(1, min(n, len(rows_per_date) - keep))


def stratified_part(
    index: np.ndarray, y: np.ndarray, groups: pd.Series | None, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``index`` cut into (kept, taken), about ``fraction`` taken, stratified by ``y`` and whole groups."""
    if groups is None:
        kept, taken = train_test_split(index, test_size=fraction, stratify=y, random_state=seed)
        return np.sort(kept), np.sort(taken)
    n_folds = max(2, round(1 / fraction))
    codes = pd.factorize(pd.Series(groups).reset_index(drop=True), sort=True)[0]
    splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    kept, taken = next(splitter.split(np.zeros(len(y)), y, codes))
    return np.sort(index[kept]), np.sort(index[taken])
