"""Every derivative engine gives the same losses and parameter gradients as nested autograd
(float64, 1e-10 relative), on the built-in problems and on residuals that stress the engines."""
from math import pi

import numpy as np
import pytest
import torch

import pinn
from pinn.derivatives.engine import Engine
from pinn.derivatives.jet import Directions, Jet
from pinn.loading import load_problem
from pinn.pde.build import build_model
from pinn.pde.losses import LossFunction, draw_points
from tests.conftest import ROOT

SQUARE = pinn.Rectangle((0.0, 0.0), (1.0, 1.0))


def losses_and_gradient(problem, engine, seed=0, compile="off", net_override=None):
    model = build_model(problem, torch.float64, torch.device("cpu"), seed)
    if net_override is not None:
        model.net = net_override
    points = draw_points(problem, np.random.default_rng(seed), torch.float64, torch.device("cpu"))
    loss = LossFunction(problem, model, engine, compile)
    terms = loss.backward(points)  # as training computes them
    gradient = [torch.zeros_like(p) if p.grad is None else p.grad for p in model.parameters()]
    return {k: float(v) for k, v in terms.items()}, torch.cat([g.reshape(-1) for g in gradient]), loss


def assert_engines_agree(problem, engines=("taylor",), **kwargs):
    reference_terms, reference_gradient, _ = losses_and_gradient(problem, "autograd", **kwargs)
    for engine in engines:
        terms, gradient, loss = losses_and_gradient(problem, engine, **kwargs)
        assert terms.keys() == reference_terms.keys()
        for name, value in reference_terms.items():
            assert terms[name] == pytest.approx(value, rel=1e-10, abs=1e-14), (engine, name)
        difference = float((gradient - reference_gradient).norm() / reference_gradient.norm())
        assert difference < 1e-10, (engine, difference)
    return loss


def navier_stokes(f, nu=0.05):
    return {
        "momentum_x": f.u * f.u_x + f.v * f.u_y + f.p_x - nu * (f.u_xx + f.u_yy),
        "momentum_y": f.u * f.v_x + f.v * f.v_y + f.p_y - nu * (f.v_xx + f.v_yy),
        "continuity": f.u_x + f.v_y,
    }


def steady_problem(residuals, outputs="u v p", net=None, conditions=None):
    return pinn.Problem(
        name="engine-test", inputs="x y", outputs=outputs, domain=SQUARE, residuals=residuals,
        conditions=conditions or {}, net=net or pinn.MLP(width=12, depth=2),
        sampling=pinn.Sampling(interior=96, boundary=32),
    )


@pytest.mark.parametrize("name", ["heat.py", "heat1d.py"])
def test_builtin_problems_agree(name):
    problem = load_problem(ROOT / "problems" / name)
    loss = assert_engines_agree(problem)
    assert loss.engine.plans["residuals"] is not None  # Taylor mode really ran


FLOW_NETS = pytest.mark.parametrize("net", [
    pinn.MLP(width=12, depth=3),
    pinn.MLP(width=10, depth=2, fourier_features=6, fourier_scale=2.0),
    pinn.ModifiedMLP(width=12, depth=3),
    pinn.ModifiedMLP(width=8, depth=2, fourier_features=4, activation="sin"),
    pinn.MLP(width=12, depth=2, output_scale=(100.0, 0.01, 3.0)),
    pinn.ModifiedMLP(width=8, depth=2, output_scale=(0.1, 10.0, 1.0)),
], ids=["mlp", "fourier", "modified", "modified-fourier-sin", "mlp-output-scale", "modified-output-scale"])


def flow_problem(equations, net):
    """A steady flow in the square with the three residuals ``equations(f)`` returns, a lid and a wall."""
    residuals = {name: (lambda f, name=name: equations(f)[name]) for name in ("momentum_x", "momentum_y",
                                                                              "continuity")}
    conditions = {"lid": pinn.Dirichlet(SQUARE.side(1, "upper"), 1.0, field="u"),
                  "walls": pinn.Neumann(SQUARE.side(0, "lower"), 0.0, field="p")}
    return steady_problem(residuals, net=net, conditions=conditions)


