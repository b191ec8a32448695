"""What a problem that sets no training options gets: the automatic network, points and schedule,
the time budget, and adaptive (R3) resampling."""
import math

import pytest
import torch

import pinn
from conftest import TINY_PROBLEM, run_until
from pinn.loading import load_problem
from pinn.output.files import load_checkpoint, save_checkpoint
from pinn.overrides import apply_overrides
from pinn.pde.automatic import MOST_INTERIOR
from pinn.pde.memory import count_weights
from pinn.pde.objective import pinn_trainer
from pinn.train.settings import DEFAULT_TIME_BUDGET, Training, parse_duration
from pinn.train.trainer import Monitor, Trainer
from test_phases import LeastSquares, Rows, trained

BARE = TINY_PROBLEM.split("    net=pinn.MLP")[0] + ")\n"  # the tiny problem without any training setting


@pytest.fixture
def bare(write_problem):
    return load_problem(write_problem(BARE))


def test_a_problem_without_settings_gets_the_automatic_ones(bare):
    assert bare.net == pinn.MLP(width=32, depth=3)
    weights = count_weights(bare.net, 2, 1)
    assert bare.sampling.interior == min(MOST_INTERIOR, max(4000, math.ceil(1.6 * weights)))
    assert bare.sampling.boundary == bare.sampling.initial == 200
    assert (bare.sampling.adaptive, bare.sampling.resample_every) == ("r3", 100)
    assert bare.training.automatic and bare.training.time_budget == DEFAULT_TIME_BUDGET
    assert [p.kind for p in bare.training.schedule] == ["adam", "lbfgs", "levenberg_marquardt"]
    assert all(p.stall is not None for p in bare.training.schedule)  # phases switch when the loss stalls
    assert set(bare.automatic) == {"net", "sampling", "training"}


def test_settings_a_problem_gives_are_kept(write_problem):
    problem = load_problem(write_problem())
    assert problem.net == pinn.MLP(width=8, depth=2) and problem.sampling.interior == 64
    assert not problem.training.automatic and problem.training.time_budget is None
    assert problem.automatic == {} and problem.sampling.adaptive == "off"  # its own schedule: no R3 unless asked
    partly = load_problem(write_problem(replace=("interior=64, boundary=16, initial=16", "boundary=16")))
    assert partly.sampling.boundary == 16 and partly.sampling.interior >= 4000  # only the unset count is chosen


def test_a_periodic_condition_makes_the_automatic_net_periodic(write_problem):
    text = BARE.replace('"ends": pinn.Dirichlet(space.boundary, 0.0),', '"ends": pinn.Periodic("x"),')
    assert load_problem(write_problem(text)).net.periodic == (0,)


@pytest.mark.parametrize("text, seconds", [("90", 90.0), ("90s", 90.0), ("10m", 600.0), ("1.5h", 5400.0),
                                           ("1h30m", 5400.0), (45, 45.0)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "ten minutes", "10 min", "-5", "0", "m"])
def test_a_budget_that_is_not_a_duration_is_refused(text):
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_time_budget_is_set_from_the_command_line_keys(bare):
    budgeted = apply_overrides(bare, {"time_budget": "2m"})
    assert budgeted.training.time_budget == 120.0
    # still the automatic schedule, and config.json says so with the budget given
    assert budgeted.training.automatic and budgeted.training.describe()["automatic_schedule"]
    assert budgeted.automatic["training"].endswith("time budget 120 s")
    with pytest.raises(ValueError, match="--time-budget: time budget 'soon' is not a duration"):
        apply_overrides(bare, {"time_budget": "soon"})
    with pytest.raises(ValueError, match="time_budget must be a positive number"):
        Training(time_budget=-1)


def test_the_time_budget_ends_the_run():
    trainer, rows = trained(LeastSquares(), pinn.Adam(10_000, learning_rate=1e-3), time_budget=1e-9)
    assert trainer.finished and trainer.step == 1  # the first step already spent it
    assert "the time budget (1e-09 s) is spent" in rows[-1]["event"]


def test_a_phase_ends_when_its_share_is_spent_and_the_next_one_takes_over():
    trainer, rows = trained(LeastSquares(), pinn.Adam(10_000, learning_rate=1e-3, time_share=1e-12),
                            pinn.LBFGS(30), time_budget=3600)
    # the first step is setup (compiling, where on), which no share pays: the share starts after it
    assert [row["optimizer"] for row in rows[:3]] == ["adam", "adam", "lbfgs"]
    assert "adam ended: its share of the time budget is spent" in rows[1]["event"]
    assert float(trainer.objective.terms()["fit"].detach()) < 1e-12
    assert trainer.deadlines[0] == pytest.approx(trainer.setup + (3600 - trainer.setup) * 1e-12, rel=1e-12)


