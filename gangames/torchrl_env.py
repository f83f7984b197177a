"""A native batched TorchRL environment over gangames' tensor mode.

:class:`TorchRLEnv` is a :class:`torchrl.envs.EnvBase` with ``batch_size=[B]``: the B
instances of :func:`gangames.make` ``(id, batch=B, tensor=True)`` step in one call, on
the env's device, with no host copies of observations, actions or rewards. It is the
RL-facing format of :mod:`gangames.flat` (one flat observation and one bounded update
per seat, the same layout and default bound) in TorchRL's form, and it follows
TorchRL's multi-agent conventions (VMAS, ``PettingZooWrapper``): one group per seat,
each with an agent dimension of size 1, so the MAPPO/IPPO recipe (``MultiAgentMLP``,
``ProbabilisticActor`` with ``TanhNormal``, ``ClipPPOLoss``, GAE) runs on it unchanged
(one policy and one loss per group, as the seats' sizes differ).

=====================  ==========================================================
Groups                 ``"generator"`` and ``"discriminator"``, agent dimension 1
Observation            ``td[seat]["observation"]`` ``(B, 1, 2·d + 2·d_opp + 2)``:
                       the seat's flat observation (:mod:`gangames.flat`):
                       ``[own (d), opponent (d_opp), gradient (d),
                       opponent_gradient (d_opp), value (1), progress (1)]``, d the
                       seat's parameter count, d_opp the opponent's;
                       ``env.layout[seat]`` maps each field to its slice
Action                 ``td[seat]["action"]`` ``(B, 1, d)``, bounded ``[−m, m]`` with
                       m = ``max_update``: the update Δ (``θ ← Π_Θ(θ + Δθ)``);
                       entries outside the box are clipped (``clip_actions``)
Reward                 ``td[seat]["reward"]`` ``(B, 1, 1)``: the gangames reward
                       (``reward="gap"`` by default: minus the seat's exploitability)
Done                   ``done``, ``terminated``, ``truncated`` at the root ``(B, 1)``
                       and per group ``(B, 1, 1)``; ``terminated`` is always
                       ``False`` and ``done = truncated`` (gangames episodes end by
                       truncation: ``max_steps``, the budget, or every instance
                       diverged)
Infos                  ``td[seat]["info"][key]`` ``(B, 1)``: the numeric infos of the
                       gangames env (tensors, and numbers broadcast over the batch),
                       as floats of the env's dtype (flags such as ``diverged`` as
                       bools); strings and dicts are left out. The keys are those of
                       the first reset; a later round that lacks one (lean infos
                       between ``quality_every`` rounds) reports NaN (``False`` for
                       a flag)
=====================  ==========================================================

**The action bound.** ``max_update=None`` takes the flat format's default
(:func:`gangames.flat.default_max_update`): a tenth of the game's natural scale, the
spread ``init_scale`` of its initial parameters (0.1 in DiracGAN, 0.1·π in
CirclePursuit). A game without one (the neural GANs) needs ``max_update``.

**Lockstep resets.** The instances of a gangames env start and end together, so a
reset resets all of them: a ``"_reset"`` mask must be all ``True`` (what the
collectors send, as every instance is done at once); a partial mask raises
:class:`~gangames.errors.InvalidConfigError`.

**Seeding.** :meth:`~torchrl.envs.EnvBase.set_seed` (``_set_seed``) seeds the next
reset as ``reset(seed=s)`` of the gangames env (one derived seed per instance); later
resets continue with the following episodes' seeds. Building the env makes one
unseeded reset to read the info keys.

TorchRL is an optional dependency: ``pip install "gangames[rl]"``.

Example:
    >>> from gangames.torchrl_env import TorchRLEnv
    >>> env = TorchRLEnv("gangames/DiracGAN-v0", batch=4, max_steps=3)
    >>> _ = env.set_seed(0)  # seeds the next reset
    >>> td = env.rollout(3)
    >>> td["next", "generator", "observation"].shape  # (B, steps, agents, 6)
    torch.Size([4, 3, 1, 6])
    >>> bool(td["next", "done"][:, -1].all())
    True
"""

from __future__ import annotations

from typing import Any

import torch

from gangames import checks
from gangames.errors import InvalidConfigError
from gangames.flat import FlatParallelEnv
from gangames.registration import make
from gangames.types import SEATS

try:
    from tensordict import TensorDict, TensorDictBase
    from torchrl.data import Bounded, Categorical, Composite, Unbounded
    from torchrl.envs import EnvBase
