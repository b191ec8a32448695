"""The catalogue of user mistakes caught before a run starts (README: "Mistakes caught before a run
starts"). Each exits with status 2 and one line naming the fault and the fix, shows no traceback,
and leaves no run folder behind (an existing one is left exactly as it was)."""
from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
import torch

from pinn.solve import main

from conftest import TINY_PROBLEM, run_cli

INITIAL = '"initial": pinn.Initial(lambda x: torch.sin(pi * x)),'
HEAT = "return f.u_t - 0.1 * f.u_xx"
EXACT = "return torch.exp(-0.1 * pi**2 * t) * torch.sin(pi * x)"
REFERENCE = "reference=pinn.references.analytic(exact, resolution=21)"
GRID = 'reference=pinn.references.GridReference({{"x": {x}, "t": {t}}}, {{"u": torch.ones(5, 5)}})'


@dataclass(frozen=True)
class Mistake:
    """One user mistake: how to make it, and what the message must say (the fault, then the fix)."""

    expect: tuple[str, ...]
    replace: tuple[str, str] | None = None  # an edit of the tiny problem file; {tmp} is the test's folder
    options: tuple[str, ...] = ()  # command-line options after the problem file; {tmp} as above
    setup: Callable[[Path], None] | None = None  # makes the files the mistake needs in {tmp}
    out: str = "run"  # the --out folder, in {tmp}
    problem: str | None = "problem.py"  # the problem file given, in {tmp}


def _data_csv(header: str) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        (tmp / "data.csv").write_text(f"{header}\n0.5,0.5,0.1\n0.25,0.5,0.2\n")

    return setup


