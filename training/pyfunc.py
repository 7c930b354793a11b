"""The churn model as one MLflow pyfunc, so ``mlflow.pyfunc.load_model`` scores it anywhere.

MLflow's LightGBM flavour returns class labels for a classifier; this wrapper returns the
calibrated churn probability and risk tier instead.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import ModelSignature, infer_signature
from mlflow.models.model import ModelInfo
from mlflow.types import DataType
from mlflow.types.schema import AnyType, ColSpec, Schema

from training.model import ChurnModel, is_categorical

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# Shipped inside the model so it loads where this project is not installed.
_CODE_PATHS = [str(_PACKAGE_ROOT / "training"), str(_PACKAGE_ROOT / "features")]


@dataclass(frozen=True)
class TableKeys:
    """The columns that named the training table's rows, so a table scored later is read the same way.

    ``churn score`` and the API's snapshot find each row's id (and, when the table has a history,
    its date) by these names: a flat customer table keyed by ``customerID`` is scored by that column.
    Kept in the logged model's metadata (the MLmodel file), where a reviewer sees them too.
    """

    id_column: str = "account_id"
    time_column: str | None = "as_of"

    def as_metadata(self) -> dict[str, str]:
        return {"id_column": self.id_column, "time_column": self.time_column or ""}

    @classmethod
    def from_metadata(cls, metadata: dict | None) -> TableKeys:
        """A model logged without keys was trained on a table of ``churn features``: account_id and as_of."""
        if not metadata or "id_column" not in metadata:
            return cls()
        return cls(str(metadata["id_column"]), str(metadata.get("time_column") or "") or None)


class ChurnPyfunc(mlflow.pyfunc.PythonModel):
    """Calibrated churn probability and risk tier for each input row."""

    def __init__(self, model: ChurnModel):
        self.model = model

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        probability = self.model.predict_proba(frame)[:, 1]
        return pd.DataFrame({"churn_probability": probability, "risk_tier": self.model.risk_tier(probability)})


def log_churn_model(
    model: ChurnModel, *, input_example: pd.DataFrame, keys: TableKeys = TableKeys(), name: str = "model"
) -> ModelInfo:
    """Log the fitted model to the active run, with signature, input example and the training table's keys.

    Every column is optional in the signature, as in the model itself: an absent feature is
    scored as missing rather than refused. See ``input_schema`` for the column types.
    """
    wrapper = ChurnPyfunc(model)
    example = _example_frame(model, input_example)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        outputs = infer_signature(example, wrapper.predict(None, example)).outputs
    with _quiet("mlflow.pyfunc"):
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=wrapper,
            signature=ModelSignature(inputs=input_schema(model), outputs=outputs),
            input_example=example,
            code_paths=_CODE_PATHS,
            pip_requirements=_requirements(),
            metadata=keys.as_metadata(),
        )


def input_schema(model: ChurnModel) -> Schema:
    """Text features as strings, numeric features as any type, all optional.

    MLflow's own number checks refuse what real feature tables hold: a nullable ``Int64`` count,
    an integer column with a missing value, or integers sent to a ``double`` column. The model
    converts numbers itself and names the column when a value is not a number, so the signature
    leaves numeric columns to it.
    """
    return Schema(
        [
            ColSpec(DataType.string if name in model.categories_ else AnyType(), name, required=False)
            for name in model.feature_names_
        ]
    )


def load_churn_model(model_uri: str) -> ChurnModel:
    """The fitted ``ChurnModel`` behind a model URI (``models:/name@alias``, ``runs:/...``)."""
    return mlflow.pyfunc.load_model(model_uri).unwrap_python_model().model


def load_table_keys(model_uri: str) -> TableKeys:
    """The keys of the table a model was trained on, from its MLmodel file alone (nothing is unpickled)."""
    from mlflow.models import Model

    return TableKeys.from_metadata(Model.load(model_uri).metadata)


def _example_frame(model: ChurnModel, frame: pd.DataFrame) -> pd.DataFrame:
    """The model's features in training order, in types that serialise to JSON.

    Text becomes plain strings; pandas' nullable numbers become float64, with missing values as NaN.
    """
    columns = {}
    for name in model.feature_names_:
        column = frame[name]
        if name in model.categories_ or is_categorical(column):
            columns[name] = column.astype("string").astype(object).where(column.notna(), None)
        elif isinstance(column.dtype, pd.api.extensions.ExtensionDtype):
            columns[name] = pd.to_numeric(column).astype("float64")
        else:
            columns[name] = column
    return pd.DataFrame(columns, index=frame.index).reset_index(drop=True)


@contextmanager
def _quiet(logger_name: str):
    """Hide MLflow's advice about pickled models; this wrapper is deliberately a pickled object."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _requirements() -> list[str]:
    from importlib.metadata import version

    packages = ["mlflow", "lightgbm", "scikit-learn", "pandas", "numpy", "scipy", "cloudpickle"]
    return [f"{name}=={version(name)}" for name in packages]