def test_the_first_step_compiling_leaves_every_phase_its_share():
    # compiling can take a minute and a half on 2 busy cores: it ended Adam's 90-second share at step 1
    from pinn.train.trainer import _deadlines
    schedule = (pinn.Adam(10, time_share=0.15), pinn.LBFGS(10, time_share=0.15), pinn.Adam(10))
    assert _deadlines(schedule, [10, 10, 10], 600.0) == pytest.approx([90.0, 180.0, None])
    assert _deadlines(schedule, [10, 10, 10], 600.0, setup=100.0) == pytest.approx([175.0, 250.0, None])


def test_levenberg_marquardt_is_skipped_for_a_large_model_and_its_time_goes_to_the_phase_before():
    schedule = Training([pinn.LBFGS(30, time_share=0.5), pinn.LevenbergMarquardt(10, max_weights=4)],
                        time_budget=100)
    trainer = Trainer(LeastSquares(), schedule)  # 5 weights
    assert trainer.skipped == {"levenberg_marquardt": "the model has 5 weights, more than max_weights=4 "
                                                      "(a step's cost grows with their cube)"}
    assert trainer.deadlines == [None, None]  # L-BFGS is the last phase that runs: the whole budget is its
    trainer.run(Rows())
    assert trainer.finished and {trainer.schedule[0].name} == {"lbfgs"}


def test_levenberg_marquardt_ends_at_once_with_too_few_residuals_per_weight():
    trainer, rows = trained(LeastSquares(), pinn.LevenbergMarquardt(10, min_rows_per_weight=10))  # 40 rows, 5 weights
    assert trainer.step == 1 and trainer.finished
    assert rows[0]["loss_total"] == pytest.approx(float(LeastSquares().terms()["fit"].detach()))  # no step taken


def test_phase_settings_are_checked():
    with pytest.raises(ValueError, match="time_share must be a number in"):
        pinn.Adam(10, time_share=1.5)
    with pytest.raises(ValueError, match="max_weights must be a whole number"):
        pinn.LevenbergMarquardt(10, max_weights=0)
    with pytest.raises(ValueError, match="min_rows_per_weight must be a number"):
        pinn.LevenbergMarquardt(10, min_rows_per_weight=-1)


def test_the_automatic_schedule_resumes_exactly(bare):
    problem = apply_overrides(bare, {"sampling.interior": 64, "net.width": 8, "net.depth": 2, "adam.steps": 30,
                                     "lbfgs.steps": 20, "levenberg_marquardt.steps": 4, "time_budget": "1h"})
    whole = pinn_trainer(problem)
    whole.run()
    first = pinn_trainer(problem)
    run_until(first, 25)
    state = first.state_dict()
    resumed = pinn_trainer(problem)
    resumed.load_state_dict(state)
    resumed.run()
    assert resumed.step == whole.step
    assert torch.equal(torch.cat([p.detach().reshape(-1) for p in resumed.parameters]),
                       torch.cat([p.detach().reshape(-1) for p in whole.parameters]))


def test_r3_keeps_the_points_of_large_residual_and_draws_the_rest(bare):
    problem = apply_overrides(bare, {"sampling.interior": 256, "net.width": 8, "net.depth": 2,
                                     "sampling.resample_every": 1, "sampling.adaptive": "r3"})
    trainer = pinn_trainer(problem)
    objective = trainer.objective
    before = objective.points.interior.clone()
    squares = objective.loss.squared_residuals(objective.points)
    high = before[squares > squares.mean()]
    objective.resample()
    after = objective.points.interior
    assert after.shape == before.shape and 0 < high.shape[0] < before.shape[0]
    assert torch.equal(after[: high.shape[0]], high)  # the high-residual points stay
    assert not torch.isin(after[high.shape[0]:, 0], before[:, 0]).any()  # the rest are fresh
    assert problem.domain.inside(after.numpy()).all()


