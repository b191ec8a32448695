"""report.html: a finished run on one self-contained page.

The page holds the verdict, each field's errors against its tolerance, the reference's own error
estimate, the history figure, every figure of the folder (PNG files embedded as ``data:`` URIs), the
resolved configuration (config.json) and the versions. It needs nothing else: no script, no style
sheet, font or image from elsewhere, and a Content-Security-Policy that forbids the page to load
anything but its own embedded images, so opening a report someone sent cannot reach the network.
Every text that comes from the run's files (problem and field names, descriptions, the
configuration) is HTML-escaped.

A run writes its report just before metrics.json (from the metrics it is about to write);
``python -m pinn.report RUN`` rebuilds it from the folder's files.
"""
from __future__ import annotations

import base64
import html
import logging
import math
from pathlib import Path
from typing import Any

from pinn.output.files import CorruptFileError, atomic_write, json_text, read_json
from pinn.output.summary import verdict

logger = logging.getLogger(__name__)

REPORT_FILE = "report.html"
"""The report's name in the run folder."""

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# No default-src but 'none': images only from the page itself (data: URIs), inline style only.
_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.verdict { font-size: 2em; font-weight: bold; padding: 0.4em 0.8em; border-radius: 6px; margin: 0.5em 0; }
.passed { background: #d9f2d9; color: #145214; border: 2px solid #2e8b2e; }
.failed { background: #f8d7d7; color: #7a1010; border: 2px solid #c03030; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.7em; text-align: left; }
th { background: #f0f0f0; }
td.number { text-align: right; font-family: monospace; }
td.met { color: #145214; font-weight: bold; }
td.missed { color: #7a1010; font-weight: bold; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
figcaption { font-family: monospace; color: #555; }
"""


def write_report(folder: Path, metrics: dict | None = None) -> Path:
    """Write ``folder/report.html`` atomically and return its path.

    Args:
        folder: a run folder.
        metrics: the run's metrics (metrics.json's content); read from ``folder/metrics.json`` when None.

    Raises:
        FileNotFoundError: metrics are not given and the folder has no metrics.json.
        CorruptFileError: metrics.json or config.json cannot be read, or does not hold a JSON object.
    """
    folder = Path(folder)
    if metrics is None:
        metrics = _json_object(folder / "metrics.json")
    config_path = folder / "config.json"
    config = _json_object(config_path) if config_path.is_file() else None
    page = report_html(folder, metrics, config)
    path = folder / REPORT_FILE
    atomic_write(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return path


def write_run_report(folder: Path, metrics: dict) -> None:
    """The end of a run: :func:`write_report`, a failure of which is a logged warning (a report must never
    cost the run its numbers)."""
    try:
        write_report(folder, metrics)
    except Exception as err:
        logger.warning("warning: the report could not be written (%s: %s); the numbers are unaffected",
                       type(err).__name__, err)


def report_html(folder: Path, metrics: dict, config: dict | None) -> str:
    """The page of the run in ``folder``, from its metrics and configuration (None: not available)."""
    folder = Path(folder)
    images = figures(folder)
    history = [p for p in images if p.name == "history.png"]
    others = [p for p in images if p not in history]
    title = f"pinn run report: {metrics.get('problem', folder.name)}"
    sections = [
        f"<h1>{_text(title)}</h1>",
        _verdict(metrics),
        _facts(metrics, folder),
        "<h2>Errors against the reference</h2>",
        _field_table(metrics),
        _parameter_table(metrics),
        "<h2>The reference</h2>",
        _reference(metrics),
        "<h2>Loss and error history</h2>",
        "".join(_figure(folder, p) for p in history) or "<p>No history figure in this folder.</p>",
        "<h2>Figures</h2>",
        "".join(_figure(folder, p) for p in others) or "<p>No other figures in this folder.</p>",
        "<h2>Configuration (config.json)</h2>",
        f"<pre>{_text(json_text(config))}</pre>" if config is not None else "<p>This folder has no config.json.</p>",
        "<h2>Versions</h2>",
        _pairs(metrics.get("versions") or (config or {}).get("versions") or {}),
        "<h2>All metrics (metrics.json)</h2>",
        f"<details><summary>show</summary><pre>{_text(json_text(metrics))}</pre></details>",
    ]
    body = "\n".join(s for s in sections if s)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">\n'
            f"<title>{_text(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def figures(folder: Path) -> list[Path]:
    """The PNG figures of a run folder (``plots/`` and below, and the top of the folder), history first.

    Hidden files (a figure still being written) and whatever a symbolic link makes appear in the folder
    (it could point anywhere on this machine) are left out."""
    folder = Path(folder)
    inside = folder.resolve()
    found = [*folder.glob("*.png"), *(folder / "plots").rglob("*.png")]
    kept = [p for p in found if p.is_file() and p.resolve() == inside / p.relative_to(folder)  # no link on the way
            and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    return sorted(set(kept), key=lambda p: (p.name != "history.png", str(p.relative_to(folder))))


def _json_object(path: Path) -> dict:
    data = read_json(path)
    if not isinstance(data, dict):
        raise CorruptFileError(f"{path} does not hold a JSON object")
    return data


def _text(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _number(value: Any, digits: int = 3) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)) and math.isfinite(value) and not isinstance(value, int):
        return f"{value:.{digits}e}"
    return _text(value)


def _verdict(metrics: dict) -> str:
    kind = "passed" if metrics.get("passed") else "failed"
    lines = [f'<div id="verdict" class="verdict {kind}">{_text(verdict(metrics))}</div>']
    if metrics.get("failure"):
        lines.append(f"<p>Training failed: {_text(metrics['failure'])}</p>")
    if metrics.get("stopped_early_at") is not None:
        lines.append(f"<p>Stopped early at step {_text(metrics['stopped_early_at'])} (stop_when).</p>")
    return "\n".join(lines)


def _facts(metrics: dict, folder: Path) -> str:
    wall = metrics.get("wall_time_s")
    facts = {
        "folder": folder.resolve(),
        "family": metrics.get("family", "pinn"),
        "steps": metrics.get("steps"),
        "wall time": f"{wall:.1f} s" if isinstance(wall, (int, float)) else wall,
        "device": metrics.get("device"),
        "dtype": metrics.get("dtype"),
        "seed": metrics.get("seed"),
    }
    return _pairs({k: v for k, v in facts.items() if v is not None})


def _pairs(entries: dict) -> str:
    rows = "".join(f"<tr><th>{_text(k)}</th><td>{_text(v)}</td></tr>" for k, v in entries.items())
    return f"<table>{rows}</table>" if rows else "<p>none recorded</p>"


def _met(passed: Any) -> str:
    if passed is None:
        return "<td>no tolerance</td>"
    return '<td class="met">met</td>' if passed else '<td class="missed">missed</td>'


def _field_table(metrics: dict) -> str:
    fields = metrics.get("fields") or {}
    if not fields:
        return "<p>No errors measured (the run has no reference).</p>"
    rows = []
    for name, entry in fields.items():
        entry = entry if isinstance(entry, dict) else {}
        passed = entry.get("passed") if entry.get("tolerance") is not None else None
        rows.append(f"<tr><td>{_text(name)}</td><td class=\"number\">{_number(entry.get('rel_l2'))}</td>"
                    f"<td class=\"number\">{_number(entry.get('tolerance'))}</td>{_met(passed)}"
                    f"<td class=\"number\">{_number(entry.get('max_abs'))}</td></tr>")
    head = "<tr><th>field</th><th>relative L2</th><th>tolerance</th><th>verdict</th><th>max abs</th></tr>"
    return f'<table id="errors">{head}{"".join(rows)}</table>'


def _parameter_table(metrics: dict) -> str:
    parameters = metrics.get("parameters") or {}
    if not parameters:
        return ""
    rows = []
    for name, p in parameters.items():
        p = p if isinstance(p, dict) else {}
        rows.append(f"<tr><td>{_text(name)}</td><td class=\"number\">{_number(p.get('value'), 6)}</td>"
                    f"<td class=\"number\">{_number(p.get('true_value'), 6)}</td>"
                    f"<td class=\"number\">{_number(p.get('rel_error'))}</td>"
                    f"<td class=\"number\">{_number(p.get('tolerance'))}</td>{_met(p.get('passed'))}</tr>")
    head = ("<tr><th>unknown</th><th>value</th><th>true value</th><th>relative error</th><th>tolerance</th>"
            "<th>verdict</th></tr>")
    return f"<h2>Recovered parameters</h2><table>{head}{''.join(rows)}</table>"


def _reference(metrics: dict) -> str:
    reference = metrics.get("reference")
    if not isinstance(reference, dict):
        return "<p>This run has no reference.</p>"
    estimate = reference.get("error_estimate")
    if isinstance(estimate, dict):
        shown = ", ".join(f"{_text(k)}: {_number(v)}" for k, v in estimate.items()) or "&ndash;"
    else:
        shown = _number(estimate)
    seconds = metrics.get("reference_time_s")
    built = f" (built in {seconds:.1f} s)" if isinstance(seconds, (int, float)) else ""
    return (f"<p>{_text(reference.get('description', ''))}{built}</p>"
            f"<p>Its own estimated relative L2 error: <span id=\"reference-error\">{shown}</span></p>")


def _figure(folder: Path, path: Path) -> str:
    """One figure as an ``<img>`` with its PNG embedded; a file that is not a PNG is named, not shown."""
    name = _text(path.relative_to(folder))
    data = path.read_bytes()
    if not data.startswith(PNG_SIGNATURE):
        logger.warning("warning: %s is not a PNG file; the report leaves it out", path)
        return f"<p>{name}: not a PNG file, left out.</p>"
    encoded = base64.b64encode(data).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{encoded}" alt="{name}">'
            f"<figcaption>{name}</figcaption></figure>")
