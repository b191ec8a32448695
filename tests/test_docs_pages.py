"""The docs site's generated pages (scripts/docs_pages.py, an MkDocs hook): one tutorial page per built-in
problem, made from its file, and the command line's --help. The site itself is built by .ci/run
(`mkdocs build --strict`); these checks need only griffe, from the docs extra."""
from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("griffe", reason="the docs extra is not installed (pip install -e '.[docs]')")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def docs_pages():
    spec = importlib.util.spec_from_file_location("docs_pages", ROOT / "scripts" / "docs_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_built_in_problem_gets_a_tutorial_page_with_its_docstring_tolerance_and_file(docs_pages):
    pages = docs_pages.tutorial_pages()
    problems = sorted((ROOT / "problems").glob("*.py"))
    assert len(problems) >= 19
    assert set(pages) == {"tutorials/index.md"} | {f"tutorials/{path.stem}.md" for path in problems}
    for path in problems:
        page = pages[f"tutorials/{path.stem}.md"]
        source = path.read_text(encoding="utf-8")
        title = ast.get_docstring(ast.parse(source)).partition("\n")[0]
        assert page.startswith(f"# {path.stem}: "), path.name
        assert source.rstrip("\n") in page, f"{path.name}: the file is not on its page whole"
        assert f"python -m pinn.solve problems/{path.name}" in page
        assert f"[`{path.stem}`]({path.stem}.md)" in pages["tutorials/index.md"]
        if "tolerance=" in source:
            assert "\ntolerance={" in page, f"{path.name}: its declared tolerance is not shown"
    assert 'tolerance={"u": 1e-4}' in pages["tutorials/heat.md"]
    assert "Richardson" in pages["tutorials/heat.md"]  # from the docstring's body


def test_a_new_problem_file_gets_a_page_and_a_bad_one_is_named(docs_pages, tmp_path):
    (tmp_path / "mine.py").write_text('"""My problem.\n\nMore."""\nimport pinn\nproblem = pinn.Problem(tolerance={"u": 1e-3})\n')
    pages = docs_pages.tutorial_pages(tmp_path)
    assert 'tolerance={"u": 1e-3}' in pages["tutorials/mine.md"]
    assert "# mine: My problem" in pages["tutorials/mine.md"]

    (tmp_path / "bare.py").write_text("import pinn\nproblem = pinn.Problem()\n")
    with pytest.raises(ValueError, match="bare.py: a built-in problem needs a module docstring"):
        docs_pages.tutorial_pages(tmp_path)


def test_a_role_in_a_problem_docstring_must_name_something_that_exists(docs_pages, tmp_path):
    (tmp_path / "linked.py").write_text('"""Uses :func:`pinn.references.heat_fd` and :func:`helper`."""\n'
                                        "def helper():\n    pass\nproblem = pinn.Problem()\n")
    page = docs_pages.tutorial_pages(tmp_path)["tutorials/linked.md"]
    assert '<autoref identifier="pinn.references.heat_fd" optional><code>pinn.references.heat_fd</code></autoref>' in page
    assert "<code>helper</code>" in page

    (tmp_path / "linked.py").write_text('"""Uses :func:`pinn.references.no_such_solver`."""\nproblem = pinn.Problem()\n')
    with pytest.raises(ValueError, match="no_such_solver`, which does not exist"):
        docs_pages.tutorial_pages(tmp_path)


def test_the_cli_page_gets_the_help_of_the_real_parser(docs_pages):
    text = docs_pages.solve_help()
    assert text.startswith("usage: python -m pinn.solve")
    for option in ("--out", "--steps", "--resume", "--overwrite", "--set KEY=VALUE", "--quiet"):
        assert option in text
    assert "repeat --set" in " ".join(text.split())
    assert max(len(line) for line in text.splitlines()) <= docs_pages.HELP_WIDTH


def test_docstring_roles_resolve_as_sphinx_does_and_a_missing_target_is_none():
    import griffe

    spec = importlib.util.spec_from_file_location("docs_roles", ROOT / "scripts" / "docs_roles.py")
    roles = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(roles)
    package = griffe.load("pinn", search_paths=[str(ROOT)])
    problem = package["pde.problem.Problem"]
    assert roles.resolve("Problem.with_settings", problem) == "pinn.pde.problem.Problem.with_settings"
    assert roles.resolve("pinn.Unknown", problem) == "pinn.pde.unknowns.Unknown"  # an export: where it is defined
    assert roles.resolve("pinn.pde.automatic", problem) == "pinn.pde.automatic"
    assert roles.resolve("dataclasses.replace", problem) == "dataclasses.replace"  # outside the package: as written
    assert roles.resolve("pinn.NoSuchThing", problem) is None
    assert roles.resolve("no_such_helper", problem) is None
