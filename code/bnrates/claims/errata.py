"""Errata and qualifications: where the statements as given differ from what the book verifies.

Each :class:`Erratum` gives a statement as it was given (the paper **[P]** or public summaries
**[S]**), what holds **[D]**, the claims that show it, the numbers from those claims, and the book
label where the book discusses it. :func:`table` fills the numbers from a run's saved claims
(:func:`bnrates.book.provenance.load_claims`) and checks that every named claim exists and has the
status it must have (``pass``, or ``expected failure`` for a negative control); the chapter
"Errata and qualifications" shows the table and :func:`write_csv` saves it as ``errata.csv``
next to the chapters' results.

Numbers are named ``<claim>`` (its observed value) or ``<claim>.<extra>`` (one of its extra
numbers), as in the chapters' glue.
"""

from __future__ import annotations

import html
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from .. import claims
from .core import Record

Saved = Mapping[str, Record]
"""A run's saved claim records by id."""


class ErrataError(AssertionError):
    """An erratum names a claim that is not registered, not saved, or has the wrong status."""


@dataclass(frozen=True)
class Erratum:
    """One row of the errata.

    Attributes
    ----------
    topic
        A few words.
    given, given_source
        The statement as given, and where from: ``P`` (the paper) or ``S`` (public summaries).
    holds
        What holds, as verified here (**[D]**).
    numbers
        A format string whose fields are claim ids or ``<claim>.<extra>`` names, e.g.
        ``"ratio {ols.rate:.6f}"``.
    claims
        Every claim the row rests on (those in ``numbers`` and any others).
    where
        The book label of the place that discusses it.
    """

    topic: str
    given: str
    given_source: Literal["P", "S"]
    holds: str
    numbers: str
    claims: tuple[str, ...]
    where: str

    def fields(self) -> list[str]:
        """The names the ``numbers`` format string uses."""
        return [name for _, name, _, _ in string.Formatter().parse(self.numbers) if name]


