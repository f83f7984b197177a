from __future__ import annotations

import csv

import pytest

from gangames.cli import main
from gangames.tournament import TournamentConfig, run, write_report
from tests.tournament.conftest import tiny

SEQ = ["--backend", "sequential"]  # the test agents exist in this process only


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("t")
    cfg = TournamentConfig.from_dict(tiny(modes=["self_play", "cross_play"], seeds=2))
    run(cfg, out, backend="sequential", progress=False)
    return out


@pytest.mark.slow
def test_report_is_complete_and_regenerates_identically(finished):
    first = write_report(finished)
    names = sorted(p.name for p in first.files)
    for expected in (
        "leaderboard.md",
        "targets.csv",
        "leaderboard.csv",
        "trials.csv",
        "runs.csv",
        "per_game.csv",
        "probability_of_improvement.csv",
        "ratings.csv",
        "performance_profile.csv",
        "performance_profile.png",
        "curve_defaults_DiracGAN-v0.png",
        "cross_play_defaults_DiracGAN-v0.png",
        "cross_play_defaults_DiracGAN-v0.csv",
    ):
        assert expected in names
    blobs = {p.name: p.read_bytes() for p in first.files}
    second = write_report(finished)
    assert {p.name: p.read_bytes() for p in second.files} == blobs
    for label in ("tgda[lr=0.05]", "textra[lr=0.1]", "talt"):
        assert label in first.leaderboard
    # every file the leaderboard names exists, and every column is explained
    for name in ("targets.csv", "trials.csv", "performance_profile.png"):
        assert f"]({name})" in first.leaderboard
    assert "*profile area*" in first.leaderboard and "*reached*" in first.leaderboard
    table = list(csv.DictReader((finished / "report" / "leaderboard.csv").open()))
    assert [int(r["rank"]) for r in table] == [1, 2, 3]
    area = [float(r["profile_area"]) for r in table]
    assert area == sorted(area, reverse=True)
    targets = list(csv.DictReader((finished / "report" / "targets.csv").open()))
    assert len(targets) == 2 * 3  # games × entrants, one ruleset
    assert set(targets[0]) >= {
        "ruleset",
        "game",
        "entrant",
        "concept",
        "target",
        "budget",
        "fraction_reached",
        "median_cost_to_target",
        "hyperparameters",
    }
    pi = list(
        csv.DictReader((finished / "report" / "probability_of_improvement.csv").open())
    )
    p = {(r["entrant"], r["opponent"]): float(r["probability"]) for r in pi}
    assert len(p) == 6
    for (x, y), v in p.items():  # P(X > Y) + P(Y > X) = 1 (ties count ½ each way)
        assert v + p[(y, x)] == pytest.approx(1.0)


def test_extragradient_beats_gda_on_the_bilinear_game(tmp_path):
    # known answer (docs/algorithms.md §8 T1): GDA spirals out on θᵀAφ, EG converges
    data = tiny(
        games=[
            {"id": "gangames/Bilinear-v0", "options": {"dimension": 2}, "target": 1e-2}
        ],
        entrants=[
            {"agent": "tgda", "hyperparameters": {"lr": 0.1}},
            {"agent": "textra", "hyperparameters": {"lr": 0.3}},
        ],
        budget=200,
    )
    run(
        TournamentConfig.from_dict(data), tmp_path, backend="sequential", progress=False
    )
    board = write_report(tmp_path, plots=False).leaderboard
    lines = [
        ln
        for ln in board.splitlines()
        if ln.startswith("| 1 ") or ln.startswith("| 2 ")
    ]
    assert "textra" in lines[0] and "tgda" in lines[1]


def test_cli_list_tournament_and_bad_config(tmp_path, capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "gangames/DiracGAN-v0" in out and "tgda" in out
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'seeds = 1\nbatch = 2\nbudget = 10\n[[games]]\nid = "gangames/DiracGAN-v0"\n'
        '[[entrants]]\nagent = "tgda"\n[[entrants]]\nagent = "textra"\n'
    )
    assert (
        main(["tournament", str(cfg), "--out", str(tmp_path / "o"), "--no-plots", *SEQ])
        == 0
    )
    out = capsys.readouterr().out
    assert (
        "| rank | entrant" in out
        and (tmp_path / "o" / "report" / "leaderboard.md").exists()
    )
    assert (
        main(["tournament", str(cfg), "--out", str(tmp_path / "o"), "--no-plots", *SEQ])
        == 2
    )
    assert "--resume" in capsys.readouterr().err
    cfg.write_text(
        'budget = -1\n[[games]]\nid = "gangames/DiracGAN-v0"\n[[entrants]]\nagent = "tgda"\n'
    )
    assert main(["tournament", str(cfg), "--out", str(tmp_path / "p")]) == 2
    assert "budget" in capsys.readouterr().err
    assert (
        main(
            ["play", "gangames/DiracGAN-v0", "tgda", "--hp", "lr=0.1", "--budget", "20"]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "final duality_gap" in out and "reached the target" in out
    flags = ["--game", "gangames/Bilinear-v0,dimension=2", "--agent", "tgda,lr=0.1"]
    flags += ["--agent", "textra", "--budget", "10", "--seeds", "1", "--no-plots"]
    assert main(["tournament", "--out", str(tmp_path / "f"), *flags, *SEQ]) == 0
    assert "textra" in capsys.readouterr().out
    assert main(["tournament", "--out", str(tmp_path / "g"), "--agent", "tgda"]) == 2


def test_sample_plots_skip_a_mixture_game_that_cannot_render(tmp_path):
    import gangames
    from gangames import registration
    from gangames.games import DiracGAN

    gangames.register("tests/MixtureGAN-v0", DiracGAN)
    try:
        data = tiny(games=[{"id": "tests/MixtureGAN-v0"}], seeds=1)
        run(
            TournamentConfig.from_dict(data),
            tmp_path,
            backend="sequential",
            progress=False,
        )
        report = write_report(tmp_path)
    finally:
        registration._REGISTRY.pop("tests/MixtureGAN-v0", None)
    names = [p.name for p in report.files]
    assert "curve_defaults_MixtureGAN-v0.png" in names
    assert not any(n.startswith("samples_") for n in names)
