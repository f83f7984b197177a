"""The benchmark: solution concepts, one cost unit, targets, tuning rulesets."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import torch

import gangames
from gangames.concepts import Condition, Preset, Target
from gangames.errors import InvalidConfigError
from gangames.tournament import Store, TournamentConfig, run, write_report
from gangames.tournament.match import final_metrics, score
from gangames.tournament.schedule import tuning_schedule
from gangames.tournament.tuning import trial_summaries

CONCEPTS = {
    "gangames/Bilinear-v0": "nash_gap",
    "gangames/Quadratic-v0": "nash_gap",
    "gangames/DiracGAN-v0": "nash_gap",
    "gangames/CovarianceGAN-v0": "nash_gap",
    "gangames/GaussianWGAN-v0": "nash_gap",
    "gangames/NoNashQuadratic-v0": "proximal_gap",
    "gangames/NonRealizableGAN-v0": "mixed_gap",
    "gangames/CirclePursuit-v0": "mixed_gap",
    "gangames/MixtureGAN-v0": "sample_quality",
    "gangames/DigitsGAN-v0": "sample_quality",
}


@pytest.mark.parametrize("gid", sorted(CONCEPTS))
def test_every_game_declares_its_concept_budget_target_and_why(gid):
    p = gangames.preset(gid)
    assert p.concept == CONCEPTS[gid]
    assert p.budget > 0 and len(p.why) > 40 and p.target.conditions
    # the concept's options make a valid env whose infos carry the target's metrics
    env = gangames.make(gid, max_steps=2, full_infos=False, **p.options)
    if p.concept == "sample_quality":
        env = gangames.make(gid, max_steps=2, quality_every=1, **p.options)
    _, infos = env.reset(seed=0)
    assert set(p.target.metrics) <= set(infos["generator"])


def test_proximal_concept_sees_the_proximal_equilibrium_the_nash_gap_cannot():
    # No-Nash quadratic: the origin's Nash gap is 3 (its floor), its proximal gap
    # at λ = 0.5 ≤ 2/3 is 0 (docs/algorithms.md §8 T4)
    p = gangames.preset("gangames/NoNashQuadratic-v0")
    env = gangames.make(
        "gangames/NoNashQuadratic-v0", dtype="float64", max_steps=1, **p.options
    )
    zero = np.zeros((1,))
    _, infos = env.reset(
        seed=0, options={"params": {"generator": zero, "discriminator": zero}}
    )
    info = infos["generator"]
    assert info["duality_gap"] == pytest.approx(3.0)
    assert info["proximal_gap"] == pytest.approx(0.0, abs=1e-12)
    assert p.target.reached(info)


def test_a_particle_query_costs_k_gradients_of_the_base_game():
    for k in (1, 4, 8):
        env = gangames.make("gangames/NonRealizableGAN-v0", particles=k, max_steps=3)
        env.reset(seed=0)
        assert env.ledger.costs() == {"generator": k, "discriminator": k}
        m = env.match
        env.oracle("generator").grad(m.state.theta, m.state.phi)
        assert env.ledger.cost("generator") == 2 * k


def _infos(gaps, lower_bound=False, calls=None):
    calls = calls or [float(i) for i in range(len(gaps))]
    return [
        {
            "duality_gap": np.asarray(g, dtype=np.float64),
            "oracle_calls_generator": c,
            "oracle_calls_discriminator": c,
            "diverged": np.zeros(len(g), dtype=bool),
            "gap_lower_bound": lower_bound,
        }
        for g, c in zip(gaps, calls, strict=True)
    ]


def test_cost_to_target_is_the_first_crossing_and_inf_if_never():
    target = Target((Condition("duality_gap", 1e-3),))
    infos = _infos([[1.0, 1.0], [1e-2, 1.0], [5e-4, 1e-1], [2e-3, 1e-2]])
    metrics, calls, curve = score(infos, target)
    assert metrics["cost_to_target"] == [2.0, math.inf]
    assert metrics["best_metric"] == [5e-4, 1e-2]
    assert metrics["progress"][0] == 1.0
    assert metrics["progress"][1] == pytest.approx(2 / 3)  # 2 of 3 decades
    assert curve.shape == (4, 2) and list(calls) == [0, 1, 2, 3]


def test_a_lower_bound_estimate_never_counts_as_reaching_a_target():
    target = Target((Condition("duality_gap", 1e-3),))
    infos = _infos([[1.0], [0.0]], lower_bound=True)
    metrics, _, _ = score(infos, target)
    assert metrics["cost_to_target"] == [math.inf]


def test_a_quality_target_needs_every_condition_at_the_same_round():
    target = Target(
        (
            Condition("modes_covered", 8, at_least=True),
            Condition("high_quality_pct", 20.0, at_least=True),
        )
    )
    base = {
        "oracle_calls_generator": 0.0,
        "oracle_calls_discriminator": 0.0,
        "diverged": np.zeros(1, dtype=bool),
    }
    rounds = [
        {"modes_covered": np.array([8.0]), "high_quality_pct": np.array([5.0])},
        {},  # a round without a quality measurement
        {"modes_covered": np.array([6.0]), "high_quality_pct": np.array([30.0])},
        {"modes_covered": np.array([8.0]), "high_quality_pct": np.array([25.0])},
    ]
    infos = [
        {**base, **r, "oracle_calls_generator": 100.0 * i} for i, r in enumerate(rounds)
    ]
    metrics, calls, _ = score(infos, target)
    assert list(calls) == [0.0, 200.0, 300.0]  # measured rounds only
    assert metrics["cost_to_target"] == [300.0]


def test_env_options_per_game_are_validated_as_make_validates_them():
    data = {
        "games": [
            {
                "id": "gangames/NoNashQuadratic-v0",
                "options": {"prox_lambda": 0.3, "box": 2.0},
            }
        ],
        "entrants": ["gda"],
    }
    cfg = TournamentConfig.from_dict(data)
    p = cfg.preset(cfg.games[0].label)
    assert p.options["prox_lambda"] == 0.3 and p.options["reward"] == "proximal_gap"
    assert TournamentConfig.from_dict(cfg.to_dict()) == cfg
    data["games"][0]["options"] = {"reward": "nope"}
    with pytest.raises(InvalidConfigError, match="reward must be one of"):
        TournamentConfig.from_dict(data)
    data["games"][0]["options"] = {"colour": 1}
    with pytest.raises(InvalidConfigError, match=r"unknown option.*'colour'"):
        TournamentConfig.from_dict(data)


def test_budget_and_target_overrides_and_a_game_without_a_preset():
    cfg = TournamentConfig.from_dict(
        {
            "games": [{"id": "gangames/Bilinear-v0", "budget": 50, "target": 0.1}],
            "entrants": ["gda"],
        }
    )
    p = cfg.preset("Bilinear-v0")
    assert p.budget == 50 and p.target == Target((Condition("duality_gap", 0.1),))
    with pytest.raises(InvalidConfigError, match="concept must be one of"):
        Preset("gap", p.target, 10)


def test_tuned_ruleset_chooses_on_tuning_seeds_and_replays_the_best_trial(tmp_path):
    data = {
        "games": [{"id": "gangames/Bilinear-v0", "budget": 400, "target": 1e-2}],
        "entrants": ["extragradient"],
        "rulesets": ["defaults", "tuned"],
        "trials": 6,
        "seeds": 2,
        "batch": 2,
    }
    cfg = TournamentConfig.from_dict(data)
    tuning = tuning_schedule(cfg)
    # one batched match holds every trial (a per-instance step size)
    assert (
        len(tuning) == 1 and len(json.loads(tuning[0].hyperparameters)["trials"]) == 6
    )
    summary = run(cfg, tmp_path, backend="sequential", progress=False)
    with Store(tmp_path / "results.sqlite") as s:
        records = list(s.records())
    assert summary.played == len(records) == 1 + 2 * 2  # tuning + 2 rulesets × 2 seeds
    evaluation_seeds = {r["seed"] for r in records if r["mode"] == "self_play"}
    assert tuning[0].seed not in evaluation_seeds
    trials = trial_summaries(cfg, records)
    assert [t.runs for t in trials] == [2] * 6
    best = min(trials, key=lambda t: (t.median_cost, t.median_final))
    assert math.isfinite(best.median_cost)  # some step size solves it
    tuned = [r for r in records if r["ruleset"] == "tuned" and r["mode"] != "tuning"]
    for r in tuned:
        assert json.loads(r["hyperparameters"])["generator"] == best.hyperparameters
    report = write_report(tmp_path, plots=False)
    rows = list(csv.DictReader((tmp_path / "report" / "targets.csv").open()))
    assert {r["ruleset"] for r in rows} == {"defaults", "tuned"}
    tuned_row = next(r for r in rows if r["ruleset"] == "tuned")
    assert json.loads(tuned_row["hyperparameters"]) == best.hyperparameters
    assert tuned_row["concept"] == "nash_gap" and float(tuned_row["budget"]) == 400
    assert "Ruleset `tuned`" in report.leaderboard
    # resuming a finished run plays nothing and chooses the same
    again = run(cfg, tmp_path, resume=True, backend="sequential", progress=False)
    assert again.played == 0 and again.skipped == summary.played


def test_structural_hyperparameters_split_the_trials_into_matches():
    cfg = TournamentConfig.from_dict(
        {
            "games": [{"id": "gangames/Bilinear-v0", "budget": 20}],
            "entrants": [
                "alternating_gda",
                {"agent": "adam", "hyperparameters": {"b1": 0.5}},
            ],
            "rulesets": ["tuned"],
            "trials": 8,
        }
    )
    by = {}
    for m in tuning_schedule(cfg):
        by.setdefault(m.generator, []).append(json.loads(m.hyperparameters))
    # n_critic changes the loop: one match per value; adam's fixed b1 leaves one group
    for setting in by["alternating_gda"]:
        assert len({v["n_critic"] for v in setting["values"]}) == 1
    assert len(by["adam[b1=0.5]"]) == 1
    assert all(v["b1"] == 0.5 for v in by["adam[b1=0.5]"][0]["values"])
    assert sorted(k for s in by["alternating_gda"] for k in s["trials"]) == list(
        range(8)
    )


def test_the_tuning_trial_rows_equal_the_same_trial_played_alone():
    cfg = TournamentConfig.from_dict(
        {
            "games": [{"id": "gangames/Bilinear-v0", "budget": 30}],
            "entrants": ["extragradient"],
            "rulesets": ["tuned"],
            "trials": 3,
            "batch": 2,
            "dtype": "float64",
        }
    )
    from gangames.random import derive_seeds
    from gangames.tournament.match import play_match

    (tuning,) = tuning_schedule(cfg)
    env, infos = play_match(cfg, tuning)
    values = json.loads(tuning.hyperparameters)["values"]
    seeds = derive_seeds(tuning.seed, cfg.batch)
    import agents

    for k, hp in enumerate(values):
        alone = agents.env_for(
            "gangames/Bilinear-v0",
            agents.make("extragradient", **hp),
            batch=2,
            dtype="float64",
            budget=30,
            max_steps=31,
            full_infos=False,
        )
        lone = agents.play(alone, agents.make("extragradient", **hp), seed=seeds)
        rows = slice(2 * k, 2 * k + 2)
        assert torch.equal(env.match.state.theta[rows], alone.match.state.theta)
        assert np.array_equal(infos[-1]["duality_gap"][rows], lone[-1]["duality_gap"])


def test_final_metrics_estimate_only_the_gaps_without_a_closed_form():
    # The game's declaration decides: a closed-form gap is never estimated.
    tiny = {"steps": 2, "restarts": 1, "prox_outer": 1, "prox_inner": 1}
    neural = gangames.make(
        "gangames/MixtureGAN-v0", width=8, eval_size=64, estimator=tiny
    )
    neural.reset(seed=0)
    out = final_metrics(neural)
    assert "estimated_gap" in out and "duality_gap" not in out
    assert {"modes_covered", "high_quality_pct", "mode_kl"} <= set(out)
    exact = gangames.make("gangames/Bilinear-v0", estimator=tiny)
    exact.reset(seed=0)
    out = final_metrics(exact)
    assert "duality_gap" in out and "estimated_gap" not in out
