"""The notebooks run end to end on small generated data, and are committed without outputs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_runner():
    return load_module("notebook_runner", ROOT / "notebooks" / "run.py")


@pytest.fixture(scope="module")
def small_data(tmp_path_factory) -> tuple[Path, Path]:
    from features.build import build_feature_file
    from features.synthetic import generate

    folder = tmp_path_factory.mktemp("notebook-data")
    data, features = folder / "data", folder / "features.parquet"
    generate(data, n_accounts=150, months=6, seed=11)
    build_feature_file(data, features)
    return data, features


def test_there_are_notebooks():
    assert ROOT / "notebooks" / "01_churn_signals.ipynb" in NOTEBOOKS
    assert ROOT / "notebooks" / "02_experiment_review.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_committed_notebooks_have_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; clear them with `python notebooks/run.py --clear {path}`"


@pytest.mark.slow
@pytest.mark.parametrize("prebuilt", [True, False], ids=["feature-file", "features-built-in-notebook"])
def test_churn_signals_notebook_runs(small_data, tmp_path, prebuilt):
    runner = load_runner()
    data, features = small_data
    env = {"CHURN_DATA": str(data), "CHURN_FEATURES": str(features if prebuilt else tmp_path / "missing.parquet")}
    notebook = runner.execute(ROOT / "notebooks" / "01_churn_signals.ipynb", env=env, timeout=300)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    assert sum("image/png" in output.get("data", {}) for output in outputs) >= 6
    html = runner.render_html(notebook, tmp_path / "html" / "01_churn_signals.html").read_text()
    assert "data:image/png;base64" in html


@pytest.mark.slow
def test_experiment_review_notebook_runs(review_registry, tmp_path):
    runner = load_runner()
    env = {"MLFLOW_TRACKING_URI": review_registry["uri"], "CHURN_EXPERIMENT": review_registry["experiment"],
           "CHURN_MODEL_NAME": review_registry["model_name"]}
    notebook = runner.execute(ROOT / "notebooks" / "02_experiment_review.ipynb", env=env, timeout=300)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    assert not [output for output in outputs if output.output_type == "stream" and output.name == "stderr"]
    assert sum("image/png" in output.get("data", {}) for output in outputs) >= 7
    text = "".join(output.get("text", "") for output in outputs)
    assert "share" in text and "of their riskiest 10% of accounts" in text
    html = runner.render_html(notebook, tmp_path / "html" / "02_experiment_review.html").read_text()
    assert "champion v1" in html and "challenger v2" in html and "driver_1" in html
