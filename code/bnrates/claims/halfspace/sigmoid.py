"""Claims of the section "When the bracket does not exist" (book: sec-hs-sigmoid).

For the sigmoid loss the optimal length is unbounded, so the bisection of Algorithm 1 finds no bracket.
"""

from __future__ import annotations

from functools import partial

from ...gdnp import bisection, length_derivative_of
from ...halfspace import (
    GaussianHalfspace,
    halfspace_instances,
)
from ..core import Claim, Evidence, chapter_claims_factory, injected, seeds_for
from .setting import CHAPTER, KAPPA, SIZES, random_directions


def sigmoid_length_unbounded(profile: str, seed: int) -> Evidence:
    """For the sigmoid loss the bracket search fails: fraction of instances without a bracket (book: sec-hs-sigmoid)."""
    size = SIZES[profile]
    failures, total = 0, 0
    for separability in size["separabilities"]:
        problem = halfspace_instances(size["d"], KAPPA, separability, seeds_for(SIZES, profile, seed), loss="sigmoid")
        w = random_directions(problem, seed)
        for b in range(len(w)):
            single = GaussianHalfspace(problem.S[b : b + 1], problem.u[b : b + 1], loss="sigmoid")
            total += 1
            try:
                bisection(partial(length_derivative_of, single, w[b : b + 1]), 10)
            except ValueError:
                failures += 1
    return Evidence(observed=failures / total, theory=1.0, extra={"instances": float(total)})


_claim = chapter_claims_factory(CHAPTER)
HERE = __name__

CLAIMS: tuple[Claim, ...] = (
    _claim(
        "sigmoid_length_unbounded",
        "For the sigmoid loss no bisection bracket exists (optimal length unbounded).",
        "≈",
        0.0,
        sigmoid_length_unbounded,
        label="sec-hs-sigmoid",
        sabotages={
            "the loss argument ignored (logistic)": injected(
                sigmoid_length_unbounded,
                f"{HERE}:GaussianHalfspace",
                lambda f: lambda S, u, loss="logistic", **k: f(S, u, **k),
            )
        },
    ),
)
