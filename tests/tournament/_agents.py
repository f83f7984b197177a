"""Small solvers for the tournament tests, registered by :func:`register`.

Importable by worker processes (``setup=register``): well-behaved GDA variants, a
sequential solver, and deliberately faulty ones (raises, returns NaN, hangs, kills its
own process).
"""

from __future__ import annotations

import ctypes
import os
import signal
import time

import torch

import agents
from agents.transforms import scale
from gangames.rules import Solver, Transform, UpdateRule, constant_cost, rule_from


def gda(lr: float = 0.05) -> Solver:
    rule = rule_from(scale(-lr), name="tgda")
    return Solver(rule, rule, "tgda")


def alt(lr: float = 0.05) -> Solver:
    """Alternating GDA: the simultaneous rule in the sequential env, generator first."""
    rule = rule_from(scale(-lr), name="talt", order="sequential")
    return Solver(rule, rule, "talt", order="sequential", first="generator")


def extra(lr: float = 0.1) -> Solver:
    """Extragradient written against the seat oracle (2 grads a seat per step)."""

    def init(params, stream):
        return ()

    def update(obs, state, oracle):
        own_half = obs.own - lr * obs.gradient
        opp_half = obs.opponent - lr * obs.opponent_gradient
        g = oracle.grad(own_half, opp_half)
        return -lr * g, state

    rule = UpdateRule(init, update, "textra", constant_cost(1.0))
    return Solver(rule, rule, "textra")


def _fault(kind: str, after: int):
    def piece(updates, state, obs, oracle):
        if obs.step >= after:
            if kind == "raise":
                raise RuntimeError("deliberate agent failure")
            if kind == "nan":
                return torch.full_like(updates, float("nan")), state
            if kind == "hang":
                time.sleep(1000)
            if kind == "block":  # a hang the in-match deadline cannot interrupt
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
                time.sleep(1000)
            if kind == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if kind == "exit":  # no cleanup, no exception: the process just ends
                os._exit(3)
            if kind == "segfault":
                ctypes.string_at(0)
        return updates, state

    return Transform(lambda params, stream: (), piece)


def faulty(kind: str = "raise", after: int = 2) -> Solver:
    rule = rule_from(_fault(kind, after), scale(-0.05), name=f"fault_{kind}")
    return Solver(rule, rule, f"fault_{kind}")


def broken() -> Solver:
    """A factory that fails at construction (not a bad hyperparameter)."""
    raise RuntimeError("deliberate construction failure")


FACTORIES = {
    "tgda": gda,
    "talt": alt,
    "textra": extra,
    "tfault": faulty,
    "tbroken": broken,
}


def register() -> None:
    """Register the test agents (idempotent; safe in every worker)."""
    have = set(agents.names())
    for name, factory in FACTORIES.items():
        if name not in have:
            agents.register(name, factory)


def unregister() -> None:
    """Remove them again, so that tests iterating over ``agents.names()`` never see them."""
    from agents import registry

    for name in FACTORIES:
        registry._REGISTRY.pop(name, None)
