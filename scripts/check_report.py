"""Render a run's report.html in headless Chromium and prove three things: the page shows the verdict,
every <img> decoded (``complete`` and ``naturalWidth > 0``), and no request left the page (nothing but
the page itself and its ``data:`` images was requested).

    python scripts/check_report.py                      # a short run of problems/heat.py, in a temporary folder
    python scripts/check_report.py RUN_FOLDER           # the report of a finished run (built if missing)
    python scripts/check_report.py --screenshot docs/images/report-heat.png

Chromium (Debian's ``chromium``, /usr/bin/chromium) is driven through the DevTools protocol over
``--remote-debugging-pipe``: JSON messages separated by NUL bytes on file descriptors 3 (to the browser)
and 4 (from it), so only the standard library is needed (no websocket, no browser download). The
page's Network events record every request it makes, whatever happens to the request afterwards
(the report's Content-Security-Policy would refuse one; it is counted all the same).

Exit status 0 when all three hold, 1 when one fails (each failure printed), 2 when Chromium or the run
folder is missing.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
WINDOW = (1200, 3000)
SCREENSHOT_LIMIT = 300_000  # bytes: a screenshot kept in the docs
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", f"--window-size={WINDOW[0]},{WINDOW[1]}"]
# The short heat run: enough for every figure, a few seconds on a CPU.
HEAT_RUN = ["problems/heat.py", "--quiet", "--steps", "12", "--set", "sampling.interior=256",
            "--set", "checks.check_every=4"]

# Read in the page once it has loaded: the verdict's text, and each image's state.
PAGE_FACTS = """JSON.stringify({
  verdict: (document.getElementById('verdict') || {}).textContent || null,
  images: Array.from(document.images).map(img => ({
    alt: img.alt, complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
    scheme: img.currentSrc.split(':')[0]}))
})"""


@dataclass
class Rendering:
    """What Chromium saw of the page."""

    url: str
    verdict: str | None
    images: list[dict]
    requests: list[str] = field(default_factory=list)
    screenshot: bytes | None = None

    @property
    def outside_requests(self) -> list[str]:
        """Requests other than the page itself and its ``data:`` URIs: each would have left the page."""
        return [u for u in self.requests if u != self.url and not u.startswith("data:")]

    def failures(self, png_count: int | None = None) -> list[str]:
        """What is wrong (empty: the three promises hold); ``png_count``: the figures the page must show."""
        found = []
        if not self.verdict or not self.verdict.strip().startswith(("PASSED", "FAILED")):
            found.append(f"no verdict shown (got {self.verdict!r})")
        broken = [i["alt"] for i in self.images if not (i["complete"] and i["naturalWidth"] > 0)]
        if broken:
            found.append(f"images that did not decode: {broken}")
        if png_count is not None and len(self.images) != png_count:
            found.append(f"{len(self.images)} images on the page, {png_count} PNG files in the folder")
        if self.outside_requests:
            found.append(f"requests that left the page: {self.outside_requests}")
        return found


class DevTools:
    """The Chrome DevTools protocol over ``--remote-debugging-pipe`` (NUL-separated JSON on fds 3 and 4)."""

    def __init__(self, chromium: str, profile: Path) -> None:
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()
        # bash puts the pipe ends on descriptors 3 and 4, where Chromium expects them, then becomes Chromium
        # (through 100 and 101: either end may itself be 3 or 4 here).
        placed = (f'exec "$0" "$@" 100<&{to_browser_read} 101>&{from_browser_write} 3<&100 4>&101 '
                  '100<&- 101>&-')
        self.process = subprocess.Popen(
            ["bash", "-c", placed, chromium, *CHROMIUM_FLAGS, "--remote-debugging-pipe",
             f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(to_browser_read, from_browser_write), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30.0) -> dict:
        """Call ``method`` and return its result; events that arrive meanwhile are kept in ``events``."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise RuntimeError(f"Chromium is not running (exit status {self.process.wait()})") from None
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = 30.0) -> dict:
        """The first event ``method`` of ``session`` (already received or to come)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            self.events.append(self._receive(deadline))

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._from_browser], [], [], remaining)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium closed the pipe (exit status {self.process.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


def render(page: Path, chromium: str = CHROMIUM, screenshot: bool = False, timeout: float = 60.0) -> Rendering:
    """Load ``page`` in headless Chromium (a fresh profile), record its requests, and read its verdict and
    images once it has loaded (and a PNG screenshot of the window, if asked)."""
    url = Path(page).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="pinn-chromium-") as profile:
        browser = DevTools(chromium, Path(profile))
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"}, timeout=timeout)["targetId"]
            session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            browser.send("Network.enable", session=session)
            browser.send("Page.enable", session=session)
            browser.send("Emulation.setDeviceMetricsOverride", {"width": WINDOW[0], "height": WINDOW[1],
                                                                 "deviceScaleFactor": 1, "mobile": False},
                         session=session)
            browser.send("Page.navigate", {"url": url}, session=session)
            browser.wait_for("Page.loadEventFired", session, timeout=timeout)
            facts = browser.send("Runtime.evaluate", {"expression": PAGE_FACTS, "returnByValue": True},
                                 session=session)["result"]["value"]
            facts = json.loads(facts)
            shot = None
            if screenshot:
                shot = base64.b64decode(browser.send("Page.captureScreenshot", {"format": "png"},
                                                     session=session)["data"])
            requests = [e["params"]["request"]["url"] for e in browser.events
                        if e.get("method") == "Network.requestWillBeSent" and e.get("sessionId") == session]
        finally:
            browser.close()
    return Rendering(url=url, verdict=facts["verdict"], images=facts["images"], requests=requests, screenshot=shot)


def save_small(png: bytes, path: Path, limit: int = SCREENSHOT_LIMIT) -> int:
    """Write the screenshot ``png`` to ``path``, halved in size until it takes at most ``limit`` bytes;
    returns its size."""
    import io

    from PIL import Image  # installed with matplotlib

    image = Image.open(io.BytesIO(png)).convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        buffer = io.BytesIO()
        image.quantize(colors=128).save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= limit or image.width < 300:
            path.write_bytes(buffer.getvalue())
            return buffer.tell()
        image = image.resize((image.width * 3 // 4, image.height * 3 // 4), Image.LANCZOS)


def short_heat_run(out: Path) -> None:
    """A short run of problems/heat.py into ``out`` (its report written by the run itself)."""
    subprocess.run([sys.executable, "-m", "pinn.solve", *HEAT_RUN, "--out", str(out)], cwd=ROOT, check=False,
                   stdout=subprocess.DEVNULL)
    if not (out / "metrics.json").is_file():
        raise RuntimeError(f"the short heat run did not finish in {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", nargs="?", type=Path, help="a finished run folder (default: a short heat run)")
    parser.add_argument("--screenshot", type=Path, help="save a screenshot of the page here (PNG, < 300 KB)")
    parser.add_argument("--chromium", default=CHROMIUM, help=f"the browser (default {CHROMIUM})")
    args = parser.parse_args(argv)
    if not Path(args.chromium).is_file() and shutil.which(args.chromium) is None:
        print(f"error: no Chromium at {args.chromium} (apt-get install chromium)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pinn-report-") as scratch:
        run = args.run
        if run is None:
            run = Path(scratch) / "heat"
            short_heat_run(run)
        if not (run / "metrics.json").is_file():
            print(f"error: {run} is not a finished run folder (no metrics.json)", file=sys.stderr)
            return 2
        from pinn.output.report import REPORT_FILE, figures, write_report

        page = run / REPORT_FILE
        if not page.is_file():
            write_report(run)
        rendering = render(page, args.chromium, screenshot=args.screenshot is not None)
        failures = rendering.failures(png_count=len(figures(run)))
        print(f"verdict shown: {rendering.verdict!r}")
        print(f"images decoded: {sum(i['naturalWidth'] > 0 for i in rendering.images)} of {len(rendering.images)} "
              f"({', '.join(i['alt'] for i in rendering.images)})")
        print(f"requests: {len(rendering.requests)} ({len(rendering.outside_requests)} outside the page)")
        if args.screenshot is not None and rendering.screenshot:
            size = save_small(rendering.screenshot, args.screenshot)
            print(f"screenshot: {args.screenshot} ({size // 1000} KB)")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
