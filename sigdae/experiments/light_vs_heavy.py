"""One DAE trained on light noise, one on heavy noise, one on a range of levels: PSNR across test levels."""

from __future__ import annotations

from typing import Any

import numpy as np

from sigdae.experiments.common import (DENOISER, Settings, corrupt, fit, layer_sizes, mean_psnr, mnist_test,
                                      noise_factor, train_config)
from sigdae.experiments.report import Report

SUMMARY = "a model trained on light noise, one on heavy, one on a range: PSNR across test levels"

LIGHT, HEAVY, RANGE = 0.2, 0.8, (0.1, 0.9)


def run(settings: Settings, report: Report) -> dict[str, Any]:
    from sigdae.plots.charts import curves

    models = {f"light ({LIGHT:g})": noise_factor(LIGHT), f"heavy ({HEAVY:g})": noise_factor(HEAVY),
              f"range ({RANGE[0]:g}-{RANGE[1]:g})": f"noise_factor(factor=[{RANGE[0]:g}, {RANGE[1]:g}])"}
    test_levels = [round(0.1 * k, 1) for k in range(0, 11)]
    test = mnist_test(settings.size)
    noisy = {level: corrupt(test.images, noise_factor(level), seed=settings.seed) for level in test_levels}
    psnr = {}
    for name, spec in models.items():
        model = fit(settings, train_config(settings, DENOISER, spec), name)
        psnr[name] = [mean_psnr(model, noisy[level], test.images) for level in test_levels]
    table = np.array(list(psnr.values()))
    shortfall = (table.max(axis=0) - table).max(axis=1)
    noisy_psnr = [mean_psnr(None, noisy[level], test.images) for level in test_levels[1:]]

    report.text(f"Three dense DAEs ({layer_sizes(DENOISER)}, trained on PSNR): on noise factor {LIGHT:g}, on "
                f"{HEAVY:g}, and on a factor drawn per image from [{RANGE[0]:g}, {RANGE[1]:g}]; scored on "
                f"{len(test.images):,} MNIST test images from clean (0) to factor 1 (mean per-image PSNR, dB).")
    cols = [f"{level:g}" for level in test_levels]
    report.table(["trained on \\ tested at", *cols, "worst shortfall (dB)"],
                 [[name, *values, shortfall[i]] for i, (name, values) in enumerate(psnr.items())]
                 + [["noisy input", "∞", *noisy_psnr, ""]])
    series = dict(psnr)
    series["noisy input"] = [float("nan"), *noisy_psnr]
    report.figure(curves(report.path("light_vs_heavy.png"), test_levels, series,
                         title="Light, heavy and range-trained DAEs", x_label="test noise factor",
                         y_label="PSNR (dB)", dashed=["noisy input"],
                         markers={f"light ({LIGHT:g})": LIGHT, f"heavy ({HEAVY:g})": HEAVY}),
                  "PSNR against test noise factor (circles: the training level of the light and heavy models).")
    names = list(psnr)
    best_at = [names[int(k)] for k in table.argmax(axis=0)]
    report.text("Best model at each test level: " + ", ".join(f"{level:g}: {name.split()[0]}"
                                                                for level, name in zip(test_levels, best_at))
                + f". The smallest worst-case shortfall is the {names[int(shortfall.argmin())].split()[0]} model's "
                f"({shortfall.min():.2f} dB).")
    return {"models": models, "test_levels": test_levels, "psnr": psnr,
            "worst_shortfall": dict(zip(psnr, shortfall.tolist())),
            "noisy_psnr": [None, *noisy_psnr], "test_images": len(test.images)}
