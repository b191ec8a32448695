"""Neural ODEs and universal differential equations (pinn.Dynamics): integration, gradients, the objective,
validation against solve_ivp, the run folder and resume."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

import pinn
from pinn.dynamics.integrate import Integration, integrate
from pinn.dynamics.sparse import library, stlsq

F64 = torch.float64


class Linear(nn.Module):
    """dy/dt = y W (+ a time term): small enough to check exactly, with parameters for gradients."""

    def __init__(self, timed: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.tensor([[-0.1, 1.0], [-1.0, -0.2]], dtype=F64))
        self.timed = timed

    def forward(self, t, y):
        rate = y @ self.weight
        return rate + torch.sin(t) if self.timed else rate


TIGHT = Integration(rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("timed", [False, True])
def test_a_batch_of_irregular_trajectories_equals_each_alone(timed):
    rng = np.random.default_rng(0)
    field = Linear(timed)
    starts = [0.0, 0.3, 1.1]
    times = [torch.tensor(np.sort(np.concatenate([[s], s + rng.uniform(0.01, span, 6)])), dtype=F64)
             for s, span in zip(starts, [2.0, 1.0, 3.5])]
    initial = torch.tensor(rng.normal(size=(3, 2)), dtype=F64)
    together = integrate(field, initial, times, TIGHT)
    for i in range(3):
        alone = integrate(field, initial[i:i + 1], [times[i]], TIGHT)[0]
        assert together[i].shape == (7, 2)
        assert torch.allclose(together[i], alone, rtol=0, atol=1e-10)
    # and each against the closed form y(t) = y0 expm(W (t - t0)) of the autonomous field
    if not timed:
        from scipy.linalg import expm
        weight = field.weight.detach().numpy()
        for i in range(3):
            exact = np.stack([initial[i].numpy() @ expm(weight * float(t - times[i][0])) for t in times[i]])
            assert np.max(np.abs(together[i].detach().numpy() - exact)) < 1e-10


def test_rk4_takes_every_observation_time_at_the_end_of_a_step():
    field = Linear()
    times = [torch.tensor([0.0, 0.037, 0.5, 0.51, 1.0], dtype=F64)]
    initial = torch.tensor([[1.0, 0.5]], dtype=F64)
    coarse = integrate(field, initial, times, Integration(method="rk4", step=0.1))[0]
    fine = integrate(field, initial, times, Integration(method="rk4", step=0.05))[0]
    exact = integrate(field, initial, times, TIGHT)[0]
    error_coarse, error_fine = (coarse - exact).abs().max(), (fine - exact).abs().max()
    # fourth order: halving the step divides the error by about 16 (not a linear interpolation's 4)
    assert 10 < error_coarse / error_fine < 24, (error_coarse, error_fine)


def test_the_adjoint_gradient_equals_backpropagation():
    rng = np.random.default_rng(1)
    times = [torch.tensor(np.sort(rng.uniform(0, 3, 8)), dtype=F64) for _ in range(2)]
    initial = torch.tensor(rng.normal(size=(2, 2)), dtype=F64)
    gradients = []
    for adjoint in (False, True):
        field = Linear(timed=True)
        states = integrate(field, initial, times, Integration(rtol=1e-10, atol=1e-12, adjoint=adjoint))
        sum((s ** 2).sum() for s in states).backward()
        gradients.append(field.weight.grad.clone())
    assert torch.allclose(gradients[0], gradients[1], rtol=0, atol=1e-6)
    assert gradients[0].abs().max() > 1e-2  # a gradient, not zero against zero


def test_sparse_regression_names_the_terms_and_their_coefficients():
    rng = np.random.default_rng(2)
    values = rng.uniform(0.2, 3, size=(300, 2))
    theta, names = library(values, ("x", "y"), 2)
    assert names == ["1", "x", "y", "x^2", "x*y", "y^2"]
    target = -1.3 * values[:, 0] * values[:, 1] + 0.4 * values[:, 1] ** 2 + 1e-4 * rng.normal(size=300)
    xi = stlsq(theta, target, threshold=0.05)
    assert dict((n, round(c, 3)) for n, c in zip(names, xi) if c) == {"x*y": -1.3, "y^2": 0.4}


# ---------------------------------------------------------------------- declarations and runs
DECAY_TRUE = np.array([[-0.5, 1.0], [-1.0, -0.5]])


def decay(t, y):
    return y @ DECAY_TRUE


def parametric(**changes):
    """A damped rotation with two unknown coefficients, learned from two trajectories."""
    truth = pinn.TrueSystem(decay)
    times = np.linspace(0, 4, 41)
    settings = dict(
        name="damped_rotation",
        states="x y",
        rhs=lambda t, s, m: {"x": -m.damping * s.x - m.turn * s.y, "y": m.turn * s.x - m.damping * s.y},
        unknowns=[pinn.Unknown("damping", 0.2, positive=True, true_value=0.5),
                  pinn.Unknown("turn", 0.5, true_value=1.0)],
        data=[truth.observe([1.0, 0.0], times, name="a"), truth.observe([0.0, 2.0], times[::2], name="b")],
        reference=truth,
        validation={"held_out": pinn.Forecast(window=(0, 6), initial_states=[[1.5, -1.0]])},
        tolerance={"x": 1e-5, "y": 1e-5, "damping": 1e-5, "turn": 1e-5},
        integration=Integration(rtol=1e-8, atol=1e-10),
        training=pinn.Training([pinn.Adam(10, learning_rate=0.05), pinn.LBFGS(15)],
                               checks=pinn.Checks(check_every=20, checkpoint_every=20)),
    )
    settings.update(changes)
    return pinn.Dynamics(**settings)


def test_a_parametric_field_recovers_its_coefficients_and_forecasts_held_out_states(tmp_path):
    solution = pinn.fit(parametric(), tmp_path / "run", progress=False)
    metrics = solution.metrics
    assert solution.passed, metrics
    assert metrics["family"] == "dynamics"
    assert abs(metrics["parameters"]["damping"]["value"] - 0.5) < 1e-5
    assert abs(metrics["parameters"]["turn"]["value"] - 1.0) < 1e-5
    assert metrics["fields"]["held_out.x"]["rel_l2"] < 1e-5 and metrics["fields"]["held_out.y"]["rel_l2"] < 1e-5
    for name in ("config.json", "history.csv", "checkpoint.pt", "solution.h5", "plots/history.png",
                 "plots/held_out_trajectories.png", "plots/held_out_phase.png"):
        assert (tmp_path / "run" / name).is_file(), name
    loaded = pinn.load(tmp_path / "run")  # nothing of the folder's code runs: the numbers, not the model
    assert loaded.passed and abs(loaded.parameters["turn"] - 1.0) < 1e-5
    with pytest.raises(pinn.TrustRequiredError, match="load it with pinn.load.run, trust=True"):
        loaded.predict(np.zeros((1, 2)))
    with pytest.raises(FileNotFoundError, match="a problem defined in Python .no problem.py.: its model can only"):
        pinn.load(tmp_path / "run", trust=True)
    import h5py
    with h5py.File(tmp_path / "run" / "solution.h5") as handle:
        assert handle["cases/held_out/predicted"].shape == (1, 201, 2)
        assert np.max(np.abs(handle["cases/held_out/error"][()])) < 1e-5


def test_a_neural_ode_learns_a_linear_system_from_windows(tmp_path):
    problem = parametric(rhs=None, unknowns=[], net=pinn.MLP(width=32, depth=1), tolerance={"x": 0.1, "y": 0.1},
                         windows=pinn.Windows(length=8, batch=16),
                         integration=Integration(rtol=1e-6, atol=1e-8),
                         training=pinn.Training([pinn.Adam(150, learning_rate=2e-2, learning_rate_final=2e-3),
                                                 pinn.LBFGS(100)], checks=pinn.Checks(check_every=50,
                                                                                      checkpoint_every=50)))
    solution = pinn.fit(problem, tmp_path / "run", progress=False)
    errors = {k: v["rel_l2"] for k, v in solution.metrics["fields"].items()}
    assert solution.passed, errors  # a real bound: 10 % on an initial state it never saw, over 1.5x the data's span
    assert solution.metrics["mae"]["held_out"] < 0.05


@pytest.mark.parametrize("schedule", [
    (pinn.Adam(30, learning_rate=1e-2), pinn.LBFGS(10)),
    (pinn.LBFGS(30, terms=("rates",)), pinn.LBFGS(10, terms=("data",))),  # stopped in the warm start
])
def test_a_run_resumed_after_an_interruption_ends_exactly_as_one_run(tmp_path, schedule):
    problem = parametric(rhs=None, unknowns=[], net=pinn.MLP(width=8, depth=1), tolerance={},
                         windows=pinn.Windows(length=4, batch=6),
                         training=pinn.Training(list(schedule), checks=pinn.Checks(check_every=10,
                                                                                   checkpoint_every=10)))
    whole = pinn.fit(problem, tmp_path / "whole", progress=False)
    pinn.fit(problem, tmp_path / "parts", progress=False, stop_when=lambda row: row["step"] >= 20)
    resumed = pinn.fit(problem, tmp_path / "parts", resume=True, progress=False)
    assert resumed.metrics["steps"] == whole.metrics["steps"] == 40
    assert resumed.metrics["final_loss"] == whole.metrics["final_loss"]
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values()):
        assert torch.equal(a, b)


def test_the_seed_fixes_the_run(tmp_path):
    problem = parametric(rhs=None, unknowns=[], net=pinn.MLP(width=8, depth=1), tolerance={},
                         windows=pinn.Windows(length=4, batch=6),
                         training=pinn.Training([pinn.Adam(10)], checks=pinn.Checks(check_every=10)))
    first = pinn.fit(problem, tmp_path / "a", progress=False, seed=3)
    again = pinn.fit(problem, tmp_path / "b", progress=False, seed=3)
    other = pinn.fit(problem, tmp_path / "c", progress=False, seed=4)
    assert first.metrics["final_loss"] == again.metrics["final_loss"] != other.metrics["final_loss"]


# ---------------------------------------------------------------------- bad input
def test_trajectories_refuse_bad_data():
    with pytest.raises(ValueError, match="trajectory 'a': times must be strictly increasing, but time 2"):
        pinn.Trajectory([0.0, 1.0, 1.0], [[1, 2], [3, 4], [5, 6]], name="a")
    with pytest.raises(ValueError, match=r"trajectory 'b': the values at time 1 \(row 1\) hold NaN"):
        pinn.Trajectory([0.0, 1.0], [[1, 2], [np.nan, 4]], name="b")
    with pytest.raises(ValueError, match="values must have one row per time"):
        pinn.Trajectory([0.0, 1.0], [[1, 2]])


def test_declarations_refuse_what_cannot_run():
    with pytest.raises(ValueError, match="trajectory 'a' has 3 values per time, but the states are 2"):
        parametric(data=[pinn.Trajectory([0.0, 1.0], [[1, 2, 3], [1, 2, 3]], name="a")])
    with pytest.raises(ValueError, match="Integration method must be one of dopri5, rk4, got 'radau'"):
        Integration(method="radau")
    with pytest.raises(ValueError, match="tolerance 'z' names no state"):
        parametric(tolerance={"z": 1e-3})
    with pytest.raises(ValueError, match="the vector field must give 2 rates"):
        parametric(rhs=lambda t, s, m: m.net(s.values), unknowns=[], net=pinn.MLP(width=4), net_outputs=3,
                   tolerance={}).field()
    with pytest.raises(ValueError, match=r"the vector field must return a rate for each state \(x, y\); missing"):
        parametric(rhs=lambda t, s, m: {"x": s.x}, unknowns=[], tolerance={}).field()


BAD_FILE = '''
import numpy as np
import pinn
truth = pinn.TrueSystem(lambda t, y: -y)
problem = pinn.Dynamics(
    name="bad", states="x y",
    data=[truth.observe([1.0, 2.0], np.linspace(0, 1, 11))],
    reference=truth,
    validation={"held_out": pinn.Forecast(window=(0, 2), initial_states=[[1.0, 2.0, 3.0]])},
    training=pinn.Training([pinn.Adam(2)]),
)
'''


@pytest.mark.parametrize("edit, message", [
    (("[[1.0, 2.0, 3.0]]", "[[1.0, 2.0]]"), None),
    ((), "validation 'held_out': its initial states have 3 values, but the states are 2"),
    (("np.linspace(0, 1, 11)", "np.r_[0, 0.5, 0.4]"), "times must be strictly increasing"),
    (("[1.0, 2.0], np.linspace", "[1.0, np.nan], np.linspace"), "the initial state must be one finite value per state"),
])
def test_the_command_line_exits_2_naming_the_mistake(tmp_path, capsys, edit, message):
    from pinn.solve import main

    text = BAD_FILE if not edit else BAD_FILE.replace(*edit)
    path = tmp_path / "bad.py"
    path.write_text(text)
    status = main([str(path), "--out", str(tmp_path / "run"), "--quiet"])
    if message is None:
        assert status in (0, 1) and (tmp_path / "run" / "metrics.json").is_file()
        trusted = pinn.load(tmp_path / "run", trust=True)  # the vector field, rebuilt by the folder's problem.py
        saved = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["model"]
        assert all(torch.equal(trusted.model.state_dict()[k], v) for k, v in saved.items())
        return
    assert status == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # nothing half-written


def test_an_unknown_solver_name_in_a_file_exits_2(tmp_path, capsys):
    from pinn.solve import main

    path = tmp_path / "bad.py"
    path.write_text(BAD_FILE.replace("[[1.0, 2.0, 3.0]]", "[[1.0, 2.0]]").replace(
        "    reference=truth,", "    reference=truth, integration=pinn.Integration(method='euler'),"))
    assert main([str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "Integration method must be one of dopri5, rk4, got 'euler'" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_config_records_the_declaration(tmp_path):
    pinn.fit(parametric(training=pinn.Training([pinn.Adam(2)])), tmp_path / "run", progress=False)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["family"] == "dynamics" and config["states"] == ["x", "y"]
    assert config["declaration"]["integration"]["method"] == "dopri5"
    assert [t["observations"] for t in config["declaration"]["trajectories"]] == [41, 21]


def test_windows_of_a_regular_series_share_one_clock():
    from pinn.dynamics.integrate import _union

    for dtype in (torch.float32, torch.float64):
        t = torch.linspace(0, 25, 1000, dtype=dtype)
        local = [t[a:a + 10] - t[a] for a in (0, 17, 480, 989)]  # equal up to rounding only
        grid, where = _union(local)
        assert grid.numel() == 10 and all(torch.equal(w, torch.arange(10)) for w in where)
    grid, where = _union([torch.tensor([0.0, 0.5, 1.0], dtype=F64), torch.tensor([0.0, 0.25, 1.0], dtype=F64)])
    assert grid.tolist() == [0.0, 0.25, 0.5, 1.0] and [w.tolist() for w in where] == [[0, 2, 3], [0, 1, 3]]


def test_windows_grow_until_they_span_whole_trajectories():
    windows = pinn.Windows(length=4, batch=3, grow_every=10)
    assert [windows.length_at(step) for step in (0, 9, 10, 25)] == [4, 4, 8, 16]
    problem = parametric(rhs=None, unknowns=[], net=pinn.MLP(width=4, depth=1), tolerance={}, windows=windows)
    objective = problem.trainer(None).objective
    assert all(b - a == 4 for _, a, b in objective.pieces) and len(objective.pieces) == 3
    for _ in range(40):  # 4 * 2**4 = 64 observations, more than either trajectory has
        objective.resample()
    assert all(b - a == len(objective.times[i]) for i, a, b in objective.pieces)  # past their length: whole
    assert not objective.fix_batch() and len(objective.pieces) == 2  # L-BFGS: every trajectory, whole (already)
    fresh = problem.trainer(None).objective
    assert fresh.fix_batch() and len(fresh.pieces) == 2
    with pytest.raises(ValueError, match="Windows length must be a whole number >= 2 or None, got 1"):
        pinn.Windows(length=1)


# ---------------------------------------------------------------------- rates and the warm start
def test_rate_estimates_reach_their_order():
    from pinn.dynamics.rates import Rates, estimate

    errors = {}
    for n in (101, 201):
        t = np.linspace(0, 2, n)
        trajectory = pinn.Trajectory(t, np.stack([np.sin(3 * t), np.exp(-t)], axis=1))
        for order in (2, 4, 8):
            at, states, rates = estimate(Rates("differences", order), trajectory)
            exact = np.stack([3 * np.cos(3 * at), -np.exp(-at)], axis=1)
            assert np.allclose(states[:, 0], np.sin(3 * at))
            errors[n, order] = np.max(np.abs(rates - exact))
    for order in (2, 4):  # halving the step divides the error by 2**order (8 reaches rounding first)
        assert 0.8 * 2 ** order < errors[101, order] / errors[201, order] < 1.2 * 2 ** order
    assert errors[201, 8] < 1e-10
    noisy = pinn.Trajectory(np.sort(np.random.default_rng(0).uniform(0, 2, 60)),
                            np.sin(np.linspace(0, 2, 60))[:, None], name="irregular")
    with pytest.raises(ValueError, match="'irregular': Rates method 'differences' needs evenly spaced times"):
        estimate(Rates("differences"), noisy)
    t = np.linspace(0, 3, 40)
    observed = np.sin(t) + 0.01 * np.random.default_rng(1).standard_normal(40)
    at, states, rates = estimate(Rates("spline"), pinn.Trajectory(t, observed))
    assert np.max(np.abs(rates[:, 0] - np.cos(at))[5:-5]) < 0.1  # a smoothing spline: noise of 1 % kept small


def test_lotka_volterra_names_its_interaction_in_seconds(tmp_path, capsys):
    """The example's own file, its through-the-solver phase cut to 20 steps: the warm start does most of it."""
    from pinn.solve import main

    status = main([str(pinn_problems() / "lotka_volterra_ude.py"), "--out", str(tmp_path / "run"), "--quiet",
                   "--set", "lbfgs.steps=20"])
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert status == 0, capsys.readouterr().err
    assert metrics["discovered_terms"].keys() == {"x", "y"}
    assert set(metrics["discovered_terms"]["x"]) == {"x*y"} and set(metrics["discovered_terms"]["y"]) == {"x*y"}
    assert all(p["rel_error"] < 0.05 for p in metrics["parameters"].values())
    assert max(f["rel_l2"] for f in metrics["fields"].values()) < 2e-2
    rows = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert "loss_rates" in rows[0] and "loss_data" in rows[0]  # each phase's own term, logged