def _corrupt_hdf5(tmp: Path) -> None:
    (tmp / "data.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)  # an HDF5 signature, then nothing


def _finished_run(name: str = "tiny", corrupt: Callable[[Path], None] | None = None) -> Callable[[Path], None]:
    """A finished run of the tiny problem (renamed ``name``) in {tmp}/run, then ``corrupt``-ed."""

    def setup(tmp: Path) -> None:
        source = tmp / "finished.py"
        source.write_text(textwrap.dedent(TINY_PROBLEM.replace('name="tiny"', f'name="{name}"')))
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("pinn.output.figures.run_plots", lambda *args, **kwargs: None)
            assert main([str(source), "--out", str(tmp / "run"), "--quiet"]) == 0
        if corrupt is not None:
            corrupt(tmp / "run")

    return setup


def _truncate_checkpoint(run: Path) -> None:
    checkpoint = run / "checkpoint.pt"
    checkpoint.write_bytes(checkpoint.read_bytes()[:200])


def _corrupt_config(run: Path) -> None:
    (run / "config.json").write_text('{"problem": "tiny", "inputs": ')


def _edited_config(edit: Callable[[dict], object]) -> Callable[[Path], None]:
    """A finished run whose config.json is valid JSON of the wrong shape: ``edit`` changes the dict in place,
    or returns what replaces it."""

    def corrupt(run: Path) -> None:
        config = json.loads((run / "config.json").read_text())
        replaced = edit(config)
        (run / "config.json").write_text(json.dumps(config if replaced is None else replaced))

    return _finished_run(corrupt=corrupt)


def _non_empty_out(tmp: Path) -> None:
    (tmp / "run").mkdir()
    (tmp / "run" / "notes.txt").write_text("mine")


def _a_file(tmp: Path) -> None:
    (tmp / "file").write_text("mine")


def _locked_folder(tmp: Path) -> None:
    (tmp / "locked").mkdir(mode=0o500)


def _data_file(text: str | bytes, name: str = "data.csv") -> Callable[[Path], None]:
    """Writes {tmp}/name holding ``text`` (bytes as they are, text as UTF-8)."""

    def setup(tmp: Path) -> None:
        (tmp / name).write_bytes(text if isinstance(text, bytes) else text.encode())

    return setup


def _hdf5(**columns: object) -> Callable[[Path], None]:
    """Writes {tmp}/data.h5 with one dataset per keyword (any numpy dtype, text or complex included)."""

    def setup(tmp: Path) -> None:
        import h5py
        import numpy as np

        with h5py.File(tmp / "data.h5", "w") as handle:
            for name, values in columns.items():
                handle[name] = np.asarray(values)

    return setup


def _with_data(source: str) -> tuple[str, str]:
    """The edit of the tiny problem that adds ``source`` as its condition "data"."""
    return INITIAL, INITIAL + f'\n        "data": {source},'


CATALOGUE: dict[str, Mistake] = {
    # ---- the problem file
    "problem file missing": Mistake(("problem file", "nowhere.py does not exist"), problem="nowhere.py"),
    "problem file not Python": Mistake(("must be a Python file ending in .py",), problem="problem.txt",
                                       setup=lambda tmp: (tmp / "problem.txt").write_text("x = 1\n")),
    "syntax error": Mistake(("has a syntax error at line 9", "expected ':'"), replace=("def heat(f):", "def heat(f)")),
    "exception while the file runs": Mistake(("(line 9)", "name 'undefined_name' is not defined"),
                                             replace=("def heat(f):", "undefined_name\ndef heat(f):")),
    "no `problem`": Mistake(("does not define `problem`", "it must end with `problem = pinn.Problem(...)`"),
                            replace=("problem = pinn.Problem(", "other = pinn.Problem(")),
    "`problem` of the wrong type": Mistake(("`problem` must be a pinn.Problem (or another family's declaration", "got dict"),
                                           replace=("problem = pinn.Problem(", "problem = dict(")),
    "argument of the wrong type": Mistake(("domain must be a pinn geometry", "(e.g. pinn.Rectangle), got str"),
                                          replace=("    domain=domain,", '    domain="square",')),
    "setting of the wrong type": Mistake(("Adam steps must be a whole number >= 0", "got '8'"),
                                         replace=("pinn.Adam(8)", 'pinn.Adam("8")')),
    "inputs that do not match the domain": Mistake(("the domain has 2 dimension(s) but there are 3 inputs",),
                                                   replace=('inputs="x t"', 'inputs="x y t"')),
    "output name with an underscore": Mistake(("output name 'u_1' contains '_'", "reserved for derivatives"),
                                              replace=('outputs="u"', 'outputs="u_1"')),
    "unknown field name": Mistake(("residual 'heat': unknown field name 'w_xx'", "outputs are u"),
                                  replace=(HEAT, "return f.u_t - 0.1 * f.w_xx")),
    "unknown derivative name": Mistake(("unknown field name 'u_xz'", "inputs are x, t",
                                        "derivatives are written <output>_<inputs>"),
                                       replace=(HEAT, "return f.u_t - 0.1 * f.u_xz")),
    "residual of the wrong shape": Mistake(("residual 'heat' must return one value per point, shape (8,)",
                                            "returned shape (3,)"), replace=(HEAT, f"return ({HEAT[7:]})[:3]")),
    "residual of the wrong dtype": Mistake(("residual 'heat' must return floating-point values", "dtype torch.bool"),
                                           replace=(HEAT, f"return ({HEAT[7:]}) > 0")),
    "residual that is not a tensor": Mistake(("residual 'heat' must return a torch tensor",),
                                             replace=(HEAT, "return 1.0")),
    "NaN condition value": Mistake(("Dirichlet value must be a finite number or a function", "got nan"),
                                   replace=("Dirichlet(space.boundary, 0.0)", 'Dirichlet(space.boundary, float("nan"))')),
    "condition function NaN somewhere": Mistake(
        ("condition 'initial': its value is NaN or infinite at some points (e.g. at x=",
         "make it finite wherever the condition applies"),
        replace=("pinn.Initial(lambda x: torch.sin(pi * x))", "pinn.Initial(lambda x: torch.log(x - 0.5))")),
    "condition on a field that is not an output": Mistake(
        ("condition 'initial' constrains field 'v', which is not an output (u)",),
        replace=("pinn.Initial(lambda x: torch.sin(pi * x))", 'pinn.Initial(lambda x: torch.sin(pi * x), field="v")')),
    "known part of a field that is not an output": Mistake(
        ("known part given for 'v', which is not an output (u)",),
        replace=('    residuals={"heat": heat},', '    residuals={"heat": heat},\n    known={"v": lambda x, t: x},')),
    "condition on another domain's boundary": Mistake(
        ("condition 'ends' is on the boundary of Interval(0.0, 2.0)", "use the boundary of that very object"),
        replace=("Dirichlet(space.boundary, 0.0)", "Dirichlet(pinn.Interval(0, 2).boundary, 0.0)")),
    "boundary part that selects nothing": Mistake(
        ("condition 'ends': the predicate of", "selects (almost) none of the boundary"),
        replace=("Dirichlet(space.boundary, 0.0)", "Dirichlet(space.boundary.where(lambda x: x > 5), 0.0)")),
    "empty interval": Mistake(("Interval needs a < b", "got a=1.0, b=1.0"),
                              replace=("pinn.Interval(0.0, 1.0)", "pinn.Interval(1.0, 1.0)")),
    "empty domain": Mistake(("is empty or nearly so", "check its geometry"),
                            replace=("space = pinn.Interval(0.0, 1.0)",
                                     "space = pinn.Interval(0.0, 1.0) - pinn.Interval(-1.0, 2.0)")),
    "zero sampling budget": Mistake(("Sampling interior must be a whole number >= 1, got 0",),
                                    replace=("interior=64", "interior=0")),
    "tolerance <= 0": Mistake(("tolerance for 'u' must be a positive number, got 0",),
                              replace=('tolerance={"u": 0.5}', 'tolerance={"u": 0}')),
    "data file missing": Mistake(("data file", "nowhere.csv does not exist"),
                                 replace=(INITIAL, INITIAL + '\n        "data": pinn.Data.from_csv(r"{tmp}/nowhere.csv"),')),
    "data file with wrong columns": Mistake(
        ("data.csv has no column for input(s) t",),
        replace=(INITIAL, INITIAL + '\n        "data": pinn.Data.from_csv(r"{tmp}/data.csv"),'),
        setup=_data_csv("x,s,u")),
    "data file that is not HDF5": Mistake(
        ("data.h5 is not a readable HDF5 file",),
        replace=(INITIAL, INITIAL + '\n        "data": pinn.Data.from_hdf5(r"{tmp}/data.h5"),'), setup=_corrupt_hdf5),
    # ---- inverse problems: observations and unknowns
    "observations outside the domain": Mistake(
        ("condition 'data': 1 data point(s) from arrays lie outside the domain, e.g. [1.5, 0.2]",
         "observations must be inside the domain"),
        replace=(INITIAL, INITIAL + '\n        "data": pinn.Data([[0.5, 0.5], [1.5, 0.2]], {"u": [0.1, 0.2]}),')),
    "NaN observations": Mistake(
        ("condition 'data': data for u from arrays contains NaN or infinite values (1 of 2)", "remove those"),
        replace=(INITIAL, INITIAL + '\n        "data": pinn.Data([[0.5, 0.5], [0.5, 0.2]], {"u": [0.1, float("nan")]}),')),
    "data file with a column that is not an input or output": Mistake(
        ("data.csv has column(s) w that are neither inputs (x, t), outputs (u) nor noise",),
        replace=(INITIAL, INITIAL + '\n        "data": pinn.Data.from_csv(r"{tmp}/data.csv"),'),
        setup=lambda tmp: (tmp / "data.csv").write_text("x,t,w\n0.5,0.5,0.1\n")),
    "NaN observation noise": Mistake(
        ("condition 'data': data noise from arrays must be finite and > 0 at every point (1 are not)",),
        replace=(INITIAL, INITIAL + '\n        "data": pinn.Data([[0.5, 0.5], [0.5, 0.2]], {"u": [0.1, 0.2]}, '
                                    'noise=[0.01, float("nan")]),')),
    "synthetic observations outside the domain": Mistake(
        ("condition 'data': observe: 1 point(s) lie outside the domain, e.g. [0.5, 2.0]",),
        replace=(INITIAL, INITIAL + '\n        "data": pinn.observe(pinn.references.analytic(exact), '
                                    'points=[[0.5, 2.0], [0.5, 0.5]]),')),
    "a bound that excludes the initial guess": Mistake(
        ("Unknown 'k': the bounds (0.2, 1) exclude the initial guess 0.1", "choose an initial guess strictly inside"),
        replace=("    residuals=", '    unknowns=[pinn.Unknown("k", initial=0.1, bounds=(0.2, 1.0))],\n    residuals=')),
    "a tolerance for an unknown without a true value": Mistake(
        ("tolerance given for the unknown 'k', which has no true_value to compare with",),
        replace=('tolerance={"u": 0.5}', 'tolerance={"u": 0.5, "k": 0.01},\n    '
                                         'unknowns=[pinn.Unknown("k", initial=0.1)]')),
    # ---- the command line
    "unknown option": Mistake(("unrecognized arguments: --fast", "see `python -m pinn.solve --help`"),
                              options=("--fast",)),
    "malformed --set": Mistake(("--set expects KEY=VALUE, got 'width'",), options=("--set", "width")),
    "unknown --set key": Mistake(("unknown --set key 'training.adamsteps'", "valid keys: net.width"),
                                 options=("--set", "training.adamsteps=5")),
    "--set value of the wrong type": Mistake(("--set net.width=wide: expected a value of type int",),
                                             options=("--set", "net.width=wide")),
    "--set value out of range": Mistake(("Adam learning_rate must be a positive number, got -1.0",),
                                        options=("--set", "adam.learning_rate=-1")),
    "--steps 0": Mistake(("--steps must be >= 1, got 0",), options=("--steps", "0")),
    # ---- issue 15: the time budget, adaptive sampling, causal weights (a rate condition on a problem
    # without time: tests/test_time_conditions.py)
    "--time-budget that is not a duration": Mistake(
        ("--time-budget: time budget '10 minutes' is not a duration (e.g. 90s, 10m, 1.5h, 1h30m)",),
        options=("--time-budget", "10 minutes")),
    "unknown adaptive sampling": Mistake(("Sampling adaptive 'rard' is not one of off, r3",),
                                         options=("--set", "sampling.adaptive=rard")),
    "adaptive sampling that never redraws": Mistake(
        ("Sampling adaptive='r3' redraws points: it needs resample_every >= 1",),
        options=("--set", "sampling.adaptive=r3")),
    "causal weights with one slab": Mistake(("slabs",), options=("--set", "sampling.causal=1,1.0")),
    "unknown --dtype": Mistake(("invalid choice: 'float16'", "choose from"), options=("--dtype", "float16")),
    "--out not empty, without --resume": Mistake(
        ("already exists and is not empty", "pass --resume to continue that run, --overwrite to replace it"),
        setup=_non_empty_out),
    "--out is a file": Mistake(("--out", "file exists and is not a folder"), setup=_a_file, out="file"),
    "--out inside a file": Mistake(("cannot write the run folder", "file is a file; choose another --out"),
                                   setup=_a_file, out="file/run"),
    "--resume of a folder without a run": Mistake(("holds no run to resume", "config.json and checkpoint.pt are needed"),
                                                  options=("--resume",), setup=_non_empty_out),
    "--resume of another problem's run": Mistake(
        ("holds a run of problem 'other'", "resume it with its own problem file"),
        options=("--resume",), setup=_finished_run("other")),
    "--resume with a truncated checkpoint": Mistake(
        ("checkpoint.pt is truncated, corrupt or not a pinn checkpoint", "start it again with --overwrite"),
        options=("--resume",), setup=_finished_run(corrupt=_truncate_checkpoint)),
    "--resume with a corrupt config.json": Mistake(
        ("config.json is unreadable or not valid JSON", "start it again with --overwrite"),
        options=("--resume",), setup=_finished_run(corrupt=_corrupt_config)),
    "--resume with a different network": Mistake(
        ("does not fit this problem and settings", "resume with the settings the run was started with"),
        options=("--resume", "--set", "net.width=5"), setup=_finished_run()),
    # ---- references and inputs (issue 21)
    "reference NaN everywhere": Mistake(
        ("the reference's field 'u' is NaN or infinite at 441 of the 441 grid points inside the domain (e.g. at x=0, t=0)",
         "leave out the points where it has no value with GridReference(inside=...)"),
        replace=(EXACT, 'return torch.full_like(x, float("nan"))')),
    "reference NaN inside part of the domain": Mistake(
        ("the reference's field 'u' is NaN or infinite at 126 of the 441 grid points inside the domain "
         "(e.g. at x=0.75, t=0)",),
        replace=(EXACT, f'return torch.where(x < 0.72, {EXACT[7:]}, float("nan"))')),
    "reference zero everywhere": Mistake(
        ("the reference's field 'u' is zero at every grid point inside the domain", "relative error against it is "
         "undefined", "leave that field out of it (and of the tolerance)"),
        replace=(EXACT, "return 0 * x")),
    "reference grid outside the domain": Mistake(
        ("no point of the reference grid (x in [2, 3], t in [0, 1]) lies inside the domain",
         "give the reference on the problem's domain"),
        replace=(REFERENCE, GRID.format(x="torch.linspace(2, 3, 5)", t="torch.linspace(0, 1, 5)"))),
    "reference axes in the wrong order": Mistake(
        ("the reference's axes are in the order (t, x), but the inputs are (x, t)",
         "give its axes, and its fields' dimensions, in the inputs' order"),
        replace=(REFERENCE, 'reference=pinn.references.GridReference({"t": torch.linspace(0, 1, 5), '
                            '"x": torch.linspace(0, 1, 5)}, {"u": torch.ones(5, 5)})')),
    "reference axes that are not the inputs": Mistake(
        ("the reference has axes (x, s), but the inputs are (x, t)", "one axis per input, named and ordered"),
        replace=(REFERENCE, 'reference=pinn.references.GridReference({"x": torch.linspace(0, 1, 5), '
                            '"s": torch.linspace(0, 1, 5)}, {"u": torch.ones(5, 5)})')),
    "reference axes from np.meshgrid": Mistake(
        ("reference axis 'x' has shape (5, 4): axes must be 1-D arrays of coordinates",
         "not the arrays it returns"),
        replace=(REFERENCE, 'reference=pinn.references.GridReference(dict(zip("xt", torch.meshgrid('
                            'torch.linspace(0, 1, 5), torch.linspace(0, 1, 4), indexing="ij"))), '
                            '{"u": torch.ones(5, 4)})')),
    "reference axis not increasing": Mistake(
        ("reference axis 't' must be strictly increasing",),
        replace=(REFERENCE, GRID.format(x="torch.linspace(0, 1, 5)", t="torch.linspace(1, 0, 5)"))),
    "reference field that is not an output": Mistake(
        ("the reference has field(s) w, which are neither outputs nor derived quantities (u)",),
        replace=(REFERENCE, GRID.format(x="torch.linspace(0, 1, 5)", t="torch.linspace(0, 1, 5)")
                 .replace("})", ', "w": torch.ones(5, 5)})'))),
    "time input listed first": Mistake(
        ("inputs 't x': the domain's coordinates are (space..., time), so time must be the last input",
         'e.g. inputs="x t"'),
        replace=('inputs="x t"', 'inputs="t x"')),
    # ---- data, options and conditions (issue 21)
    "data values too large for the run": Mistake(
        ("data for u from", "values as large as 1e+300", "beyond what a float64 run can square and sum",
         "rescale the data"),
        replace=_with_data('pinn.Data.from_csv(r"{tmp}/data.csv")'), setup=_data_file("x,t,u\n0.5,0.5,1e300\n")),
    "HDF5 data with no points": Mistake(
        ("data.h5 has no data points", "give at least one observation"),
        replace=_with_data('pinn.Data.from_hdf5(r"{tmp}/data.h5")'), setup=_hdf5(x=[], t=[], u=[])),
    "CSV data with a repeated column": Mistake(
        ("data.csv: column 'u' appears twice in the header", "give each column its own name"),
        replace=_with_data('pinn.Data.from_csv(r"{tmp}/data.csv")'),
        setup=_data_file("x,t,u,u\n0.5,0.5,0.1,0.2\n")),
    "HDF5 data holding text": Mistake(
        ("data.h5: dataset 'u' holds text (dtype |S3)", "each dataset must hold real numbers"),
        replace=_with_data('pinn.Data.from_hdf5(r"{tmp}/data.h5")'),
        setup=_hdf5(x=[0.5], t=[0.5], u=[b"0.1"])),
    "HDF5 data holding complex numbers": Mistake(
        ("data.h5: dataset 'u' holds complex numbers (dtype complex128)",),
        replace=_with_data('pinn.Data.from_hdf5(r"{tmp}/data.h5")'),
        setup=_hdf5(x=[0.5], t=[0.5], u=[0.1 + 0.2j])),
    "data file that is a folder": Mistake(
        ("data file", "is a folder, not a file", "give the path of the data file itself"),
        replace=_with_data('pinn.Data.from_csv(r"{tmp}/data.csv")'), setup=lambda tmp: (tmp / "data.csv").mkdir()),
    "CSV data that is not UTF-8": Mistake(
        ("data.csv is not UTF-8 text", "byte 0xe9 on line 1", "save it as UTF-8"),
        replace=_with_data('pinn.Data.from_csv(r"{tmp}/data.csv")'),
        setup=_data_file("x,t,u,temp\u00e9rature\n0.5,0.5,0.1,1\n".encode("latin-1"))),
    "CSV data with a short row": Mistake(
        ("data.csv, line 3: 2 values, but the header names 3 columns (x, t, u)",),
        replace=_with_data('pinn.Data.from_csv(r"{tmp}/data.csv")'),
        setup=_data_file("x,t,u\n0.5,0.5,0.1\n0.25,0.5\n")),
    "--seed out of range": Mistake(
        ("argument --seed: must be a whole number from 0 to 2**63 - 1", "got 1180591620717411303424"),
        options=("--seed", str(2**70))),
    "--set of a seed out of range": Mistake(
        ("Numerics seed must be a whole number from 0 to 2**63 - 1", "got 1180591620717411303424"),
        options=("--set", f"numerics.seed={2**70}")),
    "condition value of the wrong shape (two columns)": Mistake(
        ("condition 'initial': its value function returned shape (8, 2) for 8 points",
         "it must return one value per point, shape (8,), or a single number"),
        replace=("pinn.Initial(lambda x: torch.sin(pi * x))",
                 "pinn.Initial(lambda x: torch.stack([torch.sin(pi * x), x], dim=1))")),
    "condition value of the wrong shape (fixed length)": Mistake(
        ("condition 'ends': its value function returned shape (3,) for 8 points",),
        replace=("Dirichlet(space.boundary, 0.0)", "Dirichlet(space.boundary, lambda x: torch.zeros(3, dtype=x.dtype))")),
    "residual in half precision": Mistake(
        ("residual 'heat' returned float16 values, but the run computes in float64",
         "return the fields' dtype"),
        replace=(HEAT, f"return ({HEAT[7:]}).half()")),
    "too many collocation points for the memory": Mistake(
        ("sampling.interior=3000000000 needs at least", "of memory for a training step", "available",
         "lower sampling.interior"),
        options=("--set", "sampling.interior=3000000000")),
    "too wide a network for the memory": Mistake(
        ("net.width=200000 needs at least", "weights", "available", "lower net.width"),
        options=("--set", "net.width=200000")),
    # ---- faults while running user code (issue 21)
    "sys.exit() while the file runs": Mistake(
        ("(line 10): sys.exit(0) was called while the file ran", "a problem file must define `problem`"),
        replace=("def heat(f):", "import sys\nsys.exit(0)\ndef heat(f):")),
    "sys.exit() in a residual": Mistake(
        ("residual 'heat': sys.exit(0) was called (line 10 of problem.py, in heat)", "not end the process"),
        replace=(HEAT, "import sys; sys.exit(0)")),
    "sys.exit() in a condition": Mistake(
        ("condition 'initial': sys.exit(3) was called", "not end the process"),
        replace=("pinn.Initial(lambda x: torch.sin(pi * x))", "pinn.Initial(lambda x: __import__('sys').exit(3))")),
    "reference that raises ZeroDivisionError": Mistake(
        ("problem 'tiny': the reference analytic(exact) could not be built",
         "ZeroDivisionError: division by zero (problem.py, line 13, in exact)"),
        replace=("def exact(x, t):", "def exact(x, t):\n    1 / 0")),
    "reference that raises KeyError": Mistake(
        ("the reference analytic(exact) could not be built", "KeyError: 'u' (problem.py, line 13, in exact)"),
        replace=("def exact(x, t):", "def exact(x, t):\n    {}['u']")),
    "reference that calls sys.exit()": Mistake(
        ("the reference analytic(exact) could not be built", "sys.exit(0) was called (problem.py, line 13, in exact)"),
        replace=("def exact(x, t):", "def exact(x, t):\n    __import__('sys').exit(0)")),
    "condition that raises on the training points only": Mistake(
        ("problem 'tiny': condition 'initial' raised KeyError: 'v' (problem.py, line 23, in <lambda>)",),
        replace=("pinn.Initial(lambda x: torch.sin(pi * x))",
                 "pinn.Initial(lambda x: torch.sin(pi * x) if len(x) <= 8 else {}['v'])")),  # the dry run has 8
    "condition that calls sys.exit() on the training points only": Mistake(
        ("problem 'tiny': condition 'initial' called sys.exit(0) (problem.py, line 23, in <lambda>)",),
        replace=("pinn.Initial(lambda x: torch.sin(pi * x))",
                 "pinn.Initial(lambda x: torch.sin(pi * x) if len(x) <= 8 else __import__('sys').exit(0))")),
    "--out name longer than the file system allows": Mistake(
        ("the name is longer than the file system allows", "choose a shorter --out"), out="x" * 300),
    "--resume with a config.json that is a list": Mistake(
        ("config.json does not hold a run configuration", "start the run again with --overwrite"),
        options=("--resume",), setup=_edited_config(lambda config: [config])),
    "--resume with config.json overrides a string": Mistake(
        ("config.json is not a run configuration pinn wrote ('overrides' must be a dict of settings, got str)",
         "start the run again with --overwrite"),
        options=("--resume",), setup=_edited_config(lambda config: config.update(overrides="net.width=5"))),
    "--resume with config.json overrides a list": Mistake(
        ("config.json is not a run configuration pinn wrote ('overrides' must be a dict of settings, got list)",
         "start the run again with --overwrite"),
        options=("--resume",), setup=_edited_config(lambda config: config.update(overrides=["net.width=5"]))),
    "--resume with a config.json override of the wrong type": Mistake(
        ("config.json holds settings this problem does not accept", "adam.steps=many",
         "start the run again with --overwrite"),
        options=("--resume",), setup=_edited_config(lambda config: config["overrides"].update(
            {"adam.steps": "many"}))),
    "--resume with a config.json override that is not a value": Mistake(
        ("config.json is not a run configuration pinn wrote (the override 'net.width' has a value of type dict)",
         "start the run again with --overwrite"),
        options=("--resume",), setup=_edited_config(lambda config: config["overrides"].update({"net.width": {}}))),
    "--resume with a config.json override of an unknown key": Mistake(
        ("config.json holds settings this problem does not accept", "unknown --set key 'training.adamsteps'",
         "start the run again with --overwrite"),
        options=("--resume",), setup=_edited_config(lambda config: config["overrides"].update(
            {"training.adamsteps": 5}))),
    "--resume with config.json inputs a number": Mistake(
        ("config.json is not a run configuration pinn wrote ('inputs' must be a list of names, got 3)",
         "start the run again with --overwrite"),
        options=("--resume",), setup=_edited_config(lambda config: config.update(inputs=3))),
    "--resume with config.json missing a key": Mistake(
        ("config.json is not a run configuration pinn wrote (it has no 'problem')",
         "start the run again with --overwrite"),
        options=("--resume",), setup=_edited_config(lambda config: config.pop("problem") and None)),
}
if not torch.cuda.is_available():
    CATALOGUE["--device cuda without a GPU"] = Mistake(("no CUDA device is available", "use --device cpu"),
                                                       options=("--device", "cuda"))
if os.geteuid() != 0:  # root can write anywhere
    CATALOGUE["unwritable --out"] = Mistake(("cannot write the run folder", "permission denied; choose another --out"),
                                            setup=_locked_folder, out="locked/run")


def _state(path: Path) -> dict[str, bytes] | None:
    """What a folder holds (None if it does not exist), to check a failed run left it alone."""
    if not os.path.exists(path):  # False, not an error, for a name too long to exist
        return None
    if path.is_file():
        return {"": path.read_bytes()}
    return {str(p.relative_to(path)): (p.read_bytes() if p.is_file() else b"") for p in sorted(path.rglob("*"))}


def _command(mistake: Mistake, tmp: Path) -> tuple[list[str], Path]:
    if mistake.setup is not None:
        mistake.setup(tmp)
    text = TINY_PROBLEM
    if mistake.replace is not None:
        old, new = mistake.replace
        assert old in text, f"test setup: {old!r} is not in the tiny problem"
        text = text.replace(old, new.replace("{tmp}", str(tmp)))
    if mistake.problem == "problem.py":
        (tmp / "problem.py").write_text(textwrap.dedent(text))
    out = tmp / mistake.out
    options = [o.replace("{tmp}", str(tmp)) for o in mistake.options]
    return [str(tmp / mistake.problem), "--out", str(out), *options], out


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_every_catalogued_mistake_exits_2_with_the_fault_and_the_fix(name, tmp_path, capsys):
    mistake = CATALOGUE[name]
    argv, out = _command(mistake, tmp_path)
    before = _state(out)
    capsys.readouterr()  # drop the set-up's output
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    for fragment in mistake.expect:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    assert "Traceback" not in err
    assert _state(out) == before  # no run folder created, an existing one untouched


def test_the_catalogue_has_at_least_20_distinct_mistakes():
    assert len(CATALOGUE) >= 20
    assert len({m.expect for m in CATALOGUE.values()}) == len(CATALOGUE)


def test_a_real_process_reports_a_mistake_the_same_way(tmp_path):
    argv, out = _command(CATALOGUE["syntax error"], tmp_path)
    result = run_cli(*argv)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "has a syntax error at line 9" in result.stderr and not out.exists()
