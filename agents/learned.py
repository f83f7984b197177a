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
    "activation_named",
    "architecture_from_weights",
    "architecture_of",
    "build_policy",
    "deterministic_action",
    "infer_metadata",
    "load_policy",
    "policy_rule",
    "read_weights",
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
_MAX_JSON, _MAX_DATA, _MAX_WEIGHTS = 1 << 20, 1 << 26, 1 << 30


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
            net_arch=copy.deepcopy(arch["net_arch"]),
            activation_fn=ACTIVATIONS[arch["activation"]],
        )

    return build


ARCHITECTURES: dict[str, Callable[..., Any]] = {
    algo: _builder(algo) for algo in ("ppo", "sac")
}
"""Known algorithms → builders of their policy from ``{"net_arch", "activation"}``."""


def _widths(widths: Any) -> list[int]:
    if (
        not isinstance(widths, (list, tuple))
        or not 0 <= len(widths) <= _MAX_DEPTH
        or not all(
            isinstance(w, int) and not isinstance(w, bool) and 1 <= w <= _MAX_WIDTH
            for w in widths
        )
    ):
        raise InvalidConfigError(
            f"net_arch must be 0–{_MAX_DEPTH} layer widths in [1, {_MAX_WIDTH}], got {widths!r:.80}"
        )
    return list(widths)


def check_architecture(algo: str, arch: Mapping[str, Any]) -> dict[str, Any]:
    """Validate an architecture description; returns it as plain JSON data.

    ``net_arch`` is a list of widths (the same for the actor and the critic), or,
    as SB3 writes it, a dict of the actor's (``"pi"``) and the critic's widths
    (``"vf"`` for PPO, ``"qf"`` for SAC); a dict of equal lists becomes the list.

    Raises:
        InvalidConfigError: unknown algorithm or activation, bad widths or keys.

    Example:
        >>> check_architecture("ppo", {"net_arch": {"pi": [64, 64], "vf": [64, 64]},
        ...                            "activation": "tanh"})
        {'net_arch': [64, 64], 'activation': 'tanh'}
    """
    if algo not in ARCHITECTURES:
        raise InvalidConfigError(
            f"algo must be one of {sorted(ARCHITECTURES)}, got {algo!r}"
        )
    if not isinstance(arch, Mapping) or set(arch) != {"net_arch", "activation"}:
        raise InvalidConfigError(
            f"architecture must have exactly 'net_arch' and 'activation', got {arch!r:.120}"
        )
    widths: Any = arch["net_arch"]
    if isinstance(widths, Mapping):
        critic = "vf" if algo == "ppo" else "qf"
        if set(widths) != {"pi", critic}:
            raise InvalidConfigError(
                f"a {algo} net_arch dict has the keys 'pi' and {critic!r}, got "
                f"{sorted(widths)}"
            )
        pi, other = _widths(widths["pi"]), _widths(widths[critic])
        widths = pi if pi == other else {"pi": pi, critic: other}
    else:
        widths = _widths(widths)
        if not widths:
            raise InvalidConfigError("net_arch must have at least one layer")
    if arch["activation"] not in ACTIVATIONS:
        raise InvalidConfigError(
            f"activation must be one of {sorted(ACTIVATIONS)}, got {arch['activation']!r}"
        )
    return {"net_arch": widths, "activation": arch["activation"]}


def architecture_of(policy: Any) -> tuple[str, dict[str, Any]]:
    """The algorithm family and architecture of a live SB3 policy (any ``policy_kwargs``).

    Read from the policy itself, not from the model's ``policy_kwargs`` (empty when
    SB3's defaults were used).
    """
    algo = _family(type(policy))
    if algo is None:
        raise InvalidConfigError(
            f"unsupported policy {type(policy).__name__}: expected PPO's (or A2C's) "
            "ActorCriticPolicy or SAC's SACPolicy"
        )
    names = {cls: name for name, cls in ACTIVATIONS.items()}
    activation = names.get(policy.activation_fn)
    if activation is None:
        raise InvalidConfigError(
            f"activation {policy.activation_fn.__name__} is not one of "
            f"{sorted(ACTIVATIONS)}"
        )
    return algo, check_architecture(
        algo, {"net_arch": policy.net_arch, "activation": activation}
    )


