"""Reading a feature table: label parsing, column roles, and errors that name the column."""

import numpy as np
import pandas as pd
import pytest

from features.errors import ChurnInputError
from training.data import content_fingerprint, load_training_table, parse_label, read_table, read_truth
from training.evaluate import oracle_comparison


@pytest.mark.parametrize(
    "values, expected",
    [
        ([True, False, None, True], [1, 0, None, 1]),
        ([1, 0, None, 0], [1, 0, None, 0]),
        (["Yes", "no", "", "YES "], [1, 0, None, 1]),
        (["churned", "active", None, "active"], [1, 0, None, 0]),
        (["True", "False", "False", "True"], [1, 0, 0, 1]),
    ],
)
def test_label_parsing_accepts_boolean_01_and_two_valued_text(values, expected):
    dtype = "boolean" if isinstance(values[0], bool) else None
    parsed = parse_label(pd.Series(values, dtype=dtype), column="churned")
    assert parsed.tolist() == [pd.NA if v is None else v for v in expected]


def test_a_three_valued_label_is_an_error_naming_the_column():
    with pytest.raises(ChurnInputError, match=r"features\.churned: label has 3 values \('maybe', 'no', 'yes'\)"):
        parse_label(pd.Series(["yes", "no", "maybe"]), column="churned")


@pytest.mark.parametrize("values", [[0, 1, 2], ["left", "stayed", "paused"], ["a", "b"]])
def test_labels_that_are_not_binary_are_errors(values):
    with pytest.raises(ChurnInputError, match="features.status"):
        parse_label(pd.Series(values), column="status")


def test_id_time_and_label_are_never_features_and_text_is_kept(make_table):
    table = load_training_table(make_table(60, 4))
    assert not {"account_id", "as_of", "churned"} & set(table.feature_columns)
    assert "account__plan" in table.feature_columns
    assert table.dropped_columns["account__constant"] == "constant"
    assert table.time_column == "as_of"


def test_rows_with_an_empty_label_are_not_trained_on(make_table):
    frame = make_table(60, 4)
    table = load_training_table(frame)
    assert len(table.rows) == frame["churned"].notna().sum()
    assert table.n_unlabelled == frame["churned"].isna().sum()
    assert table.rows["as_of"].max() < frame["as_of"].max()


def test_a_flat_customer_table_with_a_text_label_works_from_csv(tmp_path, make_table):
    frame = make_table(200, 1, unlabelled_last=False).drop(columns=["as_of"])
    frame["churned"] = np.where(frame["churned"] == 1, "Yes", "No")
    frame.to_csv(tmp_path / "customers.csv", index=False)
    table = load_training_table(read_table(tmp_path / "customers.csv"))
    assert table.time_column is None
    assert set(table.y) == {0, 1}
    assert "as_of" not in table.rows.columns


def test_a_flat_customer_table_reads_alike_from_excels_windows_csv_and_from_a_workbook(tmp_path, make_table):
    """Excel's "CSV" on a Western Windows is Windows-1252 with semicolons; a workbook keeps its cells' numbers."""
    frame = make_table(200, 1, unlabelled_last=False).drop(columns=["as_of"])
    frame["churned"] = np.where(frame["churned"] == 1, "Yes", "No")
    frame["region"] = np.where(np.arange(len(frame)) % 2, "Île-de-France", "Bavière")
    frame.to_csv(tmp_path / "plain.csv", index=False)
    frame.to_csv(tmp_path / "windows.csv", index=False, sep=";", encoding="cp1252")
    frame.to_excel(tmp_path / "customers.xlsx", index=False)
    names = ("plain.csv", "windows.csv", "customers.xlsx")
    plain, *others = [load_training_table(read_table(tmp_path / name)) for name in names]
    assert "region" in plain.feature_columns and set(plain.rows["region"]) == {"Île-de-France", "Bavière"}
    for table in others:
        assert table.feature_columns == plain.feature_columns
        pd.testing.assert_frame_equal(table.rows, plain.rows, check_dtype=False)


def test_numbers_a_csv_holds_with_blank_cells_are_numbers_and_a_postcode_stays_text(tmp_path, make_table):
    """The telco churn table writes a space for the total charges of a customer in their first month."""
    frame = make_table(300, 1, unlabelled_last=False).drop(columns=["as_of"])
    totals = (np.arange(len(frame)) * 12.5).astype(str).astype(object)
    totals[::7] = " "
    frame.assign(total_charges=totals).to_csv(tmp_path / "customers.csv", index=False)
    read = read_table(tmp_path / "customers.csv")
    assert not pd.api.types.is_numeric_dtype(read["total_charges"])  # as the CSV reader sees it
    read["postcode"] = pd.Series([f"{i:05d}" for i in range(len(frame))], dtype="string")  # text as Parquet holds it
    table = load_training_table(read, max_categories=200)
    assert "total_charges" in table.feature_columns and table.rows["total_charges"].dtype == "float64"
    assert table.rows["total_charges"].isna().sum() == len(frame[::7]) and table.rows["total_charges"].max() > 0
    assert table.dropped_columns["postcode"] == "text with 300 distinct values (more than 200)"


