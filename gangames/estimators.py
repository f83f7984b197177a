"""Budgeted gap estimators for games without closed-form best responses (docs/algorithms.md §7).

Notation: ``Φ(θ) = max_φ V(θ, φ)``, ``Ψ(φ) = min_θ V(θ, φ)``, and the proximal
objective ``V_prox^λ(θ, φ) = max_φ̃ V(θ, φ̃) − (λ/2)‖φ̃ − φ‖²`` (Farnia & Ozdaglar,
2020). The metrics of :mod:`gangames.metrics` read these from closed forms; here each
maximum or minimum is *estimated* by optimisation, following the duality-gap
estimators of Grnarova et al. (2019) and Sidheekh et al. (2021):

1. Copy the responding network, perturb the copy with Gaussian noise of std ``σ``
   (to escape the current local optimum; σ = 0.25 in Sidheekh et al.'s 2-D/MNIST
   configurations), and run ``steps`` Adam steps (lr 5e-4, β₁ = 0.5, their settings)
   on fresh training minibatches (:meth:`~gangames.game.Game.sample_data`) against the
   frozen opponent, projecting onto the feasible set after each step.
2. Evaluate ``V`` at the result on the held-out set (``data=None``: the game's exact
   value, or its fixed held-out evaluation set for neural games).
3. Repeat from ``restarts`` perturbed starts and keep the best, the unperturbed
   current point included, so ``Φ̂(θ) ≥ V(θ, φ) ≥ Ψ̂(φ)`` and every part is ``≥ 0``.
   In a game lifted by :func:`~gangames.game.mixed` the responder's whole cloud is
   optimised and each of its particles is also tried as a pure response (§7 item 4:
   best responses to a mixture are pure), giving the Nikaidô–Isoda gap's estimate.

Then ``ê_D = Φ̂(θ) − V``, ``ê_G = V − Ψ̂(φ)`` and ``DĜ = ê_G + ê_D``. Because ``Φ̂ ≤ Φ``
and ``Ψ̂ ≥ Ψ`` (up to held-out sampling error), the estimate is a **lower bound** that
grows with the budget; its settings are part of its label (:attr:`EstimatorConfig.label`).

The proximal gap ``DG^λ = Φ(θ) − min_θ' V_prox^λ(θ', φ)`` needs a nested loop (§7,
item 3): ``V_prox(θ', φ)`` is estimated by ``steps`` ascent steps on φ̃ from φ; its
minimum over θ' by ``prox_outer`` outer Adam steps on θ' (Danskin's theorem: the
gradient is ``∇_θ V(θ', φ̃*)``), each after ``prox_inner`` warm-started ascent steps on
φ̃, from ``restarts`` starts perturbed by ``prox_sigma`` (1e-3 in Sidheekh et al.'s
proximal code). The parts split at ``V̂_prox(θ, φ)``: ``ê_G^λ = V̂_prox(θ, φ) −
min V̂_prox`` and ``ê_D^λ = (Φ̂(θ) − V̂_prox(θ, φ))₊``.

Cost per estimate, in gradients of the responding player (charged to **no** seat: the
estimator calls the game directly, never the oracle): ``2·restarts·steps`` for the
duality gap, ``steps + restarts·(prox_outer·(prox_inner + 1) + steps)`` for the
proximal gap. Every step is one batched program over the B instances (no loop over
instances), and the random draws come from a keyed stream, so a batch of B equals B
single runs.

References:
    P. Grnarova, K. Y. Levy, A. Lucchi, N. Perraudin, I. Goodfellow, T. Hofmann,
    A. Krause. "A Domain Agnostic Measure for Monitoring and Evaluating GANs."
    NeurIPS 2019.
    S. Sidheekh, A. Aimen, N. C. Krishnan. "On Characterizing GAN Convergence Through
    Proximal Duality Gap." ICML 2021.
    F. Farnia, A. Ozdaglar. "Do GANs always have Nash equilibria?" ICML 2020.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from gangames import checks
from gangames.errors import InvalidConfigError
from gangames.game import Game, Mixed
from gangames.random import Stream
from gangames.types import Instance, Seat

__all__ = ["Estimate", "EstimatorConfig", "estimate_gaps"]


@dataclass(frozen=True)
class EstimatorConfig:
    """Budget and settings of the gap estimator.

    Args:
        steps: Adam steps per best response (B in docs/algorithms.md §7).
        restarts: perturbed starts per best response; the best one counts.
        sigma: std of the Gaussian perturbation of each start.
        lr: Adam step size.
        beta1: Adam's first-moment decay.
        beta2: Adam's second-moment decay.
        prox_outer: outer steps on θ' of the proximal estimate.
        prox_inner: warm-started inner ascent steps on φ̃ per outer step.
        prox_sigma: std of the perturbation of the proximal outer starts.
    """

    steps: int = 300
    restarts: int = 2
    sigma: float = 0.25
    lr: float = 5e-4
    beta1: float = 0.5
    beta2: float = 0.999
    prox_outer: int = 20
    prox_inner: int = 5
    prox_sigma: float = 1e-3

    def __post_init__(self) -> None:
        for name in ("steps", "restarts", "prox_outer", "prox_inner"):
            checks.positive(f"estimator {name}", getattr(self, name), integer=True)
        for name in ("sigma", "prox_sigma", "lr", "beta1", "beta2"):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, (int, float)):
                raise InvalidConfigError(
                    f"estimator {name} must be a number, got {val!r}"
                )
        if not (self.sigma >= 0 and self.prox_sigma >= 0 and self.lr > 0):
            raise InvalidConfigError(
                f"estimator needs sigma, prox_sigma >= 0 and lr > 0, got "
                f"{self.sigma!r}, {self.prox_sigma!r}, {self.lr!r}"
            )
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise InvalidConfigError(
                f"estimator betas must lie in [0, 1), got {self.beta1!r}, {self.beta2!r}"
            )

    @classmethod
    def of(cls, value: EstimatorConfig | Mapping[str, Any] | None) -> EstimatorConfig:
        """A config from a config, a mapping of its fields, or ``None`` (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, Mapping):
            try:
                return cls(**value)
            except TypeError as err:
                raise InvalidConfigError(f"estimator: {err}") from None
        raise InvalidConfigError(
            f"estimator must be an EstimatorConfig, a dict of its fields or None, "
            f"got {type(value).__name__}"
        )

    @property
    def label(self) -> str:
        """What ``env.gap_estimator`` says: the settings and "lower bound"."""
        return (
            f"{self.steps}-step Adam (lr {self.lr:g}, β1 {self.beta1:g}), "
            f"{self.restarts} restarts, σ={self.sigma:g}, held-out evaluation; "
            f"proximal {self.prox_outer}×({self.prox_inner}+1) steps, "
            f"σ={self.prox_sigma:g}; lower bound"
        )


