"""Train the same DAE at several noise levels and score every model at every level: the PSNR heatmap
(training level x test level) and PSNR against test level, one curve per model."""

from __future__ import annotations

from typing import Any

import numpy as np

from sigdae.experiments.common import (DENOISER, Settings, corrupt, fit, layer_sizes, mean_psnr, mnist_test,
                                      noise_factor, train_config)
from sigdae.experiments.report import Report

SUMMARY = "train at several noise levels, test every model at every level (PSNR heatmap and curves)"


def levels(settings: Settings) -> tuple[list[float], list[float]]:
    """(training levels, test levels) as noise factors."""
    return list(settings.size.noise_levels), [round(0.1 * k, 1) for k in range(1, 11)]


def run(settings: Settings, report: Report) -> dict[str, Any]:
    from sigdae.plots.charts import curves, heatmap

    train_levels, test_levels = levels(settings)
    test = mnist_test(settings.size)
    noisy = {level: corrupt(test.images, noise_factor(level), seed=settings.seed) for level in test_levels}
    psnr = np.zeros((len(train_levels), len(test_levels)))
    for i, level in enumerate(train_levels):
        model = fit(settings, train_config(settings, DENOISER, noise_factor(level)), f"noise factor {level:g}")
        for j, test_level in enumerate(test_levels):
            psnr[i, j] = mean_psnr(model, noisy[test_level], test.images)
    noisy_psnr = [mean_psnr(None, noisy[level], test.images) for level in test_levels]
    best_train_level = [train_levels[int(k)] for k in psnr.argmax(axis=0)]

    rows = [f"trained at {level:g}" for level in train_levels]
    cols = [f"{level:g}" for level in test_levels]
    report.text(f"A dense DAE ({layer_sizes(DENOISER)}, trained on PSNR) trained at each noise factor in "
                f"{', '.join(f'{v:g}' for v in train_levels)} of `clip(x + f·N(0, 1), 0, 1)`, then scored on "
                f"{len(test.images):,} MNIST test images at every test noise factor (mean per-image PSNR, dB).")
    report.table(["trained at \\ tested at", *cols],
                 [[row, *psnr[i]] for i, row in enumerate(rows)]
                 + [["noisy input", *noisy_psnr], ["best training level", *(f"{v:g}" for v in best_train_level)]])
    report.figure(heatmap(report.path("noise_sweep_heatmap.png"), psnr, rows, cols,
                          title="PSNR of each model at each test noise level", row_label="training noise factor",
                          col_label="test noise factor", value_label="PSNR (dB)"),
                  "PSNR (dB) by training noise factor (rows) and test noise factor (columns).")
    series = {f"trained at {level:g}": psnr[i] for i, level in enumerate(train_levels)}
    series["noisy input"] = noisy_psnr
    report.figure(curves(report.path("noise_sweep_curves.png"), test_levels, series,
                         title="Denoising quality across test noise levels", x_label="test noise factor",
                         y_label="PSNR (dB)", dashed=["noisy input"],
                         markers={f"trained at {level:g}": level for level in train_levels}),
                  "PSNR against test noise factor; the circle marks each model's training level.")
    nearest = [min(train_levels, key=lambda t: abs(t - level)) for level in test_levels]
    matched = sum(best == near for best, near in zip(best_train_level, nearest))
    report.text(f"At {matched} of {len(test_levels)} test levels the best model is the one trained nearest to "
                "that level (last table row).")
    return {"train_levels": train_levels, "test_levels": test_levels, "psnr": psnr.tolist(),
            "noisy_psnr": noisy_psnr, "best_train_level": best_train_level, "test_images": len(test.images)}

