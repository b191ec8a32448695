"""The run folder: which folder a run may use, an exclusive lock while it writes, and replacing an
old run only once the new one has something to show.

Nothing a user types may destroy data: ``--overwrite`` replaces only a folder that is empty or holds
a pinn run and nothing else, never the working directory or a folder above it, the folder of the
problem file, the home folder or ``/``. The old run is moved aside, not deleted, and removed only
after the new run has written its first checkpoint; a run that fails before that puts it back.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import sys
import time
from pathlib import Path

from pinn.output.files import TEMPORARY_SUFFIX, CorruptFileError, read_json
from pinn.loading import UserError

try:  # POSIX; elsewhere runs are not locked (logged once per run)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

logger = logging.getLogger(__name__)

LOCK_FILE = ".lock"
"""Who holds the folder (process, host, start, command): written while a run writes, removed after."""

RUN_FILES = frozenset({"config.json", "metrics.json", "history.csv", "checkpoint.pt", "solution.h5", "problem.py",
                       "solution.xdmf", "solution.xdmf.h5", "report.html", "plots", "model_graph.pt", "error.log",
                       LOCK_FILE, ".write-test"})
"""Every name a run writes at the top of its folder (local modules of the problem come from config.json)."""


class RunFolder:
    """The files of one run: config.json, problem.py, history.csv, checkpoint.pt, solution.h5,
    report.html, metrics.json and plots/."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.config = self.path / "config.json"
        self.metrics = self.path / "metrics.json"
        self.history = self.path / "history.csv"
        self.checkpoint = self.path / "checkpoint.pt"
        self.solution = self.path / "solution.h5"
        self.xdmf = self.path / "solution.xdmf"  # for ParaView; its numbers in xdmf_data
        self.xdmf_data = self.path / "solution.xdmf.h5"
        self.problem_copy = self.path / "problem.py"
        self.plots = self.path / "plots"
        self.report = self.path / "report.html"
        self._lock: _Lock | None = None
        self._replaced: Path | None = None  # the old run, moved aside by --overwrite

    def saved_config(self) -> dict:
        if not self.config.is_file() or not self.checkpoint.is_file():
            raise UserError(f"--resume: {self.path} holds no run to resume (config.json and checkpoint.pt are needed)")
        try:
            config = read_json(self.config)
        except CorruptFileError as err:
            raise UserError(f"--resume: {err}; the run cannot be resumed: start it again with --overwrite") from None
        if not isinstance(config, dict):
            raise UserError(f"--resume: {self.config} does not hold a run configuration; start the run again with "
                            "--overwrite")
        fault = _config_fault(config)
        if fault is not None:
            raise UserError(f"--resume: {self.config} is not a run configuration pinn wrote ({fault}); the run cannot "
                            "be resumed: start the run again with --overwrite")
        return config

    def remove_leftovers(self) -> None:
        """Remove what a killed or failed run may leave behind: half-written temporary files (figures'
        too), its ``error.log``, and the ``metrics.json`` and ``report.html`` of an earlier completion that
        the resumed run will replace."""
        for path in [*self.path.glob(f".*{TEMPORARY_SUFFIX}"), *self.plots.glob(f".*{TEMPORARY_SUFFIX}")]:
            path.unlink(missing_ok=True)
        self.metrics.unlink(missing_ok=True)
        self.report.unlink(missing_ok=True)
        (self.path / "error.log").unlink(missing_ok=True)  # the fault it tells of is being resumed past

    def check(self, resume: bool, overwrite: bool, problem_file: Path | None = None) -> None:
        """Raise a UserError if the folder cannot be used as asked; change nothing."""
        try:
            self._check(resume, overwrite, problem_file)
        except OSError as err:  # e.g. a parent folder without search permission
            raise UserError(f"cannot use the run folder {self.path}: {err.strerror or err}; choose another --out") \
                from None

    def _check(self, resume: bool, overwrite: bool, problem_file: Path | None) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise UserError(f"--out {self.path} exists and is not a folder; choose another --out")
        occupied = self.path.is_dir() and any(self.path.iterdir())
        if not resume and not overwrite and occupied:
            raise UserError(f"run folder {self.path} already exists and is not empty; pass --resume to "
                            "continue that run, --overwrite to replace it, or choose another --out")
        if overwrite and not resume and occupied:
            self._check_replaceable(problem_file)
        if resume and self.plots.is_symlink():
            raise UserError(f"--resume: {self.plots} is a symbolic link; a run writes only inside its own folder: "
                            "replace the link by a folder, or start the run again elsewhere")
        parent = self.path.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise UserError(f"cannot write the run folder {self.path}: {parent} is a file; choose another --out")
        if not os.access(self.path if self.path.exists() else parent, os.W_OK | os.X_OK):
            raise UserError(f"cannot write the run folder {self.path}: permission denied; choose another --out")

    def _check_replaceable(self, problem_file: Path | None) -> None:
        """--overwrite of a non-empty folder: only a run folder, and none that holds the user's work."""
        target = self.path.resolve()
        protected = {Path("/").resolve(): "the root folder", Path.home().resolve(): "your home folder"}
        for place, what in protected.items():
            if target == place:
                raise UserError(f"--overwrite refuses to replace {self.path}: it is {what}; choose another --out")
        cwd = Path.cwd().resolve()
        if cwd.is_relative_to(target):
            raise UserError(f"--overwrite refuses to replace {self.path}: it is the working directory or a folder "
                            "above it; choose another --out")
        if problem_file is not None and problem_file.resolve().parent.is_relative_to(target):
            raise UserError(f"--overwrite refuses to replace {self.path}: it holds the problem file {problem_file}; "
                            "copy the file elsewhere or choose another --out")
        if self.path.is_symlink():
            raise UserError(f"--overwrite refuses to replace {self.path}: it is a symbolic link; choose another --out")
        foreign = self.foreign_entries()
        if foreign:
            listed = ", ".join(sorted(foreign)[:5]) + (", ..." if len(foreign) > 5 else "")
            raise UserError(f"--overwrite replaces only a pinn run folder, and {self.path} holds other files "
                            f"({listed}); move them or choose another --out")

    def foreign_entries(self) -> list[str]:
        """The entries at the top of the folder that no run wrote (all of them if it holds no run)."""
        names = [p.name for p in self.path.iterdir() if not p.name.endswith(TEMPORARY_SUFFIX)]
        try:
            config = read_json(self.config)
        except (CorruptFileError, FileNotFoundError):
            config = None
        if not isinstance(config, dict) or "problem" not in config:
            # A run killed before its configuration was written leaves at most an empty plots/ folder
            # and the note of its lock.
            empty_plots = self.plots.is_dir() and not any(self.plots.iterdir())
            return [n for n in names if n not in (LOCK_FILE, ".write-test") and not (n == "plots" and empty_plots)]
        local = {Path(str(m)).parts[0] for m in config.get("local_modules", []) if isinstance(m, str) and m}
        return [n for n in names if n not in RUN_FILES and n not in local]

    def acquire(self) -> None:
        """Lock an existing folder for this process; a UserError names the process that holds it."""
        if self._lock is None and self.path.is_dir():
            self._lock = _Lock.take(self.path)

    def prepare(self, resume: bool, overwrite: bool, problem_file: Path | None = None) -> None:
        """Create (or, with ``overwrite``, replace) the folder and lock it; UserError if it is not usable."""
        self.check(resume, overwrite, problem_file)
        self.acquire()
        if not resume and overwrite and self.path.is_dir() and any(self.path.iterdir()):
            self._move_aside()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.acquire()
            probe = self.path / ".write-test"
            probe.write_text("")
            probe.unlink()
            self.plots.mkdir(exist_ok=True)
            self._lock.describe()
        except OSError as err:
            self.restore_replaced()
            raise UserError(f"cannot write the run folder {self.path}: {err.strerror or err}") from None

    def _move_aside(self) -> None:
        aside = self.path.with_name(f".{self.path.name}.replaced-{os.getpid()}-{int(time.time())}")
        os.rename(self.path, aside)  # same parent, so atomic: the old run is whole here or there
        self._lock.release()
        self._lock = None
        self._replaced = aside
        logger.debug("moved the old run in %s aside to %s until the new run has a checkpoint", self.path, aside)

    @property
    def replacing(self) -> bool:
        """Whether an old run waits aside for this one's first checkpoint (and comes back if it fails)."""
        return self._replaced is not None

    def discard_replaced(self) -> None:
        """The new run has a checkpoint: remove the old run it replaces."""
        if self._replaced is not None:
            shutil.rmtree(self._replaced, ignore_errors=True)
            self._replaced = None

    def restore_replaced(self) -> None:
        """The new run failed before its first checkpoint: put the old run back as it was."""
        if self._replaced is None:
            return
        self.release()
        shutil.rmtree(self.path, ignore_errors=True)
        os.rename(self._replaced, self.path)
        self._replaced = None

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