class Estimate(NamedTuple):
    """Estimated gaps, each ``(B,)``; the proximal parts are ``None`` if not asked for."""

    value: torch.Tensor
    exploitability_generator: torch.Tensor
    exploitability_discriminator: torch.Tensor
    duality_gap: torch.Tensor
    proximal_gap: torch.Tensor | None
    proximal_exploitability_generator: torch.Tensor | None
    proximal_exploitability_discriminator: torch.Tensor | None


class _Adam:
    """Batched Adam on a ``(B, d)`` tensor (state in two tensors and a step count)."""

    def __init__(self, params: torch.Tensor, cfg: EstimatorConfig) -> None:
        self.m = torch.zeros_like(params)
        self.v = torch.zeros_like(params)
        self.t = 0
        self.cfg = cfg

    def direction(self, grad: torch.Tensor) -> torch.Tensor:
        c = self.cfg
        self.t += 1
        self.m = c.beta1 * self.m + (1 - c.beta1) * grad
        self.v = c.beta2 * self.v + (1 - c.beta2) * grad * grad
        m_hat = self.m / (1 - c.beta1**self.t)
        v_hat = self.v / (1 - c.beta2**self.t)
        return c.lr * m_hat / (v_hat.sqrt() + 1e-8)


def _grad(
    objective: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor
) -> torch.Tensor:
    with torch.enable_grad():
        xx = x.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(objective(xx).sum(), xx, materialize_grads=True)
    return g


