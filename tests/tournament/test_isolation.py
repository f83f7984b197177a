"""Every match isolated by default: real process exits, segfaults and hangs are recorded."""

from __future__ import annotations

import pytest

from gangames.errors import InvalidConfigError
from gangames.tournament import Store, TournamentConfig, run
from gangames.tournament.backends import ProcessBackend, make_backend
from tests.tournament import _agents
from tests.tournament.conftest import tiny


def faulty(*kinds, **overrides):
    entrants = [{"agent": "tgda"}] + [
        {"agent": "tfault", "hyperparameters": {"kind": k}, "label": k} for k in kinds
    ]
    data = tiny(games=[{"id": "gangames/DiracGAN-v0"}], entrants=entrants, seeds=1)
    return TournamentConfig.from_dict({**data, **overrides})


def by_generator(out):
    with Store(out / "results.sqlite") as store:
        return {r["generator"]: r for r in store.records()}


def test_default_backend_is_a_process_pool_even_for_one_worker():
    backend = make_backend(None, 1)
    assert isinstance(backend, ProcessBackend) and backend.workers == 1


@pytest.mark.parametrize("workers", [0, -3, 1.5, True])
def test_workers_below_one_are_refused(workers):
    with pytest.raises(InvalidConfigError, match=r"workers must be an int > 0"):
        make_backend(None, workers)


@pytest.mark.slow
def test_one_worker_records_exit_segfault_and_hang_then_resume_plays_nothing(
    tmp_path, monkeypatch
):
    from gangames.tournament import backends

    monkeypatch.setattr(backends, "GRACE_S", 0.5)
    cfg = faulty("exit", "segfault", "block", timeout=1.0, retries=0)
    summary = run(cfg, tmp_path, progress=False, setup=_agents.register)
    assert summary.played == 4
    recs = by_generator(tmp_path)
    assert recs["tgda"]["status"] == "ok"
    assert recs["exit"]["status"] == "worker_crashed"
    assert "exit code 3" in recs["exit"]["error"]
    assert recs["segfault"]["status"] == "worker_crashed"
    assert "exit code -11" in recs["segfault"]["error"]  # SIGSEGV
    assert recs["block"]["status"] == "timeout"
    assert "ignored the in-match deadline" in recs["block"]["error"]
    # a recorded fault is a result: resuming never plays it again
    again = run(cfg, tmp_path, resume=True, progress=False, setup=_agents.register)
    assert again.played == 0 and again.skipped == 4


def test_retries_are_capped_and_counted(tmp_path):
    with pytest.raises(InvalidConfigError, match=r"retries must be .*≤ 10, got 11"):
        faulty("exit", retries=11)
    cfg = faulty("raise", retries=2)
    run(cfg, tmp_path, progress=False, setup=_agents.register)
    rec = by_generator(tmp_path)["raise"]
    assert rec["status"] == "agent_error" and rec["attempts"] == 3  # 1 + retries


def test_names_the_workers_do_not_know_are_refused_before_any_match(tmp_path):
    cfg = faulty("raise")
    with pytest.raises(InvalidConfigError, match=r"'tfault'.*setup="):
        run(cfg, tmp_path, progress=False)  # no setup: fresh workers lack them
    with Store(tmp_path / "results.sqlite") as store:
        assert store.done() == set()


def test_a_factory_that_raises_is_recorded_and_the_tournament_completes(tmp_path):
    data = tiny(
        games=[{"id": "gangames/DiracGAN-v0"}],
        entrants=[{"agent": "tgda"}, {"agent": "tbroken"}],
        seeds=1,
        retries=0,
    )
    cfg = TournamentConfig.from_dict(data)  # construction is the match's business
    summary = run(cfg, tmp_path, progress=False, setup=_agents.register)
    assert summary.statuses == {"ok": 1, "agent_error": 1}
    assert (
        "deliberate construction failure" in by_generator(tmp_path)["tbroken"]["error"]
    )