ERRATA: tuple[Erratum, ...] = (
    Erratum(
        "The OLS step size",
        "Gradient descent on rho with the step ||w||^2_S / (L |rho(w)|) contracts rho - rho* by (1 - mu/L)^2 per step.",
        "S",
        "The bound needs the step ||w||^2_S / (2 L |rho(w)|). Without the factor 2 the per-step bound fails on most "
        "instances, and the theorem then promises no rate.",
        "with the factor 2: largest per-step ratio to the bound {ols.rate:.6f} over {ols.rate.instances:.0f} "
        "instances; without it: up to {ols.rate_negative_control:.2f}, on "
        "{ols.rate_negative_control.fraction_violating:.0%} of them",
        ("ols.rate", "ols.rate_negative_control"),
        "rem-ols-step",
    ),
    Erratum(
        "The generalized Rayleigh lemma",
        "The OLS rate follows from a convergence lemma for gradient descent on a generalized Rayleigh quotient, "
        "applied to the pencil (u u^T, S).",
        "S",
        "u u^T has rank one, so a lemma for a definite pencil does not apply literally. The book proves the rate "
        "directly (after rescaling, the step is plain GD with step 1/L on ||w - S^-1 u||^2_S / 2), and the bound is "
        "attained.",
        "largest per-step ratio to (1 - mu/L)^2: {ols.rate:.6f}; late factor over the bound on worst-case instances: "
        "{ols.rate_tight:.5f}",
        ("ols.rate", "ols.rate_tight"),
        "thm-ols",
    ),
    Erratum(
        "Faster than gradient descent?",
        "On least squares, BN gradient descent is faster than plain gradient descent.",
        "S",
        "The paper says the same order [P]: the worst-case factor of both is (1 - mu/L)^2. On random instances BN "
        "gradient descent often needs fewer steps (the u-alignment effect of the OLS chapter), which is not a "
        "better rate.",
        "worst-case late factors of BN-GD and GD within a ratio of {ols.same_order_as_gd:.5f}; random instances: GD "
        "needs {ols.same_order_as_gd.median_steps_gd_over_bn:.2f} times the steps in the median",
        ("ols.same_order_as_gd",),
        "rem-ols-same-order",
    ),
    Erratum(
        "The form of h in Algorithm 1",
        "GDNP's direction step uses h(w, g) = E[phi'] (u^T w) - E[phi''] (u^T w)^2.",
        "S",
        "With h = c1(w~) u^T w the length and c1 cancel from the direction step, which is then exactly gradient "
        "descent on the Rayleigh quotient; the summary form equals c1(w~) u^T w only when g = ||w||_S.",
        "relative iterate gap to Rayleigh GD: Stein form {halfspace.gdnp_is_rayleigh_gd:.1e}, summary form "
        "{halfspace.h_summary_form_negative_control:.2f}",
        ("halfspace.gdnp_is_rayleigh_gd", "halfspace.h_summary_form_negative_control"),
        "rem-h-form",
    ),
    Erratum(
        "Phi^2 and the observed |c1|",
        "The direction term of the GDNP bound is (1 - mu/L)^(2T) Phi^2 (rho(w_0) - rho*), with Phi = sup |phi'| "
        "(1 for the logistic loss).",
        "S",
        "The direction part equals c1^2 (rho(w) - rho*) exactly, so Phi^2 can be replaced by the largest c1^2 along "
        "the run. |c1| <= 1/2 is observed at the optimal lengths GDNP visits, not everywhere: away from them "
        "|c1| exceeds 1/2 (close to 1 along +S^-1 u at a long length). |c1| <= Phi is observed, not proved.",
        "identity with c1 by scipy quad to {halfspace.direction_identity:.1e}; largest |c1| along GDNP "
        "{halfspace.direction_identity.max_abs_c1:.3f}, at random (w, g) {halfspace.decoupling.max_abs_c1:.3f}, "
        "along +S^-1 u at length {halfspace.decoupling.long_length:.0f} {halfspace.decoupling.max_abs_c1_long:.3f}; "
        "the gradient norm reaches at most {halfspace.gdnp_bound:.3f} of the bound with Phi = 1",
        ("halfspace.direction_identity", "halfspace.decoupling", "halfspace.gdnp_bound"),
        "rem-gdnp-constants",
    ),
    Erratum(
        "The length term 2^-T_s",
        "The length part of the GDNP bound is 2^(-T_s) zeta |b0 - a0| / mu^2.",
        "S",
        "Valid but loose: the bisection's length error falls like 2^(-T_s), so the squared length derivative falls "
        "like 4^(-T_s).",
        "bisection error at most {halfspace.bisection_rate:.4f} of 2^-(T_s+1) |b0 - a0|; the squared length "
        "derivative falls by a factor {halfspace.gdnp_bound.length_decay_per_halving:.3f} per halving "
        "(4^-1 = 0.25)",
        ("halfspace.bisection_rate", "halfspace.gdnp_bound"),
        "rem-gdnp-constants",
    ),
    Erratum(
        "Bounded optimal lengths",
        "The optimal length is finite for every direction (so a bisection bracket exists); sigmoid-type losses are "
        "among the losses considered.",
        "S",
        "For the sigmoid loss with Gaussian inputs no instance tried has a finite optimal length: no bracket exists "
        "there and the assumption fails. The book uses the logistic loss.",
        "no bracket on {halfspace.sigmoid_length_unbounded:.0%} of {halfspace.sigmoid_length_unbounded.instances:.0f} "
        "instances",
        ("halfspace.sigmoid_length_unbounded",),
        "sec-hs-sigmoid",
    ),
    Erratum(
        "The one-hidden-layer lemma",
        "At every critical point of the one-hidden-layer network every unit is aligned with S^-1 u.",
        "S",
        "The proof needs the m x m matrix B = (beta_ij) to be invertible. With a linear outer loss the units "
        "decouple and, at fixed lengths, every critical direction is aligned. With the logistic outer loss the "
        "lemma fails: a non-aligned critical point has lower loss than the best aligned one, which is a saddle, and "
        "alternating rounds of Algorithm 1 end below the best aligned loss, away from that saddle.",
        "linear loss: 1 - |cos| at most {mlp.aligned_linear_loss.misalignment:.0e}; logistic: non-aligned minus "
        "aligned loss {mlp.logistic_counterexample:.2e}, smallest Hessian eigenvalue at the aligned point "
        "{mlp.aligned_saddle:.2e}; the rounds end {mlp.rounds_converge:.2e} from the aligned loss",
        (
            "mlp.aligned_linear_loss",
            "mlp.logistic_all_aligned",
            "mlp.logistic_counterexample",
            "mlp.aligned_saddle",
            "mlp.rounds_converge",
        ),
        "sec-mlp-counterexample",
    ),
)


def value_of(saved: Saved, name: str) -> float:
    """The number called ``name`` in the saved records: ``<claim>`` (observed) or ``<claim>.<extra>``."""
    if name in saved:
        return float(saved[name]["observed"])
    claim_id, _, extra = name.rpartition(".")
    if claim_id not in saved:
        raise ErrataError(f"{name!r}: no saved claim {claim_id or name!r}")
    extras = saved[claim_id].get("extra") or {}
    if extra not in extras:
        raise ErrataError(f"{name!r}: claim {claim_id} saved no extra number {extra!r} (it has {sorted(extras)})")
    return float(extras[extra])


