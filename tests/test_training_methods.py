"""The optional training methods: learning-rate warm-up, loss balancing by gradient norms,
resampling every step and L-BFGS refinement in float64; each changes what it should."""

import pytest
import torch

import pinn
from conftest import parameters, phases, run, run_until, trainer_of
from pinn.output.files import load_checkpoint, save_checkpoint
from pinn.loading import load_problem
from pinn.overrides import apply_overrides
from pinn.train.trainer import Monitor


@pytest.fixture
def tiny(write_problem):
    return load_problem(write_problem())


class Rows(Monitor):
    def __init__(self):
        self.rows = []

    def on_step(self, trainer, row):
        self.rows.append(row)


def test_warmup_raises_the_learning_rate_linearly_then_decays(tiny):
    rows = Rows()
    run(tiny, rows, schedule=[pinn.Adam(8, learning_rate=1e-2, learning_rate_final=1e-3, warmup_steps=4)])
    lrs = [r["lr"] for r in rows.rows]
    decay = 0.1 ** (1 / 8)
    expected = [1e-2 * min(s + 1, 4) / 4 * decay**s for s in range(8)]
    assert lrs == pytest.approx(expected, rel=1e-12)
    plain = Rows()
    run(tiny, plain, schedule=[pinn.Adam(8, learning_rate=1e-2, learning_rate_final=1e-3)])
    assert plain.rows[0]["lr"] == 1e-2  # off by default


def test_balancing_sets_weights_from_gradient_norms(tiny):
    trainer = trainer_of(tiny, {"balance.every": 5, "balance.momentum": 0.0})
    terms = trainer.objective.terms()
    parameters = trainer.objective.trainable()
    def norm(term):
        grads = torch.autograd.grad(term, parameters, retain_graph=True, allow_unused=True)
        return float(torch.cat([g.ravel() for g in grads if g is not None]).norm())

    norms = {k: norm(v) for k, v in terms.items()}
    total, _ = trainer.evaluate()  # step 0: an update is due
    expected = {k: sum(norms.values()) / n for k, n in norms.items()}
    assert trainer.balance.weights == pytest.approx(expected, rel=1e-10)
    assert float(total) == pytest.approx(sum(expected[k] * float(v) for k, v in terms.items()), rel=1e-10)
    assert len({round(w, 6) for w in expected.values()}) == len(expected)  # the terms really differ


def test_balanced_weights_reach_the_compiled_gradient(tiny):
    # Between balancing steps the gradient comes from the compiled graph, the weights being its input.
    changes = {"adam.steps": 12, "lbfgs.steps": 4, "balance.every": 5, "numerics.dtype": "float64"}
    eager = run(tiny, settings={**changes, "numerics.compile": "off"})
    compiled = run(tiny, settings={**changes, "numerics.compile": "on"})
    status = compiled.objective.loss.compile_status
    assert status["scope"] == "whole loss", status
    assert len({round(w, 6) for w in compiled.balance.weights.values()}) == 3  # weights that matter
    assert compiled.balance.weights == pytest.approx(eager.balance.weights, rel=1e-8)
    assert torch.allclose(parameters(compiled), parameters(eager), rtol=1e-8, atol=1e-10)


def test_balancing_changes_the_run_and_resumes_exactly(tiny, tmp_path):
    problem = apply_overrides(tiny, {"balance.every": 3, "lbfgs.steps": 10})
    whole = run(problem)
    assert set(whole.balance.weights) == {"heat", "ends", "initial"}
    assert not torch.equal(parameters(whole), parameters(run(tiny, settings={"lbfgs.steps": 10})))

    first = trainer_of(problem)
    run_until(first, 7)
    save_checkpoint(tmp_path / "checkpoint.pt", first.state_dict())
    resumed = trainer_of(problem)
    resumed.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))
    assert resumed.balance.weights == first.balance.weights != {}
    resumed.run()
    assert torch.equal(parameters(resumed), parameters(whole))


def test_resampling_every_step_draws_new_points_each_step(tiny):
    problem = apply_overrides(tiny, {"sampling.resample_every": 1})
    trainer = trainer_of(problem, schedule=[pinn.Adam(5)])
    seen = [trainer.objective.points.interior.clone()]

    class Watcher(Monitor):
        def on_step(self, t, row):
            seen.append(t.objective.points.interior.clone())

    trainer.run(Watcher())
    assert len(seen) == 6  # after each of the 5 steps; the last step (the end) draws none
    assert all(not torch.equal(a, b) for a, b in zip(seen[:5], seen[1:5]))
    assert torch.equal(seen[4], seen[5])


def test_lbfgs_refinement_in_float64_lowers_the_loss_below_adam(tiny):
    float64 = {"numerics.dtype": "float64"}
    adam = run(tiny, settings=float64, schedule=phases(tiny, adam=100))
    refined = run(tiny, settings=float64, schedule=phases(tiny, adam=100, lbfgs=100))
    assert next(refined.objective.module.parameters()).dtype == torch.float64
    loss = lambda t: float(sum(t.objective.terms().values()).detach())
    assert loss(refined) < 0.1 * loss(adam)


def test_bad_settings_of_the_methods_are_rejected():
    with pytest.raises(ValueError, match="Balance momentum"):
        pinn.Balance(momentum=1.0)
    with pytest.raises(ValueError, match="warmup_steps"):
        pinn.Adam(warmup_steps=-1)


def test_a_term_at_round_off_keeps_its_weight():
    # A term met up to round-off has a gradient of round-off size; weighting it by sum/own norm would
    # make that noise as large as the whole gradient.
    from pinn.train.weighting import GradientBalance
    w = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    terms = {"real": (w**2).sum(), "met": 1e-20 * w.sum(), "other": w[0] ** 3}
    balance = GradientBalance(every=1, momentum=0.0)
    balance.update(terms, [w])
    assert set(balance.weights) == {"real", "other"} and float(balance.total(terms)) == pytest.approx(
        balance.weights["real"] * 5.0 + 1e-20 * 3.0 + balance.weights["other"] * 1.0, rel=1e-12)