@FLOW_NETS
def test_navier_stokes_residuals_agree(net):
    loss = assert_engines_agree(flow_problem(navier_stokes, net))
    plan = loss.engine.plans["residuals"]
    assert plan.summed == (0, 1)  # u_xx + u_yy is only read as a sum: one Laplacian row, as pinn.laplacian
    assert plan.directions.pairs == () and plan.directions.laplacian == (0, 1)


@pytest.mark.parametrize("activation", ["tanh", "sin", "gelu", "silu", "softplus"])
def test_every_activation_agrees(activation):
    def mixed(f):  # mixed and repeated second derivatives, products and powers
        return f.u_xy * f.u + f.u_xx ** 2 - torch.sin(f.u_yy) + f.u_x * f.u_y

    assert_engines_agree(steady_problem({"mixed": mixed}, outputs="u", net=pinn.MLP(width=10, depth=2,
                                                                                     activation=activation)))


def test_derivatives_of_tensor_expressions_follow_the_chain_rule():
    def variable_coefficient(f):  # div(k grad u) with k built from coordinates and the field itself
        k = 1 + f.x * f.y + 0.1 * f.u ** 2
        return pinn.div(f, k[:, None] * pinn.grad(f, "u")) - torch.cos(pi * f.x)

    def gradient_of_a_product(f):
        return pinn.grad(f, f.u * f.v).sum(dim=1) + pinn.laplacian(f, "v")

    problem = steady_problem({"diffusion": variable_coefficient, "product": gradient_of_a_product}, outputs="u v")
    assert_engines_agree(problem)


def test_exact_conditions_in_space_time_agree():
    domain = SQUARE * pinn.TimeInterval(0.0, 0.5)
    problem = pinn.Problem(
        name="exact", inputs="x y t", outputs="u", domain=domain,
        residuals={"heat": lambda f: f.u_t - 0.1 * (f.u_xx + f.u_yy) - f.u_xt},
        conditions={"walls": pinn.Dirichlet(SQUARE.boundary, lambda x, y, t: x * y * torch.exp(-t), exact=True),
                    "initial": pinn.Initial(lambda x, y: x * y + torch.sin(pi * x) * torch.sin(pi * y),
                                            exact=True)},
        net=pinn.MLP(width=10, depth=2), sampling=pinn.Sampling(interior=80),
    )
    assert_engines_agree(problem)


L_SHAPE = pinn.Polygon([(-1, -1), (0, -1), (0, 0), (1, 0), (1, 1), (-1, 1)])


@pytest.mark.parametrize("laplacian", [True, False], ids=["laplacian-row", "pairs"])
def test_singular_corner_terms_agree(laplacian):
    """An exact wall on a polygon with a re-entrant corner: the corner term (an extra network column
    times r^(2/3) sin(2 theta/3) and a cut-off) through both engines, with a loss condition of another
    field on the boundary too (where the distance factor is differentiated on the boundary itself)."""
    residual = ((lambda f: pinn.laplacian(f, "u") + 1 + f.u_x * f.v) if laplacian
                else (lambda f: f.u_xx + f.u_xy + f.u_yy + 1 + f.u_x * f.v))
    problem = pinn.Problem(
        name="corner", inputs="x y", outputs="u v", domain=L_SHAPE,
        residuals={"poisson": residual, "v": lambda f: f.v_xx + f.v_yy - f.u},
        conditions={"walls": pinn.Dirichlet(L_SHAPE.boundary, lambda x, y: x * y, field="u"),
                    "flux": pinn.Neumann(L_SHAPE.boundary, 0.0, field="v"),
                    "u-flux": pinn.Neumann(L_SHAPE.boundary.where(lambda x, y: y > 0.5), 0.1, field="u")},
        net=pinn.MLP(width=10, depth=2), sampling=pinn.Sampling(interior=80, boundary=24),
    )
    loss = assert_engines_agree(problem)
    assert loss.engine.plans["residuals"] is not None and loss.engine.plans["residuals"].fold == (0,)


