"""The optional training methods: learning-rate warm-up, loss balancing by gradient norms,
resampling every step and L-BFGS refinement in float64; each changes what it should."""
import dataclasses

import pytest
import torch

from conftest import run_until, parameters, run
from pinn.output.files import load_checkpoint, save_checkpoint
from pinn.loading import load_problem
from pinn.overrides import apply_overrides
from pinn.training import Monitor, Trainer
from pinn.training.config import Training


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
    run(tiny, rows, adam_steps=8, lbfgs_steps=0, learning_rate=1e-2, learning_rate_final=1e-3, warmup_steps=4)
    lrs = [r["lr"] for r in rows.rows]
    decay = 0.1 ** (1 / 8)
    expected = [1e-2 * min(s + 1, 4) / 4 * decay**s for s in range(8)]
    assert lrs == pytest.approx(expected, rel=1e-12)
    plain = Rows()
    run(tiny, plain, adam_steps=8, lbfgs_steps=0, learning_rate=1e-2, learning_rate_final=1e-3)
    assert plain.rows[0]["lr"] == 1e-2  # off by default


def test_balancing_sets_weights_from_gradient_norms(tiny):
    trainer = Trainer(tiny, dataclasses.replace(tiny.training, balance_every=5, balance_momentum=0.0))
    terms = trainer.losses()
    parameters = [p for p in trainer.model.parameters() if p.requires_grad]
    def norm(term):
        grads = torch.autograd.grad(term, parameters, retain_graph=True, allow_unused=True)
        return float(torch.cat([g.ravel() for g in grads if g is not None]).norm())

    norms = {k: norm(v) for k, v in terms.items()}
    total, _ = trainer._evaluate()  # step 0: an update is due
    expected = {k: sum(norms.values()) / n for k, n in norms.items()}
    assert trainer.balance.weights == pytest.approx(expected, rel=1e-10)
    assert float(total) == pytest.approx(sum(expected[k] * float(v) for k, v in terms.items()), rel=1e-10)
    assert len({round(w, 6) for w in expected.values()}) == len(expected)  # the terms really differ


def test_balanced_weights_reach_the_compiled_gradient(tiny):
    # Between balancing steps the gradient comes from the compiled graph, the weights being its input.
    changes = dict(adam_steps=12, lbfgs_steps=4, balance_every=5, dtype="float64")
    eager = run(tiny, compile="off", **changes)
    compiled = run(tiny, compile="on", **changes)
    assert compiled.loss.compile_status["scope"] == "whole loss", compiled.loss.compile_status
    assert len({round(w, 6) for w in compiled.balance.weights.values()}) == 3  # weights that matter
    assert compiled.balance.weights == pytest.approx(eager.balance.weights, rel=1e-8)
    assert torch.allclose(parameters(compiled), parameters(eager), rtol=1e-8, atol=1e-10)


def test_balancing_changes_the_run_and_resumes_exactly(tiny, tmp_path):
    problem = apply_overrides(tiny, {"training.balance_every": 3, "training.lbfgs_steps": 10})
    whole = run(problem)
    assert set(whole.balance.weights) == {"heat", "ends", "initial"}
    assert not torch.equal(parameters(whole), parameters(run(tiny, lbfgs_steps=10)))

    first = Trainer(problem, problem.training)
    run_until(first, 7)
    save_checkpoint(tmp_path / "checkpoint.pt", first.state_dict())
    resumed = Trainer(problem, problem.training)
    resumed.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))
    assert resumed.balance.weights == first.balance.weights != {}
    resumed.run()
    assert torch.equal(parameters(resumed), parameters(whole))


def test_resampling_every_step_draws_new_points_each_step(tiny):
    problem = apply_overrides(tiny, {"sampling.resample_every": 1})
    trainer = Trainer(problem, dataclasses.replace(problem.training, adam_steps=5, lbfgs_steps=0))
    seen = [trainer.points.interior.clone()]

    class Watcher(Monitor):
        def on_step(self, t, row):
            seen.append(t.points.interior.clone())

    trainer.run(Watcher())
    assert len(seen) == 6  # after each of the 5 steps; the last step (the end) draws none
    assert all(not torch.equal(a, b) for a, b in zip(seen[:5], seen[1:5]))
    assert torch.equal(seen[4], seen[5])


def test_lbfgs_refinement_in_float64_lowers_the_loss_below_adam(tiny):
    adam = run(tiny, adam_steps=100, lbfgs_steps=0, dtype="float64")
    refined = run(tiny, adam_steps=100, lbfgs_steps=100, dtype="float64")
    assert next(refined.model.parameters()).dtype == torch.float64
    loss = lambda t: float(sum(t.losses().values()).detach())
    assert loss(refined) < 0.1 * loss(adam)


def test_bad_settings_of_the_methods_are_rejected():
    with pytest.raises(ValueError, match="balance_momentum"):
        Training(balance_momentum=1.0)
    with pytest.raises(ValueError, match="warmup_steps"):
        Training(warmup_steps=-1)
