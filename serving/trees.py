"""Path-based (Saabas) attributions for a LightGBM booster at the cost of one leaf lookup.

Exact TreeSHAP (``pred_contrib``) costs about forty times a prediction. Saabas attribution
credits each split on an account's decision path with the change it makes to the node value:
``contribution[feature] += value(child) - value(parent)``. Along one path these changes
telescope, so ``sum(root values) + sum(contributions) == sum(leaf values) == raw score``.

Because a leaf fixes its path, every leaf's attribution is known once the booster is loaded.
``compile_trees`` turns ``booster.dump_model()`` into a sparse table with one row per leaf of
every tree; at request time LightGBM itself finds the leaves (``pred_leaf``, as cheap as a
prediction and exact by construction, with its own missing-value and categorical rules), and
the attributions are a sum of table rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
from scipy import sparse

# Up to this many accounts, gathering table entries beats building a sparse product.
_GATHER_MAX_ROWS = 32


@dataclass(frozen=True)
class TreeTables:
    """Per-leaf values and attributions of a booster's trees.

    ``leaf_offsets[t]`` is the row of tree ``t``'s leaf 0 in ``leaf_values`` and ``leaf_paths``;
    ``leaf_paths`` (leaves × features, sparse) holds each leaf's Saabas contributions and
    ``bias`` the sum of the trees' root values.
    """

    leaf_offsets: np.ndarray
    leaf_values: np.ndarray
    leaf_paths: sparse.csr_matrix
    bias: float
    n_features: int


def compile_trees(booster: lgb.Booster) -> TreeTables:
    dump = booster.dump_model()
    n_features = int(dump["max_feature_idx"]) + 1
    values: list[float] = []
    rows: list[int] = []
    cols: list[int] = []
    deltas: list[float] = []
    offsets: list[int] = []
    bias = 0.0
    for tree in dump["tree_info"]:
        offset = len(values)
        offsets.append(offset)
        root = tree["tree_structure"]
        bias += _node_value(root)
        leaves = _leaf_paths(root)
        values.extend([0.0] * len(leaves))
        for leaf_index, (leaf_value, path) in leaves.items():
            values[offset + leaf_index] = leaf_value
            for feature, delta in path.items():
                rows.append(offset + leaf_index)
                cols.append(feature)
                deltas.append(delta)
    paths = sparse.csr_matrix((deltas, (rows, cols)), shape=(len(values), n_features), dtype=np.float64)
    paths.indptr, paths.indices = paths.indptr.astype(np.int64), paths.indices.astype(np.int64)
    return TreeTables(
        leaf_offsets=np.asarray(offsets, dtype=np.int64),
        leaf_values=np.asarray(values, dtype=np.float64),
        leaf_paths=paths,
        bias=bias,
        n_features=n_features,
    )


def leaf_rows(tables: TreeTables, leaves: np.ndarray) -> np.ndarray:
    """Global table rows of the leaves ``booster.predict(..., pred_leaf=True)`` returned (n × trees)."""
    return leaves.astype(np.int64, copy=False) + tables.leaf_offsets


def margins(tables: TreeTables, rows: np.ndarray) -> np.ndarray:
    """Raw scores: the sum of each account's leaf values."""
    return tables.leaf_values[rows].sum(axis=1)


def attributions(tables: TreeTables, rows: np.ndarray) -> np.ndarray:
    """Saabas contributions to the raw score, accounts × features (the bias is ``tables.bias``).

    A few accounts: gather their leaves' table entries and add them up per feature. Many: one
    sparse product, whose set-up cost would dominate for a single account.
    """
    n, n_trees = rows.shape
    paths = tables.leaf_paths
    if n == 0 or n_trees == 0:
        return np.zeros((n, tables.n_features))
    if n > _GATHER_MAX_ROWS:
        chosen = sparse.csr_matrix(
            (np.ones(n * n_trees), rows.ravel(), np.arange(0, n * n_trees + 1, n_trees)),
            shape=(n, paths.shape[0]),
        )
        return (chosen @ paths).toarray()
    flat = rows.ravel()
    starts = paths.indptr[flat]
    lengths = paths.indptr[flat + 1] - starts
    ends = np.cumsum(lengths)
    entries = np.arange(ends[-1]) + np.repeat(starts - (ends - lengths), lengths)
    owner = np.repeat(np.arange(n) * tables.n_features, lengths.reshape(n, n_trees).sum(axis=1))
    summed = np.bincount(paths.indices[entries] + owner, weights=paths.data[entries], minlength=n * tables.n_features)
    return summed.reshape(n, tables.n_features)


def _node_value(node: dict[str, Any]) -> float:
    return float(node["leaf_value"] if "leaf_index" in node else node["internal_value"])


def _leaf_paths(root: dict[str, Any]) -> dict[int, tuple[float, dict[int, float]]]:
    """Every leaf of one tree: its value and the summed value changes per split feature on its path."""
    found: dict[int, tuple[float, dict[int, float]]] = {}
    stack: list[tuple[dict[str, Any], dict[int, float]]] = [(root, {})]
    while stack:
        node, path = stack.pop()
        if "leaf_index" in node:
            found[int(node["leaf_index"])] = (float(node["leaf_value"]), path)
            continue
        feature, parent_value = int(node["split_feature"]), _node_value(node)
        for child in (node["left_child"], node["right_child"]):
            child_path = dict(path)
            child_path[feature] = child_path.get(feature, 0.0) + _node_value(child) - parent_value
            stack.append((child, child_path))
    return found
