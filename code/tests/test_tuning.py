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


def test_a_grid_is_no_variant_to_run_alone() -> None:
    inst = acceleration.instance(10, 6.0, 0.5, "logistic", 0)
    with pytest.raises(ValueError, match=r"variant must be one of .*; got 'BN-GD:grid'"):
        tuning.run_variant(inst, "BN-GD:grid", 5)
    with pytest.raises(ValueError, match=r"name must be one of GD, AGD, BN-GD; got 'GDNP'"):
        tuning.tune(inst, "GDNP", 5)


def test_the_quick_grid_has_every_variant_on_each_instance() -> None:
    todo = sweeps.tasks(tuning.SWEEP, sweeps.check_grid(tuning.SWEEP, "quick"))
    assert len(todo) == 4 * len(tuning.VARIANTS) == 4 * 10
    assert {tuning.family(v) for v in tuning.VARIANTS} == {
        "GDNP",
        "L-BFGS",
        "GD-Armijo",
        "AGD-strongly-convex",
        "GD",
        "AGD",
        "BN-GD",
    }
    assert [len(g) for g in tuning.GRIDS_OF.values()] == [17, 17, 45]
    assert set(tuning.UNTUNED.values()) <= set(tuning.VARIANTS)


def _table():
    from conftest import ROOT

    return sweeps.read_table(ROOT / "data" / "sweeps" / "tuning-full.parquet")


def test_the_committed_table_is_the_full_grid_the_readme_describes() -> None:
    from conftest import ROOT

    table = _table()
    grid = sweeps.check_grid(tuning.SWEEP, "full")
    assert len(table) == len(sweeps.tasks(tuning.SWEEP, grid)) == 1200
    assert table.groupby(["d", "kappa", "separability", "loss", "seed"]).ngroups == 120
    assert set(table["d"]) == {10} and set(table["cap"]) == {200_000} and set(table["variant"]) == set(tuning.VARIANTS)
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "on the map's 120 instances at d = 10 and κ ≤ 1600" in readme and "has 1200 tasks" in readme
    wall_minutes = table["seconds"].sum() / 60 / 2
    assert abs(wall_minutes - 13) <= 2  # "took 13 minutes on this 2-core machine"


def test_each_grid_winner_is_at_most_the_untuned_step_of_its_family() -> None:
    """On every instance of the committed table: where the map's step 1/zeta (run alone) reaches the tolerance,
    the raced grid, which holds that step, reaches it too and in at most as many iterations."""
    table = _table()
    its = table.pivot_table(index=["kappa", "separability", "loss"], columns="variant", values="iterations")
    cens = table.pivot_table(index=["kappa", "separability", "loss"], columns="variant", values="censored")
    for name, untuned in tuning.UNTUNED.items():
        reached = ~cens[untuned].astype(bool)
        assert reached.any(), untuned
        assert not cens[f"{name}:grid"][reached].astype(bool).any(), name
        assert (its[f"{name}:grid"][reached] <= its[untuned][reached]).all(), name


def test_a_sample_of_the_committed_table_reruns_to_the_same_counts() -> None:
    """Against the table written by the sweep: six quick rows (under a second each), grids among them, run again."""
    table = _table()
    pool = table[table["seconds"] < 1.0]
    rows = [
        *pool[pool["variant"].str.endswith(":grid")].sample(3, random_state=0).to_dict("records"),
        *pool[~pool["variant"].str.endswith(":grid")].sample(3, random_state=0).to_dict("records"),
    ]
    for row in rows:
        new = sweeps.run_task("tuning", sweeps.row_params(tuning.SWEEP, row))
        for column in (
            "iterations",
            "censored",
            "gradients",
            "function_values",
            "length_evaluations",
            "step",
            "tuning_oracle_calls",
        ):
            assert new[column] == row[column], (row["variant"], column)
        assert new["final_grad_norm_sq"] == pytest.approx(row["final_grad_norm_sq"], rel=1e-9)


def test_a_bngd_count_can_depend_on_round_off() -> None:
    """The chapter's instance: BN-GD's grid race is won at 9142 iterations by a pair whose solo run, the same
    iteration but for the order of the sums, does not reach the tolerance in 30000."""
    params = {"d": 10, "kappa": 1600.0, "separability": 0.4, "loss": "smoothed_hinge", "seed": 0}
    inst = acceleration.instance(10, 1600.0, 0.4, "smoothed_hinge", tuning.map_seed(params))
    tuned = tuning.tune(inst, "BN-GD", 30000)
    assert tuned.best is not None and tuned.iterations == 9142
    solo = acceleration.run_outcomes(tuning.run_variant(inst, tuning.GRIDS_OF["BN-GD"][tuned.best], 30000))
    assert solo["censored"] and solo["iterations"] == 30000
