"""Gaussian quadrature: the trapezoid rule for ``E[psi(xi)]``, ``xi ~ N(0, 1)`` (book: thm-gdnp, lem-mlp-critical).

The expectations of :mod:`bnrates.halfspace` (one dimension) and :mod:`bnrates.mlp` (a tensor
product, one rule per eigen-coordinate) use the same rule. For integrands analytic in a strip
``|Im xi| < a`` the trapezoid rule with spacing ``h`` converges like ``exp(-2 pi a / h)``, much
faster than Gauss-Hermite of the same size for the softplus-type losses of the paper. Each caller
keeps its own half-width (:data:`bnrates.halfspace.HALF_WIDTH`, :data:`bnrates.mlp.HALF_WIDTH`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from .validation import check_int, check_real

Array = NDArray[np.float64]


@lru_cache(maxsize=64)
def trapezoid_rule(n_nodes: int, half_width: float, scale_by_spacing: bool = True) -> tuple[Array, Array]:
    """Nodes and weights of the trapezoid rule for ``E[psi(xi)]``, ``xi ~ N(0, 1)``.

    The weights are the standard normal density times the trapezoid weights on
    ``[-half_width, half_width]``, normalised to sum to one (so constants are integrated
    exactly; the normalisation changes them by less than 1e-16). One node is the degenerate
    rule ``psi(0)`` (for a coordinate with zero spread).

    Parameters
    ----------
    n_nodes : int
        ``>= 1``; the spacing is ``h = 2 half_width / (n_nodes - 1)``.
    half_width : float
        ``> 0``; the mass of ``N(0, 1)`` outside is ``2 Phi(-half_width)``.
    scale_by_spacing : bool
        Multiply by the spacing ``h`` before normalising (the halfspace chapter's order of
        operations) or not (the network chapter's). Mathematically the same weights; they differ
        in the last bit, which a central difference at round-off level (claim ``mlp.gradient``)
        amplifies, so each chapter keeps its own and its saved results reproduce bit for bit.

    Returns
    -------
    nodes, weights : ndarray, shape ``(n_nodes,)`` each (read-only)
    """
    n_nodes = check_int("n_nodes", n_nodes, minimum=1)
    half_width = check_real("half_width", half_width, minimum=0.0, strict=True)
    if n_nodes == 1:
        xi, w = np.zeros(1), np.ones(1)
    else:
        xi = np.linspace(-half_width, half_width, n_nodes)
        if scale_by_spacing:
            w = np.full(n_nodes, xi[1] - xi[0])
            w[[0, -1]] /= 2
            w *= np.exp(-(xi**2) / 2)
        else:
            w = np.exp(-(xi**2) / 2)
            w[[0, -1]] /= 2
        w /= w.sum()
    xi.flags.writeable = False
    w.flags.writeable = False
    return xi, w
