"""The tuned-baselines sweep races on the acceleration map's instances, with the variants it names."""

from __future__ import annotations

import pytest

from bnrates import acceleration, sweeps, tuning


@pytest.mark.parametrize(
    ("variant", "method"), [("GD:1", "GD"), ("AGD:1", "AGD"), ("BN-GD:1:1", "BN-GD"), ("GDNP", "GDNP")]
)
def test_the_untuned_variant_is_the_maps_task(variant: str, method: str) -> None:
    """GD:1 is the map's GD (step 1/zeta) on the map's instance: same count, same final gradient norm."""
    params = {"d": 10, "kappa": 40.0, "separability": 0.9, "loss": "smoothed_hinge", "seed": 0, "cap": 150}
    mapped = acceleration.acceleration_task(
        {**params, "method": method}, sweeps.task_seed(acceleration.SWEEP, {**params, "method": method})
    )
    tuned = tuning.tuning_task(
        {**params, "variant": variant}, sweeps.task_seed(tuning.SWEEP, {**params, "variant": variant})
    )
    for key in ("iterations", "censored", "final_grad_norm_sq", "gradients", "length_evaluations", "c2_star"):
        assert tuned[key] == mapped[key], key


def test_a_larger_step_is_another_run() -> None:
    inst = acceleration.instance(
        10,
        6.0,
        0.9,
        "logistic",
        tuning.map_seed({"d": 10, "kappa": 6.0, "separability": 0.9, "loss": "logistic", "seed": 0}),
    )
    one, two = (tuning.run_variant(inst, v, 50).grad_norm_sq for v in ("GD:1", "GD:2"))
    assert one[0] == two[0] and one[5] != two[5]


def test_an_unknown_variant_names_the_allowed_ones() -> None:
    inst = acceleration.instance(10, 6.0, 0.5, "logistic", 0)
    with pytest.raises(ValueError, match=r"variant must be one of GDNP, L-BFGS, GD-Armijo, .*; got 'GD:3'"):
        tuning.run_variant(inst, "GD:3", 5)


def test_the_quick_grid_has_every_family_and_the_untuned_steps_on_each_instance() -> None:
    todo = sweeps.tasks(tuning.SWEEP, sweeps.check_grid(tuning.SWEEP, "quick"))
    assert len(todo) == 4 * len(tuning.QUICK_VARIANTS) == 4 * (4 + 2 * 4 + 3 * 3)
    assert set(tuning.QUICK_VARIANTS) <= set(tuning.VARIANTS)
    assert {"GD:1", "AGD:1", "BN-GD:1:1", "GD:64", "BN-GD:64:16"} <= set(tuning.QUICK_VARIANTS)
    assert {v.split(":")[0] for v in tuning.QUICK_VARIANTS} == {v.split(":")[0] for v in tuning.VARIANTS}


def test_the_committed_table_is_the_full_grid_the_readme_describes() -> None:
    from conftest import ROOT

    table = sweeps.read_table(ROOT / "data" / "sweeps" / "tuning-full.parquet")
    grid = sweeps.check_grid(tuning.SWEEP, "full")
    assert len(table) == len(sweeps.tasks(tuning.SWEEP, grid)) == 6768
    assert table.groupby(["d", "kappa", "separability", "loss", "seed"]).ngroups == 144
    assert set(table["d"]) == {10} and set(table["cap"]) == {5000} and set(table["variant"]) == set(tuning.VARIANTS)
    assert len(tuning.STEPS) == 9 and len(tuning.BN_STEPS) ** 2 == 25
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "on the map's 144 instances at d = 10" in readme and "has 6768 tasks" in readme
    core_minutes = table["seconds"].sum() / 60
    assert abs(core_minutes / 2 - 16) <= 2  # "took 16 minutes on this 2-core machine"


def test_a_sample_of_the_committed_table_reruns_to_the_same_counts() -> None:
    """Against the table written by the sweep: six rows (no GDNP at the cap, 4 s each) run again here."""
    from conftest import ROOT

    table = sweeps.read_table(ROOT / "data" / "sweeps" / "tuning-full.parquet")
    pool = table[~((table["variant"] == "GDNP") & table["censored"])]
    for row in pool.sample(6, random_state=0).to_dict("records"):
        new = sweeps.run_task("tuning", sweeps.row_params(tuning.SWEEP, row))
        for column in ("iterations", "censored", "gradients", "function_values", "length_evaluations"):
            assert new[column] == row[column], (row["variant"], column)
        assert new["final_grad_norm_sq"] == pytest.approx(row["final_grad_norm_sq"], rel=1e-9)
