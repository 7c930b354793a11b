"""Request features to the model's matrix, straight from the parsed JSON, with errors that name the field.

The model's own ``ChurnModel.encode`` works on DataFrames, which costs more than scoring one
account. This builds the same matrix (same column order, categories as their codes, unknown
categories and missing values as NaN) from plain dicts. A large batch with nothing wrong in it
takes a path of C-speed steps; anything else is checked value by value, collecting every problem
with the path of the offending field, e.g. ``accounts[3].features.usage__logins__30d``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter

import numpy as np

from training.model import ChurnModel

MAX_REPORTED_PROBLEMS = 20


@dataclass(frozen=True)
class FeatureEncoding:
    """How a model reads its features: column order, and the category codes of text features."""

    names: tuple[str, ...]
    # feature name -> (column, {category: code}) for text features, (column, None) for numeric ones
    columns: Mapping[str, tuple[int, Mapping[str, float] | None]]
    categories: Mapping[int, tuple[str, ...]]

    @classmethod
    def of(cls, model: ChurnModel) -> FeatureEncoding:
        names = tuple(model.feature_names_)
        columns: dict[str, tuple[int, Mapping[str, float] | None]] = {}
        categories: dict[int, tuple[str, ...]] = {}
        for j, name in enumerate(names):
            known = model.categories_.get(name)
            if known is None:
                columns[name] = (j, None)
            else:
                columns[name] = (j, {category: float(code) for code, category in enumerate(known)})
                categories[j] = tuple(known)
        return cls(names=names, columns=columns, categories=categories)

    def kind(self, name: str) -> str:
        return "numeric" if self.columns[name][1] is None else "categorical"


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class InvalidFeatures(ValueError):
    """Feature values the model cannot score; ``problems`` name each field (the first few of ``total``)."""

    def __init__(self, problems: list[FieldProblem], total: int):
        self.problems, self.total = problems, total
        more = f" (and {total - len(problems)} more)" if total > len(problems) else ""
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems) + more)


def encode_accounts(encoding: FeatureEncoding, features: Sequence[Mapping[str, object]]) -> np.ndarray:
    """The float64 matrix (accounts × model features) of a batch; raises ``InvalidFeatures``.

    Numbers (and booleans) for numeric features, text for categorical ones, null or absent
    for unknown. NaN and infinity are refused rather than silently treated as missing.
    """
    if len(features) >= _GROUPED_FROM_ACCOUNTS:
        try:
            return _encode_valid(encoding, features)
        except _NeedsChecking:
            pass
    return _encode_checked(encoding, features)


# Below this many accounts, checking value by value costs less than laying out the groups.
_GROUPED_FROM_ACCOUNTS = 16


class _NeedsChecking(Exception):
    """The batch holds something the fast path does not accept; the checked path names it."""


_NUMERIC_TYPES = frozenset({float, int, bool, type(None)})


@dataclass(frozen=True)
class _Layout:
    """Where the values of an account with these feature names, in this order, go in the matrix."""

    numeric_columns: np.ndarray
    numeric_values: Callable[[list], Sequence]
    categorical: tuple[tuple[int, int, Mapping[str, float]], ...]  # (position in the account, column, codes)

    @classmethod
    def of(cls, encoding: FeatureEncoding, names: tuple[str, ...]) -> _Layout:
        numeric_positions, numeric_columns, categorical = [], [], []
        for position, name in enumerate(names):
            spec = encoding.columns.get(name)
            if spec is None:
                raise _NeedsChecking(name)
            column, codes = spec
            if codes is None:
                numeric_positions.append(position)
                numeric_columns.append(column)
            else:
                categorical.append((position, column, codes))
        return cls(np.asarray(numeric_columns, dtype=np.int64), _picker(numeric_positions), tuple(categorical))


def _picker(positions: list[int]) -> Callable[[list], Sequence]:
    """A C-speed function returning the values at ``positions``: a slice when they are contiguous (the usual case)."""
    if positions and positions == list(range(positions[0], positions[-1] + 1)):
        contiguous = slice(positions[0], positions[-1] + 1)
        return lambda values: values[contiguous]
    return itemgetter(*positions) if len(positions) > 1 else (lambda values: ())


def _encode_valid(encoding: FeatureEncoding, features: Sequence[Mapping[str, object]]) -> np.ndarray:
    """The matrix of a batch with nothing wrong in it, built with C-speed steps (list, map, one array).

    Accounts are grouped by their feature names as sent (clients send the same names in the same
    order, so a batch has a handful of layouts); each group's numeric values become one array.
    Anything out of the ordinary (an unknown name, a wrong type, NaN, infinity, an integer beyond
    float range) raises ``_NeedsChecking``.
    """
    nan = math.nan
    matrix = np.full((len(features), len(encoding.names)), nan)
    groups: dict[tuple[str, ...], tuple[_Layout, list[int], list[Sequence]]] = {}
    for i, account in enumerate(features):
        names = tuple(account)
        group = groups.get(names)
        if group is None:
            group = groups[names] = (_Layout.of(encoding, names), [], [])
        layout, accounts, numbers = group
        accounts.append(i)
        values = list(account.values())
        numbers.append(layout.numeric_values(values))
        for position, column, codes in layout.categorical:
            value = values[position]
            if value is not None:
                if type(value) is not str:
                    raise _NeedsChecking(position)
                matrix[i, column] = codes.get(value, nan)
    for layout, accounts, numbers in groups.values():
        if not len(layout.numeric_columns):
            continue
        flat = list(chain.from_iterable(numbers))
        if not _NUMERIC_TYPES.issuperset(map(type, flat)):
            raise _NeedsChecking("type")
        try:
            block = np.array(flat, dtype=np.float64).reshape(len(accounts), len(layout.numeric_columns))
        except OverflowError:
            raise _NeedsChecking("overflow") from None
        if np.isinf(block).any():
            raise _NeedsChecking("infinity")
        # Null is the only way to say unknown: a NaN that was not a null was sent as NaN.
        unknown = np.flatnonzero(np.isnan(block))
        if len(unknown) and any(flat[k] is not None for k in unknown.tolist()):
            raise _NeedsChecking("NaN")
        matrix[np.asarray(accounts)[:, None], layout.numeric_columns] = block
    return matrix


def _encode_checked(encoding: FeatureEncoding, features: Sequence[Mapping[str, object]]) -> np.ndarray:
    """Value by value, collecting every problem with the path of its field."""
    nan = math.nan
    width = len(encoding.names)
    columns = encoding.columns
    rows: list[list[float]] = []
    problems: list[FieldProblem] = []
    total = 0
    for i, account in enumerate(features):
        row = [nan] * width
        for name, value in account.items():
            spec = columns.get(name)
            if spec is None:
                total += 1
                if len(problems) < MAX_REPORTED_PROBLEMS:
                    problems.append(FieldProblem(f"accounts[{i}].features.{name}", _unknown_feature(encoding, name)))
                continue
            if value is None:
                continue
            j, codes = spec
            problem = None
            if codes is None:
                kind = type(value)
                if kind is float or kind is int or kind is bool:
                    try:
                        number = float(value)
                    except OverflowError:
                        number = math.inf
                    if math.isfinite(number):
                        row[j] = number
                    else:
                        problem = "not a finite number (NaN and infinity are not accepted; send null for unknown)"
                else:
                    problem = f"not a number: expected a number or null, got {_json_type(value)}"
            elif type(value) is str:
                row[j] = codes.get(value, nan)
            else:
                problem = f"expected a category as text (one of {_some(codes)}) or null, got {_json_type(value)}"
            if problem is not None:
                total += 1
                if len(problems) < MAX_REPORTED_PROBLEMS:
                    problems.append(FieldProblem(f"accounts[{i}].features.{name}", problem))
        rows.append(row)
    if total:
        raise InvalidFeatures(problems, total)
    return np.array(rows, dtype=np.float64).reshape(len(rows), width)


def _unknown_feature(encoding: FeatureEncoding, name: str) -> str:
    close = difflib.get_close_matches(name, encoding.names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; GET /v1/model lists the {len(encoding.names)} known features"
    return f"unknown feature{hint}"


def _json_type(value: object) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, bool | int | float):
        return "a number"
    return type(value).__name__


def _some(codes: Mapping[str, float], limit: int = 5) -> str:
    names = list(codes)
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (", …" if len(names) > limit else "")
