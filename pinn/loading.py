"""Import a problem file and return its ``problem``, turning every mistake in it into one clear message."""
from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path

from pinn.problem import Problem


class UserError(Exception):
    """A mistake of the user's (problem file, option, folder): reported in one paragraph, exit status 2."""


def load_problem(path: str | Path) -> Problem:
    """Execute the problem file at ``path`` and return the :class:`Problem` it defines as ``problem``."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"problem file {path} does not exist")
    if path.suffix != ".py":
        raise UserError(f"problem file {path} must be a Python file ending in .py")
    module_name = f"pinn_problem_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    # Kept under its name once loaded: dataclasses, pickling and torch.compile look modules up by name.
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
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
    problem = getattr(module, "problem", None)
    if problem is None:
        raise UserError(f"problem file {path} does not define `problem`; it must end with `problem = pinn.Problem(...)`")
    if not isinstance(problem, Problem):
        raise UserError(f"problem file {path}: `problem` must be a pinn.Problem, got {type(problem).__name__}")
    return problem


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