def test_singular_corner_terms_in_space_time_agree():
    domain = L_SHAPE * pinn.TimeInterval(0.0, 0.5)
    problem = pinn.Problem(
        name="corner-heat", inputs="x y t", outputs="u", domain=domain,
        residuals={"heat": lambda f: f.u_t - 0.1 * (f.u_xx + f.u_yy) - 1},
        conditions={"walls": pinn.Dirichlet(L_SHAPE.boundary, 0.0), "initial": pinn.Initial(0.0)},
        net=pinn.MLP(width=10, depth=2), sampling=pinn.Sampling(interior=80),
    )
    assert {name for name, c in problem.conditions.items() if c.exact} == {"walls", "initial"}
    assert_engines_agree(problem)


def test_periodic_derivatives_agree():
    space = pinn.Interval(0.0, 2 * pi)
    problem = pinn.Problem(
        name="periodic", inputs="x t", outputs="u", domain=space * pinn.TimeInterval(0.0, 1.0),
        residuals={"advection": lambda f: f.u_t + f.u_x},
        conditions={"periodic": pinn.Periodic("x", derivatives=2),
                    "initial": pinn.Initial(lambda x: torch.sin(x))},
        net=pinn.MLP(width=8, depth=2), sampling=pinn.Sampling(interior=64, boundary=16, initial=16),
    )
    loss = assert_engines_agree(problem)
    assert loss.engine.plans["periodic"] is not None


@pytest.mark.parametrize("net", [pinn.MLP(width=8, depth=2, harmonics=((0, 10), (1, 2.5))),
                                 pinn.ModifiedMLP(width=8, depth=2, periodic=(0,), harmonics=((0, 3),))])