except ImportError as _err:  # pragma: no cover - the extra is installed in tests
    raise ImportError(
        'gangames.torchrl_env needs TorchRL and TensorDict: pip install "gangames[rl]"'
    ) from _err

__all__ = ["TorchRLEnv"]

_DONE_KEYS = ("done", "terminated", "truncated")


class TorchRLEnv(EnvBase):
    """B instances of a gangames game as one TorchRL env with ``batch_size=[B]``.

    See :mod:`gangames.torchrl_env` for the specs, the bound, resets and seeding.

    Args:
        id: a registered game id, e.g. ``"gangames/DiracGAN-v0"``.
        batch: number of instances B (the env's ``batch_size`` is ``[B]``).
        device: torch device of the game and of every tensor.
        max_update: bound m of the action boxes ``[−m, m]``; ``None`` takes the
            flat format's default (:func:`gangames.flat.default_max_update`).
        clip_actions: clip actions outside the box into it (``True``, as a
            ``TanhNormal`` may land an ulp outside); ``False`` refuses them. NaN and
            Inf are refused either way.
        **kwargs: options of :func:`gangames.make` (``max_steps``, ``reward``,
            ``dtype``, …) and the game's fields; ``tensor`` and ``order`` are fixed.

    Raises:
        InvalidConfigError: no ``max_update`` for a game without a natural scale, or
            a bad option of :func:`gangames.make`.
        TypeError: an unknown keyword.
    """

    def __init__(
        self,
        id: str,
        *,
        batch: int = 1,
        device: str | torch.device = "cpu",
        max_update: float | None = None,
        clip_actions: bool = True,
        **kwargs: Any,
    ) -> None:
        for fixed in ("tensor", "order", "batch_size"):
            if fixed in kwargs:
                hint = " (use batch=B)" if fixed == "batch_size" else ""
                raise TypeError(
                    f"TorchRLEnv() got an unexpected keyword argument {fixed!r}{hint}"
                )
        checks.batch("batch", batch)  # an int: TorchRL's batch_size is [batch]
        env = make(
            id,
            batch=batch,
            device=device,
            tensor=True,
            flat=True,
            max_update=max_update,
            clip_actions=clip_actions,
            **kwargs,
        )
        assert isinstance(env, FlatParallelEnv)
        self._env = env
        self._seed: int | None = None
        cfg = env.config
        super().__init__(device=cfg.device, batch_size=torch.Size([batch]))
        self.max_update = float(cfg.max_update)
        self.layout = env.layout
        self._dims = {seat: env.game.dim(seat) for seat in SEATS}
        _, infos = env.reset()
        self._info_spec = self._make_info_spec(infos["generator"])
        self._make_specs()

    # ---- specs ---------------------------------------------------------------------
    def _make_info_spec(self, info: dict[str, Any]) -> dict[str, torch.dtype]:
        """The numeric info keys and their dtypes, from the first reset's infos."""
        B = self.batch_size[0]
        spec: dict[str, torch.dtype] = {}
        for key, value in info.items():
            if isinstance(value, torch.Tensor) and value.shape in ((B,), ()):
                dtype = value.dtype
            elif isinstance(value, (bool, int, float)):
                dtype = torch.as_tensor(value).dtype
            else:
                continue  # strings, dicts: not data a tensordict carries
            if dtype != torch.bool:  # numbers as floats: NaN can mark an absent one
                dtype = self._env.config.dtype
            spec[key] = dtype
        return spec

    def _make_specs(self) -> None:
        cfg = self._env.config
        B, dev, f = self.batch_size[0], cfg.device, cfg.dtype
        group = torch.Size([B, 1])
        obs, act, rew = (Composite(shape=(B,)) for _ in range(3))
        done = Composite(
            {
                k: Categorical(2, shape=(B, 1), dtype=torch.bool, device=dev)
                for k in _DONE_KEYS
            },
            shape=(B,),
        )
        for seat in SEATS:
            d, n = self._dims[seat], self._env.observation_space(seat).shape[-1]
            info = Composite(
                {
                    key: (
                        Categorical(2, shape=group, dtype=torch.bool, device=dev)
                        if dtype == torch.bool
                        else Unbounded(shape=group, dtype=dtype, device=dev)
                    )
                    for key, dtype in self._info_spec.items()
                },
                shape=group,
            )
            obs[seat] = Composite(
                observation=Unbounded(shape=(B, 1, n), dtype=f, device=dev),
                info=info,
                shape=group,
            )
            act[seat] = Composite(
                action=Bounded(
                    -self.max_update,
                    self.max_update,
                    shape=(B, 1, d),
                    dtype=f,
                    device=dev,
                ),
                shape=group,
            )
            rew[seat] = Composite(
                reward=Unbounded(shape=(B, 1, 1), dtype=f, device=dev), shape=group
            )
            done[seat] = Composite(
                {
                    k: Categorical(2, shape=(B, 1, 1), dtype=torch.bool, device=dev)
                    for k in _DONE_KEYS
                },
                shape=group,
            )
        self.observation_spec = obs.to(dev)
        self.action_spec = act.to(dev)
        self.reward_spec = rew.to(dev)
        self.done_spec = done.to(dev)

    # ---- the gangames env ----------------------------------------------------------
    @property
    def gangames_env(self) -> FlatParallelEnv:
        """The batched gangames env underneath (flat format, tensor mode)."""
        return self._env

    # ---- conversion ----------------------------------------------------------------
    def _group(self, obs: torch.Tensor, info: dict[str, Any]) -> dict[str, Any]:
        return {
            "observation": obs.to(self._env.config.dtype).unsqueeze(1),
            "info": self._infos(info),
        }

    def _infos(self, info: dict[str, Any]) -> dict[str, torch.Tensor]:
        B, dev = self.batch_size[0], self.device
        out = {}
        for key, dtype in self._info_spec.items():
            value = info.get(key)
            if isinstance(value, torch.Tensor):
                value = value.to(dtype).expand(B)
            elif isinstance(value, (bool, int, float)):
                value = torch.full((B,), value, dtype=dtype, device=dev)
            else:  # absent this round (lean infos between quality rounds)
                fill = False if dtype == torch.bool else float("nan")
                value = torch.full((B,), fill, dtype=dtype, device=dev)
            out[key] = value.unsqueeze(1)
        return out

    def _dones(self, done: bool) -> dict[str, Any]:
        B, dev = self.batch_size[0], self.device
        flags = torch.full((B, 1), done, dtype=torch.bool, device=dev)
        never = torch.zeros_like(flags)
        root = {"done": flags, "terminated": never, "truncated": flags}
        return {
            **root,
            **{seat: {k: v.unsqueeze(1) for k, v in root.items()} for seat in SEATS},
        }

    # ---- EnvBase -------------------------------------------------------------------
    def _reset(
        self, tensordict: TensorDictBase | None = None, **kwargs: Any
    ) -> TensorDictBase:
        if tensordict is not None:
            for key in tensordict.keys(True, True):
                if (key[-1] if isinstance(key, tuple) else key) != "_reset":
                    continue
                mask = tensordict.get(key)
                if not bool(mask.all()):
                    raise InvalidConfigError(
                        f"{key!r}: the instances of a gangames env play in lockstep "
                        f"and reset together; expected a mask of all True, got "
                        f"{int(mask.sum())} of {mask.numel()} True (reset every "
                        "instance: env.reset())"
                    )
        seed, self._seed = self._seed, None
        obs, infos = self._env.reset(seed=seed)
        out = self._dones(False)
        for seat in SEATS:
            out[seat].update(self._group(obs[seat], infos[seat]))
        return self._tensordict(out)

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        actions: dict[str, torch.Tensor] = {
            seat: tensordict.get((seat, "action")).reshape(
                self.batch_size[0], self._dims[seat]
            )
            for seat in SEATS
        }
        obs, rewards, _, truncated, infos = self._env.step(actions)
        out = self._dones(bool(truncated["generator"]))
        f = self._env.config.dtype
        for seat in SEATS:
            out[seat].update(self._group(obs[seat], infos[seat]))
            out[seat]["reward"] = rewards[seat].to(f).reshape(-1, 1, 1)
        return self._tensordict(out)

    def _tensordict(self, out: dict[str, Any]) -> TensorDictBase:
        """``out`` as a tensordict whose groups have the agent dimension (B, 1)."""
        group, dev = (*self.batch_size, 1), self.device
        for seat in SEATS:
            fields = out[seat]
            if "info" in fields:
                fields["info"] = TensorDict(
                    fields["info"], batch_size=group, device=dev
                )
            out[seat] = TensorDict(fields, batch_size=group, device=dev)
        return TensorDict(out, batch_size=self.batch_size, device=dev)

    def _set_seed(self, seed: int | None) -> None:
        """Seed the next reset (``reset(seed=seed)`` of the gangames env)."""
        self._seed = seed
