"""Derivatives by name and the operators, against closed forms (float64)."""
import math

import pytest
import torch

import pinn
from pinn.derivatives.fields import FieldNameError, Fields, parse_derivative


def fields_of(fn, n=50, inputs=("x", "y", "t"), outputs=("u", "v"), seed=0):
    generator = torch.Generator().manual_seed(seed)
    points = torch.rand(n, len(inputs), generator=generator, dtype=torch.float64).requires_grad_(True)
    values = fn(*points.unbind(1))
    return Fields(points, values, inputs, outputs, time="t" if "t" in inputs else None), points


def two_fields(x, y, t):
    u = torch.sin(2 * x) * torch.exp(y) * (1 + t**2)
    v = x**3 * y**2 + torch.cos(t * y)
    return torch.stack([u, v], dim=1)


def close(a, b):
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_first_second_and_mixed_derivatives_match_closed_forms():
    f, p = fields_of(two_fields)
    x, y, t = p.detach().unbind(1)
    close(f.u, torch.sin(2 * x) * torch.exp(y) * (1 + t**2))
    close(f.u_x, 2 * torch.cos(2 * x) * torch.exp(y) * (1 + t**2))
    close(f.u_xx, -4 * torch.sin(2 * x) * torch.exp(y) * (1 + t**2))
    close(f.u_t, torch.sin(2 * x) * torch.exp(y) * 2 * t)
    close(f.u_xyt, 2 * torch.cos(2 * x) * torch.exp(y) * 2 * t)
    close(f.u_xxx, -8 * torch.cos(2 * x) * torch.exp(y) * (1 + t**2))
    close(f.v_xy, 6 * x**2 * y)
    close(f.v_yy, 2 * x**3 - t**2 * torch.cos(t * y))
    close(f.v_ty, -torch.sin(t * y) - t * y * torch.cos(t * y))


def test_mixed_derivatives_commute_and_are_cached_once():
    f, _ = fields_of(two_fields)
    first = f.u_xt
    assert f.u_tx is first  # the same cached tensor, not a recomputation
    assert f.u_x is f.derivative("u", ["x"])


def test_one_backward_pass_serves_every_first_derivative(monkeypatch):
    f, _ = fields_of(two_fields)
    calls = []
    original = torch.autograd.grad
    monkeypatch.setattr(torch.autograd, "grad", lambda *a, **k: calls.append(1) or original(*a, **k))
    f.u_x, f.u_y, f.u_t
    assert len(calls) == 1
    f.u_xx, f.u_xy
    assert len(calls) == 2


def test_inputs_are_coordinates():
    f, p = fields_of(two_fields)
    close(f.y, p[:, 1])


def test_multi_letter_input_names():
    f, p = fields_of(lambda x1, x2: torch.stack([x1**2 * x2], 1), inputs=("x1", "x2"), outputs=("u",))
    close(f.u_x1x2, 2 * p[:, 0].detach())
    assert parse_derivative("u_x1x1x2", ("x1", "x2"), ("u",)) == ("u", ("x1", "x1", "x2"))


@pytest.mark.parametrize("name", ["w", "u_z", "w_x", "u_", "ux", "u_xq"])
def test_unknown_names_raise_a_clear_error(name):
    f, _ = fields_of(two_fields)
    with pytest.raises(FieldNameError, match="inputs are x, y, t; outputs are u, v"):
        getattr(f, name)


def test_derivative_of_something_independent_of_an_input_is_zero():
    f, _ = fields_of(lambda x, y, t: torch.stack([x**2 + 0 * y, t], 1))
    close(f.u_y, torch.zeros(50, dtype=torch.float64))
    close(f.u_yy, torch.zeros(50, dtype=torch.float64))


def test_operators_over_spatial_inputs_only():
    f, p = fields_of(two_fields)
    x, y, t = p.detach().unbind(1)
    u = torch.sin(2 * x) * torch.exp(y) * (1 + t**2)
    close(pinn.grad(f, "u"), torch.stack([2 * torch.cos(2 * x) * torch.exp(y) * (1 + t**2), u], 1))
    close(pinn.laplacian(f, "u"), -3 * u)  # -4u + u: time is not in the Laplacian
    close(pinn.laplacian(f, f.u), -3 * u)  # the same through a tensor
    # div(k grad u) with k = 1 + x y equals k lap u + grad k . grad u
    k = 1 + f.x * f.y
    expected = (1 + x * y) * (-3 * u) + y * 2 * torch.cos(2 * x) * torch.exp(y) * (1 + t**2) + x * u
    close(pinn.div(f, k[:, None] * pinn.grad(f, "u")), expected)
    close(pinn.div(f, ["u", "v"]), f.u_x + f.v_y)


def test_normal_derivative_uses_normals():
    generator = torch.Generator().manual_seed(1)
    points = torch.rand(20, 2, generator=generator, dtype=torch.float64).requires_grad_(True)
    values = (points[:, 0] ** 2 + 3 * points[:, 1])[:, None]
    normals = torch.tensor([[0.6, 0.8]], dtype=torch.float64).expand(20, 2)
    f = Fields(points, values, ("x", "y"), ("u",), normals=normals)
    close(pinn.normal_derivative(f, "u"), 0.6 * 2 * points[:, 0].detach() + 0.8 * 3)


def test_derivatives_through_a_network_match_finite_differences():
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
    points = torch.rand(10, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    p = points.clone().requires_grad_(True)
    f = Fields(p, net(p), ("x", "t"), ("u",), time="t")
    h = 1e-4
    shift = torch.tensor([h, 0.0], dtype=torch.float64)
    with torch.no_grad():
        fd = (net(points + shift) - 2 * net(points) + net(points - shift))[:, 0] / h**2
    torch.testing.assert_close(f.u_xx.detach(), fd, rtol=1e-5, atol=1e-6)
    assert math.isfinite(float(f.u_xt.detach().sum()))
