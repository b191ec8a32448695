"""The trainer: it learns, it is reproducible, and a checkpoint continues exactly."""

import numpy as np
import pytest
import torch

from conftest import parameters, run_until, trainer_of
from pinn.output.files import load_checkpoint, save_checkpoint
from pinn.loading import load_problem
from pinn.nets import MLP
from pinn.overrides import apply_overrides
import pinn
from pinn.pde.build import build_model
from pinn.train.settings import Training
from pinn.train.trainer import Monitor
from pinn.validation import worst


@pytest.fixture
def tiny(write_problem):
    return load_problem(write_problem())


def reference_of(problem):
    return problem.reference.build(problem.inputs, problem.outputs, problem.domain)


def trained(problem, settings=None):
    trainer = trainer_of(problem, settings, reference=reference_of(problem))
    trainer.run()
    return trainer


def test_training_lowers_the_loss_and_the_error(tiny):
    trainer = trainer_of(tiny, {"adam.steps": 150, "lbfgs.steps": 100}, reference=reference_of(tiny))
    before = float(sum(trainer.objective.terms().values()).detach())
    error_before = worst(trainer.check())
    trainer.run()
    after = float(sum(trainer.objective.terms().values()).detach())
    assert trainer.step == 250
    assert after < 1e-2 * before
    assert worst(trainer.check()) < 0.2 * error_before


def test_same_seed_gives_identical_parameters(tiny):
    a, b = trained(tiny), trained(tiny)
    assert torch.equal(parameters(a), parameters(b))
    assert not torch.equal(parameters(a), parameters(trained(tiny, {"numerics.seed": 1})))


@pytest.mark.parametrize("dtype", ["float64", "float32"])  # on the CPU both are deterministic
@pytest.mark.parametrize("stop_at", [5, 18])  # during Adam, and during L-BFGS
def test_checkpoint_resumes_exactly(tiny, tmp_path, stop_at, dtype):
    problem = apply_overrides(tiny, {"lbfgs.steps": 40, "numerics.dtype": dtype})
    reference = reference_of(problem)
    whole = trainer_of(problem, reference=reference)
    whole.run()

    first = trainer_of(problem, reference=reference)
    run_until(first, stop_at)
    save_checkpoint(tmp_path / "checkpoint.pt", first.state_dict())

    resumed = trainer_of(problem, reference=reference)
    resumed.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))
    assert resumed.step == first.step >= stop_at
    resumed.run()
    assert resumed.step == whole.step
    assert torch.equal(parameters(resumed), parameters(whole))


def test_training_config_rejects_bad_values():
    with pytest.raises(ValueError, match="dtype 'float16'"):
        pinn.Numerics(dtype="float16")
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        pinn.Adam(learning_rate=0)
    with pytest.raises(ValueError, match="at least one step"):
        Training([pinn.Adam(0), pinn.LBFGS(0)])


def test_total_steps_keep_the_adam_share():
    training = Training([pinn.Adam(1000), pinn.LBFGS(3000)])
    assert [p.steps for p in training.with_total_steps(400).schedule] == [100, 300]
    assert training.with_total_steps(8000).schedule[0].steps == 1000  # Adam never runs longer than asked


def test_float32_runs_and_reports_its_dtype(tiny):
    trainer = trained(tiny, {"numerics.dtype": "float32"})
    assert next(trainer.objective.module.parameters()).dtype == torch.float32
    assert np.isfinite(worst(trainer.check()))


def test_mlp_layer_widths_and_set_parsing(tiny):
    problem = apply_overrides(tiny, {"net.hidden": "12,6"})
    model = build_model(problem, torch.float64, torch.device("cpu"), seed=0)
    shapes = [tuple(p.shape) for name, p in model.named_parameters() if name.endswith("weight")]
    assert shapes == [(12, 2), (6, 12), (1, 6)]
    with pytest.raises(ValueError, match="hidden must list"):
        apply_overrides(tiny, {"net.hidden": "12,0"})


def test_fourier_features_and_input_normalisation_change_the_network(tiny):
    points = torch.rand(16, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    plain = build_model(tiny, torch.float64, torch.device("cpu"), seed=0)
    fourier = apply_overrides(tiny, {"net.fourier_features": 6, "net.fourier_scale": 2.0})
    model = build_model(fourier, torch.float64, torch.device("cpu"), seed=0)
    assert model.net.embedding.frequencies.shape == (2, 6)
    assert model.net.layers[0].in_features == 12  # sin and cos of 6 frequencies
    assert not torch.allclose(model(points), plain(points))
    # the embedding is fixed (a buffer), not trained
    assert "net.embedding.frequencies" not in dict(model.named_parameters())
    raw = build_model(apply_overrides(tiny, {"net.normalize_inputs": "false"}), torch.float64, torch.device("cpu"), 0)
    assert torch.equal(raw.net.embedding.half_width, torch.ones(2, dtype=torch.float64))
    assert not torch.allclose(raw(points), plain(points))


def test_resampling_draws_fresh_points_every_k_steps(tiny):
    problem = apply_overrides(tiny, {"sampling.resample_every": 3, "adam.steps": 7, "lbfgs.steps": 0})
    trainer = trainer_of(problem)
    seen = [trainer.objective.points.interior.clone()]

    class Watcher(Monitor):
        def on_step(self, t, row):
            if not torch.equal(t.objective.points.interior, seen[-1]):
                seen.append(t.objective.points.interior.clone())

    trainer.run(Watcher())
    assert len(seen) == 3  # after steps 3 and 6
    domain_ok = problem.domain.inside(seen[-1].numpy())
    assert domain_ok.all()


def test_mlp_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="activation 'relu6' is not one of"):
        MLP(activation="relu6")
    with pytest.raises(ValueError, match="fourier_features must be >= 0"):
        MLP(fourier_features=-1)