def _family(cls: type) -> str | None:
    if issubclass(cls, SACPolicy):
        return "sac"
    if issubclass(cls, ActorCriticPolicy):
        return "ppo"
    return None


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

    A zip that plain Stable-Baselines3 saved (``model.save``, no ``gangames.json``) is
    described by :func:`infer_metadata` from its readable entries; where that is not
    possible the error names :func:`gangames.training.add_metadata`.

    Args:
        path: the ``.zip`` written by :func:`gangames.training.train` (or by SB3's
            ``save`` on a view).
        root: if given, ``path`` (relative paths are taken inside it) must resolve to
            a file inside this folder.

    Raises:
        InvalidConfigError: naming the file, if it is outside ``root``, missing, not a
            zip, has an invalid ``gangames.json`` (or none, and no description can be
            inferred), or weights that do not fit.
    """
    p = _resolve(path, root)
    try:
        with zipfile.ZipFile(p) as archive:
            names = set(archive.namelist())
            described = METADATA in names
            missing = {METADATA if described else "data", "policy.pth"} - names
            if missing:
                raise InvalidConfigError(
                    f"{path}: not a gangames or Stable-Baselines3 policy file "
                    f"(missing {sorted(missing)})"
                )
            sizes = {i.filename: i.file_size for i in archive.infolist()}
            entry = METADATA if described else "data"
            limit = _MAX_JSON if described else _MAX_DATA
            if sizes[entry] > limit or sizes["policy.pth"] > _MAX_WEIGHTS:
                raise InvalidConfigError(
                    f"{path}: entries too large for a policy file "
                    f"({entry}: {sizes[entry]} B, policy.pth: "
                    f"{sizes['policy.pth']} B)"
                )
            text = json.loads(archive.read(entry).decode("utf-8"))
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
    state = read_weights(path, weights)
    if described:
        meta = text
    else:
        try:
            meta = infer_metadata(text, state)
        except InvalidConfigError as err:
            raise InvalidConfigError(f"{path}: {err}") from None
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
        policy.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise InvalidConfigError(
            f"{path}: weights do not fit the described architecture ({err})"
        ) from None
    policy.set_training_mode(False)
    return LoadedPolicy(policy, meta, str(path))


def read_weights(path: str | Path, weights: bytes) -> dict[str, torch.Tensor]:
    """``policy.pth`` bytes as a dict of tensors, loaded as weights only.

    Raises:
        InvalidConfigError: naming ``path``, if the bytes hold more than tensors or
            cannot be read.
    """
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
    return dict(state)


# ---- policies saved by plain Stable-Baselines3 -------------------------------------
_CLASS_NAME = re.compile(r"<class '(?:[\w.]*\.)?(\w+)'>")
_DEFAULT_ACTIVATION = {"ppo": "tanh", "sac": "relu"}  # SB3's defaults per policy


def _layer_widths(state: Mapping[str, torch.Tensor], prefix: str) -> list[int]:
    """Output widths of the Linear layers ``prefix.<i>.weight``, in order."""
    found = re.compile(re.escape(prefix) + r"\.(\d+)\.weight$")
    layers = sorted(
        (int(m.group(1)), int(v.shape[0]))
        for k, v in state.items()
        if (m := found.match(k)) is not None
    )
    return [width for _, width in layers]


def architecture_from_weights(
    state: Mapping[str, torch.Tensor], activation: str | None
) -> tuple[str, dict[str, Any], int, int]:
    """``(algo, architecture, observation_dim, action_dim)`` read off SB3 weights.

    Args:
        state: the tensors of an SB3 zip's ``policy.pth``.
        activation: the activation's name (``None``: SB3's default for the policy).
    """
    if "action_net.weight" in state and "mlp_extractor.policy_net.0.weight" in state:
        algo, critic = "ppo", "vf"
        pi = _layer_widths(state, "mlp_extractor.policy_net")
        other = _layer_widths(state, "mlp_extractor.value_net")
        obs_dim = int(state["mlp_extractor.policy_net.0.weight"].shape[1])
        act_dim = int(state["action_net.weight"].shape[0])
    elif "actor.mu.weight" in state and "actor.latent_pi.0.weight" in state:
        algo, critic = "sac", "qf"
        pi = _layer_widths(state, "actor.latent_pi")
        other = _layer_widths(state, "critic.qf0")[:-1]  # its last layer is Q itself
        obs_dim = int(state["actor.latent_pi.0.weight"].shape[1])
        act_dim = int(state["actor.mu.weight"].shape[0])
    else:
        raise InvalidConfigError(
            "the weights are neither an MLP ActorCriticPolicy (PPO, A2C) nor an MLP "
            "SACPolicy"
        )
    arch = check_architecture(
        algo,
        {
            "net_arch": {"pi": pi, critic: other},
            "activation": activation or _DEFAULT_ACTIVATION[algo],
        },
    )
    return algo, arch, obs_dim, act_dim


def activation_named(text: Any) -> str | None:
    """The activation that SB3's readable ``policy_kwargs`` entry names, if any.

    Example:
        >>> activation_named("<class 'torch.nn.modules.activation.ReLU'>")
        'relu'
    """
    if not isinstance(text, str):
        return None
    found = _CLASS_NAME.match(text)
    classes = {cls.__name__: name for name, cls in ACTIVATIONS.items()}
    name = classes.get(found.group(1)) if found else None
    if name is None:
        raise InvalidConfigError(
            f"activation {text!r} is not one of {sorted(ACTIVATIONS)}"
        )
    return name


def _box(space: Any, what: str) -> tuple[list[float], list[float]]:
    """The bounds of a Box as SB3's ``data`` entry prints them (all entries)."""
    try:
        low, high = (
            [float(x) for x in space[key].strip("[]").split()]
            for key in ("low", "high")
        )
    except (KeyError, TypeError, AttributeError, ValueError):
        raise InvalidConfigError(f"no readable {what} bounds") from None
    return low, high


