"""The churn model as one MLflow pyfunc, so ``mlflow.pyfunc.load_model`` scores it anywhere.

MLflow's LightGBM flavour returns class labels for a classifier; this wrapper returns the
calibrated churn probability and risk tier instead.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo

from training.model import ChurnModel

_PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# Shipped inside the model so it loads where this project is not installed.
_CODE_PATHS = [str(_PACKAGE_ROOT / "training"), str(_PACKAGE_ROOT / "features")]


class ChurnPyfunc(mlflow.pyfunc.PythonModel):
    """Calibrated churn probability and risk tier for each input row."""

    def __init__(self, model: ChurnModel):
        self.model = model

    def predict(self, context, model_input, params=None):
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        probability = self.model.predict_proba(frame)[:, 1]
        return pd.DataFrame({"churn_probability": probability, "risk_tier": self.model.risk_tier(probability)})


def log_churn_model(model: ChurnModel, *, input_example: pd.DataFrame, name: str = "model") -> ModelInfo:
    """Log the fitted model to the active run, with signature and input example."""
    wrapper = ChurnPyfunc(model)
    signature = infer_signature(input_example, wrapper.predict(None, input_example))
    return mlflow.pyfunc.log_model(
        name=name,
        python_model=wrapper,
        signature=signature,
        input_example=input_example,
        code_paths=_CODE_PATHS,
        pip_requirements=_requirements(),
    )


def load_churn_model(model_uri: str) -> ChurnModel:
    """The fitted ``ChurnModel`` behind a model URI (``models:/name@alias``, ``runs:/...``)."""
    return mlflow.pyfunc.load_model(model_uri).unwrap_python_model().model


def _requirements() -> list[str]:
    from importlib.metadata import version

    packages = ["mlflow", "lightgbm", "scikit-learn", "pandas", "numpy", "scipy", "cloudpickle"]
    return [f"{name}=={version(name)}" for name in packages]
