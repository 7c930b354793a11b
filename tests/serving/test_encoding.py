"""Request features become exactly the matrix the model's own ``encode`` builds from a DataFrame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from serving.encoding import FeatureEncoding, InvalidFeatures, encode_accounts
from serving.synthetic import feature_columns


@pytest.fixture(scope="module")
def model(store):
    return store.registered.model


def _records(rows: pd.DataFrame) -> list[dict]:
    features = rows[feature_columns(rows)].astype(object)
    return features.where(features.notna(), None).to_dict("records")


def test_a_batch_in_several_layouts_encodes_like_the_model(model, latest):
    rows = latest.head(40).copy()
    rows.loc[rows.index[::5], "account__plan"] = "platinum"  # never seen in training
    records = _records(rows)
    for i, record in enumerate(records):
        if i % 3 == 1:
            records[i] = dict(reversed(list(record.items())))  # same names, another order
        elif i % 3 == 2:
            records[i] = {name: value for j, (name, value) in enumerate(record.items()) if value is not None and j % 2}
    expected = model.encode(pd.DataFrame(records, columns=feature_columns(rows)))
    np.testing.assert_array_equal(encode_accounts(FeatureEncoding.of(model), records), expected)


def test_integers_and_booleans_are_numbers(model):
    encoding = FeatureEncoding.of(model)
    matrix = encode_accounts(encoding, [{"usage__signal_00__30d": 3, "usage__signal_01__30d": True}])
    assert matrix[0, encoding.columns["usage__signal_00__30d"][0]] == 3.0
    assert matrix[0, encoding.columns["usage__signal_01__30d"][0]] == 1.0


@pytest.mark.parametrize(
    ("value", "message"),
    [(float("nan"), "finite"), (float("inf"), "finite"), (10**400, "finite"), ("3", "not a number"), ([3], "not a number")],
)
def test_a_bad_value_among_good_ones_is_named(model, latest, value, message):
    records = _records(latest.head(30))
    records[17]["usage__signal_02__30d"] = value
    with pytest.raises(InvalidFeatures, match=message) as refused:
        encode_accounts(FeatureEncoding.of(model), records)
    assert [problem.field for problem in refused.value.problems] == ["accounts[17].features.usage__signal_02__30d"]


def test_small_and_large_batches_encode_alike(model, latest):
    records = _records(latest.head(30))
    encoding = FeatureEncoding.of(model)
    one_by_one = np.vstack([encode_accounts(encoding, [record]) for record in records])
    np.testing.assert_array_equal(encode_accounts(encoding, records), one_by_one)