def infer_metadata(
    data: Mapping[str, Any], state: Mapping[str, torch.Tensor]
) -> dict[str, Any]:
    """The ``gangames.json`` of a zip saved by plain SB3 on a view, where inferable.

    Read without unpickling: the algorithm family and widths from the weights' shapes,
    the activation from the readable ``policy_kwargs`` of SB3's ``data`` entry (SB3's
    default where absent), the mode and the clip from the saved observation box. A
    view's box says its mode: ``progress`` (bounds ``[0, 1]``) is its last feature in
    mode ``update`` (the views' default: observation ``2·(d_own+d_opp)+2`` features,
    action ``d_own``) and its first in the summary modes. Mode ``update`` is inferred,
    with the views' default ``max_update=0.1`` (a bound the file does not record); a
    policy trained in another mode or with another ``max_update`` is described by
    :func:`gangames.training.add_metadata`, which is also what the refusal names.
    The game and the seat are not in the file (``None``); the policy plays any game of
    matching sizes.

    Raises:
        InvalidConfigError: the description cannot be inferred.
    """
    hint = (
        "; describe it with gangames.training.add_metadata(path, view) "
        "(the view it was trained on)"
    )
    try:
        kwargs = data.get("policy_kwargs", {})
        named = kwargs.get("activation_fn") if isinstance(kwargs, Mapping) else None
        activation = activation_named(named)
        algo, arch, obs_dim, act_dim = architecture_from_weights(state, activation)
        low, high = _box(data.get("observation_space"), "observation")
        a_low, a_high = _box(data.get("action_space"), "action")
        clip = high[0] if high else 0.0
        d_opp = (obs_dim - 2) / 2 - act_dim
        update_box = (
            len(low) == len(high) == obs_dim
            and clip > 0
            and low == [-clip] * (obs_dim - 1) + [0.0]
            and high == [clip] * (obs_dim - 1) + [1.0]
        )
        if (
            not update_box
            or set(a_low) != {-1.0}
            or set(a_high) != {1.0}
            or len(a_low) != act_dim
            or d_opp < 1
            or d_opp != int(d_opp)
        ):
            raise InvalidConfigError(
                f"its spaces (observation {obs_dim}, action {act_dim}) are not those "
                "of a view in mode 'update' (raw features ending in progress ∈ [0, 1])"
            )
        control = ControlConfig(clip=clip).to_json()
    except InvalidConfigError as err:
        raise InvalidConfigError(
            f"no {METADATA} and none inferable: {err}{hint}"
        ) from None
    return {
        "format": FORMAT,
        "algo": algo,
        "policy": arch,
        "view": {
            "game_id": None,
            "seat": None,
            "control": control,
            "observation_dim": obs_dim,
            "action_dim": act_dim,
        },
        "inferred": "from the Stable-Baselines3 zip (no gangames.json)",
    }


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
                f"mode {controller.config.mode!r} (trained on {view.get('game_id') or 'an unrecorded game'})"
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
