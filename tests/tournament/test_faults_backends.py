from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gangames.tournament import Store, TournamentConfig, run, schedule
from tests.tournament import _agents
from tests.tournament.conftest import tiny

ROOT = Path(__file__).resolve().parents[2]


def records(out):
    with Store(out / "results.sqlite") as s:
        return {r["match_id"]: r for r in s.records()}


def results(out):
    """What must agree across backends and resumes (not wall times)."""
    return {
        k: (r["status"], r["attempts"], r["metrics"], r["trajectory"])
        for k, r in records(out).items()
    }


def faulty_config(*kinds, timeout=1.5):
    entrants = [{"agent": "tgda"}] + [
        {"agent": "tfault", "hyperparameters": {"kind": k}, "label": k} for k in kinds
    ]
    return TournamentConfig.from_dict(
        tiny(
            games=[{"id": "gangames/DiracGAN-v0"}],
            entrants=entrants,
            seeds=1,
            timeout=timeout,
            retries=1,
        )
    )


def test_faults_in_process_are_recorded_and_others_complete(tmp_path):
    cfg = faulty_config("raise", "nan", "hang")
    summary = run(cfg, tmp_path, backend="sequential", progress=False)
    assert summary.played == 4
    recs = {r["generator"]: r for r in records(tmp_path).values()}
    assert recs["tgda"]["status"] == "ok"
    assert recs["raise"]["status"] == "agent_error"
    assert recs["raise"]["attempts"] == 2  # capped retries: 1 + retries
    assert "deliberate agent failure" in recs["raise"]["error"]
    assert recs["nan"]["status"] == "diverged" and recs["nan"]["attempts"] == 1
    assert all(recs["nan"]["metrics"]["diverged"])
    assert recs["hang"]["status"] == "timeout" and recs["hang"]["attempts"] == 2
    assert "timeout" in recs["hang"]["error"]


@pytest.mark.slow
def test_process_backend_survives_killed_and_hung_workers(tmp_path):
    cfg = faulty_config("kill", "hang", "raise", "nan")
    run(cfg, tmp_path, workers=2, progress=False, setup=_agents.register)
    recs = {r["generator"]: r for r in records(tmp_path).values()}
    assert recs["tgda"]["status"] == "ok"
    assert recs["kill"]["status"] == "worker_crashed" and recs["kill"]["attempts"] == 2
    assert "died" in recs["kill"]["error"]
    assert recs["hang"]["status"] == "timeout"
    assert recs["raise"]["status"] == "agent_error"
    assert recs["nan"]["status"] == "diverged"


@pytest.mark.slow
def test_process_backend_kills_a_hang_that_blocks_the_deadline(tmp_path, monkeypatch):
    from gangames.tournament import backends

    monkeypatch.setattr(backends, "GRACE_S", 1.0)
    cfg = faulty_config("block", timeout=1.0)
    run(cfg, tmp_path, workers=2, progress=False, setup=_agents.register)
    recs = {r["generator"]: r for r in records(tmp_path).values()}
    assert recs["tgda"]["status"] == "ok"
    assert recs["block"]["status"] == "timeout" and recs["block"]["attempts"] == 2
    assert "ignored the in-match deadline" in recs["block"]["error"]


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_backend_records_crashed_and_hung_workers(
    tmp_path, ray_cluster, monkeypatch
):
    from gangames.tournament import backends

    monkeypatch.setattr(backends, "GRACE_S", 1.0)
    cfg = faulty_config("kill", "block", timeout=1.5)
    run(cfg, tmp_path, backend="ray", progress=False, setup=_agents.register)
    recs = {r["generator"]: r for r in records(tmp_path).values()}
    assert recs["tgda"]["status"] == "ok"
    assert recs["kill"]["status"] == "worker_crashed" and recs["kill"]["attempts"] == 2
    assert recs["block"]["status"] == "timeout" and recs["block"]["attempts"] == 2


@pytest.mark.slow
def test_three_backends_agree(tmp_path, ray_cluster):
    data = tiny(modes=["self_play", "cross_play"], seeds=1)
    data["entrants"] += [
        {"agent": "tfault", "hyperparameters": {"kind": k}, "label": k}
        for k in ("raise", "nan")
    ]
    cfg = TournamentConfig.from_dict(data)
    run(cfg, tmp_path / "seq", backend="sequential", progress=False)
    run(cfg, tmp_path / "proc", workers=2, progress=False, setup=_agents.register)
    run(cfg, tmp_path / "ray", backend="ray", progress=False, setup=_agents.register)
    reference = results(tmp_path / "seq")
    assert len(reference) == len(schedule(cfg))
    statuses = {v[0] for v in reference.values()}
    assert statuses == {"ok", "agent_error", "diverged"}
    assert results(tmp_path / "proc") == reference
    assert results(tmp_path / "ray") == reference


_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from tests.tournament import _agents
from gangames.tournament import TournamentConfig, run
_agents.register()
cfg = TournamentConfig.from_dict({data!r})
run(cfg, {out!r}, resume=True, progress=False, workers={workers}, setup=_agents.register)
"""


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_loses_and_duplicates_nothing(tmp_path):
    # ~50 matches: long enough (several seconds) to be killed mid-run several times
    data = tiny(seeds=4, budget=300)
    cfg = TournamentConfig.from_dict(data)
    run(cfg, tmp_path / "ref", backend="sequential", progress=False)
    reference = results(tmp_path / "ref")
    out = tmp_path / "killed"
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kills, partial = 0, []
    for attempt in range(4):
        workers = 2 if attempt % 2 else 1
        script = _SCRIPT.format(
            root=str(ROOT), data=data, out=str(out), workers=workers
        )
        before = len(records(out)) if (out / "results.sqlite").exists() else 0
        proc = subprocess.Popen([sys.executable, "-c", script], env=env)
        if attempt == 0:  # anywhere, start-up included
            time.sleep(rng.uniform(0.2, 1.5))
        else:  # once this run has recorded something, at a random moment after
            deadline = time.monotonic() + 60
            while proc.poll() is None and time.monotonic() < deadline:
                if (out / "results.sqlite").exists() and len(records(out)) > before:
                    break
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.5))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        if (out / "results.sqlite").exists():
            partial.append(len(records(out)))
    assert kills >= 1
    # killed mid-tournament: some matches recorded, not all
    assert any(0 < n < len(reference) for n in partial), partial
    # the final run completes what is missing
    script = _SCRIPT.format(root=str(ROOT), data=data, out=str(out), workers=1)
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=300)
    got = results(out)
    assert len(got) == len(reference) == len(schedule(cfg))  # 0 lost, 0 duplicated
    assert got == reference
