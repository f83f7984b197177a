"""PettingZoo environments over the batched engine.

=====================  ==========================================================
Agents                 ``"generator"`` (θ, minimises V), ``"discriminator"`` (φ, maximises V)
Parallel API           :class:`GameParallelEnv` — simultaneous moves
AEC API                :class:`GameAECEnv` — sequential moves, first mover ``first``
                       (generator by default: the Stackelberg leader); native, not
                       ``parallel_to_aec`` (which would buffer the first action)
Action                 ``Box(d_seat)`` — the update Δ; the env applies
                       ``θ ← Π_Θ(θ + Δθ)``; finite bounds ``±max_update`` if set
Observation            ``Dict``: ``own`` (d_own), ``opponent`` (d_opp), ``gradient``
                       (own-loss gradient at the current point, d_own),
                       ``opponent_gradient`` (the opponent's own-loss gradient at the
                       same point, from the same pass, d_opp), ``value`` (1),
                       ``progress`` (step / max_steps, 1)
Reward                 ``"gap"`` (default): minus the seat's exploitability, so the two
                       rewards sum to minus the duality gap; ``"payoff"``: (−V, +V)
                       at the new point, from the observation pass (in stochastic
                       games V on its fresh minibatch: the realized payoff);
                       ``"proximal_gap"``: minus the seat's share of the proximal gap
Gap estimates          games without closed-form best responses (neural GANs, or any
                       game when ``estimator=…`` is given) get the budgeted estimates
                       of :mod:`gangames.estimators` every ``estimate_every`` rounds
                       (rewards and infos use the latest one; uncharged);
                       ``env.gap_estimator`` names its settings and says "lower bound"
Infos                  ``value``, ``duality_gap``, ``exploitability_generator``,
                       ``exploitability_discriminator``, ``proximal_gap``,
                       ``grad_norm``, ``distance`` (those the game supports),
                       ``oracle_calls_generator``, ``oracle_calls_discriminator``
                       (gradient-equivalents per seat), ``gap_lower_bound``
                       (whether the gaps are the budgeted estimate),
                       ``gap_estimate_step`` (round of the latest estimate, where
                       estimated), ``diverged``, ``step``, and the game's
                       sample-quality metrics if it has any (``Game.quality``:
                       e.g. ``modes_covered``, ``mmd2``). Infos hold numbers and
                       numeric arrays only; the estimator's label is the
                       attribute ``env.gap_estimator``
Episode end            truncation at ``max_steps`` rounds, when a seat's oracle cost
                       reaches ``budget``, or when every instance diverged
=====================  ==========================================================

**Batches.** ``batch=None`` plays one instance with unbatched spaces (shape ``(d,)``,
float rewards). ``batch=B`` plays B instances in lockstep: every field gains a leading
axis B, rewards and per-instance infos are arrays of shape ``(B,)``. The parallel env
stays a PettingZoo ``ParallelEnv`` (``parallel_api_test`` passes). The batched AEC env
is gangames' *vector* AEC API: its instances move in lockstep, so ``agent_iter``,
``terminations`` and ``truncations`` are shared, while ``rewards`` and the reward of
``last()`` are ``(B,)`` arrays, where PettingZoo's AEC API has scalars; ``api_test``
and other AEC clients need ``batch=None`` or the parallel env. ``pettingzoo.make("aec", id)``
therefore refuses a ``batch``, pointing to the parallel env;
``gangames.make(id, order="sequential", batch=B)`` builds the vector AEC env
(:func:`gangames.play.play` and the tournament play sequential solvers in it).

**Tensor mode.** ``tensor=True`` returns observations, rewards and infos as torch tensors
on the env's device (no host copies) and takes torch actions on that device.

**Costs.** Each observation's gradient is charged to its seat: one gradient per seat and
round, exactly what gradient descent–ascent costs. The opponent's gradient comes from
the same backward pass and costs nothing more (in simultaneous play the opponent paid
for it; extragradient then costs 2 gradients a seat, 4 a round, as in the literature).
Agents that need more query the oracle through ``env.oracle(seat)``.

**Bad input** raises a ``ValueError`` subclass naming the seat, what was expected and
what came, and leaves the state untouched (:mod:`gangames.errors`).

**Seeding.** ``reset(seed=s)`` derives one seed per instance from ``s`` (NumPy
SeedSequence); ``reset(seed=[s_0, …, s_{B−1}])`` sets them explicitly, so instance
``b`` of a batch equals a single run reset with ``seed=[s_b]``. ``reset()`` without a
seed continues with the next episode's seeds. Seeds are ints in ``[0, 2⁶³)``.
``reset(options={"params": {"generator": θ0, "discriminator": φ0}})`` starts from
given parameters, which must lie in the game's feasible set (a point outside it is
refused, not silently projected).

**The package.** One record per round (``envs/record.py``: the state, both
observations, V of the observation pass, the metrics and the costs, each computed
once and shared by the rewards, the infos and both seats); ``envs/session.py`` owns
the match and its current record; ``envs/spaces.py`` holds the spaces, the action
checks and the output form; ``envs/config.py`` the options; ``envs/parallel.py`` and
``envs/aec.py`` are the thin PettingZoo adapters (sharing ``envs/adapter.py``).
"""

from __future__ import annotations

from gangames.envs.aec import GameAECEnv
from gangames.envs.config import EnvConfig
from gangames.envs.parallel import GameParallelEnv

__all__ = ["EnvConfig", "GameAECEnv", "GameParallelEnv"]