class _Lock:
    """An exclusive ``flock`` on the folder itself (released by the kernel if the process dies), and
    a note of who holds it, for the message a second writer gets."""

    def __init__(self, folder: Path, descriptor: int | None) -> None:
        self.folder = folder
        self.descriptor = descriptor

    @classmethod
    def take(cls, folder: Path) -> "_Lock":
        if fcntl is None:  # pragma: no cover
            logger.warning("run folders cannot be locked on this platform; do not run two writers on %s", folder)
            return cls(folder, None)
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise UserError(f"run folder {folder} is in use by {_holder(folder)}; wait for it to finish or stop it "
                            "(Ctrl-C saves a checkpoint), or choose another --out") from None
        return cls(folder, descriptor)

    def describe(self) -> None:
        note = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                "command": " ".join(sys.argv)}
        (self.folder / LOCK_FILE).write_text(json.dumps(note) + "\n")

    def release(self) -> None:
        if self.descriptor is None:
            return
        (self.folder / LOCK_FILE).unlink(missing_ok=True)
        os.close(self.descriptor)  # closing the descriptor releases the flock
        self.descriptor = None


def _holder(folder: Path) -> str:
    try:
        note = json.loads((folder / LOCK_FILE).read_text())
        return f"process {note['pid']} on {note['host']} (started {note['started']}: {note['command']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another pinn process"


