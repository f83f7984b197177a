"""Every built-in game, registered in one place (docs/algorithms.md §8).

A change that alters a game's results bumps its version (``-v1``); the old version
stays registered with its old defaults.
"""

from __future__ import annotations

from gangames.games.bilinear import Bilinear
from gangames.games.circle import CirclePursuit
from gangames.games.covariance import CovarianceGAN
from gangames.games.dirac import DiracGAN
from gangames.games.gaussian_wgan import GaussianWGAN
from gangames.games.nonrealizable import NonRealizableGAN
from gangames.games.quadratic import NoNashQuadratic, Quadratic
from gangames.registration import register

__all__ = [
    "Bilinear",
    "CirclePursuit",
    "CovarianceGAN",
    "DiracGAN",
    "GaussianWGAN",
    "NoNashQuadratic",
    "NonRealizableGAN",
    "Quadratic",
]

# Convex–concave references: rotation (T1) and strong monotonicity (T2).
register("gangames/Bilinear-v0", Bilinear)
register("gangames/Quadratic-v0", Quadratic)

# GAN mechanics in one or two parameters: Dirac-GAN (T3), no Nash but a Stackelberg and
# proximal equilibrium (T4), non-realisable generator with only a mixed equilibrium (T5).
register("gangames/DiracGAN-v0", DiracGAN)
register("gangames/NoNashQuadratic-v0", NoNashQuadratic)
register("gangames/NonRealizableGAN-v0", NonRealizableGAN)

# Pure strategies cannot win: the circle pursuit game (T6) has only a mixed equilibrium.
register("gangames/CirclePursuit-v0", CirclePursuit)

# Small generative models with known targets: covariance estimation (T7) and the
# affine-generator Gaussian WGAN (T8).
register("gangames/CovarianceGAN-v0", CovarianceGAN)
register("gangames/GaussianWGAN-v0", GaussianWGAN)

# ---- neural GANs (T9, T10): MLP players, budgeted gap estimates, quality metrics ----
from gangames.games.digits import DigitsGAN  # noqa: E402
from gangames.games.mixture import MixtureGAN  # noqa: E402

__all__ += ["DigitsGAN", "MixtureGAN"]

# Mode collapse on a 2-D Gaussian mixture (T9). Registered with a cheap gap estimator
# (a lower bound, labelled in infos); pass estimator=EstimatorConfig() for the
# literature's 300 Adam steps × 2 restarts.
_CHEAP_ESTIMATOR = {"steps": 30, "restarts": 1, "prox_outer": 5, "prox_inner": 2}
register(
    "gangames/MixtureGAN-v0",
    MixtureGAN,
    width=64,
    estimator=_CHEAP_ESTIMATOR,
    estimate_every=50,
)

# Samples of handwritten digits from scikit-learn's bundled 8×8 set (T10).
register(
    "gangames/DigitsGAN-v0",
    DigitsGAN,
    width=64,
    eval_size=256,
    estimator=_CHEAP_ESTIMATOR,
    estimate_every=50,
)
