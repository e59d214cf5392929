"""Every app and notebook runs headlessly, and none defines a function or class."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "apps").glob("*.ipynb")) + sorted((REPO / "notebooks").glob("*.ipynb"))
DEMO_BUILT = (REPO / "data" / "demo" / "items.csv").is_file()


def _ids(paths):
    return [str(p.relative_to(REPO)) for p in paths]


def test_there_are_notebooks():
    names = _ids(NOTEBOOKS)
    assert "apps/data_health.ipynb" in names
    assert "notebooks/01_getting_started.ipynb" in names


def test_kernel_is_this_venv():
    """The python3 kernelspec runs this interpreter (jupyter_client swaps "python" for sys.executable)."""
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert Path(spec.resource_dir).is_relative_to(Path(sys.prefix)), spec.resource_dir
    assert spec.argv[0] in ("python", "python3", sys.executable)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path, monkeypatch):
    assert DEMO_BUILT, "the demo shop is shipped in data/demo: restore it with `opslib demo build`"
    monkeypatch.delenv("OPSLIB_DATA", raising=False)  # notebooks open on the demo shop
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    client = NotebookClient(
        nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    executable = "".join(o.get("text", "") for o in nb.cells[-1].outputs).strip()
    assert Path(executable).resolve() == Path(sys.executable).resolve()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_defines_no_function_or_class(path):
    nb = nbformat.read(path, as_version=4)
    transform = TransformerManager().transform_cell
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(transform(cell.source))
        for node in ast.walk(tree):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)), (
                f"{path.name} cell {i} defines a function or class; move it into opslib"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip the outputs"