def _config_fault(config: dict) -> str | None:
    """What is wrong with the shape of a config.json read for a resume (None if nothing): the entries a
    resume reads must be there, of their types."""
    names = ("inputs", "outputs") if "family" not in config else ()  # another family identifies itself otherwise
    for key in ("problem", *names, "overrides"):
        if key not in config:
            return f"it has no {key!r}"
    if not isinstance(config["problem"], str):
        return f"'problem' must be a name, got {type(config['problem']).__name__}"
    for key in names:
        if not isinstance(config[key], list) or not all(isinstance(name, str) for name in config[key]):
            return f"{key!r} must be a list of names, got {config[key]!r}"
    overrides = config["overrides"]
    if not isinstance(overrides, dict):
        return f"'overrides' must be a dict of settings, got {type(overrides).__name__}"
    for key, value in overrides.items():
        if not (value is None or isinstance(value, (str, int, float, bool))):
            return f"the override {key!r} has a value of type {type(value).__name__}"
    return None


def same_run(config: dict, checkpoint: dict) -> bool:
    """Whether a config.json and a checkpoint were written by the same run (both carry its id;
    runs made before ids existed carry none, and match only each other)."""
    stamp = checkpoint.get("run")
    return config.get("run_id") == (stamp.get("id") if isinstance(stamp, dict) else None)
