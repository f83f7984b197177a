"""Report files: one name per label, and a report written whole or not at all."""

from __future__ import annotations

import pytest

from gangames.tournament import TournamentConfig, run, write_report
from tests.tournament.conftest import tiny


@pytest.fixture(scope="module")
def two_labels(tmp_path_factory):
    """A tournament whose game labels differ only where file names cannot."""
    out = tmp_path_factory.mktemp("labels")
    games = [
        {"id": "gangames/DiracGAN-v0", "label": "a b"},
        {"id": "gangames/Bilinear-v0", "options": {"dimension": 2}, "label": "a_b"},
    ]
    data = tiny(games=games, modes=["self_play", "cross_play"], seeds=1)
    run(TournamentConfig.from_dict(data), out, backend="sequential", progress=False)
    return out


def test_labels_that_sanitise_alike_get_distinct_files(two_labels):
    report = write_report(two_labels)
    names = [p.name for p in report.files]
    assert len(names) == len(set(names))
    crosses = sorted(n for n in names if n.startswith("cross_play_"))
    assert len(crosses) == 4  # a CSV and a PNG per game
    assert "cross_play_defaults_a_b.csv" in crosses  # a safe label is kept as it is
    assert all(p.exists() for p in report.files)


def test_a_report_that_fails_part_way_leaves_the_old_one(two_labels, monkeypatch):
    from gangames.tournament import plots

    old = write_report(two_labels, plots=False)
    before = {p.name: p.read_bytes() for p in old.files}

    def fail(*args, **kwargs):
        raise KeyboardInterrupt("killed while plotting")

    monkeypatch.setattr(plots, "metric_curves", fail)
    with pytest.raises(KeyboardInterrupt):
        write_report(two_labels, plots=True)
    folder = old.files[0].parent
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    monkeypatch.undo()
    new = write_report(two_labels, plots=True)
    assert any(p.suffix == ".png" for p in new.files)
    assert not [p.name for p in two_labels.iterdir() if p.name.startswith(".")]
