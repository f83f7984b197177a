"""Quadratic games ``V = ½θᵀPθ + θᵀAφ − ½φᵀQφ``: a convex–concave one and a no-Nash one.

Two test games of docs/algorithms.md §8 share the algebra of this module:

* :class:`Quadratic` (T2): ``(μ/2)‖θ‖² + θᵀAφ − (μ/2)‖φ‖²`` on ``ℝ^d × ℝ^d``,
  strongly convex–strongly concave, unique Nash equilibrium 0.
* :class:`NoNashQuadratic` (T4): ``−3x² − y² + 4xy`` on ``[−b, b] × ℝ``, no pure Nash
  equilibrium; minimax/Stackelberg point 0, λ-proximal equilibrium 0 iff ``λ ≤ 2/3``.

**Parameter layout.** ``Quadratic``: generator ``"theta"`` ``(d,)``, discriminator ``"phi"``
``(d,)``. ``NoNashQuadratic``: generator ``"x"`` ``(1,)``, discriminator ``"y"`` ``(1,)``.

**Closed forms** (all exact, batched; a cloud is K particles of one seat, uniform weights;
bars are cloud means, ``E`` cloud averages). With ``Q ≻ 0`` the discriminator's best
response to a generator cloud and, with ``P ≻ 0``, the generator's best response to a
discriminator cloud are

    Φ({θ_k}) = max_φ E V(θ_k, φ) = ½E[θᵀPθ] + ½ θ̄ᵀA Q⁻¹ Aᵀθ̄          (φ* = Q⁻¹Aᵀθ̄)
    Ψ({φ_k}) = min_θ E V(θ, φ_k) = −½ φ̄ᵀAᵀP⁻¹Aφ̄ − ½E[φᵀQφ]          (θ* = −P⁻¹Aφ̄)

(the value is quadratic, so only the first two moments of the opponent cloud matter).
The proximal objective of Farnia & Ozdaglar (docs/algorithms.md §2.1, penalty ``(λ/2)‖φ̃ − φ‖²``)
is, with ``S = Q + λI`` and ``b = Aᵀθ + λφ``,

    V_prox^λ(θ, φ) = ½θᵀPθ + ½ bᵀS⁻¹b − (λ/2)‖φ‖²                     (φ̃* = S⁻¹b)
                   = ½θᵀHθ + cᵀθ + c₀,   H = P + A S⁻¹Aᵀ,   c = λ A S⁻¹φ,
                                          c₀ = (λ²/2) φᵀS⁻¹φ − (λ/2)‖φ‖²,

so ``min_θ V_prox^λ(θ, φ) = c₀ − ½ cᵀH⁻¹c`` when ``H ≻ 0`` and the generator is free; on
an interval (T4) the minimum is taken over the ends and the clamped stationary point.

**T2 — strongly-convex–strongly-concave** (``Quadratic``): ``P = Q = μI``, ``A = σU`` with
``U`` a Haar-random orthogonal matrix and ``σ`` = ``coupling`` (every singular value of
``A`` is σ, so every 2-D eigen-plane of the dynamics is the scalar game). Unique Nash
equilibrium ``(0, 0)``, value 0; it is also the unique λ-proximal equilibrium for every λ.
Specialised closed forms: ``Φ = (μ/2)E‖θ‖² + ‖Aᵀθ̄‖²/(2μ)``,
``Ψ = −‖Aφ̄‖²/(2μ) − (μ/2)E‖φ‖²``, ``min_θ V_prox^λ = −(λ/2)‖φ‖²·(μ² + σ²)/(μ² + λμ + σ²)``.
Expected dynamics (docs/algorithms.md §8 T2): simultaneous GDA converges iff
``η < 2μ/(μ² + σ²)``, at rate ``√((1 − ημ)² + η²σ²)`` per step, i.e. ``O(κ² log 1/ε)``
iterations with ``κ = L/μ``; extragradient and optimistic GDA need ``O(κ log 1/ε)``
(Mokhtari, Ozdaglar & Pattathil, 2020). Every method of the library should converge:
a sanity game.

**T4 — no pure Nash equilibrium** (``NoNashQuadratic``): ``V = −3x² − y² + 4xy``, the
generator ``x ∈ [−b, b]`` (``b`` = ``box``), the discriminator ``y`` free (a box on y
would change the game). ``P = −6``, ``A = 4``, ``Q = 2``. The only stationary point is
``(0, 0)`` and ``∂²V/∂x² = −6 < 0``, so the generator would deviate: there is **no local
Nash equilibrium**. The follower's best response is ``y*(x) = 2x`` and ``Φ(x) = x²``, so
``(0, 0)`` is the global minimax (Stackelberg) point; ``Ψ(y) = −3b² − 4b|y| − y²`` (the
generator's objective is concave: its minimum is at an end of the box). Hence
``DG(0, 0) = 3b²``. Proximal objective

    V_prox^λ(x, y) = (8/(2+λ) − 3)x² + (4λ/(2+λ))xy − (λ/(2+λ))y²,

concave in x for λ > 2/3 and convex for λ < 2/3: ``(0, 0)`` is a λ-proximal equilibrium
iff ``λ ≤ 2/3``, and ``DG^λ(0, 0) = max(0, 3 − 8/(2+λ))·b²`` (1/3 at λ = 1, b = 1).
The pure "equilibrium distance" is the distance to ``(0, 0)``, the minimax/Stackelberg
point — **not** a Nash point, since none exists. In mixed strategies there is a unique
Nash equilibrium, ``ν* = ½δ_{−b} + ½δ_{+b}`` and ``μ* = δ_0`` (value ``−3b²``): the
cloud equilibrium distance is the Wasserstein-2 distance to it. Expected dynamics
(docs/algorithms.md §8 T4): simultaneous GDA diverges for every step size (its linearisation
has the double eigenvalue +2); two-timescale GDA is stable iff ``τ = η_y/η_x > 3``;
Follow-the-Ridge and exact Stackelberg gradients converge to ``(0, 0)``; proximal
training converges for fast anchors although ``(0, 0)`` is not 1-proximal.

Arguments: see the ``Args:`` section of each class.

Version history:
    v0: initial version.

References:
    * Farnia & Ozdaglar, "Do GANs always have Nash equilibria?", ICML 2020 (arXiv
      2002.09124, "GANs may have no Nash equilibria") — proximal equilibria.
    * Sidheekh, Aimen & Krishnan, "On characterizing GAN convergence through proximal
      duality gap", ICML 2021 — the proximal duality gap.
    * Wang, Zhang & Ba, "On solving minimax optimization locally: a follow-the-ridge
      approach", ICLR 2020 — T4 is one of its toy functions.
    * Jin, Netrapalli & Jordan, "What is local optimality in nonconvex-nonconcave
      minimax optimization?", ICML 2020 — local minimax points.
    * Mokhtari, Ozdaglar & Pattathil, "A unified analysis of extra-gradient and
      optimistic gradient methods for saddle point problems: proximal point approach",
      AISTATS 2020 — rates on T2.
    * Mezzadri, "How to generate random matrices from the classical compact groups",
      Notices of the AMS 54(5), 2007 — Haar orthogonal matrices by QR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import torch

from gangames import checks
from gangames.concepts import Condition, Preset, Target
from gangames.game import Capabilities, Game, ParamLayout
from gangames.random import Stream
from gangames.types import Instance, Seat

__all__ = ["NoNashQuadratic", "Quadratic"]


# ---- shared algebra ------------------------------------------------------------------
# A coefficient is either a Python float c (meaning c·I) or a batched matrix (B, n, m).


def _mv(m: float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``m x`` along the last axis; ``x`` is ``(B, n)`` or ``(B, K, n)``."""
    if not isinstance(m, torch.Tensor):
        return m * x
    lead = x.shape[:-1]
    out = x.reshape(x.shape[0], -1, x.shape[-1]) @ m.mT
    return out.reshape(*lead, out.shape[-1])


