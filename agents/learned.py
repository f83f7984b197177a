"""Learned agents: Stable-Baselines3 policies playing as update rules (``"sb3"``).

A policy trained on a single-agent view (:mod:`gangames.wrappers`,
:mod:`gangames.training`)
is saved as a Stable-Baselines3 zip plus one JSON entry, ``gangames.json``, that says
how to rebuild and replay it: the algorithm, the network architecture, and the view's
control options (mode, base rules, …) and sizes.

**Safe loading.** :func:`load_policy` never unpickles: it reads the zip itself, parses
``gangames.json``, rebuilds the policy class from a registry of known architectures
(:data:`ARCHITECTURES`: PPO's ``ActorCriticPolicy`` and SAC's ``SACPolicy``, with
an MLP of the stored widths and a whitelisted activation), and loads ``policy.pth``
with ``torch.load(..., weights_only=True)`` into it (strict: every tensor must match).
Stable-Baselines3's own ``load`` is not used: it unpickles the ``data`` entry, which can
run arbitrary code. A corrupt or foreign file is refused with an
:class:`~gangames.errors.InvalidConfigError` naming it; with ``root`` given, a file
outside that folder is refused as well.

**Playing.** :func:`policy_rule` turns a loaded policy into an
:class:`~gangames.rules.UpdateRule`: each step it computes the view's features from the
seat's observation (the same :class:`~agents.control.Controller` as in training),
runs the policy once on all B instances (one batched forward pass, deterministic
action: the Gaussian mean for PPO, the squashed mean for SAC) and decodes the action
into an update. Features are seat-relative (own loss, own gradient), so a policy
trained in one seat can play the other; raw-update policies need the game's sizes to
match. The oracle cost per step is that of the base rules (0 for the built-in
directions): the policy itself does not query the game.

Example (a policy trained for a few steps, saved, loaded and played, batched):
    >>> import tempfile
    >>> import agents, gangames
    >>> from gangames.training import train
    >>> result = train(
    ...     "gangames/DiracGAN-generator-v0",
    ...     total_timesteps=64,
    ...     out_dir=tempfile.mkdtemp(),
    ...     algo_kwargs={"n_steps": 64, "batch_size": 32, "n_epochs": 1},
    ... )
    >>> solver = agents.make("sb3", path=str(result.path))
    >>> env = gangames.make("gangames/DiracGAN-v0", batch=4, max_steps=5)
    >>> len(agents.play(env, solver, seed=[0, 1, 2, 3]))
    6
"""

from __future__ import annotations

import copy
import io
import json
import pickle
import re
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium
import numpy as np
import torch
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.sac.policies import SACPolicy

from agents.control import ControlConfig, Controller
from gangames.errors import InvalidConfigError
from gangames.oracle import SeatOracle
from gangames.random import Stream
from gangames.rules import Observation, Solver, UpdateRule

__all__ = [
    "ACTIVATIONS",
    "ARCHITECTURES",
    "FORMAT",
    "METADATA",
    "LoadedPolicy",
    "build_policy",
    "deterministic_action",
    "load_policy",
    "policy_rule",
    "sb3",
    "write_metadata",
]

FORMAT = "gangames-sb3/1"
METADATA = "gangames.json"  # the zip entry holding the JSON description
ACTIVATIONS: dict[str, type[torch.nn.Module]] = {
    "tanh": torch.nn.Tanh,
    "relu": torch.nn.ReLU,
    "elu": torch.nn.ELU,
    "leaky_relu": torch.nn.LeakyReLU,
}
_MAX_WIDTH, _MAX_DEPTH = 4096, 8
# uncompressed sizes beyond these are refused before reading (zip bombs)
_MAX_JSON, _MAX_WEIGHTS = 1 << 20, 1 << 30


def _constant_schedule(progress: float) -> float:
    return 0.0  # the rebuilt policy is never trained: no optimiser step is taken


def _policy_class(algo: str) -> type:
    return ActorCriticPolicy if algo == "ppo" else SACPolicy


def _builder(algo: str) -> Callable[..., Any]:
    """Rebuild ``algo``'s policy network for the given spaces and architecture."""

    def build(obs: gymnasium.spaces.Box, act: gymnasium.spaces.Box, arch: dict) -> Any:
        return _policy_class(algo)(
            obs,
            act,
            _constant_schedule,
            net_arch=list(arch["net_arch"]),
            activation_fn=ACTIVATIONS[arch["activation"]],
        )

    return build


ARCHITECTURES: dict[str, Callable[..., Any]] = {
    algo: _builder(algo) for algo in ("ppo", "sac")
}
"""Known algorithms → builders of their policy from ``{"net_arch", "activation"}``."""


