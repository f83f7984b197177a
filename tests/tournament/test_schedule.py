from __future__ import annotations

from gangames.tournament import TournamentConfig, match_seed, schedule
from tests.tournament.conftest import tiny


def test_tiny_schedule_is_complete_and_deterministic():
    cfg = TournamentConfig.from_dict(tiny(modes=["self_play", "cross_play"]))
    matches = schedule(cfg)
    n_games, n_seeds, n_entrants = 2, 2, 3
    assert len(matches) == n_games * n_seeds * (n_entrants + n_entrants**2)
    assert len({m.id for m in matches}) == len(matches)
    assert matches == schedule(
        TournamentConfig.from_dict(tiny(modes=["cross_play", "self_play"]))
    )
    first = matches[0]
    assert (
        first.id
        == "defaults/self_play/Bilinear-v0[dimension=2]/tgda[lr=0.05]/tgda[lr=0.05]/0"
    )
    cross = [m for m in matches if m.mode == "cross_play"]
    assert {(m.generator, m.discriminator) for m in cross} == {
        (a.label, b.label) for a in cfg.entrants for b in cfg.entrants
    }


def test_seeds_depend_on_game_and_seed_index_only():
    cfg = TournamentConfig.from_dict(tiny(modes=["self_play", "cross_play"]))
    by_key = {}
    for m in schedule(cfg):
        by_key.setdefault((m.game, m.seed_index), set()).add(m.seed)
        assert m.seed == match_seed(cfg.root_seed, m.game, m.seed_index)
    assert all(len(s) == 1 for s in by_key.values())  # common random numbers
    assert len({next(iter(s)) for s in by_key.values()}) == len(by_key)
    other = schedule(TournamentConfig.from_dict(tiny(root_seed=1)))
    assert {m.seed for m in other}.isdisjoint({m.seed for m in schedule(cfg)})
    assert 0 <= match_seed(0, "x", 0) < 2**63


def test_a_game_can_be_kept_to_some_modes():
    data = tiny(modes=["self_play", "cross_play"])
    data["games"][1]["modes"] = ["self_play"]
    cfg = TournamentConfig.from_dict(data)
    cross = [m for m in schedule(cfg) if m.mode == "cross_play"]
    assert cross and all(m.game == "Bilinear-v0[dimension=2]" for m in cross)
    assert any(m.game == "DiracGAN-v0" for m in schedule(cfg))
    assert TournamentConfig.from_dict(cfg.to_dict()) == cfg
