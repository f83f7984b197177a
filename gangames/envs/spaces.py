"""The env's boundary: its spaces, the checks on what comes in, the form of what goes out.

Actions (and initial parameters) come in as numpy arrays, or as torch tensors in tensor
mode, and are checked against the seat's action space before anything changes: type,
shape, a floating dtype (cast to the env's), the device, no NaN or Inf, and the bound
``max_update`` if set. (A NaN or Inf that no projection or clip could hide is found by
the session's divergence guard, before the state changes: see
:meth:`Boundary.to_tensors`.) A bad one raises :class:`~gangames.errors.InvalidActionError`
naming the seat, what was expected and what came. Outputs leave as numpy arrays (or
Python scalars without a batch), or as the tensors themselves in tensor mode.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
import torch

from gangames.envs.config import EnvConfig
from gangames.errors import InvalidActionError
from gangames.game import Game
from gangames.types import SEATS, Seat, other

__all__ = ["Boundary", "all_finite"]


def all_finite(values: torch.Tensor | np.ndarray) -> bool:
    """Whether every entry is finite, usually from one reduction read on the host.

    A finite sum proves every entry finite (NaN propagates; ±inf propagate, or meet as
    NaN), at a fraction of the cost of an entrywise test (``torch.isfinite`` on a
    scalar is four kernels); only a sum that overflowed from finite entries needs the
    entrywise test.
    """
    if math.isfinite(float(values.sum())):
        return True
    if isinstance(values, torch.Tensor):
        return bool(torch.isfinite(values).all())
    return bool(np.isfinite(values).all())


def _box(lead: tuple[int, ...], d: int, dtype: type, low: float = -np.inf) -> Any:
    high = np.inf if low == -np.inf else 1.0
    return gymnasium.spaces.Box(low, high, shape=(*lead, d), dtype=dtype)


class Boundary:
    """Spaces, input checks and output conversion of one env.

    Args:
        game: the game (its seats' dimensions).
        config: the env's options (batch, dtype, device, tensor mode, bounds).
    """

    def __init__(self, game: Game, config: EnvConfig) -> None:
        self.config = config
        lead = () if config.batch is None else (config.batch,)
        f = config.numpy_dtype
        bound = np.inf if config.max_update is None else config.max_update
        self.observation_spaces: dict[Seat, gymnasium.spaces.Dict] = {}
        self.action_spaces: dict[Seat, gymnasium.spaces.Box] = {}
        for seat in SEATS:
            d, d_opp = game.dim(seat), game.dim(other(seat))
            self.observation_spaces[seat] = gymnasium.spaces.Dict(
                {
                    "own": _box(lead, d, f),
                    "opponent": _box(lead, d_opp, f),
                    "gradient": _box(lead, d, f),
                    "opponent_gradient": _box(lead, d_opp, f),
                    "value": _box(lead, 1, f),
                    "progress": _box(lead, 1, f, low=0.0),
                }
            )
            self.action_spaces[seat] = gymnasium.spaces.Box(
                -bound, bound, shape=(*lead, d), dtype=f
            )
        self._rows = config.batch or 1
        # Seats whose NaN or Inf the boundary must find itself (see to_tensors): a
        # projection or clip_actions could make an Inf finite before the guard.
        clipped = config.max_update is not None and config.clip_actions
        self.checked_here: frozenset[Seat] = frozenset(
            SEATS if clipped else game.capabilities.constrained
        )

    # ---- in ----------------------------------------------------------------------
    def to_parameters(self, seat: Seat, value: Any) -> torch.Tensor:
        """Check initial parameters for ``seat`` (no NaN or Inf) as a ``(B, d)`` tensor."""
        tensor = self._cast(seat, value, "initial parameters")
        self.require_finite({seat: tensor}, what="initial parameters")
        return self._rows_first(tensor)

    def to_tensors(self, actions: Mapping[str, Any]) -> dict[Seat, torch.Tensor]:
        """Check the actions of the seats in ``actions`` and return them as tensors.

        Type, shape, dtype, device and bound are checked here. A NaN or Inf is
        refused here only where it could hide: in a constrained seat (its projection
        could clamp an Inf) or under ``clip_actions``. In every other seat it makes the
        new parameters non-finite, which the session's divergence guard reads anyway:
        only a round that marks an instance diverged calls :meth:`require_finite`,
        before anything changes (one host read a round instead of two).
        """
        cast = {
            seat: self._cast(seat, actions[seat], "action")
            for seat in SEATS  # the generator's errors first, in either adapter
            if seat in actions
        }
        self.require_finite({s: t for s, t in cast.items() if s in self.checked_here})
        return {seat: self._bounded(seat, t, cast) for seat, t in cast.items()}

    def require_finite(
        self, tensors: Mapping[Seat, torch.Tensor], *, what: str = "action"
    ) -> None:
        """Refuse a NaN or Inf in ``tensors`` (one host read proves them all finite)."""
        if not tensors:
            return
        total = sum(t.sum() for t in tensors.values())
        if math.isfinite(float(total)):
            return
        for seat, tensor in tensors.items():  # which seat, or an overflowing sum
            if not all_finite(tensor):
                raise InvalidActionError(f"{seat}: {what} contains NaN or Inf")

    def _cast(self, seat: Seat, action: Any, what: str) -> torch.Tensor:
        """Type, shape, dtype and device checks; the action in the env's dtype."""
        cfg = self.config
        space = self.action_spaces[seat]
        if cfg.tensor:
            if not isinstance(action, torch.Tensor):
                raise InvalidActionError(
                    f"{seat}: expected {what} as a torch.Tensor {space.shape} "
                    f"{np.dtype(space.dtype).name} on {cfg.device}, got {type(action).__name__}"
                )
            if (
                not action.is_floating_point()
                or tuple(action.shape) != space.shape
                or action.device != cfg.device
            ):
                raise InvalidActionError(
                    f"{seat}: expected {what} of shape {space.shape}, a floating dtype (cast to {cfg.dtype}) on {cfg.device}; "
                    f"got shape {tuple(action.shape)}, dtype {action.dtype} on {action.device}"
                )
            # a float of another precision is cast, as Gymnasium casts castable floats
            return action if action.dtype == cfg.dtype else action.to(cfg.dtype)
        if not isinstance(action, np.ndarray):
            raise InvalidActionError(
                f"{seat}: expected {what} as a numpy array {space.shape} "
                f"{np.dtype(space.dtype).name}, got {type(action).__name__}"
            )
        if not np.issubdtype(action.dtype, np.floating) or action.shape != space.shape:
            raise InvalidActionError(
                f"{seat}: expected {what} of shape {space.shape} and a floating dtype (cast to {np.dtype(space.dtype).name}); "
                f"got shape {action.shape} and dtype {action.dtype}"
            )
        with np.errstate(over="ignore"):  # an overflow is refused as Inf
            cast = np.array(action, dtype=space.dtype, copy=True)
        return torch.from_numpy(cast).to(cfg.device)

    def _bounded(
        self, seat: Seat, tensor: torch.Tensor, cast: Mapping[Seat, torch.Tensor]
    ) -> torch.Tensor:
        """The bound ``max_update`` (clipped or refused) and the ``(B, d)`` shape.

        ``cast`` holds every action of the call: a NaN or Inf in any of them is named
        before a bound is (an Inf is out of bounds too).
        """
        cfg = self.config
        if cfg.max_update is not None:
            if cfg.clip_actions:
                tensor = tensor.clamp(-cfg.max_update, cfg.max_update)
            elif bool((tensor.abs() > cfg.max_update).any()):
                self.require_finite(cast)
                raise InvalidActionError(
                    f"{seat}: action entries must lie in [-{cfg.max_update}, "
                    f"{cfg.max_update}]; got an entry of magnitude "
                    f"{float(tensor.abs().max()):.6g} (clip_actions=True clips instead)"
                )
        return self._rows_first(tensor)

    def _rows_first(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor`` as ``(B, d)`` (an unbatched env's ``(d,)`` gets one row)."""
        return (
            tensor if self.config.batch is not None else tensor.reshape(self._rows, -1)
        )

    # ---- out ---------------------------------------------------------------------
    def export(self, value: torch.Tensor) -> Any:
        """A batched tensor in the env's output form (tensor, array or scalar)."""
        if self.config.tensor:
            return value if self.config.batch is not None else value[0]
        arr = value.detach().cpu().numpy()
        if self.config.batch is not None:
            return arr
        item = arr[0]
        return bool(item) if arr.dtype == np.bool_ else float(item)

    def export_obs(
        self, obs: dict[str, torch.Tensor], done: dict[int, Any] | None = None
    ) -> dict[str, Any]:
        """An observation in the env's output form.

        ``done`` maps tensors already converted (by ``id``) to their output, so the
        tensors both seats' observations share (the parameters, the gradients, the
        value and progress columns) are converted once a round.
        """
        cfg = self.config
        if cfg.tensor and cfg.batch is not None:
            return obs
        done = {} if done is None else done
        out: dict[str, Any] = {}
        for k, v in obs.items():
            arr = done.get(id(v))
            if arr is None:
                if cfg.tensor:
                    arr = v[0]
                else:
                    arr = v.detach().cpu().numpy().astype(cfg.numpy_dtype, copy=False)
                    if cfg.batch is None:
                        arr = arr[0]
                done[id(v)] = arr
            out[k] = arr
        return out

    def export_observations(
        self, observations: dict[Seat, dict[str, torch.Tensor]]
    ) -> dict[Seat, dict[str, Any]]:
        """Both seats' observations in the output form, each shared tensor once."""
        done: dict[int, Any] = {}
        return {seat: self.export_obs(observations[seat], done) for seat in SEATS}