def test_dates_a_csv_holds_as_text_are_not_features(tmp_path, make_table):
    """Read as text, signup or churn dates would be categories: a level per day, and a churn date tells the label."""
    frame = make_table(120, 1, unlabelled_last=False).drop(columns=["as_of"])
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(len(frame)) % 40, unit="D")
    frame = frame.assign(
        signup_date=days.strftime("%Y-%m-%d"), renewal=days.strftime("%m/%d/%Y"), cohort=days.strftime("%Y-%m"),
        churned_on=np.where(frame["churned"] == 1, days.strftime("%Y-%m-%dT%H:%M:%SZ"), ""),
        region=np.where(np.arange(len(frame)) % 2, "EMEA", "2024-12 plan"),  # text that starts like a date is none
    )
    frame.to_csv(tmp_path / "customers.csv", index=False)
    table = load_training_table(read_table(tmp_path / "customers.csv"))
    for name in ("signup_date", "renewal", "cohort", "churned_on"):
        assert table.dropped_columns[name] == "dates are not features", name
    assert "region" in table.feature_columns


def test_a_named_time_column_must_exist(make_table):
    with pytest.raises(ChurnInputError, match="features.snapshot: time column not found"):
        load_training_table(make_table(30, 3), time_column="snapshot")


def test_row_order_does_not_change_the_table_or_its_fingerprint(make_table):
    frame = make_table(50, 4)
    shuffled = frame.sample(frac=1.0, random_state=3)
    first, second = load_training_table(frame), load_training_table(shuffled)
    pd.testing.assert_frame_equal(first.rows, second.rows)
    assert content_fingerprint(frame) == content_fingerprint(shuffled)
    assert content_fingerprint(frame) != content_fingerprint(frame.assign(churned=frame["churned"].fillna(0)))


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda f: f.iloc[0:0], "features: the table is empty"),
        (lambda f: f.drop(columns=["churned"]), "features.churned: label column not found"),
        (lambda f: f.drop(columns=["account_id"]), "features.account_id: id column not found"),
        (lambda f: f.assign(churned=0), "features.churned: label holds a single class"),
        (lambda f: f.assign(churned=pd.NA), "features.churned: every label is empty"),
        (lambda f: pd.concat([f, f.iloc[[0]]]), "features.account_id: 2 rows share an id within one as_of"),
        (
            lambda f: f[["account_id", "as_of", "churned"]].assign(x=1.0, plan="pro", empty=np.nan),
            "features: no usable feature columns",
        ),
    ],
)
def test_bad_tables_raise_errors_that_name_the_problem(make_table, corrupt, message):
    with pytest.raises(ChurnInputError, match=message):
        load_training_table(corrupt(make_table(40, 4)))


def test_a_missing_label_or_id_names_the_columns_that_look_like_one(make_table):
    frame = make_table(40, 1, unlabelled_last=False).drop(columns=["as_of"])
    flat = frame.rename(columns={"churned": "Churn", "account_id": "Customer ID"}).assign(seller_id="s-1")
    with pytest.raises(ChurnInputError, match=r"label column not found .*; 'Churn' looks like one: --label Churn$"):
        load_training_table(flat)
    # an id holds one value per row: a seller's id repeated over its customers is no customer id
    with pytest.raises(ChurnInputError, match=r"id column not found .*; 'Customer ID' looks like one: --id 'Customer ID'$"):
        load_training_table(flat, label="Churn")
    with pytest.raises(ChurnInputError, match=r"label column not found \(columns: [^;]*\)$"):
        load_training_table(frame.drop(columns=["churned"]))


def test_unknown_file_types_and_missing_files_are_errors(tmp_path):
    (tmp_path / "table.txt").write_text("x")
    with pytest.raises(ChurnInputError, match=r"table\.txt: expected a \.parquet or \.csv file, or a workbook \(\.xlsx, "):
        read_table(tmp_path / "table.txt")
    (tmp_path / "table.xlsx").write_text("x")
    with pytest.raises(ChurnInputError, match=r"^features: table\.xlsx cannot be read as a workbook"):
        read_table(tmp_path / "table.xlsx")
    with pytest.raises(ChurnInputError, match="not found"):
        read_table(tmp_path / "missing.parquet")


def test_the_generators_truth_joins_rows_on_account_and_the_month_of_as_of(tmp_path):
    """Truth month M holds the churn probability of month M, the label window of as_of = M-01."""
    from features.synthetic import generate

    generate(tmp_path / "data", n_accounts=40, months=3, seed=1)
    written = pd.read_parquet(tmp_path / "data" / "truth.parquet")
    truth = read_truth(tmp_path / "data" / "truth.parquet")
    assert len(truth) == len(written) and truth["churn_probability"].notna().all()

    as_of = pd.to_datetime(written["month"].astype(str))
    y = (written["churn_probability"].rank(method="first") > len(written) / 2).astype(int).to_numpy()
    joined = oracle_comparison(written["account_id"], as_of, y, np.zeros(len(y)), truth)
    assert joined["match_rate"] == 1.0 and joined["oracle_auc"] == 1.0

    a_month_late = oracle_comparison(written["account_id"], as_of + pd.DateOffset(months=1), y, np.zeros(len(y)), truth)
    assert a_month_late["match_rate"] < 1.0
