"""The trainer: it learns, it is reproducible, and a checkpoint continues exactly."""
import dataclasses

import numpy as np
import pytest
import torch

from conftest import run_until, parameters
from pinn.io import load_checkpoint, save_checkpoint
from pinn.loading import load_problem
from pinn.nets import MLP
from pinn.overrides import apply_overrides
from pinn.pde.build import build_model
from pinn.training import Monitor, Trainer
from pinn.training.config import Training
from pinn.validation import field_errors, worst


@pytest.fixture
def tiny(write_problem):
    return load_problem(write_problem())


def trained(problem, **changes):
    training = dataclasses.replace(problem.training, **changes)
    trainer = Trainer(problem, training, problem.reference.build(problem.inputs, problem.outputs, problem.domain))
    trainer.run()
    return trainer


def test_training_lowers_the_loss_and_the_error(tiny):
    problem = apply_overrides(tiny, {"training.adam_steps": 150, "training.lbfgs_steps": 100})
    trainer = Trainer(problem, problem.training, problem.reference.build(problem.inputs, problem.outputs, problem.domain))
    before = float(sum(trainer.losses().values()).detach())
    error_before = worst(field_errors(trainer.predict_reference(), trainer.reference, {}))
    trainer.run()
    after = float(sum(trainer.losses().values()).detach())
    assert trainer.step == 250
    assert after < 1e-2 * before
    assert worst(trainer.last_errors) < 0.2 * error_before


def test_same_seed_gives_identical_parameters(tiny):
    a, b = trained(tiny), trained(tiny)
    assert torch.equal(parameters(a), parameters(b))
    assert not torch.equal(parameters(a), parameters(trained(tiny, seed=1)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])  # on the CPU both are deterministic
@pytest.mark.parametrize("stop_at", [5, 18])  # during Adam, and during L-BFGS
def test_checkpoint_resumes_exactly(tiny, tmp_path, stop_at, dtype):
    problem = apply_overrides(tiny, {"training.lbfgs_steps": 40, "training.dtype": dtype})
    reference = problem.reference.build(problem.inputs, problem.outputs, problem.domain)
    whole = Trainer(problem, problem.training, reference)
    whole.run()

    first = Trainer(problem, problem.training, reference)
    run_until(first, stop_at)
    save_checkpoint(tmp_path / "checkpoint.pt", first.state_dict())

    resumed = Trainer(problem, problem.training, reference)
    resumed.load_state_dict(load_checkpoint(tmp_path / "checkpoint.pt"))
    assert resumed.step == first.step >= stop_at
    resumed.run()
    assert resumed.step == whole.step
    assert torch.equal(parameters(resumed), parameters(whole))


def test_training_config_rejects_bad_values():
    with pytest.raises(ValueError, match="dtype 'float16'"):
        Training(dtype="float16")
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        Training(learning_rate=0)
    with pytest.raises(ValueError, match="at least one step"):
        Training(adam_steps=0, lbfgs_steps=0)


def test_total_steps_keep_the_adam_share():
    training = Training(adam_steps=1000, lbfgs_steps=3000)
    assert (training.with_total_steps(400).adam_steps, training.with_total_steps(400).lbfgs_steps) == (100, 300)
    assert training.with_total_steps(8000).adam_steps == 1000  # Adam never runs longer than asked


def test_float32_runs_and_reports_its_dtype(tiny):
    trainer = trained(tiny, dtype="float32")
    assert next(trainer.model.parameters()).dtype == torch.float32
    assert np.isfinite(worst(trainer.last_errors))


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
    problem = apply_overrides(tiny, {"sampling.resample_every": 3, "training.adam_steps": 7, "training.lbfgs_steps": 0})
    trainer = Trainer(problem, problem.training)
    seen = [trainer.points.interior.clone()]

    class Watcher(Monitor):
        def on_step(self, t, row):
            if not torch.equal(t.points.interior, seen[-1]):
                seen.append(t.points.interior.clone())

    trainer.run(Watcher())
    assert len(seen) == 3  # after steps 3 and 6
    domain_ok = problem.domain.inside(seen[-1].numpy())
    assert domain_ok.all()


def test_mlp_rejects_an_unknown_activation():
    with pytest.raises(ValueError, match="activation 'relu6' is not one of"):
        MLP(activation="relu6")
    with pytest.raises(ValueError, match="fourier_features must be >= 0"):
        MLP(fourier_features=-1)
