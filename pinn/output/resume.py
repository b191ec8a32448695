"""What ``--resume`` checks and reads back: the run is of this problem, its settings still apply, and
its checkpoint and history can be read and fit the trainer. Each refusal is one paragraph (UserError).

A run started from a problem defined in Python (``pinn.fit(problem)``, no file) records no file and no
hash (``problem_file`` null in config.json). Resuming it with a problem defined in Python checks what
can be checked: the same name, inputs and outputs, the saved settings accepted, the checkpoint fitting
the network; that the problem's functions are unchanged is the caller's to ensure. A run started from a
file is resumed from a file only (its hash is checked); a run started without one can be resumed from
a file with ``--force-resume``.
"""
from __future__ import annotations

import uuid
from pathlib import Path

from pinn.loading import ProblemSource, UserError
from pinn.output.files import CorruptFileError, load_checkpoint, read_history
from pinn.output.folder import RunFolder, same_run
from pinn.overrides import apply_overrides
from pinn.declaration import Declaration
from pinn.pde.problem import Problem


def check_same_problem(saved: dict, problem: Problem, source: ProblemSource | None, out: Path, force: bool) -> None:
    """--resume continues only the problem that started the run: same declaration, same file."""
    ours = problem.identity() if isinstance(problem, Declaration) else {
        "problem": problem.name, "inputs": list(problem.inputs), "outputs": list(problem.outputs)}
    theirs = {key: saved.get(key) for key in ours}
    without_file = "problem_file" in saved and saved["problem_file"] is None  # started by pinn.fit(problem)
    started_from = "a problem defined in Python" if without_file else saved.get("problem_file", "its own problem file")
    given = "the problem given" if source is None else source.path
    if theirs != ours:
        raise UserError(f"--resume: {out} holds a run of problem {theirs['problem']!r} ({_facts(theirs)}), not of "
                        f"{given} ({problem.name!r}, {_facts(ours)}); resume it with its own problem file, the "
                        f"one it was started from ({started_from}), or choose another --out")
    if source is None:
        if not without_file:
            raise UserError(f"--resume: the run in {out} was started from the problem file {started_from}, and a "
                            "problem defined in Python cannot be checked against it; resume it from that file "
                            f"(pinn.fit({str(started_from)!r}, out=..., resume=True), or python -m pinn.solve), or "
                            "start a new run with overwrite=True or another out")
        return
    recorded = saved.get("problem_sha256")
    if recorded == source.sha256 or force:
        return
    if without_file:
        raise UserError(f"--resume: the run in {out} was started from a problem defined in Python, not from a file, "
                        f"so it cannot be checked that {source.path} is the problem it ran; pass --force-resume to "
                        "continue with this file, or start a new run with --overwrite or another --out")
    if recorded is None:
        raise UserError(f"--resume: the run in {out} records no hash of its problem file (an older pinn made it), so "
                        f"it cannot be checked that {source.path} is the file it ran; pass --force-resume to continue "
                        "with this file, or start a new run with --overwrite or another --out")
    raise UserError(f"--resume: {source.path} (or a module it imports) has changed since the run in {out} started "
                    f"(sha256 {recorded[:12]} then, {source.sha256[:12]} now), so resuming would continue a "
                    "different problem from the saved state; pass --force-resume to continue with the file as it "
                    "is now (the folder then keeps the new copy), or start a new run with --overwrite or another "
                    "--out")


def _facts(identity: dict) -> str:
    """``inputs ['x', 't'], outputs ['u']``: what identifies a run besides its name."""
    return ", ".join(f"{key} {value}" for key, value in identity.items() if key != "problem")


def saved_overrides(problem: Problem, folder: RunFolder, saved: dict) -> dict:
    """The ``--set`` settings a run was started with, as its config.json holds them; a UserError if this
    problem does not accept them (the file was edited, or written by something else)."""
    try:
        apply_overrides(problem, saved["overrides"])
    except (ValueError, TypeError) as err:
        raise UserError(f"--resume: {folder.config} holds settings this problem does not accept ({err}); start the "
                        "run again with --overwrite") from None
    return saved["overrides"]


def resumed_run_id(folder: RunFolder, state: dict) -> str:
    """The run's id, the same in config.json and the checkpoint; a UserError if they differ."""
    config = folder.saved_config()
    if not same_run(config, state):
        raise UserError(f"--resume: config.json and checkpoint.pt in {folder.path} belong to different runs, as "
                        "when a run was replaced by hand or a writer was killed while another wrote; start the run "
                        "again with --overwrite")
    return config.get("run_id") or uuid.uuid4().hex  # a run made before runs had ids gets one now


def checkpoint(folder: RunFolder) -> dict:
    """The folder's checkpoint (on the CPU), or a UserError saying why it cannot be read."""
    try:
        return load_checkpoint(folder.checkpoint)
    except (CorruptFileError, FileNotFoundError) as err:
        raise UserError(f"--resume: {err}; the run cannot be resumed: start it again with --overwrite") from None


def resume_trainer(trainer, folder: RunFolder, state: dict) -> None:
    """Continue ``trainer`` from ``state``, or explain in one paragraph why it cannot."""
    try:
        trainer.load_state_dict(state)
    except KeyError as err:
        raise UserError(f"--resume: {folder.checkpoint} is not a complete pinn checkpoint ({err.args[0]}); "
                        "start the run again with --overwrite") from None
    except (ValueError, RuntimeError, TypeError) as err:
        detail = " ".join(line.strip() for line in str(err).splitlines()[:3])
        raise UserError(f"--resume: the checkpoint in {folder.path} does not fit this problem and settings "
                        f"({detail}); resume with the settings the run was started with (no new --set net.* "
                        "or --dtype), or start a new run with --overwrite or another --out") from None


def resumed_history(folder: RunFolder, step: int) -> list[dict]:
    """The rows of history.csv up to the checkpoint's step (later ones are trained again)."""
    if not folder.history.exists():
        return []
    try:
        return [row for row in read_history(folder.history) if row["step"] <= step]
    except CorruptFileError as err:
        raise UserError(f"--resume: {err}; delete it to resume without the earlier history") from None