def check_architecture(algo: str, arch: Mapping[str, Any]) -> dict[str, Any]:
    """Validate an architecture description; returns it as plain JSON data.

    Raises:
        InvalidConfigError: unknown algorithm or activation, bad widths or keys.
    """
    if algo not in ARCHITECTURES:
        raise InvalidConfigError(
            f"algo must be one of {sorted(ARCHITECTURES)}, got {algo!r}"
        )
    if not isinstance(arch, Mapping) or set(arch) != {"net_arch", "activation"}:
        raise InvalidConfigError(
            f"architecture must have exactly 'net_arch' and 'activation', got {arch!r:.120}"
        )
    widths = arch["net_arch"]
    if (
        not isinstance(widths, (list, tuple))
        or not 1 <= len(widths) <= _MAX_DEPTH
        or not all(
            isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= _MAX_WIDTH
            for w in widths
        )
    ):
        raise InvalidConfigError(
            f"net_arch must be 1–{_MAX_DEPTH} layer widths in [1, {_MAX_WIDTH}], got {widths!r:.80}"
        )
    if arch["activation"] not in ACTIVATIONS:
        raise InvalidConfigError(
            f"activation must be one of {sorted(ACTIVATIONS)}, got {arch['activation']!r}"
        )
    return {"net_arch": list(widths), "activation": arch["activation"]}


def _spaces(
    view: Mapping[str, Any],
) -> tuple[gymnasium.spaces.Box, gymnasium.spaces.Box]:
    control = ControlConfig.from_json(view["control"])
    dims = (view["observation_dim"], view["action_dim"])
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims):
        raise InvalidConfigError(
            f"observation/action sizes must be positive ints, got {dims}"
        )
    c = control.clip
    return (
        gymnasium.spaces.Box(-c, c, shape=(dims[0],), dtype=np.float32),
        gymnasium.spaces.Box(-1.0, 1.0, shape=(dims[1],), dtype=np.float32),
    )


def build_policy(meta: Mapping[str, Any]) -> Any:
    """A freshly initialised policy of the architecture ``meta`` describes."""
    arch = check_architecture(meta["algo"], meta["policy"])
    obs, act = _spaces(meta["view"])
    return ARCHITECTURES[meta["algo"]](obs, act, arch)


def write_metadata(path: str | Path, meta: Mapping[str, Any]) -> None:
    """Add the ``gangames.json`` entry to a Stable-Baselines3 zip (after ``save``)."""
    data = {"format": FORMAT, **meta}
    check_architecture(data["algo"], data["policy"])
    _spaces(data["view"])
    with zipfile.ZipFile(path, mode="a") as archive:
        if METADATA in archive.namelist():
            raise InvalidConfigError(f"{path}: already has a {METADATA} entry")
        archive.writestr(METADATA, json.dumps(data, indent=2, sort_keys=True))


class LoadedPolicy(NamedTuple):
    """A policy rebuilt from a file, with its description."""

    policy: Any  # an SB3 BasePolicy in eval mode on the CPU
    meta: dict[str, Any]  # the parsed gangames.json
    path: str


def _resolve(path: str | Path, root: str | Path | None) -> Path:
    p = Path(path).expanduser()
    if root is not None:
        base = Path(root).expanduser().resolve()
        resolved = (base / p if not p.is_absolute() else p).resolve()
        if not resolved.is_relative_to(base):
            raise InvalidConfigError(
                f"{path}: policy files must lie inside the allowed folder {base}"
            )
        p = resolved
    if not p.is_file():
        raise InvalidConfigError(f"{path}: no such policy file")
    return p


def load_policy(path: str | Path, *, root: str | Path | None = None) -> LoadedPolicy:
    """Rebuild a saved policy without unpickling anything.

    Args:
        path: the ``.zip`` written by :func:`gangames.training.train`.
        root: if given, ``path`` (relative paths are taken inside it) must resolve to
            a file inside this folder.

    Raises:
        InvalidConfigError: naming the file, if it is outside ``root``, missing, not a
            zip, has no or an invalid ``gangames.json``, or weights that do not fit.
    """
    p = _resolve(path, root)
    try:
        with zipfile.ZipFile(p) as archive:
            names = set(archive.namelist())
            missing = {METADATA, "policy.pth"} - names
            if missing:
                raise InvalidConfigError(
                    f"{path}: not a gangames policy file (missing {sorted(missing)})"
                )
            sizes = {i.filename: i.file_size for i in archive.infolist()}
            if sizes[METADATA] > _MAX_JSON or sizes["policy.pth"] > _MAX_WEIGHTS:
                raise InvalidConfigError(
                    f"{path}: entries too large for a policy file "
                    f"({METADATA}: {sizes[METADATA]} B, policy.pth: "
                    f"{sizes['policy.pth']} B)"
                )
            meta = json.loads(archive.read(METADATA).decode("utf-8"))
            weights = archive.read("policy.pth")
    except (
        zipfile.BadZipFile,
        OSError,
        UnicodeDecodeError,
        json.JSONDecodeError,
    ) as err:
        raise InvalidConfigError(
            f"{path}: not a readable policy file ({err})"
        ) from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise InvalidConfigError(
            f"{path}: unknown policy format {found!r}; expected {FORMAT!r}"
        )
    try:
        policy = build_policy(meta)
    except (KeyError, TypeError) as err:
        raise InvalidConfigError(f"{path}: incomplete {METADATA} ({err!r})") from None
    except InvalidConfigError as err:
        raise InvalidConfigError(f"{path}: {err}") from None
    try:
        state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # code or objects where tensors belong
        raise InvalidConfigError(
            f"{path}: policy.pth holds more than tensors ({_unpickling_reason(err)}); "
            "refused: policy files are loaded as weights only, never unpickled"
        ) from None
    except Exception as err:  # any failure to parse the weights is a corrupt file
        raise InvalidConfigError(f"{path}: unreadable policy weights ({err})") from None
    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise InvalidConfigError(f"{path}: policy.pth is not a dict of tensors")
    try:
        policy.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise InvalidConfigError(
            f"{path}: weights do not fit the described architecture ({err})"
        ) from None
    policy.set_training_mode(False)
    return LoadedPolicy(policy, meta, str(path))


