"""Progress lines and bars, the CLI's flags and help, and a resume with nothing to do."""

from __future__ import annotations

import argparse
import io

import pytest

import gangames
from gangames.cli import build_parser, main
from gangames.errors import InvalidConfigError
from gangames.tournament import TournamentConfig, run, runner, write_report
from gangames.tournament.progress import tracker
from tests.tournament.conftest import tiny


def _lines(total, steps, dt=1.0):
    now = [0.0]
    stream = io.StringIO()
    bar = tracker(total, "phase", "lines", stream=stream, clock=lambda: now[0])
    for _ in range(steps):
        now[0] += dt
        bar.update("ok")
    bar.close()
    return stream.getvalue().splitlines()


def test_lines_every_tenth_and_at_the_end():
    lines = _lines(25, 25)
    assert lines[0] == "phase: 0/25 (0 %), 0s"
    assert lines[-1] == "phase: 25/25 (100 %), 25s; ok 25"
    assert len(lines) == 1 + 10  # the start, then one per tenth (the last included)


def test_lines_every_30_seconds_when_work_is_slow():
    lines = _lines(1000, 5, dt=31.0)
    assert len(lines) == 1 + 5 + 1  # the start, one per 31 s update, the end
    assert lines[3] == "phase: 3/1000 (0 %), 93s; ok 3"


def test_none_is_silent_and_unknown_modes_are_refused(capsys):
    bar = tracker(3, "phase", "none")
    bar.update()
    bar.close()
    assert capsys.readouterr().err == ""
    with pytest.raises(InvalidConfigError, match="progress must be one of"):
        tracker(3, "phase", "loud")
    with pytest.raises(InvalidConfigError, match="progress must be one of"):
        run(TournamentConfig.from_dict(tiny()), "unused", progress="loud")


def test_cli_progress_lines_and_a_finished_resume_plays_nothing(
    tmp_path, capsys, monkeypatch
):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        'seeds = 1\nbatch = 2\nbudget = 10\n[[games]]\nid = "gangames/DiracGAN-v0"\n'
        '[[entrants]]\nagent = "tgda"\n[[entrants]]\nagent = "textra"\n'
    )
    args = ["tournament", str(cfg), "--out", str(tmp_path / "o"), "--no-plots"]
    assert main([*args, "--backend", "sequential", "--progress", "lines"]) == 0
    err = capsys.readouterr().err
    assert "(100 %)" in err and "ok" in err

    class NoWork:
        def run(self, *_):
            raise AssertionError("a finished run must play nothing")

    monkeypatch.setattr(runner, "make_backend", lambda *a, **k: NoWork())
    assert main([*args, "--resume", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "played 0 of" in captured.out and captured.err == ""


@pytest.mark.slow
def test_the_report_shows_its_replays(tmp_path, capsys):
    data = tiny(games=[{"id": "gangames/MixtureGAN-v0", "options": {"width": 8}}])
    data.update(seeds=1, budget=4, entrants=[{"agent": "tgda"}])
    run(
        TournamentConfig.from_dict(data), tmp_path, backend="sequential", progress=False
    )
    report = write_report(tmp_path, progress="lines")
    assert any(p.name.startswith("samples_") for p in report.files)
    assert "sample replays: 1/1 (100 %)" in capsys.readouterr().err


def _actions(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _actions(sub)
        elif not isinstance(action, argparse._HelpAction | argparse._VersionAction):
            yield parser.prog, action


def test_every_flag_has_help_and_no_markup_leaks(capsys):
    parser = build_parser()
    missing = [f"{p} {a.dest}" for p, a in _actions(parser) if not a.help]
    assert missing == []
    texts = [parser.format_help()]
    for action in parser._subparsers._group_actions:
        texts += [sub.format_help() for sub in action.choices.values()]
    for text in texts:
        assert "``" not in text and ":class:" not in text and ":func:" not in text
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"gangames {gangames.__version__}"
