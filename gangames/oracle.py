"""The oracle: the only door through which play touches ``V``.

Agents never call the game. They ask the oracle for values, gradients and
Hessian-vector products at any point they like (full information, as in the min-max
literature); the oracle draws the minibatch (or gradient noise) of stochastic games
from the match's seeded stream and charges each query to a seat in
*gradient-equivalents*:

=========================  =====  ==========================================
query                      cost   notes
=========================  =====  ==========================================
value (forward pass)       0.5    one evaluation of V
gradient of one seat       1      one backward pass (docs/algorithms.md §0 "1 grad")
Hessian-vector product     2      double backward (§0: "1 HVP ≈ 1.5–2 grads")
=========================  =====  ==========================================

A :class:`SeatOracle` (``oracle.view(seat)``) is the seat-relative face agents use:
both seats *minimise their own loss* — the generator's loss is ``V``, the
discriminator's is ``−V`` — and take their own parameters first, so one update rule
sits in either seat without a sign flag. In non-zero-sum games
(:attr:`~gangames.game.Game.zero_sum` False: non-saturating GAN, gradient penalty) the
losses are the game's own :meth:`~gangames.game.Game.seat_loss` ``L_G`` and ``L_D``, and
every gradient, HVP and loss query uses them; :meth:`Oracle.value` is always ``V``.

Budgets are enforced by the environment (the episode is truncated once a seat's cost
reaches its budget), never by raising here, so a budget can never surface as an
exception in the user's loop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from gangames.game import Game, ParamLayout
from gangames.random import Stream
from gangames.types import SEATS, Instance, Seat, other

__all__ = ["COSTS", "Ledger", "Oracle", "SeatOracle"]

COSTS: Mapping[str, float] = {"value": 0.5, "grad": 1.0, "hvp": 2.0}
"""Gradient-equivalents charged per query kind."""


@dataclass
class Ledger:
    """Query counts per seat and kind; :meth:`cost` converts them to gradient-equivalents.

    Costs are in gradient-equivalents of the *base* game: a query of a game lifted to
    K particles per seat (:func:`~gangames.game.mixed`) does the work of K base
    queries, so ``unit = K`` (:attr:`~gangames.game.Game.query_unit`). Without it a
    particle method would get K times the budget of a pure one.

    Example:
        >>> ledger = Ledger(unit=8.0)
        >>> ledger.charge("generator", "grad")
        >>> ledger.cost("generator")
        8.0
    """

    counts: dict[Seat, dict[str, int]] = field(
        default_factory=lambda: {seat: dict.fromkeys(COSTS, 0) for seat in SEATS}
    )
    unit: float = 1.0  # base-game gradient-equivalents per counted gradient

    def charge(self, seat: Seat, kind: str, n: int = 1) -> None:
        """Record ``n`` queries of ``kind`` made by ``seat``."""
        self.counts[seat][kind] += n

    def cost(self, seat: Seat) -> float:
        """Gradient-equivalents (of the base game) spent by ``seat``."""
        return self.unit * sum(COSTS[kind] * n for kind, n in self.counts[seat].items())

    def costs(self) -> dict[Seat, float]:
        """Gradient-equivalents spent by each seat."""
        return {seat: self.cost(seat) for seat in SEATS}

    def copy(self) -> Ledger:
        """An independent copy (for snapshots and tests)."""
        counts = {seat: dict(kinds) for seat, kinds in self.counts.items()}
        return Ledger(counts, self.unit)


class Oracle:
    """Counted access to one match's game instance (batch B).

    Args:
        game: the game.
        instance: its sampled instance.
        stream: the match's data stream; every stochastic query consumes one draw.
        ledger: query counts to continue from (a fresh one by default).

    Example:
        >>> import gangames
        >>> from gangames.random import Stream
        >>> game = gangames.make_game("gangames/Bilinear-v0", dimension=2)
        >>> s = Stream.from_seeds([0])
        >>> inst = game.sample_instance(s.fork(1), torch.float64)
        >>> theta, phi = game.init_params(inst, s.fork(2))
        >>> oracle = Oracle(game, inst, s.fork(3))
        >>> g = oracle.view("generator").grad(theta, phi)
        >>> oracle.ledger.cost("generator")
        1.0
    """

    def __init__(
        self,
        game: Game,
        instance: Instance,
        stream: Stream,
        ledger: Ledger | None = None,
    ) -> None:
        self.game = game
        self.instance = instance
        self.stream = stream
        self.ledger = ledger if ledger is not None else Ledger(unit=game.query_unit)

    def view(self, seat: Seat) -> SeatOracle:
        """The seat-relative oracle of ``seat``."""
        if seat not in SEATS:
            raise ValueError(f"unknown seat {seat!r}; expected one of {SEATS}")
        return SeatOracle(self, seat)

    # ---- stochastic draws --------------------------------------------------------
    def _data(self) -> Instance | None:
        return (
            self.game.sample_data(self.instance, self.stream)
            if self.game.stochastic
            else None
        )

    def _noisy(self, grad: torch.Tensor) -> torch.Tensor:
        sigma = float(self.game.gradient_noise)
        if sigma == 0.0:
            return grad
        return grad + sigma * self.stream.normal(
            tuple(grad.shape[1:]), dtype=grad.dtype
        )

    # ---- queries in (θ, φ) coordinates --------------------------------------------
    def value(
        self, theta: torch.Tensor, phi: torch.Tensor, *, charge: Seat
    ) -> torch.Tensor:
        """``V(θ, φ)`` (a minibatch estimate in stochastic games), shape ``(B,)``."""
        self.ledger.charge(charge, "value")
        with torch.no_grad():
            return self.game.value(self.instance, theta, phi, self._data())

    def loss(
        self, seat: Seat, theta: torch.Tensor, phi: torch.Tensor, *, charge: Seat
    ) -> torch.Tensor:
        """``seat``'s own loss (``V`` / ``−V`` in zero-sum games), shape ``(B,)``."""
        self.ledger.charge(charge, "value")
        with torch.no_grad():
            return self.game.seat_loss(seat, self.instance, theta, phi, self._data())

    def grad(
        self, seat: Seat, theta: torch.Tensor, phi: torch.Tensor, *, charge: Seat
    ) -> torch.Tensor:
        """Gradient of ``seat``'s own loss with respect to its own parameters."""
        self.ledger.charge(charge, "grad")
        data = self._data()
        if self.game.zero_sum:
            g_theta, g_phi = self.game.gradients(self.instance, theta, phi, data)
            g = g_theta if seat == "generator" else -g_phi
            return self._noisy(g.detach())
        with torch.enable_grad():
            t = theta.detach().requires_grad_(True)
            p = phi.detach().requires_grad_(True)
            own = t if seat == "generator" else p
            loss = self.game.seat_loss(seat, self.instance, t, p, data).sum()
            (g,) = torch.autograd.grad(loss, own, materialize_grads=True)
        return self._noisy(g.detach())

    def observe(
        self, seat: Seat, theta: torch.Tensor, phi: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """What ``seat`` observes at ``(θ, φ)``, from one pass on one minibatch.

        Charged one gradient to ``seat``: a single backward pass of ``V`` yields both
        seats' gradients, and the observer sees both (full information, as in the
        min-max literature; extragradient and Stackelberg leaders need the opponent's
        gradient at the current point).

        Returns:
            ``(own-loss gradient, opponent's own-loss gradient, V)``.
        """
        self.ledger.charge(seat, "grad")
        v, g_theta, g_phi = self.game.value_and_loss_gradients(
            self.instance, theta, phi, self._data()
        )
        g_gen, g_dis = self._noisy(g_theta.detach()), self._noisy(g_phi.detach())
        own, opp = (g_gen, g_dis) if seat == "generator" else (g_dis, g_gen)
        return own, opp, v.detach()

    def joint(
        self, theta: torch.Tensor, phi: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Both seats' own-loss gradients and ``V`` from one pass on one minibatch.

        Charged one gradient to each seat (what simultaneous gradient play costs in
        the literature); the value comes with the pass at no extra charge.

        Returns:
            ``(∇_θ L_G, ∇_φ L_D, V)`` — ``(∇_θ V, −∇_φ V, V)`` in zero-sum games.
        """
        self.ledger.charge("generator", "grad")
        self.ledger.charge("discriminator", "grad")
        v, g_theta, g_phi = self.game.value_and_loss_gradients(
            self.instance, theta, phi, self._data()
        )
        return self._noisy(g_theta.detach()), self._noisy(g_phi.detach()), v.detach()

    def hvp(
        self,
        loss_of: Seat,
        rows: Seat,
        cols: Seat,
        theta: torch.Tensor,
        phi: torch.Tensor,
        vector: torch.Tensor,
        *,
        charge: Seat,
    ) -> torch.Tensor:
        """Hessian-vector product ``∇_rows (∇_cols L · v)`` of seat ``loss_of``'s loss ``L``.

        ``rows == cols`` gives a diagonal block (``H_θθ v`` or ``H_φφ v``); otherwise a
        mixed block (``H_θφ v`` with rows θ, cols φ). ``vector`` has the shape of the
        ``cols`` parameters; the result has the shape of the ``rows`` parameters.
        """
        (h,) = self._double_backward(loss_of, cols, (rows,), theta, phi, vector, charge)
        return h

    def hvp_both(
        self,
        loss_of: Seat,
        cols: Seat,
        theta: torch.Tensor,
        phi: torch.Tensor,
        vector: torch.Tensor,
        *,
        charge: Seat,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Both row blocks ``(∇_θ(∇_cols L · v), ∇_φ(∇_cols L · v))`` from one pass.

        One double-backward pass differentiates ``∇_cols L · v`` with respect to both
        parameter vectors at once, so it is charged one HVP (reverse accumulation
        through unrolled steps needs both blocks at every unrolled point).
        """
        h_theta, h_phi = self._double_backward(
            loss_of, cols, SEATS, theta, phi, vector, charge
        )
        return h_theta, h_phi

    def _double_backward(
        self,
        loss_of: Seat,
        cols: Seat,
        rows: tuple[Seat, ...],
        theta: torch.Tensor,
        phi: torch.Tensor,
        vector: torch.Tensor,
        charge: Seat,
    ) -> tuple[torch.Tensor, ...]:
        """``∇_r(∇_cols L · v)`` for each ``r`` in ``rows``: one charged HVP pass."""
        self.ledger.charge(charge, "hvp")
        data = self._data()
        with torch.enable_grad():
            t = theta.detach().requires_grad_(True)
            p = phi.detach().requires_grad_(True)
            params = {"generator": t, "discriminator": p}
            loss = self.game.seat_loss(loss_of, self.instance, t, p, data).sum()
            (g,) = torch.autograd.grad(loss, params[cols], create_graph=True)
            blocks = torch.autograd.grad(
                (g * vector.detach()).sum(),
                tuple(params[r] for r in rows),
                materialize_grads=True,
            )
        return tuple(b.detach() for b in blocks)


class SeatOracle:
    """One seat's view of the oracle: own parameters first, own loss minimised.

    Every query takes ``own`` ``(B, d_own)`` and ``opponent`` ``(B, d_opponent)`` and is
    charged to this seat.
    """

    def __init__(self, oracle: Oracle, seat: Seat) -> None:
        self.oracle = oracle
        self.seat = seat
        self.opponent: Seat = other(seat)

    @property
    def game(self) -> Game:
        """The game (for its layouts and configuration; never call ``value`` on it)."""
        return self.oracle.game

    @property
    def layout(self) -> ParamLayout:
        """Layout of this seat's flat parameter vector (per-layer rules use it)."""
        return self.oracle.game.layouts()[self.seat]

    def project(self, params: torch.Tensor) -> torch.Tensor:
        """Projection onto this seat's feasible set (free: no query of V)."""
        return self.oracle.game.project(self.seat, self.oracle.instance, params)

    def project_opponent(self, params: torch.Tensor) -> torch.Tensor:
        """Projection onto the opponent's feasible set (free)."""
        return self.oracle.game.project(self.opponent, self.oracle.instance, params)

    def _point(
        self, own: torch.Tensor, opponent: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return (own, opponent) if self.seat == "generator" else (opponent, own)

    def loss(self, own: torch.Tensor, opponent: torch.Tensor) -> torch.Tensor:
        """This seat's loss: ``V`` / ``−V``, or the game's own loss if not zero-sum."""
        return self.oracle.loss(
            self.seat, *self._point(own, opponent), charge=self.seat
        )

    def grad(self, own: torch.Tensor, opponent: torch.Tensor) -> torch.Tensor:
        """Gradient of this seat's loss with respect to its own parameters (1 grad)."""
        return self.oracle.grad(
            self.seat, *self._point(own, opponent), charge=self.seat
        )

    def opponent_grad(self, own: torch.Tensor, opponent: torch.Tensor) -> torch.Tensor:
        """Gradient of the opponent's loss w.r.t. the opponent's parameters (1 grad)."""
        return self.oracle.grad(
            self.opponent, *self._point(own, opponent), charge=self.seat
        )

    def hvp(
        self,
        own: torch.Tensor,
        opponent: torch.Tensor,
        vector: torch.Tensor,
        *,
        loss: str = "own",
        rows: str = "own",
        cols: str = "own",
    ) -> torch.Tensor:
        """Hessian-vector product ``∇_rows(∇_cols L · v)`` (2 grads).

        Args:
            own: this seat's parameters.
            opponent: the opponent's parameters.
            vector: shaped like the ``cols`` parameters.
            loss: ``"own"`` or ``"opponent"`` — whose loss ``L`` is differentiated.
            rows: ``"own"`` or ``"opponent"``.
            cols: ``"own"`` or ``"opponent"``.
        """
        seat = self._roles(loss=loss, rows=rows, cols=cols)
        return self.oracle.hvp(
            seat["loss"],
            seat["rows"],
            seat["cols"],
            *self._point(own, opponent),
            vector,
            charge=self.seat,
        )

    def _roles(self, **roles: str) -> dict[str, Seat]:
        """The seat each ``"own"``/``"opponent"`` argument names (else ``ValueError``)."""
        names = {"own": self.seat, "opponent": self.opponent}
        for arg, val in roles.items():
            if val not in names:
                raise ValueError(f"{arg} must be 'own' or 'opponent', got {val!r}")
        return {arg: names[val] for arg, val in roles.items()}

    def hvp_both(
        self,
        own: torch.Tensor,
        opponent: torch.Tensor,
        vector: torch.Tensor,
        *,
        loss: str = "own",
        cols: str = "own",
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Both row blocks ``(∇_own(∇_cols L · v), ∇_opponent(∇_cols L · v))`` (2 grads).

        One double-backward pass, charged as one :meth:`hvp`.

        Args:
            own: this seat's parameters.
            opponent: the opponent's parameters.
            vector: shaped like the ``cols`` parameters.
            loss: ``"own"`` or ``"opponent"`` — whose loss ``L`` is differentiated.
            cols: ``"own"`` or ``"opponent"``.
        """
        seat = self._roles(loss=loss, cols=cols)
        h_theta, h_phi = self.oracle.hvp_both(
            seat["loss"],
            seat["cols"],
            *self._point(own, opponent),
            vector,
            charge=self.seat,
        )
        return (h_theta, h_phi) if self.seat == "generator" else (h_phi, h_theta)
