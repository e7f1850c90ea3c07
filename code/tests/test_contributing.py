"""CONTRIBUTING.md's claims-module template runs: its claim passes, its negative control fails, its sabotage is caught.

The recipe a newcomer copies must work as written, so the template is executed here as a
module of ``bnrates.claims``, exactly as the page shows it.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

from bnrates.claims.core import run_claim, run_sabotage

ROOT = Path(__file__).resolve().parents[2]
NAME = "bnrates.claims.example"


@pytest.fixture(scope="module")
def template() -> types.ModuleType:
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    source = next(
        block
        for block in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
        if "CLAIMS: tuple[Claim, ...]" in block
    )
    module = types.ModuleType(NAME)
    module.__package__ = "bnrates.claims"
    sys.modules[NAME] = module
    try:
        exec(compile(source, "CONTRIBUTING.md", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[NAME]


def test_the_template_claim_passes_and_its_negative_control_fails(template: types.ModuleType) -> None:
    claim, control = template.CLAIMS
    assert claim.id == "example.rate" and control.negative_control
    outcome = run_claim(claim, "quick", 0)
    assert outcome.status == "pass", outcome.record()
    assert outcome.evidence.observed <= outcome.evidence.theory * 1.01
    assert run_claim(control, "quick", 0).status == "expected failure"


def test_the_template_sabotage_is_caught(template: types.ModuleType) -> None:
    claim = template.CLAIMS[0]
    for name in claim.sabotages:
        assert run_sabotage(claim, name, "quick", 0).status == "fail"
