"""Run the project's notebooks headless, render them to HTML, or clear their outputs.

``make notebooks`` calls this to write ``notebooks/html/*.html``; the test suite calls
``execute`` so a notebook that breaks fails CI. Notebooks run from the repository root
on the kernel of the Python running this script (the project's virtualenv), with the
environment of this process plus any ``--env KEY=VALUE``.

    python notebooks/run.py --html notebooks/html notebooks/*.ipynb
    python notebooks/run.py --env CHURN_DATA=/tmp/data notebooks/01_churn_signals.ipynb
    python notebooks/run.py --clear notebooks/*.ipynb
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
KERNEL = "python3"


def execute(path: str | Path, *, env: dict[str, str] | None = None, timeout: int = 900) -> nbformat.NotebookNode:
    """The notebook with every cell run; raises ``nbclient.exceptions.CellExecutionError`` on the first failing cell."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, kernel_name=KERNEL, timeout=timeout, resources={"metadata": {"path": str(ROOT)}}
    )
    # jupyter_client swaps the kernel spec's bare "python" for this interpreter, so the venv's kernel runs.
    client.execute(env={**os.environ, **(env or {})})
    return notebook


def render_html(notebook: nbformat.NotebookNode, out_path: str | Path) -> Path:
    """Write an executed notebook as a self-contained HTML page (figures embedded)."""
    body, _ = HTMLExporter().from_notebook_node(notebook)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def clear_outputs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy without outputs or execution counts: how notebooks are committed."""
    cleared = nbformat.from_dict(notebook)
    for cell in cleared.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("execution", None)
    return cleared


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"--env expects KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--html", type=Path, help="Folder to write <name>.html into.")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="Extra environment; repeatable.")
    parser.add_argument("--timeout", type=int, default=900, help="Seconds a single cell may take.")
    parser.add_argument("--clear", action="store_true", help="Strip outputs in place instead of running.")
    args = parser.parse_args(argv)
    env = parse_env(args.env)
    for path in args.notebooks:
        if args.clear:
            nbformat.write(clear_outputs(nbformat.read(path, as_version=4)), path)
            print(f"cleared {path}")
            continue
        print(f"running {path} ...", flush=True)
        notebook = execute(path, env=env, timeout=args.timeout)
        if args.html:
            print(f"  wrote {render_html(notebook, args.html / f'{path.stem}.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