def test_harmonic_waves_agree_and_keep_a_periodic_net_periodic(net):
    space = pinn.Interval(0.0, 1.0)
    problem = pinn.Problem(
        name="waves", inputs="x t", outputs="u", domain=space * pinn.TimeInterval(0.0, 2.0),
        residuals={"heat": lambda f: f.u_t - 1e-3 * f.u_xx},
        conditions={"initial": pinn.Initial(lambda x: torch.sin(20 * pi * x))},
        net=net, sampling=pinn.Sampling(interior=64, initial=16),
    )
    assert_engines_agree(problem)
    module = net.build(2, 1, torch.tensor([0.0, 0.0], dtype=torch.float64),
                       torch.tensor([1.0, 2.0], dtype=torch.float64), torch.Generator().manual_seed(0)).double()
    t = torch.rand(16, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    ends = [module(torch.cat([torch.full_like(t, x), t], dim=1)) for x in (0.0, 1.0)]
    assert torch.allclose(*ends, rtol=0, atol=1e-12) == bool(net.periodic)


def test_harmonics_are_checked():
    with pytest.raises(ValueError, match="harmonics must list"):
        pinn.MLP(harmonics=((0, -1.0),))
    with pytest.raises(ValueError, match="whole numbers of cycles"):
        pinn.MLP(periodic=(0,), harmonics=((0, 2.5),))
    with pytest.raises(ValueError, match="harmonics needs normalize_inputs=True and fourier_features=0"):
        pinn.MLP(harmonics=((0, 4),), fourier_features=8)


def test_third_derivatives_fall_back_to_autograd_unless_taylor_is_forced():
    problem = steady_problem({"dispersive": lambda f: f.u_xxx + f.u_y}, outputs="u")
    loss = assert_engines_agree(problem, engines=("auto",))
    assert loss.engine.plans["residuals"] is None
    assert "order 3" in loss.engine.reasons["residuals"]
    with pytest.raises(ValueError, match="order 3"):
        losses_and_gradient(problem, "taylor")


def test_a_network_without_jet_uses_autograd():
    class Plain(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 1, dtype=torch.float64)

        def forward(self, x):
            return torch.tanh(self.linear(x)) ** 2

    problem = steady_problem({"poisson": lambda f: f.u_xx + f.u_yy - 1}, outputs="u")
    _, _, loss = losses_and_gradient(problem, "auto", net_override=Plain())
    assert loss.engine.plans["residuals"] is None
    assert "no jet method" in loss.engine.reasons["residuals"]


def test_jets_match_autograd_on_a_single_function():
    x = torch.rand(7, 2, dtype=torch.float64, requires_grad=True)
    directions = Directions(first=(0, 1), pairs=((0, 0), (0, 1), (1, 1)))
    jet = Jet.of_inputs(x.detach(), directions)
    product = (jet.linear(torch.tensor([[1.0, 2.0]], dtype=torch.float64)).apply(
        lambda z: (torch.tanh(z), 1 - torch.tanh(z) ** 2, -2 * torch.tanh(z) * (1 - torch.tanh(z) ** 2))))
    product = product * jet.linear(torch.tensor([[3.0, -1.0]], dtype=torch.float64))
    value = torch.tanh(x[:, 0] + 2 * x[:, 1]) * (3 * x[:, 0] - x[:, 1])
    (first,) = torch.autograd.grad(value.sum(), x, create_graph=True)
    hessian = [torch.autograd.grad(first[:, i].sum(), x, retain_graph=True)[0] for i in range(2)]
    torch.testing.assert_close(product.value[:, 0], value.detach())
    torch.testing.assert_close(product.first[:, :, 0].T, first.detach())
    for row, (a, b) in enumerate(directions.pairs):
        torch.testing.assert_close(product.second[row, :, 0], hessian[a][:, b])


def test_a_laplacian_row_matches_the_trace_of_the_hessian():
    x = torch.rand(7, 3, dtype=torch.float64, requires_grad=True)
    directions = Directions(first=(0, 1, 2), pairs=((0, 2),), laplacian=(0, 1))
    jet = Jet.of_inputs(x.detach(), directions)
    tanh = lambda z: (torch.tanh(z), 1 - torch.tanh(z) ** 2, -2 * torch.tanh(z) * (1 - torch.tanh(z) ** 2))
    weight = torch.tensor([[1.0, 2.0, -0.5], [0.3, -1.0, 2.0]], dtype=torch.float64)
    hidden = jet.linear(weight).apply(tanh)
    product = hidden.linear(torch.tensor([[1.5, -2.0]], dtype=torch.float64)) * jet.linear(weight[1:] ** 2)
    value = (torch.tanh(x @ weight.T) @ torch.tensor([1.5, -2.0], dtype=torch.float64)) * (x @ (weight[1] ** 2))
    (first,) = torch.autograd.grad(value.sum(), x, create_graph=True)
    hessian = [torch.autograd.grad(first[:, i].sum(), x, retain_graph=True)[0] for i in range(3)]
    assert product.second.shape[0] == directions.n_second == 2
    torch.testing.assert_close(product.value[:, 0], value.detach())
    torch.testing.assert_close(product.second[0, :, 0], hessian[0][:, 2])
    torch.testing.assert_close(product.second[1, :, 0], hessian[0][:, 0] + hessian[1][:, 1])


def navier_stokes_laplacian(f, nu=0.05):
    return {
        "momentum_x": f.u * f.u_x + f.v * f.u_y + f.p_x - nu * pinn.laplacian(f, "u"),
        "momentum_y": f.u * f.v_x + f.v * f.v_y + f.p_y - nu * pinn.laplacian(f, "v"),
        "continuity": f.u_x + f.v_y,
    }


@FLOW_NETS
def test_laplacians_carried_as_one_row_agree(net):
    loss = assert_engines_agree(flow_problem(navier_stokes_laplacian, net))
    directions = loss.engine.plans["residuals"].directions
    assert directions.pairs == () and directions.laplacian == (0, 1)  # one row, not u_xx and u_yy


def test_laplacian_row_through_exact_conditions_in_space_time():
    domain = SQUARE * pinn.TimeInterval(0.0, 0.5)
    problem = pinn.Problem(
        name="exact", inputs="x y t", outputs="u", domain=domain,
        residuals={"heat": lambda f: f.u_t - 0.1 * pinn.laplacian(f, "u") - f.u_xt},
        conditions={"walls": pinn.Dirichlet(SQUARE.boundary, lambda x, y, t: x * y * torch.exp(-t) + x * x * y,
                                            exact=True),
                    "initial": pinn.Initial(lambda x, y: x * y + x * x * y + torch.sin(pi * x) * torch.sin(pi * y),
                                            exact=True)},
        net=pinn.ModifiedMLP(width=10, depth=2), sampling=pinn.Sampling(interior=80),
    )
    loss = assert_engines_agree(problem)
    directions = loss.engine.plans["residuals"].directions
    assert directions.first == (0, 1, 2) and directions.pairs == ((0, 2),) and directions.laplacian == (0, 1)


def test_a_laplacian_whose_terms_are_also_read_comes_from_them():
    def both(f):  # u_xx and u_yy are carried anyway: the Laplacian is their sum, no extra row
        return pinn.laplacian(f, "u") * f.u_xx + f.u_yy + pinn.laplacian(f, "v") * f.v

    def some(f):  # only u_xx is read alone: the Laplacian gets its own row next to it
        return pinn.laplacian(f, "u") + f.u_xx ** 2 + f.v_x

    for residual, pairs, laplacian in ((both, ((0, 0), (1, 1)), ()), (some, ((0, 0),), (0, 1))):
        loss = assert_engines_agree(steady_problem({"r": residual}, outputs="u v"))
        directions = loss.engine.plans["residuals"].directions
        assert (directions.pairs, directions.laplacian) == (pairs, laplacian)


def test_terms_read_only_as_their_sum_are_carried_as_a_laplacian():
    cube = pinn.Box((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))
    space_time = SQUARE * pinn.TimeInterval(0.0, 1.0)
    cases = [  # (inputs, domain, residual, outputs summed)
        ("x y z", cube, lambda f: f.u * (f.u_xx + f.u_yy + f.u_zz) - f.u_xx.shape[0], (0,)),
        ("x y z", cube, lambda f: (f.u_xx + f.u_yy) + f.u_zz * 0.5, ()),  # u_zz scaled: not the plain sum
        ("x y t", space_time, lambda f: f.u_t - 0.1 * (f.u_yy + f.u_xx), (0,)),  # over space only
        ("x y t", space_time, lambda f: f.u_xx + f.u_yy + f.u_tt, (0,)),  # the sum, then u_tt added to it
        ("x y t", space_time, lambda f: f.u_xx + f.u_tt + f.u_yy, ()),  # u_xx + u_tt: u_xx read apart from u_yy
    ]
    for inputs, domain, residual, summed in cases:
        problem = pinn.Problem(name="sums", inputs=inputs, outputs="u", domain=domain, residuals={"r": residual},
                               net=pinn.MLP(width=10, depth=2), sampling=pinn.Sampling(interior=64))
        loss = assert_engines_agree(problem)
        assert loss.engine.plans["residuals"].summed == summed, inputs


@pytest.mark.parametrize("residual", [
    lambda f: f.u_xx + f.u_yy + f.u_xx ** 2,  # a term read alone as well
    lambda f: torch.where(f.u_xx > 0, f.u_xx + f.u_yy, f.v),  # a term compared: no gradient shows that use
    lambda f: f.u_xx + f.v_yy + f.v_xx + f.u_yy,  # sums across outputs
    lambda f: 2 * f.u_xx + f.u_yy + torch.add(f.v_xx, f.v_yy, alpha=2.0),  # scaled terms
    lambda f: f.u_xx + f.u_yy + pinn.div(f, f.u[:, None] * pinn.grad(f, "v")),  # the chain rule reads each term
], ids=["alone", "compared", "across", "scaled", "chain-rule"])
def test_terms_used_otherwise_are_carried_each(residual):
    loss = assert_engines_agree(steady_problem({"r": residual}, outputs="u v"))
    plan = loss.engine.plans["residuals"]
    assert plan.summed == () and (0, 0) in plan.directions.pairs


def test_derivatives_of_a_laplacian_need_order_three_and_use_autograd():
    problem = steady_problem({"r": lambda f: pinn.grad(f, f.u * pinn.laplacian(f, "u")).sum(dim=1)}, outputs="u")
    loss = assert_engines_agree(problem, engines=("auto",))
    assert loss.engine.plans["residuals"] is None
    assert "order 3" in loss.engine.reasons["residuals"]


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="derivatives must be one of"):
        Engine(torch.nn.Linear(1, 1), "forward")
    with pytest.raises(ValueError, match="Numerics derivatives"):
        pinn.Numerics(derivatives="fast")
    with pytest.raises(ValueError, match="Numerics compile"):
        pinn.Numerics(compile="yes")


