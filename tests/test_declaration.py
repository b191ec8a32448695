"""A Problem is a declaration: checked once when built, never changing the objects it was given."""
import numpy as np
import pytest
import torch

import pinn
from pinn.pde.build import condition_batch, condition_target

SQUARE = pinn.Rectangle((0.0, 0.0), (1.0, 2.0))


def laplace(inputs, output, conditions, **settings):
    return pinn.Problem(name="laplace", inputs=inputs, outputs=output, domain=SQUARE,
                        residuals={"pde": lambda f: f.field(output + "_xx") + f.field(output + "_yy")},
                        conditions=conditions, sampling=pinn.Sampling(interior=16, boundary=16), **settings)


def unchanged(obj, before):
    """Whether ``obj`` holds exactly the attribute values it held when ``before = dict(vars(obj))``."""
    return vars(obj).keys() == before.keys() and all(vars(obj)[k] is v for k, v in before.items())


def batch(problem, name, seed=0):
    return condition_batch(problem, problem.conditions[name], 6, "uniform", np.random.default_rng(seed),
                           torch.float64, torch.device("cpu"))


# ------------------------------------------------------------------ binding leaves the user's objects alone
def test_one_condition_object_serves_two_problems_with_other_inputs_and_outputs(tmp_path):
    wall, periodic = pinn.Dirichlet(SQUARE.side(1, "lower"), 1.5), pinn.Periodic("x")
    path = tmp_path / "observed.csv"
    path.write_text("x,y,u\n0.25,0.75,1.0\n0.75,0.5,2.0\n")
    data = pinn.Data.from_csv(path)
    before = {name: dict(vars(c)) for name, c in (("wall", wall), ("periodic", periodic), ("data", data))}
    xy = laplace("x y", "u", {"wall": wall, "periodic": periodic, "data": data})
    yx = laplace("y x", "w", {"wall": wall, "periodic": periodic})
    yx_data = laplace("y x", "u", {"data": data}, training=pinn.Training(dtype="float32"))

    for name, condition in (("wall", wall), ("periodic", periodic), ("data", data)):
        assert unchanged(condition, before[name]), f"the problem changed the user's {name} condition"
    assert data._binding is None and periodic._index is None
    assert xy.conditions["wall"].field == "u" and yx.conditions["wall"].field == "w" and wall.field is None
    # Periodic pairs the two faces of the x axis: the domain's first in one problem, its second in the other.
    assert set(batch(xy, "periodic").points[:, 0].tolist()) == {0.0, 1.0}
    assert set(batch(yx, "periodic").points[:, 1].tolist()) == {0.0, 2.0}
    # The same file, its columns in each problem's input order.
    assert batch(xy, "data").points.tolist() == [[0.25, 0.75], [0.75, 0.5]]
    assert batch(yx_data, "data").points.tolist() == [[0.75, 0.25], [0.5, 0.75]]
    assert xy.conditions["data"].fields_used() == ("u",) and data.fields_used() == ()
    with pytest.raises(RuntimeError, match="not bound to a problem: use the problem's own copy"):
        condition_batch(xy, data, 6, "uniform", None, torch.float64, torch.device("cpu"))


def exact(x, y):
    return torch.exp(x) * torch.sin(y)


def observed(problem):
    return condition_target(problem, problem.conditions["observed"], torch.zeros(1, 2, dtype=torch.float64))


def test_synthetic_observations_shared_by_two_problems_follow_each_problem_seed():
    observations = pinn.observe(pinn.references.analytic(exact, resolution=9), points=20, noise=0.1)
    before = dict(vars(observations))
    problems = [laplace("x y", "u", {"observed": observations}, training=pinn.Training(seed=seed))
                for seed in (0, 1, 0)]
    first, second, again = (observed(p) for p in problems)  # made in this order, from one Data object
    assert torch.equal(first, again) and not torch.equal(first, second)
    assert unchanged(observations, before) and observations._binding is None