def _tr(m: float | torch.Tensor) -> float | torch.Tensor:
    return m.mT if isinstance(m, torch.Tensor) else m


def _solve(m: float | torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``m⁻¹ x`` for ``x`` of shape ``(B, n)``."""
    if not isinstance(m, torch.Tensor):
        return x / m
    return torch.linalg.solve(m, x.unsqueeze(-1)).squeeze(-1)


def _shift(m: float | torch.Tensor, lam: float) -> float | torch.Tensor:
    """``m + λI``."""
    if not isinstance(m, torch.Tensor):
        return m + lam
    eye = torch.eye(m.shape[-1], dtype=m.dtype, device=m.device)
    return m + lam * eye


def _as_matrix(m: float | torch.Tensor, n: int, like: torch.Tensor) -> torch.Tensor:
    """``m`` as a batched ``(B, n, n)`` matrix (a float means ``m·I``)."""
    if isinstance(m, torch.Tensor):
        return m
    eye = torch.eye(n, dtype=like.dtype, device=like.device)
    return (m * eye).expand(like.shape[0], n, n)


def _dot(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return (x * y).sum(dim=-1)


def _check_lambda(lam: float) -> None:
    if not lam > 0:
        raise ValueError(f"the proximal λ must be positive, got {lam!r}")


class _Form(NamedTuple):
    """``V = ½θᵀPθ + θᵀAφ − ½φᵀQφ``; each coefficient a float (× I) or ``(B, ·, ·)``."""

    p: float | torch.Tensor
    a: float | torch.Tensor
    q: float | torch.Tensor

    def value(self, theta: torch.Tensor, phi: torch.Tensor) -> torch.Tensor:
        return (
            0.5 * _dot(theta, _mv(self.p, theta))
            + _dot(theta, _mv(self.a, phi))
            - 0.5 * _dot(phi, _mv(self.q, phi))
        )

    def gradients(
        self, theta: torch.Tensor, phi: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return (
            _mv(self.p, theta) + _mv(self.a, phi),
            _mv(_tr(self.a), theta) - _mv(self.q, phi),
        )

    def max_phi(self, cloud: torch.Tensor) -> torch.Tensor:
        """``max_φ E_k V(θ_k, φ)`` for a generator cloud ``(B, K, d_G)``; needs ``Q ≻ 0``."""
        second = _dot(cloud, _mv(self.p, cloud)).mean(dim=-1)  # E θᵀPθ
        b = _mv(_tr(self.a), cloud.mean(dim=-2))  # Aᵀθ̄
        return 0.5 * second + 0.5 * _dot(b, _solve(self.q, b))

    def min_theta(self, cloud: torch.Tensor) -> torch.Tensor:
        """``min_θ E_k V(θ, φ_k)`` for a discriminator cloud; needs ``P ≻ 0``, θ free."""
        second = _dot(cloud, _mv(self.q, cloud)).mean(dim=-1)  # E φᵀQφ
        c = _mv(self.a, cloud.mean(dim=-2))  # Aφ̄
        return -0.5 * _dot(c, _solve(self.p, c)) - 0.5 * second

    def prox_objective(
        self, theta: torch.Tensor, phi: torch.Tensor, lam: float
    ) -> torch.Tensor:
        """``max_φ̃ V(θ, φ̃) − (λ/2)‖φ̃ − φ‖²`` (φ̃ free); needs ``Q + λI ≻ 0``."""
        b = _mv(_tr(self.a), theta) + lam * phi
        return (
            0.5 * _dot(theta, _mv(self.p, theta))
            + 0.5 * _dot(b, _solve(_shift(self.q, lam), b))
            - 0.5 * lam * _dot(phi, phi)
        )

    def prox_in_theta(
        self, phi: torch.Tensor, lam: float
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(H, c, c₀)`` with ``V_prox^λ(θ, φ) = ½θᵀHθ + cᵀθ + c₀``; ``H`` is ``(B, d, d)``."""
        d_phi = phi.shape[-1]
        d_theta = self.a.shape[-2] if isinstance(self.a, torch.Tensor) else d_phi
        s = _as_matrix(_shift(self.q, lam), d_phi, phi)
        a = _as_matrix(self.a, d_theta, phi)
        h = _as_matrix(self.p, d_theta, phi) + a @ torch.linalg.solve(s, a.mT)
        s_inv_phi = _solve(s, phi)
        c = lam * _mv(a, s_inv_phi)
        const = 0.5 * lam**2 * _dot(phi, s_inv_phi) - 0.5 * lam * _dot(phi, phi)
        return h, c, const


def _min_on_interval(
    h: torch.Tensor, c: torch.Tensor, const: torch.Tensor, bound: float
) -> torch.Tensor:
    """``min_{|x| ≤ bound} ½hx² + cx + c₀`` for B scalar problems (shapes ``(B,)``).

    The minimum of a quadratic on an interval is at an end or, when ``h > 0``, at the
    stationary point clamped into the interval; all three candidates are feasible, so
    their smallest value is the exact minimum whatever the sign of ``h``.
    """
    convex = h > 0
    x_stat = torch.where(convex, -c / torch.where(convex, h, torch.ones_like(h)), 0.0)
    x_stat = x_stat.clamp(-bound, bound)

    def f(x: torch.Tensor | float) -> torch.Tensor:
        return 0.5 * h * x * x + c * x + const

    return torch.minimum(torch.minimum(f(-bound), f(bound)), f(x_stat))


def _random_orthogonal(stream: Stream, dim: int) -> torch.Tensor:
    """Haar-random orthogonal matrices ``(B, dim, dim)`` in float64 (Mezzadri, 2007).

    QR of a Gaussian matrix, with the columns of Q multiplied by the signs of R's
    diagonal so that the distribution is exactly Haar (plain QR is not).
    """
    gauss = stream.normal((dim, dim), dtype=torch.float64)
    q, r = torch.linalg.qr(gauss)
    sign = torch.where(torch.diagonal(r, dim1=-2, dim2=-1) < 0, -1.0, 1.0)
    return q * sign.unsqueeze(-2)


def _coupling_stream(stream: Stream, shared: bool, tag: int) -> Stream:
    """The stream the coupling matrix is drawn from.

    With ``shared`` every row gets the same key (the zero key forked by ``tag``, one tag
    per game family), so all instances of a batch, and of every run, share one fixed
    matrix; otherwise the instance's own stream.
    """
    if not shared:
        return stream
    return Stream(torch.zeros_like(stream.keys)).fork(tag)


# ---- T2 ------------------------------------------------------------------------------

_QUADRATIC = Capabilities(
    best_responses=True, proximal=True, distance=True, cloud_distance=True
)


@dataclass(frozen=True, kw_only=True)
class Quadratic(Game):
    """Strongly-convex–strongly-concave quadratic ``(μ/2)‖θ‖² + θᵀAφ − (μ/2)‖φ‖²`` (T2).

    Unique Nash equilibrium ``(0, 0)``; every closed form is exact (see the module
    docstring). ``A = σU`` with ``U`` Haar-random orthogonal, so all singular values of
    ``A`` equal σ and the game's Lipschitz constant is ``L = √(μ² + σ²)``.

    Every field is keyword-only.

    Args:
        dimension: d, the size of θ and of φ. (Named ``dimension``, not ``dim``, because
            :meth:`Game.dim` is the per-seat parameter count.)
        mu: μ > 0, the strong convexity of θ ↦ V and strong concavity of φ ↦ V.
        coupling: σ ≥ 0, every singular value of the coupling matrix ``A``.
        shared_coupling: if true, every instance (every seed) gets the same ``U``, drawn
            from a fixed key; otherwise each instance draws its own from its stream.
        init_scale: initial θ and φ are drawn from ``N(0, init_scale² I)``.

    Example:
        >>> game = Quadratic(dimension=3, mu=0.5, coupling=2.0)
        >>> inst = game.sample_instance(Stream.from_seeds([0, 1]), torch.float64)
        >>> torch.linalg.svdvals(inst["A"]).round(decimals=6).tolist()
        [[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
        >>> zero = torch.zeros(2, 3, dtype=torch.float64)
        >>> game.best_response_value(inst, "discriminator", zero).tolist()
        [0.0, 0.0]
    """

    preset: ClassVar[Preset] = Preset(
        "nash_gap",
        Target((Condition("duality_gap", 1e-6),)),
        budget=500,
        why=(
            "Strongly monotone: every method converges linearly (docs/algorithms.md §8 T2), so the "
            "target is tight (1e-6 of a starting gap ~5); tuned GDA needs ~40 gradients."
        ),
    )

    dimension: int = 2
    mu: float = 1.0
    coupling: float = 1.0
    shared_coupling: bool = False
    init_scale: float = 1.0

    def __post_init__(self) -> None:
        checks.positive("dimension", self.dimension, integer=True)
        checks.positive("mu", self.mu)
        checks.positive("coupling", self.coupling, allow_zero=True)
        checks.positive("init_scale", self.init_scale, allow_zero=True)

    @property
    def capabilities(self) -> Capabilities:
        """Every closed form; both seats are free."""
        return _QUADRATIC

    def _form(self, instance: Instance) -> _Form:
        return _Form(float(self.mu), instance["A"], float(self.mu))

    def layouts(self) -> dict[Seat, ParamLayout]:
        return {
            "generator": ParamLayout.vector("theta", self.dimension),
            "discriminator": ParamLayout.vector("phi", self.dimension),
        }

    def sample_instance(self, stream: Stream, dtype: torch.dtype) -> Instance:
        """``{"A": σU}``, shape ``(B, d, d)``; drawn in float64, then cast to ``dtype``."""
        source = _coupling_stream(stream, self.shared_coupling, tag=2)
        u = _random_orthogonal(source.fork(1), self.dimension)
        return {"A": (self.coupling * u).to(dtype)}

    def init_params(
        self, instance: Instance, stream: Stream
    ) -> tuple[torch.Tensor, torch.Tensor]:
        dtype = instance["A"].dtype
        shape = (self.dimension,)
        theta = self.init_scale * stream.fork(1).normal(shape, dtype=dtype)
        phi = self.init_scale * stream.fork(2).normal(shape, dtype=dtype)
        return theta, phi

    def value(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> torch.Tensor:
        return self._form(instance).value(theta, phi)

    def gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(μθ + Aφ, Aᵀθ − μφ)``."""
        return self._form(instance).gradients(theta, phi)

    def cloud_best_response_value(
        self, instance: Instance, responder: Seat, cloud: torch.Tensor
    ) -> torch.Tensor:
        """``Φ = (μ/2)E‖θ‖² + ‖Aᵀθ̄‖²/(2μ)`` or ``Ψ = −‖Aφ̄‖²/(2μ) − (μ/2)E‖φ‖²``."""
        form = self._form(instance)
        if responder == "discriminator":
            return form.max_phi(cloud)
        return form.min_theta(cloud)

    def proximal_objective(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor, lam: float
    ) -> torch.Tensor:
        """``(μ/2)‖θ‖² + ‖Aᵀθ + λφ‖²/(2(μ + λ)) − (λ/2)‖φ‖²``."""
        _check_lambda(lam)
        return self._form(instance).prox_objective(theta, phi, lam)

    def proximal_value(
        self, instance: Instance, phi: torch.Tensor, lam: float
    ) -> torch.Tensor:
        """``min_θ V_prox^λ(θ, φ) = c₀ − ½cᵀH⁻¹c`` by a batched solve (``H ≻ 0``)."""
        _check_lambda(lam)
        h, c, const = self._form(instance).prox_in_theta(phi, lam)
        return const - 0.5 * _dot(c, _solve(h, c))

    def equilibrium_distance(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
    ) -> torch.Tensor:
        """``‖(θ, φ)‖``, the distance to the unique Nash equilibrium 0."""
        return torch.cat([theta, phi], dim=-1).norm(dim=-1)

    def cloud_equilibrium_distance(
        self, instance: Instance, theta_cloud: torch.Tensor, phi_cloud: torch.Tensor
    ) -> torch.Tensor:
        """``W₂((ν, μ), δ₀ ⊗ δ₀) = √(E‖θ‖² + E‖φ‖²)`` (the mixed equilibrium is pure)."""
        second = theta_cloud.square().sum(dim=-1).mean(dim=-1)
        second = second + phi_cloud.square().sum(dim=-1).mean(dim=-1)
        return second.sqrt()


# ---- T4 ------------------------------------------------------------------------------

_NO_NASH = Capabilities(
    best_responses=True,
    proximal=True,
    distance=True,
    cloud_distance=True,
    constrained=("generator",),
)

# −3x² − y² + 4xy = ½Px² + Axy − ½Qy² with these coefficients.
_T4_P, _T4_A, _T4_Q = -6.0, 4.0, 2.0


@dataclass(frozen=True, kw_only=True)
class NoNashQuadratic(Game):
    """``V = −3x² − y² + 4xy``, ``x ∈ [−box, box]``, y free: no pure Nash equilibrium (T4).

    ``(0, 0)`` is the minimax/Stackelberg point and a λ-proximal equilibrium iff
    ``λ ≤ 2/3``; the mixed Nash equilibrium is ``(½δ_{−box} + ½δ_{box}, δ_0)``. See the
    module docstring for every closed form.

    Every field is keyword-only.

    Args:
        box: b > 0, the generator's feasible set is ``[−b, b]`` (projection = clamp).
        init_scale: initial ``x`` uniform on ``[−s, s]`` with ``s = min(init_scale, box)``;
            initial ``y`` from ``N(0, init_scale²)``.

    Example:
        >>> game = NoNashQuadratic()
        >>> inst = game.sample_instance(Stream.from_seeds([0]), torch.float64)
        >>> zero = torch.zeros(1, 1, dtype=torch.float64)
        >>> phi_ = game.best_response_value(inst, "discriminator", zero)
        >>> psi_ = game.best_response_value(inst, "generator", zero)
        >>> (phi_ - psi_).tolist()  # Nash duality gap at the minimax point
        [3.0]
        >>> round(float(phi_ - game.proximal_value(inst, zero, 1.0)), 12)  # DG^λ, λ = 1
        0.333333333333
    """

    preset: ClassVar[Preset] = Preset(
        "proximal_gap",
        Target((Condition("proximal_gap", 1e-3),)),
        budget=2000,
        options={"prox_lambda": 0.5},
        why=(
            "No Nash equilibrium (the Nash gap is ≥ 3 everywhere, docs/algorithms.md §8 T4), but the "
            "origin is a λ-proximal equilibrium for λ ≤ 2/3: scored by the proximal "
            "gap at λ = 0.5. Stackelberg, proximal and two-timescale GDA (τ > 3) "
            "reach 1e-3 within ~1200 gradients after tuning; equal-step methods stall."
        ),
    )

    box: float = 1.0
    init_scale: float = 1.0

    def __post_init__(self) -> None:
        checks.positive("box", self.box)
        checks.positive("init_scale", self.init_scale, allow_zero=True)

    @property
    def capabilities(self) -> Capabilities:
        """Every closed form; the generator is confined to ``[−box, box]``."""
        return _NO_NASH

    def _form(self, instance: Instance) -> _Form:
        return _Form(instance["P"], instance["A"], instance["Q"])

    def layouts(self) -> dict[Seat, ParamLayout]:
        return {
            "generator": ParamLayout.vector("x", 1),
            "discriminator": ParamLayout.vector("y", 1),
        }

    def sample_instance(self, stream: Stream, dtype: torch.dtype) -> Instance:
        """The fixed coefficients ``P = −6, A = 4, Q = 2`` as ``(B, 1, 1)`` tensors."""

        def full(v: float) -> torch.Tensor:
            return torch.full(
                (stream.batch, 1, 1), v, dtype=dtype, device=stream.device
            )

        return {"P": full(_T4_P), "A": full(_T4_A), "Q": full(_T4_Q)}

    def init_params(
        self, instance: Instance, stream: Stream
    ) -> tuple[torch.Tensor, torch.Tensor]:
        dtype = instance["A"].dtype
        s = min(self.init_scale, self.box)
        x = s * (2.0 * stream.fork(1).uniform((1,), dtype=dtype) - 1.0)
        y = self.init_scale * stream.fork(2).normal((1,), dtype=dtype)
        return x, y

    def value(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> torch.Tensor:
        return self._form(instance).value(theta, phi)

    def gradients(
        self,
        instance: Instance,
        theta: torch.Tensor,
        phi: torch.Tensor,
        data: Instance | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(−6x + 4y, 4x − 2y)``."""
        return self._form(instance).gradients(theta, phi)

    def project(
        self, seat: Seat, instance: Instance, params: torch.Tensor
    ) -> torch.Tensor:
        if seat == "generator":
            return params.clamp(-self.box, self.box)
        return params

    def cloud_best_response_value(
        self, instance: Instance, responder: Seat, cloud: torch.Tensor
    ) -> torch.Tensor:
        """``Φ = 4x̄² − 3E[x²]`` (y* = 2x̄); ``Ψ = −3b² − 4b|ȳ| − E[y²]`` (x* = ∓b)."""
        form = self._form(instance)
        if responder == "discriminator":
            return form.max_phi(cloud)
        # min over x ∈ [−b, b] of ½Px² + x·Aȳ − ½E[Qy²]: a 1-D quadratic on an interval.
        p, a, q = (instance[n][..., 0, 0] for n in ("P", "A", "Q"))
        y = cloud[..., 0]
        return _min_on_interval(
            p, a * y.mean(dim=-1), -0.5 * q * y.square().mean(dim=-1), self.box
        )

    def proximal_objective(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor, lam: float
    ) -> torch.Tensor:
        """``(8/(2+λ) − 3)x² + (4λ/(2+λ))xy − (λ/(2+λ))y²``."""
        _check_lambda(lam)
        return self._form(instance).prox_objective(theta, phi, lam)

    def proximal_value(
        self, instance: Instance, phi: torch.Tensor, lam: float
    ) -> torch.Tensor:
        """``min_{|x| ≤ b} V_prox^λ(x, y)``: convex in x for λ < 2/3, concave for λ > 2/3."""
        _check_lambda(lam)
        h, c, const = self._form(instance).prox_in_theta(phi, lam)
        return _min_on_interval(h[..., 0, 0], c[..., 0], const, self.box)

    def equilibrium_distance(
        self, instance: Instance, theta: torch.Tensor, phi: torch.Tensor
    ) -> torch.Tensor:
        """``‖(x, y)‖``: distance to ``(0, 0)``, the minimax point (there is no pure Nash)."""
        return torch.cat([theta, phi], dim=-1).norm(dim=-1)

    def cloud_equilibrium_distance(
        self, instance: Instance, theta_cloud: torch.Tensor, phi_cloud: torch.Tensor
    ) -> torch.Tensor:
        """Wasserstein-2 distance to the mixed Nash ``(½δ_{−b} + ½δ_b) ⊗ δ_0``.

        In one dimension the optimal coupling is monotone: the sorted particles' lower half
        of the mass goes to ``−b`` and the upper half to ``+b`` (the middle particle of an
        odd cloud splits); the y-cloud is transported to 0. The squared distances add.
        """
        x = theta_cloud[..., 0].sort(dim=-1).values  # (B, K)
        k = x.shape[-1]
        rank = torch.arange(k, dtype=x.dtype, device=x.device)
        low = (0.5 - rank / k).clamp(0.0, 1.0 / k)  # mass of particle i sent to −b
        high = 1.0 / k - low
        w2_x = (low * (x + self.box).square() + high * (x - self.box).square()).sum(-1)
        w2_y = phi_cloud[..., 0].square().mean(dim=-1)
        return (w2_x + w2_y).sqrt()
