"""Splits: the backtest validates on the latest dates, and no account or date leaks across sides."""

import numpy as np
import pandas as pd
import pytest

from features.errors import ChurnInputError
from training.data import load_training_table
from training.split import BACKTEST, GROUPED, STRATIFIED, backtest_split, check_positives, cv_folds, split_rows


def test_backtest_validates_on_the_latest_dates_with_no_date_on_both_sides(make_table):
    table = load_training_table(make_table(100, 10, unlabelled_last=False))
    times = table.rows["as_of"]
    split = split_rows(table.y, times=times, groups=table.rows["account_id"])
    assert split.kind == BACKTEST
    train, holdout, validation = (set(times.iloc[rows]) for rows in (split.train, split.holdout, split.validation))
    assert not (train & holdout) and not (train & validation) and not (holdout & validation)
    assert max(train) < min(holdout) <= max(holdout) < min(validation)
    assert max(validation) == times.max()
    assert len(split.validation) == pytest.approx(0.2 * len(times), abs=100)
    assert sorted(np.concatenate([split.train, split.holdout, split.validation]).tolist()) == list(range(len(times)))


def test_backtest_keeps_two_dates_for_training_even_when_asked_for_more():
    times = pd.Series(pd.to_datetime(["2024-01-01"] * 5 + ["2024-02-01"] * 5 + ["2024-03-01"] * 5))
    split = backtest_split(times, validation_fraction=0.9)
    assert set(times.iloc[split.validation]) == {pd.Timestamp("2024-03-01")}
    assert len(split.train) == len(split.holdout) == 5


def test_without_a_time_column_the_split_is_stratified_random():
    y = np.array([1] * 50 + [0] * 450)
    split = split_rows(y)
    assert split.kind == STRATIFIED
    assert y[split.validation].mean() == pytest.approx(0.1, abs=0.01)


def test_with_fewer_than_three_dates_accounts_stay_on_one_side():
    ids = pd.Series([f"a{i}" for i in range(200)] * 2)
    y = np.array(([1] * 30 + [0] * 170) * 2)
    split = split_rows(y, times=pd.Series(["2024-01-01"] * 200 + ["2024-02-01"] * 200), groups=ids)
    assert split.kind == GROUPED
    assert not set(ids.iloc[split.validation]) & set(ids.iloc[split.fit_rows])


def test_grouped_folds_never_put_an_account_on_both_sides(make_table):
    table = load_training_table(make_table(120, 5))
    ids = table.rows["account_id"]
    folds = cv_folds(table.y, groups=ids, n_folds=4)
    assert len(folds) == 4
    for train, test in folds:
        assert not set(ids.iloc[train]) & set(ids.iloc[test])
        assert table.y[test].sum() > 0
    assert sorted(np.concatenate([test for _, test in folds]).tolist()) == list(range(len(ids)))


def test_too_few_positives_on_a_side_is_a_clear_error():
    y = np.array([1] * 30 + [0] * 70 + [1] * 30 + [0] * 70 + [0] * 100)
    times = pd.Series(pd.to_datetime(["2024-01-01"] * 100 + ["2024-02-01"] * 100 + ["2024-03-01"] * 100))
    split = backtest_split(times)
    with pytest.raises(ChurnInputError, match="the validation part has 0 churned"):
        check_positives(y, split)
