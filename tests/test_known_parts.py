"""A known additive part of an output (Problem(known=...)): the network adds to it, residuals see
the sum through every derivative engine, and the cavity's corner flow is a Stokes flow."""
import numpy as np
import pytest
import torch

import pinn
from pinn.pde.build import build_model
from pinn.pde.problem import ProblemError
from pinn.references._cavity_corner import corner_flow
from tests.test_conditions import ExactNet
from tests.test_engines import assert_engines_agree, navier_stokes

SQUARE = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))


def bump(x, y):
    return torch.sin(3 * x) * torch.exp(y)


def problem_with(known, outputs="u", residuals=None, conditions=None):
    return pinn.Problem(name="known", inputs="x y", outputs=outputs, domain=SQUARE,
                        residuals=residuals or {"pde": lambda f: f.u_xx + f.u_yy}, conditions=conditions or {},
                        known=known, net=pinn.MLP(width=12, depth=2), sampling=pinn.Sampling(interior=64))


def test_output_is_the_known_part_plus_the_network_and_residuals_see_both():
    problem = problem_with({"u": bump})
    model = build_model(problem, torch.float64, torch.device("cpu"), seed=0)
    model.net = ExactNet(lambda x, y: (x * y)[:, None])
    points = torch.rand(20, 2, dtype=torch.float64)
    x, y = points.unbind(1)
    np.testing.assert_allclose(model.predict(points)["u"], (bump(x, y) + x * y).numpy(), rtol=1e-14)
    f = model.fields(points)
    np.testing.assert_allclose((f.u_xx + f.u_yy).detach().numpy(), (-8 * bump(x, y)).numpy(), rtol=1e-12)


def test_engines_agree_with_a_known_part_among_exact_conditions():
    problem = problem_with({"p": lambda x, y: 1 / (0.1 + x**2 + (1 - y) ** 2)}, outputs="u v p",
                           residuals={k: (lambda f, k=k: navier_stokes(f)[k])
                                      for k in ("momentum_x", "momentum_y", "continuity")},
                           conditions={"u": pinn.Dirichlet(SQUARE.boundary, lambda x, y: y**2, field="u", exact=True)})
    assert_engines_agree(problem)


@pytest.mark.parametrize("known, message", [
    ({"q": bump}, "known part given for 'q', which is not an output"),
    ({"u": 1.0}, "known part of 'u' must be a function"),
    ([bump], "known must be a dict"),
])
def test_bad_known_parts_are_named(known, message):
    with pytest.raises(ProblemError, match=message):
        problem_with(known)


def test_a_known_part_on_a_field_with_an_exact_condition_is_refused():
    with pytest.raises(ProblemError, match="add the known part to that value instead"):
        problem_with({"u": bump}, conditions={"walls": pinn.Dirichlet(SQUARE.boundary, 0.0, exact=True)})


def test_the_cavity_corner_flow_solves_stokes_in_torch_as_in_numpy():
    nu = 0.01
    points = torch.rand(200, 2, dtype=torch.float64) * 0.98 + 0.01
    x, y = (c.clone().requires_grad_(True) for c in points.unbind(1))
    flow = pinn.references.cavity_corner_flow(x, y, 1.0, 0.5, nu)
    expected = corner_flow(x.detach().numpy(), y.detach().numpy(), 1.0, 0.5, nu)
    for name in ("psi", "u", "v", "p"):
        np.testing.assert_allclose(flow[name].detach().numpy(), expected[name], rtol=1e-12, atol=1e-14)

    def grad(q, wrt):
        return torch.autograd.grad(q.sum(), wrt, create_graph=True)[0]

    u, v, p = flow["u"], flow["v"], flow["p"]
    u_x, u_y, v_x, v_y = grad(u, x), grad(u, y), grad(v, x), grad(v, y)
    stokes_x = grad(p, x) - nu * (grad(u_x, x) + grad(u_y, y))
    stokes_y = grad(p, y) - nu * (grad(v_x, x) + grad(v_y, y))
    scale = float(grad(p, x).detach().abs().max())
    for residual in (u_x + v_y, stokes_x / scale, stokes_y / scale):
        assert float(residual.detach().abs().max()) < 1e-10
    assert float(flow["u"].detach().std()) > 0.1  # not trivially zero