@pytest.mark.parametrize("adaptive", ["off", "r3"])
def test_redrawn_points_resume_exactly(bare, tmp_path, adaptive):
    # Scipy's Sobol sampler draws from a generator spawned from the run's: the checkpoint keeps the
    # spawn count too (the bit generator's state alone gave other points after a resume).
    problem = apply_overrides(bare, {"sampling.interior": 64, "net.width": 8, "net.depth": 2,
                                     "sampling.resample_every": 3, "sampling.adaptive": adaptive, "adam.steps": 12,
                                     "lbfgs.steps": 6, "levenberg_marquardt.steps": 0})
    whole = pinn_trainer(problem)
    whole.run()
    first = pinn_trainer(problem)
    run_until(first, 7)
    save_checkpoint(tmp_path / "checkpoint.pt", first.state_dict())
    resumed = pinn_trainer(problem)
    resumed.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))
    resumed.run()
    assert torch.equal(resumed.objective.points.interior, whole.objective.points.interior)
    assert torch.equal(torch.cat([p.detach().reshape(-1) for p in resumed.parameters]),
                       torch.cat([p.detach().reshape(-1) for p in whole.parameters]))


def test_adaptive_sampling_settings_are_checked():
    with pytest.raises(ValueError, match="adaptive 'rard' is not one of off, r3"):
        pinn.Sampling(adaptive="rard", resample_every=10)
    with pytest.raises(ValueError, match="needs resample_every >= 1"):
        pinn.Sampling(adaptive="r3")


def test_points_are_redrawn_only_in_phases_of_small_steps(bare):
    problem = apply_overrides(bare, {"sampling.interior": 64, "net.width": 8, "net.depth": 2,
                                     "sampling.resample_every": 2, "adam.steps": 4, "lbfgs.steps": 20,
                                     "levenberg_marquardt.steps": 0, "lbfgs.stall": "none", "adam.stall": "none"})
    trainer = pinn_trainer(problem)
    seen = []

    class Watch(Monitor):
        def on_step(self, t, row):
            seen.append((row["optimizer"], t.objective.points.interior.clone()))

    trainer.run(Watch())
    lbfgs = [points for name, points in seen if name == "lbfgs"]
    assert len(lbfgs) > 1 and all(torch.equal(p, lbfgs[0]) for p in lbfgs)


def test_an_initial_value_that_breaks_periodicity_is_a_loss_term():
    # Allen-Cahn's x^2 cos(pi x) has the same value at x = -1 and 1 but slopes 2 and -2: carried to every
    # time by an exact output (u0 + s N, N periodic), it would break the periodic slope at every time.
    space = pinn.Interval(-1.0, 1.0)

    def problem(initial):
        return pinn.Problem(name="ac", inputs="x t", outputs="u", domain=space * pinn.TimeInterval(0.0, 1.0),
                            residuals={"r": lambda f: f.u_t - 1e-4 * f.u_xx},
                            conditions={"initial": pinn.Initial(initial), "periodic": pinn.Periodic("x")})

    kinked = problem(lambda x: x**2 * torch.cos(math.pi * x))
    assert kinked.conditions["initial"].exact is False and kinked.net.periodic == (0,)
    smooth = problem(lambda x: torch.cos(math.pi * x))
    assert smooth.conditions["initial"].exact is True


def test_a_periodic_condition_the_periodic_net_meets_is_no_loss_term(write_problem):
    # Kept as a loss term it is round-off (1e-32), whose gradient the loss balance blew up to the size of
    # the whole gradient: L-BFGS then found no descent direction on Allen-Cahn (its loss constant to every digit).
    from pinn.output.config import run_config
    from pinn.pde.build import loss_conditions
    text = BARE.replace('"ends": pinn.Dirichlet(space.boundary, 0.0),', '"ends": pinn.Periodic("x"),')
    problem = load_problem(write_problem(text))
    assert problem.periodic_exact == {"ends"} and "ends" not in loss_conditions(problem)
    config = run_config(problem, None, {}, {}, "cpu", {"id": "x"})
    assert "ends" in config["exact_conditions"] and config["conditions"]["ends"] == "Periodic (exact)"
    plain = problem.with_settings(net=pinn.MLP(width=8, depth=2))  # not periodic: the loss must impose it
    assert plain.periodic_exact == frozenset() and "ends" in loss_conditions(plain)


def test_a_periodic_condition_stays_a_loss_term_where_the_output_is_not_periodic():
    space = pinn.Interval(-1.0, 1.0)
    periodic_net = pinn.MLP(width=8, depth=2, periodic=(0,))

    def problem(conditions, **known):
        return pinn.Problem(name="p", inputs="x t", outputs="u", domain=space * pinn.TimeInterval(0.0, 1.0),
                            residuals={"r": lambda f: f.u_t - 1e-2 * f.u_xx}, net=periodic_net,
                            conditions={"periodic": pinn.Periodic("x"), **conditions}, known=known)

    smooth = problem({"initial": pinn.Initial(lambda x: torch.cos(math.pi * x))})
    assert smooth.conditions["initial"].exact and smooth.periodic_exact == {"periodic"}
    # an exact initial value with a kinked slope, carried to every time, breaks the periodic slope
    kinked = problem({"initial": pinn.Initial(lambda x: x**2 * torch.cos(math.pi * x), exact=True)})
    assert kinked.periodic_exact == frozenset()
    # a known part that is not periodic
    known = problem({"initial": pinn.Initial(lambda x: torch.cos(math.pi * x))}, u=lambda x, t: x * t)
    assert known.periodic_exact == frozenset()


