"""MkDocs hook for the docs site: pages generated from the repository at build time (kept out of git).

- One tutorial page per built-in problem, ``tutorials/<name>.md`` for every ``problems/<name>.py``:
  its module docstring, its declared tolerance and the file itself. Adding a problem adds a page, and
  the "Tutorials" entry of the navigation lists them all.
- The command line's ``--help``, in place of the marker ``<!-- pinn-solve-help -->`` on any page.
- ``css/pygments.css``, the colours of the code that Pygments highlights at build time.

Loaded by ``hooks: [scripts/docs_pages.py]`` in ``mkdocs.yml``. :func:`tutorial_pages` is plain Python,
so a test can check the pages without building the site.
"""
from __future__ import annotations

import argparse
import ast
import html
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # mkdocs loads a hook by its path, not as a package
from docs_roles import ROLE, importable  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PROBLEMS = ROOT / "problems"
TUTORIALS = "tutorials"
HELP_MARKER = "<!-- pinn-solve-help -->"
HELP_WIDTH = 80  # the code column of the theme
PYGMENTS_CSS = "css/pygments.css"  # listed in mkdocs.yml's extra_css

# which model family a problem file declares, by the declaration its `problem = ...` calls
FAMILIES = {"Problem": "physics-informed network", "Dynamics": "neural ODE / universal differential equation",
            "SDEProblem": "neural SDE", "OperatorProblem": "Fourier neural operator"}
FAMILY_PAGES = {"Problem": "families/pinn.md", "Dynamics": "families/dynamics.md",
                "SDEProblem": "families/sde.md", "OperatorProblem": "families/operators.md"}


def tutorial_pages(problems: Path = PROBLEMS) -> dict[str, str]:
    """Markdown of each built-in problem's tutorial page, by its path in the site (``tutorials/heat.md``).

    Raises:
        ValueError: a problem file without a module docstring or without ``problem = ...(...)``,
            naming the file.
    """
    pages = {f"{TUTORIALS}/{path.stem}.md": _tutorial(path) for path in sorted(problems.glob("*.py"))}
    pages[f"{TUTORIALS}/index.md"] = _tutorial_index(problems)
    return pages


def _tutorial(path: Path) -> str:
    source = path.read_text(encoding="utf-8")
    module = ast.parse(source, filename=str(path))
    docstring = ast.get_docstring(module)
    if not docstring:
        raise ValueError(f"{path}: a built-in problem needs a module docstring (its tutorial page opens with it)")
    call = _problem_call(module, path)
    tolerance = next((k.value for k in call.keywords if k.arg == "tolerance"), None)
    title, _, body = _references(docstring, module, path).partition("\n")
    family = _family(call)
    lines = [
        f"# {path.stem}: {title.rstrip('.')}", "",
        f"`problems/{path.name}`, a [{FAMILIES.get(family, family)}](../{FAMILY_PAGES.get(family, 'index.md')}) "
        "problem.", "",
        _as_text(body.strip("\n")), "",
        "## Run it", "",
        "```bash", f"python -m pinn.solve problems/{path.name}", "```", "",
        "The run folder is described in [the output contract](../output.md); the exit status is 0 when every "
        "tolerance below is met, 1 when one is missed.", "",
        "## Declared tolerance", "",
    ]
    if tolerance is None:
        lines += ["This problem declares no tolerance: its run is not judged against one.", ""]
    else:
        lines += ["Relative error each field (or unknown, or statistic) must reach against the reference:", "",
                  "```python", f"tolerance={ast.get_source_segment(source, tolerance)}", "```", ""]
    lines += ["## The problem file", "", f'```python title="problems/{path.name}"', source.rstrip("\n"), "```", ""]
    return "\n".join(lines)


def _problem_call(module: ast.Module, path: Path) -> ast.Call:
    for node in module.body:
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "problem" for t in node.targets)
                and isinstance(node.value, ast.Call)):
            return node.value
    raise ValueError(f"{path}: no `problem = ...(...)` at the top level of the file")


def _family(call: ast.Call) -> str:
    function = call.func
    return function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", "?")


def _references(text: str, module: ast.Module, path: Path) -> str:
    """A docstring's Sphinx roles as cross-references (the file's own functions as code); a role naming
    nothing is a ValueError, so a broken reference fails the build."""
    own = {node.name for node in module.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}

    def reference(match: re.Match) -> str:
        name = match["name"]
        shown = html.escape((name.rsplit(".", 1)[-1] if match["tilde"] else name) + (match["call"] or ""))
        if name in own:
            return f"<code>{shown}</code>"
        if not importable(name):
            raise ValueError(f"{path}: its docstring refers to {match[0]}, which does not exist")
        return f'<autoref identifier="{html.escape(name)}" optional><code>{shown}</code></autoref>'

    return ROLE.sub(reference, text)


def _as_text(docstring: str) -> str:
    """A docstring's paragraphs as Markdown: its indented formulas stay code blocks, its text stays text."""
    return "\n".join(line if line.strip() else "" for line in docstring.splitlines())


def _tutorial_index(problems: Path) -> str:
    lines = ["# Tutorials: the built-in problems", "",
             "One page per file in `problems/`, made from the file itself when the site is built: what it "
             "solves, the tolerance it declares and the whole file. Copy one and edit it to start a problem "
             "of your own ([writing a problem](../writing-a-problem.md)).", "",
             "| problem | family | what it solves |", "|---|---|---|"]
    for path in sorted(problems.glob("*.py")):
        module = ast.parse(path.read_text(encoding="utf-8"))
        title = _references((ast.get_docstring(module) or "").partition("\n")[0], module, path)
        family = FAMILIES.get(_family(_problem_call(module, path)), "?")
        lines.append(f"| [`{path.stem}`]({path.stem}.md) | {family} | {title.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def solve_help() -> str:
    """``python -m pinn.solve --help``, at a fixed width so that the page does not depend on the terminal."""
    from pinn.solve import build_parser

    parser = build_parser()
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=HELP_WIDTH)
    return parser.format_help()


# --- MkDocs hooks -------------------------------------------------------------------------------------

def on_config(config: Any, **kwargs: Any) -> Any:
    """Fill the navigation's "Tutorials" entry with one page per problem file."""
    pages = [{"All problems": f"{TUTORIALS}/index.md"}]
    pages += [{path.stem: f"{TUTORIALS}/{path.stem}.md"} for path in sorted(PROBLEMS.glob("*.py"))]
    for entry in config["nav"] or []:
        if isinstance(entry, dict) and "Tutorials" in entry:
            entry["Tutorials"] = pages
    return config


def on_files(files: Any, config: Any, **kwargs: Any) -> Any:
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    try:
        pages = tutorial_pages()
    except ValueError as err:  # a problem file the page cannot be made from: one line, no traceback
        raise PluginError(str(err)) from None
    for uri, markdown in pages.items():
        files.append(File.generated(config, uri, content=markdown))
    files.append(File.generated(config, PYGMENTS_CSS, content=_pygments_css()))
    return files


def _pygments_css() -> str:
    """The colours of code highlighted at build time (``pymdownx.highlight`` with Pygments)."""
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style="default").get_style_defs(".highlight")


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    if HELP_MARKER in markdown:
        markdown = markdown.replace(HELP_MARKER, f"```text\n{solve_help().rstrip()}\n```")
    return markdown