def compiled_agrees(name, scope):
    problem = load_problem(ROOT / "problems" / name)
    reference_terms, reference_gradient, _ = losses_and_gradient(problem, "autograd")
    terms, gradient, loss = losses_and_gradient(problem, "taylor", compile="on")
    assert loss.compile_status["compiled"], loss.compile_status
    assert loss.compile_status["scope"] == scope
    assert loss.compile_status["compile_time_s"] > 0
    for name, value in reference_terms.items():
        assert terms[name] == pytest.approx(value, rel=1e-10)
    assert float((gradient - reference_gradient).norm() / reference_gradient.norm()) < 1e-10
    return problem, loss


def test_compiled_whole_loss_agrees_and_is_kept_on_resume():
    problem, loss = compiled_agrees("heat1d.py", "whole loss")
    resumed = LossFunction(problem, loss.model, "taylor", "off")
    resumed.load_state_dict(loss.state_dict())
    assert resumed.compile_mode == "on"


def test_compiled_gradient_takes_term_weights_without_recompiling_and_accumulates():
    """Training's route: one compiled graph for the terms and the gradient of their weighted sum. New
    weights (gradient balancing) are an input of that graph, not constants in it."""
    problem = load_problem(ROOT / "problems" / "heat1d.py")
    points = draw_points(problem, np.random.default_rng(0), torch.float64, torch.device("cpu"))
    compiled = LossFunction(problem, build_model(problem, torch.float64, torch.device("cpu"), 0), "taylor", "on")
    compiled.backward(points)
    assert compiled.compile_status["scope"] == "whole loss", compiled.compile_status
    reference = LossFunction(problem, build_model(problem, torch.float64, torch.device("cpu"), 0), "autograd")
    names = list(reference(points))
    for weights in ({names[0]: 3.0, names[-1]: 0.25}, {names[0]: 0.5}):
        for loss in (compiled, reference):
            loss.model.zero_grad(set_to_none=True)
        with torch.compiler.set_stance("fail_on_recompile"):
            terms = compiled.backward(points, weights)
        expected = reference.backward(points, weights)
        assert all(not t.requires_grad for t in terms.values())
        for name, value in expected.items():
            assert float(terms[name]) == pytest.approx(float(value), rel=1e-10)
        got = torch.cat([p.grad.reshape(-1) for p in compiled.model.parameters()])
        want = torch.cat([p.grad.reshape(-1) for p in reference.model.parameters()])
        assert float((got - want).norm() / want.norm()) < 1e-10
    compiled.backward(points, weights)  # adds to .grad, as Tensor.backward does
    twice = torch.cat([p.grad.reshape(-1) for p in compiled.model.parameters()])
    assert torch.allclose(twice, 2 * got, rtol=1e-12, atol=0)