def test_a_periodic_condition_for_every_output_is_met_only_where_each_output_is_periodic():
    space = pinn.Interval(-1.0, 1.0)

    def problem(v_initial):
        return pinn.Problem(name="p", inputs="x t", outputs="u v", domain=space * pinn.TimeInterval(0.0, 1.0),
                            residuals={"r": lambda f: f.u_t - 1e-2 * f.v_xx, "s": lambda f: f.v_t - f.u_x},
                            conditions={"periodic": pinn.Periodic("x"),
                                        "u0": pinn.Initial(lambda x: torch.cos(math.pi * x), field="u"),
                                        "v0": pinn.Initial(v_initial, field="v", exact=True)})

    smooth = problem(lambda x: torch.sin(math.pi * x))
    assert smooth.net.periodic == (0,) and smooth.periodic_exact == {"periodic"}
    assert problem(lambda x: x**2 * torch.cos(math.pi * x)).periodic_exact == frozenset()  # v's kink


def test_an_initial_value_that_oscillates_fast_gets_its_wave_as_a_feature():
    from pinn.pde.automatic import initial_harmonics

    def problem(initial, t1=5.0):
        space = pinn.Rectangle((0.0, 0.0), (1.0, 2.0))
        return pinn.Problem(name="w", inputs="x y t", outputs="u", domain=space * pinn.TimeInterval(0.0, t1),
                            residuals={"heat": lambda f: f.u_t - f.u_xx - f.u_yy},
                            conditions={"walls": pinn.Dirichlet(space.boundary, 0.0), "initial": pinn.Initial(initial)})

    fast = problem(lambda x, y: torch.sin(20 * math.pi * x) * torch.sin(math.pi * y / 2))  # 10 cycles in x
    assert initial_harmonics(fast) == [(0, 10.0)] and fast.net.harmonics == ((0, 10.0),)
    assert "10 cycles along x" in fast.automatic["net"]
    assert initial_harmonics(problem(lambda x, y: torch.cos(5 * math.pi * y))) == [(1, 5.0)]  # 5 cycles over 2
    slow = problem(lambda x, y: torch.sin(math.pi * x) * torch.sin(math.pi * y / 2))
    assert initial_harmonics(slow) == [] and slow.net.harmonics == ()


def test_boundary_values_that_are_zero_up_to_round_off_set_no_output_scale():
    # sin(pi x) sin(pi y) is 1.2e-16 at x = 1: a spread of round-off once scaled the output by 1e-16,
    # which switched the network off
    from pinn.pde.automatic import output_scale
    space = pinn.Rectangle((-1.0, -1.0), (1.0, 1.0))

    def problem(value):
        return pinn.Problem(name="p", inputs="x y", outputs="u", domain=space,
                            residuals={"poisson": lambda f: f.u_xx + f.u_yy + 1.0},
                            conditions={"walls": pinn.Dirichlet(space.boundary, value)})

    assert output_scale(problem(lambda x, y: torch.sin(math.pi * x) * torch.sin(math.pi * y)), "u") == 1.0
    assert output_scale(problem(lambda x, y: 1e-3 * x), "u") == 1e-3  # a true small scale is kept


def test_an_output_sized_by_its_own_distance_function_is_not_scaled_again():
    # the distance's size is the scale of the network's output (pinn.Dirichlet): a scale from the
    # boundary values on top compounded it (the cantilever's ux, 1e-4 at the clamp, 0.05 at the tip)
    from pinn.pde.automatic import output_scale
    space = pinn.Rectangle((0.0, -1.0), (8.0, 1.0))

    def problem(**exact):
        return pinn.Problem(name="p", inputs="x y", outputs="u", domain=space,
                            residuals={"r": lambda f: f.u_xx + f.u_yy - 1.0},
                            conditions={"clamp": pinn.Dirichlet(space.side(0, "lower"), lambda x, y: 1e-4 * y + 0 * x,
                                                                **exact)})

    assert output_scale(problem(), "u") == 1e-4
    assert output_scale(problem(exact=True, distance=lambda x, y: 0.05 * x / 8), "u") == 1.0