class _Problem:
    """One estimate's shared context: game, instance, point, stream."""

    def __init__(
        self,
        game: Game,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        stream: Stream,
        cfg: EstimatorConfig,
    ) -> None:
        self.game, self.instance, self.stream, self.cfg = game, instance, stream, cfg
        self.theta, self.phi = theta.detach(), phi.detach()

    def data(self) -> Instance | None:
        g = self.game
        return g.sample_data(self.instance, self.stream) if g.stochastic else None

    def held_out(self, theta: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.game.value(self.instance, theta, phi, None)

    def perturb(self, seat: Seat, x: torch.Tensor, sigma: float) -> torch.Tensor:
        noise = self.stream.normal(tuple(x.shape[1:]), dtype=x.dtype).to(x.device)
        return self.game.project(seat, self.instance, x + sigma * noise)

    def step(
        self, seat: Seat, x: torch.Tensor, opt: _Adam, grad: torch.Tensor, sign: float
    ) -> torch.Tensor:
        """One projected Adam step; ``sign`` −1 descends, +1 ascends."""
        return self.game.project(
            seat, self.instance, (x + sign * opt.direction(grad)).detach()
        )

    # ---- best responses ------------------------------------------------------------
    def best_response(self, responder: Seat, here: torch.Tensor) -> torch.Tensor:
        """``Φ̂(θ)`` (discriminator) or ``Ψ̂(φ)`` (generator): best held-out value found."""
        cfg, game, inst = self.cfg, self.game, self.instance
        maximise = responder == "discriminator"
        sign = 1.0 if maximise else -1.0
        best = here
        for _ in range(cfg.restarts):
            x = self.perturb(responder, self.phi if maximise else self.theta, cfg.sigma)
            opt = _Adam(x, cfg)
            for _ in range(cfg.steps):
                data = self.data()

                def obj(y: torch.Tensor, d: Instance | None = data) -> torch.Tensor:
                    if maximise:
                        return game.value(inst, self.theta, y, d)
                    return game.value(inst, y, self.phi, d)

                x = self.step(responder, x, opt, _grad(obj, x), sign)
            for cand in self._candidates(responder, x):
                val = (
                    self.held_out(self.theta, cand)
                    if maximise
                    else self.held_out(cand, self.phi)
                )
                best = (
                    torch.maximum(best, val) if maximise else torch.minimum(best, val)
                )
        return best

    def _candidates(self, responder: Seat, x: torch.Tensor) -> list[torch.Tensor]:
        """The optimised point, and each of its particles if the game is mixed.

        Best responses to a mixture are pure (§7 item 4), so the best particle played
        by all K slots is at least as good as the cloud it came from.
        """
        game = self.game
        if not isinstance(game, Mixed) or game.particles == 1:
            return [x]
        cloud = game.cloud(responder, x)  # (B, K, d_base)
        k = game.particles
        return [x] + [
            game.uncloud(responder, cloud[:, i : i + 1].expand(-1, k, -1))
            for i in range(k)
        ]

    # ---- proximal --------------------------------------------------------------------
    def _prox_ascent(
        self,
        theta: torch.Tensor,
        tilde: torch.Tensor,
        opt: _Adam,
        steps: int,
        lam: float,
    ) -> torch.Tensor:
        """``steps`` ascent steps on ``V(θ, φ̃) − (λ/2)‖φ̃ − φ‖²`` over φ̃."""
        game, inst, anchor = self.game, self.instance, self.phi
        for _ in range(steps):
            data = self.data()

            def obj(p: torch.Tensor, d: Instance | None = data) -> torch.Tensor:
                return game.value(inst, theta, p, d) - 0.5 * lam * (
                    (p - anchor) ** 2
                ).sum(dim=-1)

            tilde = self.step("discriminator", tilde, opt, _grad(obj, tilde), 1.0)
        return tilde

    def prox_objective(
        self, theta: torch.Tensor, lam: float, value: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``V̂_prox(θ, φ)``: ``steps`` ascent steps from φ̃ = φ, at least ``V(θ, φ)``.

        ``value`` is ``V(θ, φ)`` on the held-out set when the caller has it.
        """
        tilde = self._prox_ascent(
            theta, self.phi, _Adam(self.phi, self.cfg), self.cfg.steps, lam
        )
        penalty = 0.5 * lam * ((tilde - self.phi) ** 2).sum(dim=-1)
        found = self.held_out(theta, tilde) - penalty
        floor = self.held_out(theta, self.phi) if value is None else value
        return torch.maximum(found, floor)

    def prox_minimum(self, here: torch.Tensor, lam: float) -> torch.Tensor:
        """``min_θ' V̂_prox(θ', φ)`` by the nested loop, at most ``V̂_prox(θ, φ)``."""
        cfg, game, inst = self.cfg, self.game, self.instance
        low = here
        for _ in range(cfg.restarts):
            theta = self.perturb("generator", self.theta, cfg.prox_sigma)
            tilde = self.phi
            opt_t, opt_p = _Adam(theta, cfg), _Adam(tilde, cfg)
            for _ in range(cfg.prox_outer):
                tilde = self._prox_ascent(theta, tilde, opt_p, cfg.prox_inner, lam)
                data = self.data()

                def obj(
                    t: torch.Tensor, d: Instance | None = data, p: torch.Tensor = tilde
                ) -> torch.Tensor:
                    return game.value(inst, t, p, d)

                theta = self.step("generator", theta, opt_t, _grad(obj, theta), -1.0)
            low = torch.minimum(low, self.prox_objective(theta, lam))
        return low


def estimate_gaps(
    game: Game,
    instance: Instance,
    theta: torch.Tensor,
    phi: torch.Tensor,
    stream: Stream,
    config: EstimatorConfig | None = None,
    *,
    proximal: bool = True,
    prox_lambda: float = 1.0,
) -> Estimate:
    """Budgeted estimates of the duality gap, the exploitabilities and the proximal gap.

    Args:
        game: any game (the estimator queries it directly; nothing is charged).
        instance: its instance (batch B).
        theta: generator parameters ``(B, d_G)``.
        phi: discriminator parameters ``(B, d_D)``.
        stream: keyed stream of the perturbations and training minibatches (consumed).
        config: budget and settings (default :class:`EstimatorConfig`).
        proximal: also estimate the proximal gap and its parts.
        prox_lambda: λ of the proximal objective.

    Returns:
        An :class:`Estimate`; every gap is ``≥ 0`` and a lower bound up to the
        held-out sampling error (the proximal parts are estimates of the same kind).

    Example:
        >>> from gangames.games.quadratic import Quadratic
        >>> from gangames.engine import new_match
        >>> game = Quadratic()
        >>> m = new_match(game, [0], dtype=torch.float64)
        >>> cfg = EstimatorConfig(steps=5, restarts=1, lr=0.1)
        >>> est = estimate_gaps(game, m.instance, m.state.theta, m.state.phi,
        ...                     Stream.from_seeds([0]), cfg, proximal=False)
        >>> bool((est.duality_gap >= 0).all())
        True
    """
    cfg = config or EstimatorConfig()
    if not (isinstance(prox_lambda, (int, float)) and math.isfinite(prox_lambda)):
        raise InvalidConfigError(f"prox_lambda must be finite, got {prox_lambda!r}")
    prob = _Problem(game, instance, theta, phi, stream, cfg)
    v = prob.held_out(prob.theta, prob.phi)
    best_d = prob.best_response("discriminator", v)
    best_g = prob.best_response("generator", v)
    e_g = (v - best_g).clamp_min(0.0)
    e_d = (best_d - v).clamp_min(0.0)
    pe_g = pe_d = prox = None
    if proximal:
        here = prob.prox_objective(prob.theta, prox_lambda, v)
        low = prob.prox_minimum(here, prox_lambda)
        pe_g = (here - low).clamp_min(0.0)
        pe_d = (best_d - here).clamp_min(0.0)
        prox = pe_g + pe_d
    return Estimate(v, e_g, e_d, e_g + e_d, prox, pe_g, pe_d)