def test_every_loss_function_compiles_its_own_code():
    # torch.compile keeps a few variants per code object and past that runs it eager, only logging a
    # warning: a process compiling many problems must not silently lose its compiled step.
    with torch._dynamo.config.patch(recompile_limit=1, fail_on_recompile_limit_hit=True):
        for width in (6, 7):
            problem = steady_problem({"r": lambda f: f.u_xx + f.u_y}, outputs="u", net=pinn.MLP(width=width, depth=1))
            model = build_model(problem, torch.float32, torch.device("cpu"), 0)
            points = draw_points(problem, np.random.default_rng(0), torch.float32, torch.device("cpu"))
            loss = LossFunction(problem, model, "taylor", "on")
            loss.backward(points)
            assert loss.compile_status["compiled"], loss.compile_status


@pytest.mark.slow
def test_compiled_network_pass_agrees_where_the_residual_differentiates_expressions():
    compiled_agrees("heat.py", "network pass at the interior points")  # div(k grad u): the chain rule


@pytest.mark.parametrize("name", ["heat_inverse.py", "navier_stokes_inverse.py", "elasticity_inverse.py"])
def test_inverse_problems_agree_down_to_the_unknowns_gradients(name):
    problem = load_problem(ROOT / "problems" / name)
    loss = assert_engines_agree(problem)
    assert loss.engine.plans["residuals"] is not None
    unknowns = len(problem.unknowns)  # registered last: the end of the gradient vector
    _, reference_gradient, _ = losses_and_gradient(problem, "autograd")
    _, gradient, _ = losses_and_gradient(problem, "taylor")
    assert bool((reference_gradient[-unknowns:] != 0).all())
    assert torch.allclose(gradient[-unknowns:], reference_gradient[-unknowns:], rtol=1e-10, atol=0)
