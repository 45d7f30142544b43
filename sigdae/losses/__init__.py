"""Reconstruction losses, their combination from a spec, and weight regularisation.

Built-ins: ``mse``, ``l1``, ``bce``, ``psnr``, ``charbonnier``, ``si_sdr`` (``pointwise``), ``stft``,
``spectral``, ``compressed`` (``spectral``), ``perceptual`` (``perceptual``) and ``stoi``
(``intelligibility``). Importing this package registers them all in ``LOSSES``; other packages add losses
with :func:`register_loss` or through the ``sigdae.losses`` entry-point group.
``build_loss("l1*1.0 + stft*0.5")`` combines registered losses (see :mod:`sigdae.losses.base`).
"""

from sigdae.errors import LossError
from sigdae.losses.base import CombinedLoss, Loss, build_loss, parse_loss_spec, register_loss
from sigdae.losses import pointwise as _pointwise  # noqa: F401  (registers the pointwise built-ins)
from sigdae.losses import spectral as _spectral  # noqa: F401  (registers the spectral built-ins)
from sigdae.losses import perceptual as _perceptual  # noqa: F401  (registers the perceptual built-in)
from sigdae.losses import intelligibility as _intelligibility  # noqa: F401  (registers the stoi built-in)
from sigdae.losses.regularisation import regularised_weights, weight_penalty
from sigdae.registry import LOSSES

__all__ = ["Loss", "LossError", "CombinedLoss", "LOSSES", "build_loss", "parse_loss_spec", "register_loss",
           "weight_penalty", "regularised_weights"]
