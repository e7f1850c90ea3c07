"""Algorithm 1 (GDNP) and its baselines, GD and Nesterov's AGD (paper Sec. 4, book: thm-gdnp).

Everything runs a batch of ``B`` independent instances as one numpy computation: the problem
has ``S`` of shape ``(B, d, d)`` and ``u`` of shape ``(B, d)``, iterates have shape ``(B, d)``
and histories ``(T + 1, B, ...)``. The problems need ``S``, ``u``, ``value``, ``grad`` (the
:class:`~bnrates.problems.Problem` protocol) and, for GDNP, ``stein_coefficients``.

Step sizes of the baselines: the natural choice is ``1 / zeta`` with ``zeta`` a smoothness
bound of ``f``; for the logistic loss ``phi'' <= 1/4`` so ``zeta = lambda_max(S) / 4``
(:func:`bnrates.halfspace.halfspace_smoothness`), i.e. step ``4 / L``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Literal, Protocol, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .problems import Problem, dual_norm_sq, spectrum_bounds, value_and_grad
from .rates import rayleigh_gap
from .rayleigh import rayleigh_argmin
from .reparametrization import gradient_wg, length_direction_split, reparametrize, s_norm
from .validation import check_array, check_int, check_real

Array = NDArray[np.float64]

State = TypeVar("State")
"""The state of a descent loop: ``w~`` for :func:`gd`, ``(w, g)`` for :func:`bngd`."""


class SteinProblem(Problem, Protocol):
    """A problem whose gradient has the Stein form ``grad f = c1 u + c2 S w~``."""

    def stein_coefficients(self, wt: Array) -> tuple[Array, Array]: ...


def bisection(
    dg: Callable[[Array], Array],
    n_steps: int,
    a: float = -1.0,
    b: float = 1.0,
    max_doublings: int = 60,
    rtol: float = 1e-9,
) -> tuple[Array, Array, Array]:
    """Root of an increasing function by bracket expansion and bisection, batched.

    First every bracket ``[a, b]`` (with ``a < 0 < b``) is expanded by doubling the end that
    has the wrong sign until ``dg(a) < 0 < dg(b)`` (one call of ``dg`` per doubling of each end,
    none for an end that did not move); then all brackets are halved together ``n_steps`` times
    (one call of ``dg`` per halving). The returned midpoint is within
    ``2^{-(n_steps + 1)} |b0 - a0|`` of the root (the ``2^{-T_s}`` term of the GDNP theorem,
    paper Sec. 4, book: thm-gdnp).

    Parameters
    ----------
    dg : callable
        ``g -> d_g f(w, g)``, maps shape ``(B,)`` to ``(B,)`` (a scalar ``g`` must broadcast
        to ``(B,)``); increasing in ``g`` (the length problem is convex).
    n_steps : int
        Number of halvings ``T_s >= 0``.
    a, b : float
        Initial bracket, ``a < 0 < b``.
    max_doublings : int
        Give up after this many expansions.
    rtol : float
        During the expansion, values ``|dg| <= rtol * max(|dg(a)|, |dg(b)|)`` (initial
        bracket) count as zero, i.e. as no sign: far out the derivative of a bounded loss
        vanishes like ``g^{-3}`` and its computed sign is round-off noise (sigmoid loss).

    Returns
    -------
    g : ndarray, shape ``(B,)``
        Midpoint of the final brackets.
    a0, b0 : ndarray, shape ``(B,)``
        The brackets after expansion, before halving.

    Raises
    ------
    ValueError
        If some ``dg`` shows no sign change within ``max_doublings`` doublings: the optimal
        length is unbounded (as for the sigmoid loss) or ``dg`` is not increasing.
    """
    n_steps = check_int("n_steps", n_steps, minimum=0)
    max_doublings = check_int("max_doublings", max_doublings, minimum=0)
    if not (np.isfinite(a) and np.isfinite(b) and a < 0 < b):
        raise ValueError(f"the initial bracket must satisfy a < 0 < b, got a = {a}, b = {b}")
    fa = np.asarray(dg(np.asarray(a, dtype=np.float64)), dtype=np.float64)
    lo = np.full(fa.shape, float(a))
    hi = np.full(fa.shape, float(b))
    fb = np.asarray(dg(hi), dtype=np.float64)
    tol = rtol * np.maximum(np.abs(fa), np.abs(fb))
    for k in range(max_doublings + 1):
        if np.isnan(fa).any() or np.isnan(fb).any():
            raise ValueError("the length derivative dg returned NaN")
        bad_lo, bad_hi = fa >= -tol, fb <= tol
        if not (bad_lo.any() or bad_hi.any()):
            break
        if k == max_doublings:
            which = np.flatnonzero(np.atleast_1d(bad_lo | bad_hi))
            raise ValueError(
                f"no bracket found: d_g f has no sign change on [{a:g} * 2^{max_doublings}, "
                f"{b:g} * 2^{max_doublings}] for instances {which.tolist()}; the optimal length is "
                "unbounded (e.g. the sigmoid loss) and Algorithm 1's bracket assumption fails"
            )
        if bad_lo.any():  # only a bracket end that moved is evaluated again
            lo = np.where(bad_lo, 2 * lo, lo)
            fa = np.asarray(dg(lo), dtype=np.float64)
        if bad_hi.any():
            hi = np.where(bad_hi, 2 * hi, hi)
            fb = np.asarray(dg(hi), dtype=np.float64)
    a0, b0 = lo.copy(), hi.copy()
    if lo.size == 1:  # one instance (the race's kernels): the same halvings in Python floats, without
        return _halve_one(dg, lo, hi, n_steps), a0, b0  # numpy's cost per call (8.6 -> 6.3 us a halving)
    for _ in range(n_steps):
        mid = (lo + hi) / 2
        neg = np.asarray(dg(mid)) < 0
        lo = np.where(neg, mid, lo)
        hi = np.where(neg, hi, mid)
    return (lo + hi) / 2, a0, b0


def _halve_one(dg: Callable[[Array], Array], lo: Array, hi: Array, n_steps: int) -> Array:
    """The halvings of :func:`bisection` for a batch of one bracket ``[lo, hi]`` (shape ``()`` or ``(1,)``).

    The same IEEE double arithmetic as the batched loop (``(lo + hi) / 2``, ``lo = mid`` where
    ``dg(mid) < 0``, else ``hi = mid``), so the result is the same to the bit.
    """
    shape, a, b = lo.shape, float(lo.flat[0]), float(hi.flat[0])
    for _ in range(n_steps):
        mid = (a + b) / 2
        if np.asarray(dg(np.full(shape, mid))).flat[0] < 0:
            a = mid
        else:
            b = mid
    return np.full(shape, (a + b) / 2)


@dataclass(frozen=True)
class LengthSearch:
    """Result of :func:`newton_length`; arrays of shape ``(B,)``.

    Attributes
    ----------
    g : ndarray
        The lengths; within ``tol`` of the root wherever ``certified``.
    certified : ndarray of bool
        Whether the error reached ``tol`` (Taylor bound or bracket) within ``max_steps`` evaluations.
    evaluations : int
        Calls of ``derivatives`` made.
    """

    g: Array
    certified: NDArray[np.bool_]
    evaluations: int


def newton_length(
    derivatives: Callable[[Array], tuple[Array, Array]],
    g0: ArrayLike,
    curvature: ArrayLike,
    tol: float,
    max_steps: int = 60,
) -> LengthSearch:
    """Root of an increasing ``d_g f`` by safeguarded Newton steps with a certified error, batched.

    At ``x`` let ``F = d_g f(x)`` and ``F' = d^2_g f(x) > 0``, and let ``C`` bound
    ``|d^3_g f|`` everywhere (the ``curvature``; for ``f = mean phi(g m_i)`` it is
    ``sup|phi'''| mean|m_i|^3``). By Taylor, ``d_g f(x + s) >= F + F' s - C s^2 / 2`` on the
    side ``s sign(F) <= 0``, so when ``F'^2 >= 2 C |F|`` the root ``r`` lies within

        delta = 2 |F| / (F' + sqrt(F'^2 - 2 C |F|))

    of ``x``, and the Newton point ``x - F / F'`` is within ``C delta^2 / (2 F')`` of ``r``.
    An instance stops at its Newton point as soon as that bound is ``<= tol``, or at the
    midpoint of the bracket its evaluations have found (signs of ``F``) once it is at most
    ``2 tol`` wide. Otherwise it takes the Newton step, at most ``max(1, |x|)`` long and replaced
    by the bracket's midpoint when it would leave the bracket. With ``tol = 2^{-T_s}`` the result
    is as accurate as ``T_s`` halvings of Algorithm 1's bracket ``[-1, 1]``, usually after one or
    two evaluations from a warm start instead of ``T_s + 2``.

    Parameters
    ----------
    derivatives : callable
        ``g -> (d_g f, d^2_g f)``, shape ``(B,)`` to two arrays of shape ``(B,)``.
    g0 : array, shape ``(B,)``
        Starting lengths (the previous iteration's, for a warm start).
    curvature : array, shape ``(B,)``
        ``C >= sup |d^3_g f|``.
    tol : float
        Required accuracy, ``> 0``.
    max_steps : int
        Evaluations before giving up (no root: the caller's :func:`bisection` then explains).

    Returns
    -------
    LengthSearch
    """
    tol = check_real("tol", tol, minimum=0.0, strict=True)
    max_steps = check_int("max_steps", max_steps, minimum=1)
    x = np.array(g0, dtype=np.float64)
    C = np.broadcast_to(check_array("curvature", curvature, ndim_min=0), x.shape)
    lo, hi = np.full(x.shape, -np.inf), np.full(x.shape, np.inf)
    certified = np.zeros(x.shape, dtype=bool)
    evaluations = 0
    while evaluations < max_steps and not certified.all():
        F, Fp = (np.asarray(v, dtype=np.float64) for v in derivatives(x))
        evaluations += 1
        lo = np.where(~certified & (F < 0), np.maximum(lo, x), lo)
        hi = np.where(~certified & (F >= 0), np.minimum(hi, x), hi)
        disc = Fp**2 - 2 * C * np.abs(F)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            delta = 2 * np.abs(F) / (Fp + np.sqrt(np.maximum(disc, 0.0)))
            newton = -F / Fp
            bound = C * delta**2 / (2 * Fp)
        by_taylor = ~certified & (Fp > 0) & (disc >= 0) & (bound <= tol)
        by_bracket = ~certified & ~by_taylor & (hi - lo <= 2 * tol)
        cap = np.maximum(1.0, np.abs(x))
        proposal = x + np.where(np.isfinite(newton), np.clip(newton, -cap, cap), 0.0)
        inside = (proposal > lo) & (proposal < hi)
        midpoint = np.where(np.isfinite(lo) & np.isfinite(hi), (lo + hi) / 2, proposal)
        step_to = np.where(by_taylor | inside, proposal, midpoint)
        x = np.where(certified, x, np.where(by_bracket, (lo + hi) / 2, step_to))
        certified |= by_taylor | by_bracket
    return LengthSearch(x, certified, evaluations)


def length_derivative_of(problem: Problem, w: Array, g: Array | float) -> Array:
    """``d_g f(w, g)``: the problem's own ``length_derivative`` if it has one, else the chain rule."""
    own = getattr(problem, "length_derivative", None)
    if own is not None:
        return own(w, g)
    return gradient_wg(problem.grad(reparametrize(w, g, problem.S)), w, g, problem.S)[1]


@dataclass(frozen=True)
class GDNPHistory:
    """Trajectory of :func:`gdnp`; index ``t = 0 .. T`` on the first axis.

    Attributes
    ----------
    w : ndarray, shape ``(T + 1, B, d)``
        Directions ``w_t``.
    g : ndarray, shape ``(T + 1, B)``
        Lengths ``g_t`` from the bisection at ``w_t``.
    wt : ndarray, shape ``(T + 1, B, d)``
        Effective weights ``w~_t = g_t w_t / ||w_t||_S``.
    value : ndarray, shape ``(T + 1, B)``
        ``f(w~_t)``.
    grad_norm_sq : ndarray, shape ``(T + 1, B)``
        ``||grad f(w~_t)||^2_{S^-1}``.
    direction, length : ndarray, shape ``(T + 1, B)``
        Its two parts ``(||w||^2_S / g^2) ||grad_w f||^2_{S^-1}`` and ``(d_g f)^2``
        (:func:`~bnrates.reparametrization.length_direction_split`).
    rayleigh_gap : ndarray, shape ``(T + 1, B)``
        ``rho(w_t) - rho*`` (:func:`~bnrates.rates.rayleigh_gap`).
    c1 : ndarray, shape ``(T + 1, B)``
        Stein coefficient ``c1(w~_t)``.
    h : ndarray, shape ``(T + 1, B)``
        ``h(w_t, g_t)`` used in the step.
    bracket_width : ndarray, shape ``(T + 1, B)``
        ``|b0 - a0|`` of the bisection at step ``t``.
    """

    w: Array
    g: Array
    wt: Array
    value: Array
    grad_norm_sq: Array
    direction: Array
    length: Array
    rayleigh_gap: Array
    c1: Array
    h: Array
    bracket_width: Array


def gdnp(
    problem: SteinProblem,
    w0: ArrayLike,
    n_steps: int,
    n_bisection: int,
    L: ArrayLike | None = None,
    h: Literal["stein", "summary"] = "stein",
    tol: float | None = None,
) -> GDNPHistory:
    """Algorithm 1, Gradient Descent in Normalized Parameterization (paper Sec. 4, book: thm-gdnp).

    For ``t = 0 .. T - 1``: ``g_t = Bisection(T_s, d_g f(w_t, .))`` (:func:`bisection`; ``d_g f``
    from ``problem.length_derivative(w, g)`` if the problem has it, else by the chain rule); if ``h_t != 0``,
    ``s_t = -||w_t||^3_S / (L g_t h_t)`` and ``w_{t+1} = w_t - s_t grad_w f(w_t, g_t)``
    (otherwise ``w_{t+1} = w_t``). A final bisection gives ``g_T`` and the output
    ``w~_T = g_T w_T / ||w_T||_S``.

    With ``h = "stein"``, ``h_t = c1(w~_t) u^T w_t`` [D] and the direction update equals
    gradient descent on the Rayleigh quotient with step ``||w||^2_S / (2 L |rho(w)|)``
    (:func:`~bnrates.algorithms.gd_rayleigh`) exactly, whatever ``g_t`` and the loss:
    ``rho(w_t) - rho* <= (1 - mu/L)^{2t} (rho(w_0) - rho*)``.
    With ``h = "summary"``, ``h_t = E[phi'] u^T w_t - E[phi''] (u^T w_t)^2`` (the form in
    secondary summaries, with ``E[phi'] = c1 + c2 u^T w~_t``); it equals the Stein form only
    when ``g_t = ||w_t||_S`` (a negative control).

    Parameters
    ----------
    problem : SteinProblem
        ``S`` of shape ``(B, d, d)``, ``u`` of shape ``(B, d)``, with ``stein_coefficients``.
    w0 : array, shape ``(B, d)``
        Start, ``u^T w0 != 0``.
    n_steps : int
        ``T_d``, number of direction steps.
    n_bisection : int
        ``T_s``, halvings per bisection (bracket ``[-1, 1]`` expanded by doubling).
    L : array, shape ``(B,)``, optional
        Upper bound of the spectrum of ``S``; default ``lambda_max(S)``.
    h : {"stein", "summary"}
    tol : float, optional
        Stop early once ``||grad f(w~_t)||^2_{S^-1} < tol`` for every instance (the history is
        then shorter than ``n_steps + 1``).

    Returns
    -------
    GDNPHistory
    """
    n_steps = check_int("n_steps", n_steps, minimum=0)
    n_bisection = check_int("n_bisection", n_bisection, minimum=0)
    if h not in ("stein", "summary"):
        raise ValueError(f"h must be one of 'stein', 'summary'; got {h!r}")
    S, u = problem.S, problem.u
    w = check_array("w0", w0)
    if w.shape != u.shape:
        raise ValueError(f"w0 must have shape {u.shape} to match u, got {w.shape}")
    if np.any(np.einsum("...i,...i->...", u, w) == 0):
        raise ValueError("w0 must satisfy u^T w0 != 0 (the direction step vanishes there)")
    L_arr = spectrum_bounds(S)[1] if L is None else check_array("L", L, ndim_min=0)
    rec: dict[str, list[Array]] = {k: [] for k in GDNPHistory.__dataclass_fields__}
    w_star = rayleigh_argmin(S, u)
    for t in range(n_steps + 1):
        g, a0, b0 = bisection(partial(length_derivative_of, problem, w), n_bisection)
        wt = reparametrize(w, g, S)
        grad_wt = problem.grad(wt)
        c1, c2 = problem.stein_coefficients(wt)
        grad_w, grad_g = gradient_wg(grad_wt, w, g, S)
        direction, length = length_direction_split(grad_w, grad_g, w, g, S, dual_norm_sq(problem, grad_w))
        uw = np.einsum("...i,...i->...", u, w)
        if h == "stein":
            h_t = c1 * uw
        else:
            e1 = c1 + c2 * np.einsum("...i,...i->...", u, wt)
            h_t = e1 * uw - c2 * uw**2
        for key, val in (
            ("w", w),
            ("g", g),
            ("wt", wt),
            ("value", problem.value(wt)),
            ("grad_norm_sq", dual_norm_sq(problem, grad_wt)),
            ("direction", direction),
            ("length", length),
            ("rayleigh_gap", rayleigh_gap(w, S, u, w_star)),
            ("c1", c1),
            ("h", h_t),
            ("bracket_width", np.abs(b0 - a0)),
        ):
            rec[key].append(val)
        if tol is not None and np.all(rec["grad_norm_sq"][-1] < tol):
            break
        if t < n_steps:
            active = (h_t != 0) & (g != 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                step = np.where(active, -(s_norm(w, S) ** 3) / (L_arr * g * h_t), 0.0)
            w = w - step[..., None] * grad_w
    return GDNPHistory(**{k: np.stack(v) for k, v in rec.items()})


@dataclass(frozen=True)
class DescentHistory:
    """Trajectory of :func:`gd` / :func:`agd` on ``w~``; index ``t = 0 .. T`` on the first axis.

    Attributes
    ----------
    wt : ndarray, shape ``(T + 1, B, d)``
        Iterates ``w~_t`` (for AGD the main sequence ``x_t``, not the extrapolated points).
    value : ndarray, shape ``(T + 1, B)``
        ``f(w~_t)``.
    grad_norm_sq : ndarray, shape ``(T + 1, B)``
        ``||grad f(w~_t)||^2_{S^-1}``.
    """

    wt: Array
    value: Array
    grad_norm_sq: Array


def _check_start(problem: Problem, wt0: ArrayLike, step: ArrayLike) -> tuple[Array, Array]:
    wt = check_array("wt0", wt0)
    if wt.shape != problem.u.shape:
        raise ValueError(f"wt0 must have shape {problem.u.shape} to match u, got {wt.shape}")
    step_arr = check_array("step", step, ndim_min=0)
    if np.any(step_arr <= 0):
        raise ValueError("step must be positive")
    return wt, step_arr


def _descent_history(
    problem: Problem,
    state: State,
    n_steps: int,
    tol: float | None,
    effective: Callable[[State], Array],
    update: Callable[[State, Array], State],
) -> DescentHistory:
    """The iteration loop of :func:`gd` and :func:`bngd`: record ``w~_t``, ``f`` and ``||grad f||^2_{S^-1}``.

    At ``t = 0 .. T``: ``w~_t = effective(state)``; its value and gradient (one call of
    :func:`~bnrates.problems.value_and_grad`) are recorded; the loop stops early once every
    instance's squared dual norm is below ``tol``; otherwise ``state <- update(state, grad)``.
    """
    ws, vals, gns = [], [], []
    for t in range(n_steps + 1):
        wt = effective(state)
        value, grad = value_and_grad(problem, wt)
        ws.append(wt)
        vals.append(value)
        gns.append(dual_norm_sq(problem, grad))
        if tol is not None and np.all(gns[-1] < tol):
            break
        if t < n_steps:
            state = update(state, grad)
    return DescentHistory(np.stack(ws), np.stack(vals), np.stack(gns))


def gd(problem: Problem, wt0: ArrayLike, n_steps: int, step: ArrayLike, tol: float | None = None) -> DescentHistory:
    """Plain gradient descent on ``w~``: ``w~_{t+1} = w~_t - step grad f(w~_t)``.

    Parameters
    ----------
    problem : Problem
    wt0 : array, shape ``(B, d)``
    n_steps : int
    step : float or array of shape ``(B,)``
        Use ``1 / zeta`` (``zeta`` = smoothness bound; ``4 / lambda_max(S)`` for the logistic
        loss, :func:`~bnrates.halfspace.halfspace_smoothness`).
    tol : float, optional
        Stop early once ``||grad f||^2_{S^-1} < tol`` for every instance.

    Returns
    -------
    DescentHistory
    """
    n_steps = check_int("n_steps", n_steps, minimum=0)
    wt, step_arr = _check_start(problem, wt0, step)
    return _descent_history(problem, wt, n_steps, tol, lambda wt: wt, lambda wt, grad: wt - step_arr[..., None] * grad)


def agd(
    problem: Problem,
    wt0: ArrayLike,
    n_steps: int,
    step: ArrayLike,
    momentum: float | None = None,
    tol: float | None = None,
) -> DescentHistory:
    """Nesterov's accelerated gradient descent on ``w~``.

    ``y_t = x_t + beta_t (x_t - x_{t-1})``, ``x_{t+1} = y_t - step grad f(y_t)``, ``x_{-1} = x_0``.
    By default ``beta_t = (t - 1) / (t + 2)`` (the schedule for convex ``f``, rate ``O(1/t^2)``
    in value; it needs no strong-convexity constant, which for the halfspace problem depends on
    the unknown curvature at the solution). A float ``momentum`` gives a constant ``beta``,
    e.g. ``(sqrt(q) - 1) / (sqrt(q) + 1)`` for the strongly convex variant with ``q = zeta / m``.

    Parameters
    ----------
    problem : Problem
    wt0 : array, shape ``(B, d)``
    n_steps : int
    step : float or array of shape ``(B,)``
        ``1 / zeta`` as for :func:`gd`.
    momentum : float in ``[0, 1)``, optional
    tol : float, optional
        Stop early once ``||grad f||^2_{S^-1} < tol`` for every instance.

    Returns
    -------
    DescentHistory
        Of the main sequence ``x_t``; its gradient costs one extra evaluation per step.
    """
    n_steps = check_int("n_steps", n_steps, minimum=0)
    wt, step_arr = _check_start(problem, wt0, step)
    if momentum is not None and not 0 <= momentum < 1:
        raise ValueError(f"momentum must lie in [0, 1), got {momentum}")
    prev = wt
    ws, vals, gns = [], [], []
    for t in range(n_steps + 1):
        ws.append(wt)
        vals.append(problem.value(wt))
        gns.append(dual_norm_sq(problem, problem.grad(wt)))
        if tol is not None and np.all(gns[-1] < tol):
            break
        if t < n_steps:
            beta = max(t - 1, 0) / (t + 2) if momentum is None else momentum
            y = wt + beta * (wt - prev)
            prev, wt = wt, y - step_arr[..., None] * problem.grad(y)
    return DescentHistory(np.stack(ws), np.stack(vals), np.stack(gns))


def iterations_to(grad_norm_sq: Array, tol: float) -> Array:
    """First ``t`` with ``grad_norm_sq[t] < tol`` per instance (``-1`` if never), shape ``(B,)``."""
    reached = np.asarray(grad_norm_sq) < tol
    return np.where(reached.any(axis=0), reached.argmax(axis=0), -1)


def bngd(
    problem: Problem,
    w0: ArrayLike,
    g0: ArrayLike,
    n_steps: int,
    lr_w: ArrayLike,
    lr_g: ArrayLike,
    tol: float | None = None,
) -> DescentHistory:
    """Vanilla BN gradient descent: fixed step sizes on ``(w, g)``, what practitioners run.

    ``w_{t+1} = w_t - lr_w grad_w f(w_t, g_t)``, ``g_{t+1} = g_t - lr_g d_g f(w_t, g_t)``, both
    from the gradient in ``w~ = g w / ||w||_S`` by the chain rule
    (:func:`~bnrates.reparametrization.gradient_wg`), simultaneously. No bisection, no
    problem-dependent step: the contrast with Algorithm 1 (:func:`gdnp`).

    Parameters
    ----------
    problem : Problem
    w0 : array, shape ``(B, d)``
        Start direction, nonzero.
    g0 : array, shape ``(B,)``
        Start length (``0`` starts at ``w~ = 0``, like :func:`gd`).
    n_steps : int
    lr_w, lr_g : float or array of shape ``(B,)``
        Positive step sizes.
    tol : float, optional
        Stop early once ``||grad f(w~_t)||^2_{S^-1} < tol`` for every instance.

    Returns
    -------
    DescentHistory
        Of the effective weights ``w~_t``.
    """
    n_steps = check_int("n_steps", n_steps, minimum=0)
    w = check_array("w0", w0)
    if w.shape != problem.u.shape:
        raise ValueError(f"w0 must have shape {problem.u.shape} to match u, got {w.shape}")
    if np.any(np.all(w == 0, axis=-1)):
        raise ValueError("w0 must be nonzero (its direction is undefined)")
    g = np.array(np.broadcast_to(check_array("g0", g0, ndim_min=0), w.shape[:-1]))
    steps = [check_array(name, lr, ndim_min=0) for name, lr in (("lr_w", lr_w), ("lr_g", lr_g))]
    if any(np.any(lr <= 0) for lr in steps):
        raise ValueError("lr_w and lr_g must be positive")
    lr_w_arr, lr_g_arr = steps

    def update(state: tuple[Array, Array], grad: Array) -> tuple[Array, Array]:
        w, g = state
        grad_w, grad_g = gradient_wg(grad, w, g, problem.S)
        return w - np.asarray(lr_w_arr)[..., None] * grad_w, g - lr_g_arr * grad_g

    return _descent_history(problem, (w, g), n_steps, tol, lambda s: reparametrize(*s, problem.S), update)


def lbfgs_options(max_iterations: int, memory: int = 10) -> dict[str, float]:
    """scipy's ``L-BFGS-B`` options for the race's L-BFGS: ``max_iterations``, ``memory`` pairs, its own
    stopping rules off (the caller's test on ``||grad f||^2_{S^-1}`` stops it), up to 50 line-search steps."""
    return {"maxiter": max_iterations, "maxcor": memory, "gtol": 0.0, "ftol": 0.0, "maxls": 50}


def lbfgs(problem: Problem, wt0: ArrayLike, n_steps: int, tol: float, memory: int = 10) -> DescentHistory:
    """L-BFGS (scipy's ``L-BFGS-B`` without bounds) on one instance, the practitioner's reference.

    scipy's own stopping rules are switched off (``gtol = ftol = 0``); the run stops once
    ``||grad f||^2_{S^-1} < tol`` at an iterate (checked in the callback), after ``n_steps``
    iterations, or when the line search fails (the history then ends above ``tol``).

    Parameters
    ----------
    problem : Problem
        A batch of one instance: ``u`` of shape ``(1, d)``.
    wt0 : array, shape ``(1, d)``
    n_steps : int
        Iterations at most.
    tol : float
    memory : int
        Number of correction pairs kept (scipy's ``maxcor``).

    Returns
    -------
    DescentHistory
        One entry per iterate (``T + 1`` of them after ``T`` iterations), shape ``(T + 1, 1, ...)``.
    """
    from scipy.optimize import minimize

    n_steps = check_int("n_steps", n_steps, minimum=1)
    tol = check_real("tol", tol, minimum=0.0, strict=True)
    wt = check_array("wt0", wt0)
    if wt.shape != problem.u.shape or wt.shape[0] != 1:
        raise ValueError(
            f"lbfgs runs one instance: wt0 and u must have shape (1, d), got {wt.shape}, {problem.u.shape}"
        )

    def fun(x: Array) -> tuple[float, Array]:
        value, grad = value_and_grad(problem, x[None])
        return float(value[0]), grad[0]

    ws, vals, gns = [], [], []

    def record(x: Array) -> bool:
        value, grad = value_and_grad(problem, x[None])
        ws.append(x.copy())
        vals.append(float(value[0]))
        gns.append(float(dual_norm_sq(problem, grad)[0]))
        return gns[-1] < tol

    def callback(intermediate_result) -> None:
        if record(intermediate_result.x):
            raise StopIteration

    if not record(wt[0]):
        minimize(
            fun,
            wt[0],
            jac=True,
            method="L-BFGS-B",
            callback=callback,
            options=lbfgs_options(n_steps, memory),
        )
    return DescentHistory(np.stack(ws)[:, None], np.array(vals)[:, None], np.array(gns)[:, None])
