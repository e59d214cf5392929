"""The packaging files agree with each other."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _split(requirement: str) -> tuple[str, str]:
    match = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*$", requirement)
    assert match, requirement
    return match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return dict(_split(r) for r in requirements)


def _environment_requirements() -> dict[str, str]:
    """Parse the dependency lists of environment.yml (conda and pip sections)."""
    found = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        item = re.match(r"^\s*-\s+([^#\s][^#]*?)\s*(#.*)?$", line)
        if not item or item.group(1).endswith(":") or item.group(1).startswith("-e"):
            continue
        name, spec = _split(item.group(1))
        if name in {"python", "pip", "conda-forge"}:
            continue
        found[name] = spec
    return found


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    pyproject = _pyproject_requirements()
    environment = _environment_requirements()
    assert set(environment) == set(pyproject), (
        f"only in environment.yml: {sorted(set(environment) - set(pyproject))}; "
        f"only in pyproject.toml: {sorted(set(pyproject) - set(environment))}"
    )
    differing = {n: (pyproject[n], environment[n]) for n in pyproject if pyproject[n] != environment[n]}
    assert not differing, f"version specifiers differ (pyproject, environment.yml): {differing}"


def test_the_parser_sees_every_line():
    # guard against a parser that silently finds nothing
    assert len(_environment_requirements()) >= 15


def test_lock_file_is_committed_and_current():
    lock = (ROOT / "uv.lock").read_text()
    for name in _pyproject_requirements():
        assert re.search(rf'^name = "{re.escape(name)}"$', lock, re.M), f"{name} is not in uv.lock: run `make lock`"


@pytest.mark.parametrize("path", ["README.md", "Makefile", "voila.json", ".ci/run", "environment.yml", "uv.lock"])
def test_top_level_files_exist(path):
    assert (ROOT / path).is_file(), path
