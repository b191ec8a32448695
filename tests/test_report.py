"""report.html: written by every run (also on a missed tolerance, again at a resume's end), self-contained, escaped;
``python -m pinn.report``; and, where Debian's Chromium is installed, rendered by it: the verdict shows, every
image decodes, no request leaves the page (scripts/check_report.py)."""
from __future__ import annotations

import base64
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pinn.output.files import write_json
from pinn.output.folder import RunFolder
from pinn.output.report import REPORT_FILE, figures, write_report
from pinn.report import main as report_main
from pinn.solve import main as solve_main

from conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium (Debian's chromium package; "
                                    ".ci/run installs it with apt-get where it can): the report is not rendered")
PNG_1x1 = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
URL = re.compile(r"(https?:|ftp:|wss?:|//[a-z0-9])", re.IGNORECASE)
EMBEDDED = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def _urls(page: str) -> list[str]:
    """Every URL-like text of the page outside its embedded images (whose base64 holds slashes)."""
    return URL.findall(EMBEDDED.sub("", page))


def _check_report_script():
    spec = importlib.util.spec_from_file_location("check_report", ROOT / "scripts" / "check_report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A finished run of the tests' tiny problem (it meets its tolerance), figures included."""
    from conftest import TINY_PROBLEM

    folder = tmp_path_factory.mktemp("report")
    problem = folder / "problem.py"
    problem.write_text(TINY_PROBLEM)
    out = folder / "run"
    assert solve_main([str(problem), "--out", str(out), "--quiet"]) == 0
    return out


def _embedded_images(page: str) -> list[bytes]:
    return [base64.b64decode(data) for data in re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


def test_a_run_writes_a_self_contained_report(tiny_run):
    page = (tiny_run / REPORT_FILE).read_text()
    assert re.search(r'<div id="verdict" class="verdict passed">PASSED</div>', page)
    pngs = sorted((tiny_run / "plots").glob("*.png"))
    assert {p.name for p in pngs} >= {"history.png", "u.png"}
    assert sorted(_embedded_images(page)) == sorted(p.read_bytes() for p in pngs)  # each figure, whole, once
    assert _urls(page) == []
    assert _urls(page.replace("</h1>", "</h1><img src='//example.org/x.png'>")) == ["//e"]  # the search works
    assert "<script" not in page.lower() and "<link" not in page.lower() and "@import" not in page
    assert "default-src 'none'" in page  # the browser itself refuses anything not embedded
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    rel_l2 = metrics["fields"]["u"]["rel_l2"]
    assert f"{rel_l2:.3e}" in page and "5.000e-01" in page  # the error and its tolerance
    assert "Its own estimated relative L2 error" in page
    assert f"&quot;torch&quot;: &quot;{metrics['versions']['torch']}&quot;" in page  # config.json, escaped
    assert f"<th>torch</th><td>{metrics['versions']['torch']}</td>" in page  # the versions table


def test_the_report_comes_before_metrics_json_and_a_rerun_folder_accepts_it(tiny_run):
    assert (tiny_run / REPORT_FILE).stat().st_mtime_ns <= (tiny_run / "metrics.json").stat().st_mtime_ns
    assert RunFolder(tiny_run).foreign_entries() == []  # --overwrite replaces a folder with a report


def test_a_missed_tolerance_has_a_failed_report_and_a_resume_rewrites_it(write_problem, tmp_path):
    path = write_problem(replace=("tolerance={\"u\": 0.5}", "tolerance={\"u\": 1e-9}"))
    out = tmp_path / "run"
    assert solve_main([str(path), "--out", str(out), "--quiet", "--steps", "6"]) == 1
    page = (out / REPORT_FILE).read_text()
    assert '<div id="verdict" class="verdict failed">FAILED: tolerance not met</div>' in page
    assert '<td class="missed">missed</td>' in page and "<th>steps</th><td>6</td>" in page
    assert solve_main([str(path), "--out", str(out), "--quiet", "--resume", "--steps", "12"]) == 1
    assert "<th>steps</th><td>12</td>" in (out / REPORT_FILE).read_text()


def test_a_resume_removes_the_report_of_the_run_it_continues(tmp_path):
    # Removed with metrics.json: until the resumed run ends, the folder shows no verdict at all.
    run = _synthetic_run(tmp_path)
    write_report(run)
    RunFolder(run).remove_leftovers()
    assert not (run / REPORT_FILE).exists() and not (run / "metrics.json").exists()
    assert (run / "config.json").exists()


def _synthetic_run(folder: Path, problem: str = "demo", field: str = "u", config: dict | None = None) -> Path:
    (folder / "plots" / "more").mkdir(parents=True)
    (folder / "plots" / "history.png").write_bytes(PNG_1x1)
    (folder / "plots" / "more" / "extra.png").write_bytes(PNG_1x1 + b"extra")
    write_json(folder / "metrics.json", {
        "problem": problem, "passed": False, "failure": None, "steps": 3, "wall_time_s": 1.0, "seed": 0,
        "fields": {field: {"rel_l2": 0.5, "max_abs": 1.0, "tolerance": 0.1, "passed": False}},
        "reference": {"description": f"closed form of {problem}", "error_estimate": 0.0},
        "parameters": {}, "versions": {"pinn": "0.1.0"}})
    write_json(folder / "config.json", config or {"problem": problem})
    return folder


def test_text_from_the_run_files_is_escaped(tmp_path):
    attack = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    run = _synthetic_run(tmp_path, problem=f"p{attack}", field=f"u{attack}",
                         config={"problem": f"p{attack}", "note": f"</pre>{attack}"})
    page = (write_report(run)).read_text()
    assert "<script" not in page.lower()
    assert page.count("<img ") == 2  # the two figures, no injected one
    assert "<img src=x" not in page and "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown as text
    assert 'alt="plots/more/extra.png"' in page  # figures below plots/ too


def test_figures_skip_links_and_hidden_files(tmp_path):
    run = _synthetic_run(tmp_path / "run")
    (run / "plots" / "link.png").symlink_to(run / "plots" / "history.png")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "secret.png").write_bytes(PNG_1x1)
    (run / "plots" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (run / "top.png").symlink_to(tmp_path / "elsewhere" / "secret.png")
    (run / "plots" / ".history.png.abc.tmp.png").write_bytes(PNG_1x1)
    (run / "plots" / "fake.png").write_text("not a png")
    names = [str(p.relative_to(run)) for p in figures(run)]
    assert names == ["plots/history.png", "plots/fake.png", "plots/more/extra.png"]
    page = write_report(run).read_text()
    assert "plots/fake.png: not a PNG file, left out." in page and page.count("<img ") == 2


def test_the_command_rebuilds_a_report_and_refuses_what_is_no_finished_run(tmp_path, capsys):
    run = _synthetic_run(tmp_path / "run")
    assert report_main([str(run)]) == 0
    assert "FAILED: tolerance not met" in (run / REPORT_FILE).read_text()
    assert capsys.readouterr().out.strip() == str(run / REPORT_FILE)
    (tmp_path / "empty").mkdir()
    for folder, says in ((tmp_path / "empty", "has no metrics.json"), (tmp_path / "missing", "no such folder")):
        assert report_main([str(folder)]) == 2
        err = capsys.readouterr().err
        assert str(folder) in err and says in err
        assert not (folder / REPORT_FILE).exists()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metrics.json").write_text("{not json")
    assert report_main([str(tmp_path / "broken")]) == 2
    assert "broken/metrics.json" in capsys.readouterr().err
    process = subprocess.run([sys.executable, "-m", "pinn.report", str(tmp_path / "empty")], capture_output=True,
                             text=True, cwd=ROOT, timeout=120)
    assert process.returncode == 2 and "has no metrics.json" in process.stderr


@needs_chromium
def test_chromium_renders_the_report_of_a_short_heat_run(tmp_path):
    check = _check_report_script()
    run = tmp_path / "heat"
    check.short_heat_run(run)
    rendering = check.render(run / REPORT_FILE, screenshot=True)
    assert rendering.failures(png_count=len(figures(run))) == []
    assert rendering.verdict.startswith(("PASSED", "FAILED"))
    assert len(rendering.images) == len(figures(run)) >= 2
    assert all(i["naturalWidth"] > 100 and i["scheme"] == "data" for i in rendering.images)
    # The recorder sees every request: the page's own and one per embedded image, and nothing else.
    assert rendering.requests.count(rendering.url) == 1
    assert sum(u.startswith("data:image/png") for u in rendering.requests) == len(rendering.images)
    assert rendering.screenshot.startswith(b"\x89PNG")


@needs_chromium
def test_the_browser_check_catches_a_request_and_a_broken_image(tmp_path):
    """The check can fail: a report with an image from elsewhere (a port nothing listens on) and an image that
    does not decode is caught on both counts, although the page's policy refuses the request."""
    check = _check_report_script()
    run = _synthetic_run(tmp_path / "run")
    page = write_report(run).read_text()
    injected = '<img src="http://127.0.0.1:9/leak.png" alt="leak"><img src="data:image/png;base64,AAAA" alt="bad">'
    (run / REPORT_FILE).write_text(page.replace("<h2>Figures</h2>", "<h2>Figures</h2>" + injected))
    rendering = check.render(run / REPORT_FILE)
    failures = " ".join(rendering.failures(png_count=2))
    assert "http://127.0.0.1:9/leak.png" in rendering.outside_requests
    assert "requests that left the page" in failures and "did not decode" in failures
    assert "4 images on the page, 2 PNG files" in failures
    assert rendering.verdict == "FAILED: tolerance not met"
