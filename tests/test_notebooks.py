"""The walkthroughs in notebooks/ run from top to bottom, so they never go stale.

Each notebook is executed with nbclient in a temporary working folder, on the ``python3``
kernel of the interpreter running the tests (the virtual environment's), with its
``parameters`` cell pointed at that folder. A cell error fails the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbclient
import nbformat
import pytest
from nbformat import NotebookNode

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
KERNEL = "python3"


@pytest.fixture(scope="module")
def kernel() -> Iterator[str]:
    """The ``python3`` kernel of this interpreter, found before any user-level kernelspec."""
    from jupyter_client.kernelspec import KernelSpecManager

    share = Path(sys.prefix) / "share" / "jupyter"
    if not (share / "kernels" / KERNEL / "kernel.json").is_file():
        subprocess.run(
            [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL],
            check=True,
            capture_output=True,
        )
    with pytest.MonkeyPatch.context() as patch:
        # JUPYTER_PATH is searched first: this interpreter's kernelspec wins over ~/.local.
        patch.setenv("JUPYTER_PATH", str(share), prepend=os.pathsep)
        argv = KernelSpecManager().get_kernel_spec(KERNEL).argv
        # "python" in a kernelspec stands for the interpreter that launches it.
        assert argv[0] in {"python", sys.executable}, argv
        yield KERNEL


def execute(name: str, workdir: Path, kernel: str, **parameters: object) -> NotebookNode:
    """Run a notebook in ``workdir`` with its parameters cell overridden; return it executed."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\n" + "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    client = nbclient.NotebookClient(
        notebook,
        kernel_name=kernel,
        timeout=300,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    return notebook


def text_of(notebook: NotebookNode) -> str:
    """Every stream and plain-text result of the executed notebook."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output["text"])
            elif "data" in output:
                parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts)


def test_notebooks_are_stored_without_outputs() -> None:
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


def test_the_retraining_walkthrough_ends_with_a_champion_and_a_worklist(
    kernel: str, tmp_path: Path
) -> None:
    from risk.registry import CHAMPION, Registry

    workdir = tmp_path / "work"
    notebook = execute("01-retrain.ipynb", tmp_path, kernel, WORKDIR=str(workdir))
    text = text_of(notebook)
    # Validation passed, training ran its backtest with the oracle beside it.
    assert "oracle: the simulation's true probabilities score the same test rows" in text
    assert "today's practice" in text and "the oracle would reach" in text
    # Registered, gates passed, promoted.
    assert "registered arrears-risk version 1 as challenger" in text
    assert "The challenger passes every promotion gate." in text
    assert "version 1 is now champion" in text
    assert "champion: version 1" in text
    # The worklist is the last output: ten eligible households, ranks 1..10.
    worklist = notebook.cells[-2].outputs[-1]["data"]["text/plain"].splitlines()
    assert worklist[0].split() == ["rank", "tenancy_id", "probability", "band"]
    assert [line.split()[1] for line in worklist[1:]] == [str(r) for r in range(1, 11)]
    # The registry the notebook wrote has the champion, outside the repository.
    assert Registry(workdir / "mlruns").describe(CHAMPION).version == 1
    assert (workdir / "export" / "ledger.parquet").is_file()