def check(saved: Saved, errata: tuple[Erratum, ...] = ERRATA) -> None:
    """Raise :class:`ErrataError` unless every erratum's claims are registered, saved and have the right status."""
    registered = {c.id: c for c in claims.registry()}
    problems = []
    for erratum in errata:
        named = set(erratum.claims) | {f if f in registered else f.rpartition(".")[0] for f in erratum.fields()}
        for claim_id in sorted(named):
            if claim_id not in registered:
                problems.append(f"{erratum.topic}: {claim_id} is not a registered claim")
            elif claim_id not in erratum.claims:
                problems.append(f"{erratum.topic}: {claim_id} is used in the numbers but not listed in claims")
            elif claim_id not in saved:
                problems.append(f"{erratum.topic}: {claim_id} has no saved result")
            else:
                must = "expected failure" if registered[claim_id].negative_control else "pass"
                if saved[claim_id]["status"] != must:
                    problems.append(f"{erratum.topic}: {claim_id} is {saved[claim_id]['status']}, not {must}")
    if problems:
        raise ErrataError("the errata do not check out -- " + "; ".join(problems))


def table(saved: pd.DataFrame, labels: Mapping[str, str], errata: tuple[Erratum, ...] = ERRATA) -> pd.DataFrame:
    """The errata with their numbers, one row per erratum.

    Parameters
    ----------
    saved
        The run's claim records (:func:`bnrates.book.provenance.load_claims`).
    labels
        Book label -> chapter (:func:`bnrates.claims.chapter_labels`); every ``where`` must be one.

    Returns
    -------
    DataFrame
        Columns ``topic, given_source, given, holds, numbers, claims, where, chapter``.
    """
    records = {r["id"]: r for r in saved.to_dict("records")} if len(saved) else {}
    check(records, errata)
    rows = []
    for e in errata:
        if e.where not in labels:
            raise ErrataError(f"{e.topic}: the label {e.where!r} is not defined in any chapter")
        numbers = format_numbers(e.numbers, records)
        rows.append(
            {
                "topic": e.topic,
                "given_source": e.given_source,
                "given": e.given,
                "holds": e.holds,
                "numbers": numbers,
                "claims": " ".join(e.claims),
                "where": e.where,
                "chapter": labels[e.where],
            }
        )
    return pd.DataFrame(rows)


def format_numbers(template: str, saved: Saved) -> str:
    """``template`` with each field ``{<claim>[.<extra>]:spec}`` replaced by its saved number.

    (``str.format`` would read the dots of a claim id as attribute access.)
    """
    out = []
    for literal, name, spec, _ in string.Formatter().parse(template):
        out.append(literal)
        if name:
            out.append(format(value_of(saved, name), spec or ""))
    return "".join(out)


def write_csv(errata_table: pd.DataFrame, results_dir: str | Path) -> Path:
    """Write ``errata.csv`` into ``results_dir`` (through a temporary file, so it is never half-written)."""
    path = Path(results_dir) / "errata.csv"
    tmp = path.with_name(f".errata.csv.{os.getpid()}")
    errata_table.to_csv(tmp, index=False)
    os.replace(tmp, path)
    return path


def html_table(errata_table: pd.DataFrame) -> pd.io.formats.style.Styler:
    """The errata as the chapter shows them: statement as given, what holds, numbers, claims, where."""
    shown = pd.DataFrame(
        {
            "topic": [f"<b>{html.escape(t)}</b>" for t in errata_table["topic"]],
            "as given": [
                f"{html.escape(g)} <b>[{s}]</b>"
                for g, s in zip(errata_table["given"], errata_table["given_source"], strict=True)
            ],
            "what holds": [f"{html.escape(h)} <b>[D]</b>" for h in errata_table["holds"]],
            "the numbers": [html.escape(n) for n in errata_table["numbers"]],
            "claims": [
                "<br>".join(f"<code>{html.escape(c)}</code>" for c in cs.split()) for cs in errata_table["claims"]
            ],
            "discussed in": [
                f'<a href="{html.escape(ch)}.html#{html.escape(w)}">{html.escape(ch)}</a>'
                for ch, w in zip(errata_table["chapter"], errata_table["where"], strict=True)
            ],
        }
    )
    return (
        shown.style.hide(axis="index")
        .set_properties(**{"text-align": "left", "vertical-align": "top"})
        .set_table_styles([{"selector": "", "props": "font-size: 0.85em;"}])
    )