def _unpickling_reason(err: Exception) -> str:
    """What torch's weights-only unpickler refused, without its advice to disable it."""
    found = re.search(r"GLOBAL ([\w.]+)", str(err))
    return f"it names the Python object {found.group(1)!r}" if found else "not tensors"


def deterministic_action(policy: Any, obs: torch.Tensor) -> torch.Tensor:
    """The policy's deterministic action for observations ``(B, k)``, batched.

    PPO: the Gaussian mean ``action_net(mlp(obs))``; SAC: the squashed mean
    ``tanh(μ(obs))``. Computed from the networks directly (not through
    ``torch.distributions``, whose argument checks synchronise with the host).
    """
    # observations are flat Boxes: preprocessing is the identity (SB3's would also cast
    # to float32, which float64 play must avoid)
    if isinstance(policy, SACPolicy):
        actor = policy.actor
        latent = actor.latent_pi(actor.features_extractor(obs))
        return torch.tanh(actor.mu(latent))
    features = policy.pi_features_extractor(obs)
    return policy.action_net(policy.mlp_extractor.forward_actor(features))


def policy_rule(loaded: LoadedPolicy, seat: str, name: str = "sb3") -> UpdateRule:
    """The update rule that plays ``seat`` with a loaded policy (batched over B).

    Cost per step: that of the control mode's base rules (see :mod:`agents.control`).
    """
    view = loaded.meta["view"]
    controller = Controller(ControlConfig.from_json(view["control"]), seat)  # type: ignore[arg-type]
    obs_dim, act_dim = view["observation_dim"], view["action_dim"]
    copies: dict[tuple[torch.device, torch.dtype], Any] = {}

    def on(device: torch.device, dtype: torch.dtype) -> Any:
        # one copy of the network per device and dtype, made once; the network runs in
        # the game's dtype so float64 play stays float64 (and batch = single exactly)
        if (device, dtype) not in copies:
            copies[device, dtype] = copy.deepcopy(loaded.policy).to(device, dtype)
        return copies[device, dtype]

    def init(params: torch.Tensor, stream: Stream) -> Any:
        return controller.init(params, stream)

    def update(
        obs: Observation, state: Any, oracle: SeatOracle
    ) -> tuple[torch.Tensor, Any]:
        features = controller.features(obs, state, oracle)
        if features.shape[-1] != obs_dim:
            raise InvalidConfigError(
                f"{loaded.path}: the policy observes {obs_dim} features, but the "
                f"{seat} of {type(oracle.game).__name__} gives {features.shape[-1]} in "
                f"mode {controller.config.mode!r} (trained on {view['game_id']})"
            )
        policy = on(features.device, features.dtype)
        with torch.no_grad():
            action = deterministic_action(policy, features)
        if action.shape[-1] != act_dim or (
            controller.config.mode == "update" and act_dim != obs.own.shape[-1]
        ):
            raise InvalidConfigError(
                f"{loaded.path}: the policy acts on {act_dim} values, which does not fit "
                f"the {seat} of {type(oracle.game).__name__} (d = {obs.own.shape[-1]})"
            )
        return controller.decode(
            action.reshape(features.shape[0], -1), obs, state, oracle
        )

    return UpdateRule(init, update, name, controller.cost)


def sb3(
    path: str,
    discriminator: str | None = None,
    root: str | None = None,
) -> Solver:
    """A Stable-Baselines3 policy as a solver (agent id ``"sb3"``).

    Args:
        path: the saved policy (``.zip`` from :func:`gangames.training.train`); it plays
            the generator, and the discriminator too unless ``discriminator`` is given.
        discriminator: a second saved policy for the discriminator seat (e.g. the
            other half of a self-play run).
        root: if given, every policy file must lie inside this folder.

    Returns:
        A simultaneous solver whose rules run the policies batched over instances.

    Raises:
        InvalidConfigError: a file that is missing, outside ``root``, corrupt or foreign.
    """
    gen = load_policy(path, root=root)
    dis = gen if discriminator is None else load_policy(discriminator, root=root)
    return Solver(
        policy_rule(gen, "generator"),
        policy_rule(dis, "discriminator"),
        "sb3",
    )