def pinn_problems():
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "problems"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["spiral_ode", "lotka_volterra_ude", "pendulum_irregular"])
def test_each_dynamics_example_meets_its_tolerances(tmp_path, name):
    solution = pinn.fit(str(pinn_problems() / f"{name}.py"), tmp_path / "run", progress=False)
    assert solution.passed, solution.summary()
    if name == "spiral_ode":
        assert max(solution.metrics["mae"].values()) <= 1e-2


def test_trajectories_read_from_csv_and_hdf5(tmp_path):
    import h5py

    csv = tmp_path / "observed.csv"
    csv.write_text("trajectory,t,x,y\na,0.0,1.0,2.0\na,0.5,1.5,2.5\nb,0.1,3.0,4.0\nb,0.3,3.5,4.5\nb,0.4,3.7,4.7\n")
    a, b = pinn.read_trajectories(csv, "x y")
    assert (a.name, len(a), b.name, len(b)) == ("a", 2, "b", 3)
    assert b.times.tolist() == [0.1, 0.3, 0.4] and b.values[:, 1].tolist() == [4.0, 4.5, 4.7]
    assert pinn.read_trajectories(csv, "y")[0].values.tolist() == [[2.0], [2.5]]
    with h5py.File(tmp_path / "observed.h5", "w") as handle:
        for trajectory in (a, b):
            handle.create_dataset(f"{trajectory.name}/t", data=trajectory.times)
            handle.create_dataset(f"{trajectory.name}/values", data=trajectory.values)
    again = pinn.read_trajectories(tmp_path / "observed.h5")
    assert [t.values.tolist() for t in again] == [a.values.tolist(), b.values.tolist()]
    csv.write_text("trajectory,t,x\na,0.0,1.0\na,0.0,2.0\n")
    with pytest.raises(ValueError, match=r"observed.csv: trajectory 'a': times must be strictly increasing"):
        pinn.read_trajectories(csv)
    csv.write_text("trajectory,t,x\na,0.0,one\n")
    with pytest.raises(ValueError, match="line 2: every t and state value must be a number"):
        pinn.read_trajectories(csv)
    with pytest.raises(ValueError, match="no column for state"):
        pinn.read_trajectories(csv, "z")
