"""Example sigdae plugin: a corruption that blanks random rows of an image (scan-line dropouts)."""

import torch

from sigdae.corruptions import Corruption, Param


class ScanLines(Corruption):
    """Blank random rows of an image, as a failing scanner or sensor readout would."""

    name = "scanlines"
    params = (Param("fraction", 0.2, "fraction of rows blanked", "range", 0.0, 1.0),
              Param("value", 0.0, "value written into blanked rows", "float"))
    supports = frozenset({"image", "spectrogram"})

    def draw_params(self, x, generator, sample_rate):
        n, rows = x.shape[0], x.shape[-2]
        return {"fraction": self.uniform("fraction", n, generator, x), "u": self.rand((n, rows), generator, x)}

    def apply_params(self, x, params, sample_rate):
        blank = params["u"] < params["fraction"][:, None]           # (N, rows)
        mask = blank.view(x.shape[0], *([1] * (x.dim() - 3)), x.shape[-2], 1)
        return x.masked_fill(mask, self.value)
