"""Import a problem file and return its ``problem``, turning every mistake in it into one clear message.

The file runs with its own folder on the import path, so it can import helper modules beside it
(a user's own reference solver, say); :func:`load_problem_source` also returns the exact text that
ran and those local modules, so a run folder can keep everything the run depended on.
"""
from __future__ import annotations

import hashlib
import sys
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path

from pinn.declaration import Declaration
from pinn.pde.problem import Problem


class UserError(Exception):
    """A mistake of the user's (problem file, option, folder): reported in one paragraph, exit status 2."""


@dataclass(frozen=True)
class ProblemSource:
    """What a problem file was when it ran: its text and the local modules it imported.

    Attributes:
        path: the problem file.
        text: its bytes, exactly as executed.
        modules: the modules it imported from its own folder (or below), by path relative to
            that folder, with their bytes; the framework itself is never included.
    """

    path: Path
    text: bytes
    modules: dict[str, bytes] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        """One hash of the file and its local modules: a change to any of them changes it."""
        digest = hashlib.sha256(self.text)
        for name in sorted(self.modules):
            digest.update(b"\0" + name.encode() + b"\0" + self.modules[name])
        return digest.hexdigest()


def load_problem(path: str | Path) -> Problem | Declaration:
    """Execute the problem file at ``path`` and return the :class:`Problem` it defines as ``problem``."""
    return load_problem_source(path)[0]


def load_problem_source(path: str | Path) -> tuple[Problem | Declaration, ProblemSource]:
    """:func:`load_problem`, and the :class:`ProblemSource` that ran."""
    path = Path(path)
    try:
        exists = path.is_file()
    except OSError as err:  # a name longer than the file system allows, a folder without search permission
        raise UserError(f"problem file {path}: {err.strerror or err}") from None
    if not exists:
        raise UserError(f"problem file {path} does not exist")
    if path.suffix != ".py":
        raise UserError(f"problem file {path} must be a Python file ending in .py")
    try:
        text = path.read_bytes()
    except OSError as err:
        raise UserError(f"problem file {path} cannot be read: {err.strerror or err}") from None
    folder = path.resolve().parent
    module_name = f"pinn_problem_{abs(hash(str(path.resolve())))}"
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    # Kept under its name once loaded: dataclasses, pickling and torch.compile look modules up by name.
    sys.modules[module_name] = module
    sys.path.insert(0, str(folder))  # helpers beside the file import as they do when it runs from its folder
    try:
        # Compiled from the bytes read above, so the hash and the copy in the run folder are what ran.
        exec(compile(text, str(path), "exec"), module.__dict__)
    except SyntaxError as err:
        sys.modules.pop(module_name, None)
        raise UserError(f"problem file {path} has a syntax error at line {err.lineno}: {err.msg}"
                        f"{': ' + err.text.strip() if err.text else ''}") from None
    except Exception as err:  # anything the user's file raised while it ran
        sys.modules.pop(module_name, None)
        raise UserError(f"problem file {path}{_where(err, path)}: {err}") from None
    except KeyboardInterrupt:  # Ctrl-C while the file runs: the run is interrupted, not mistaken
        sys.modules.pop(module_name, None)
        raise
    except BaseException as err:  # sys.exit() and the like: a problem file must not choose the exit status
        sys.modules.pop(module_name, None)
        raise UserError(f"problem file {path}{_where(err, path)}: {describe_exit(err)} while the file ran; a problem "
                        "file must define `problem`, not end the process") from None
    finally:
        sys.path.remove(str(folder))
    problem = getattr(module, "problem", None)
    if problem is None:
        raise UserError(f"problem file {path} does not define `problem`; it must end with `problem = pinn.Problem(...)`")
    if not isinstance(problem, (Problem, Declaration)):
        raise UserError(f"problem file {path}: `problem` must be a pinn.Problem (or another family's declaration, "
                        f"such as pinn.Dynamics), got {type(problem).__name__}")
    return problem, ProblemSource(path, text, _local_modules(folder, module_name))


def _local_modules(folder: Path, problem_module: str) -> dict[str, bytes]:
    """The source files of the imported modules that live in ``folder`` or below it (not pinn's own)."""
    found = {}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        top = name.split(".")[0]
        if (not file or not file.endswith(".py") or name == problem_module or top == "pinn"
                or top.startswith("pinn_problem_")):  # other problem files loaded in this process
            continue
        # Local means imported from the folder itself: an installed package that merely lies below it
        # (a virtual environment in the same folder, say) is found elsewhere on the path.
        if not ((folder / f"{top}.py").is_file() or (folder / top).is_dir()):
            continue
        resolved = Path(file).resolve()
        if resolved.is_relative_to(folder) and resolved.is_file():
            found[resolved.relative_to(folder).as_posix()] = resolved.read_bytes()
    return found


def _where(err: Exception, path: Path) -> str:
    """' (line N)' for the deepest frame of the traceback inside the problem file."""
    lines = [frame.lineno for frame in traceback.extract_tb(err.__traceback__)
             if Path(frame.filename).resolve() == path.resolve()]
    return f" (line {lines[-1]})" if lines else ""


def describe_exit(err: BaseException) -> str:
    """How user code tried to end the process: ``sys.exit(0) was called`` (SystemExit) or the exception's type."""
    if isinstance(err, SystemExit):
        return f"sys.exit({'' if err.code is None else repr(err.code)}) was called"
    return f"{type(err).__name__} was raised"
