"""Train one DAE per noise type (Gaussian, masking, salt-and-pepper, speckle) and one on a mix of them,
test each on every type: the PSNR matrix shows which training noise generalises."""

from __future__ import annotations

from typing import Any

import numpy as np

from sigdae.experiments.common import DENOISER, Settings, corrupt, fit, layer_sizes, mean_psnr, mnist_test, train_config
from sigdae.experiments.report import Report

SUMMARY = "train on Gaussian, masking, salt-and-pepper, speckle and a mix; test on each (PSNR matrix)"

NOISES = {
    "gaussian": "gaussian(std=0.4, clip=true)",
    "masking": "masking(fraction=0.5)",
    "salt-and-pepper": "salt_pepper(amount=0.2)",
    "speckle": "speckle(std=1.0, clip=true)",
}
MIX = "mix"


def run(settings: Settings, report: Report) -> dict[str, Any]:
    from sigdae.plots.charts import heatmap

    test = mnist_test(settings.size)
    noisy = {name: corrupt(test.images, spec, seed=settings.seed) for name, spec in NOISES.items()}
    training = {**NOISES, MIX: " | ".join(NOISES.values())}
    psnr = np.zeros((len(training), len(NOISES)))
    for i, (name, spec) in enumerate(training.items()):
        model = fit(settings, train_config(settings, DENOISER, spec), f"{name} noise")
        for j, test_name in enumerate(NOISES):
            psnr[i, j] = mean_psnr(model, noisy[test_name], test.images)
    noisy_psnr = [mean_psnr(None, noisy[name], test.images) for name in NOISES]
    # what a model loses against the best model for each test noise: its worst case tells how it generalises
    shortfall = psnr.max(axis=0, keepdims=True) - psnr
    worst = shortfall.max(axis=1)
    generalises = list(training)[int(worst.argmin())]

    rows, cols = [f"trained on {name}" for name in training], list(NOISES)
    report.text(f"A dense DAE ({layer_sizes(DENOISER)}) trained on each noise, and one on a mix (each image "
                f"gets one of the four at random), scored on {len(test.images):,} MNIST test images under each noise "
                "(mean per-image PSNR, dB). The noises: "
                + "; ".join(f"{name} `{spec}`" for name, spec in NOISES.items()) + ".")
    report.table(["trained on \\ tested on", *cols, "worst shortfall (dB)"],
                 [[row, *psnr[i], worst[i]] for i, row in enumerate(rows)] + [["noisy input", *noisy_psnr, ""]])
    report.figure(heatmap(report.path("noise_types_matrix.png"), psnr, rows, cols,
                          title="PSNR by training noise and test noise", row_label="training noise",
                          col_label="test noise", value_label="PSNR (dB)"),
                  "PSNR (dB) of each model (rows) on each test noise (columns).")
    own_best = [name for j, name in enumerate(NOISES) if psnr[:len(NOISES), j].argmax() == j]
    report.text(f"Specialists best among the specialists on their own noise: {', '.join(own_best) or 'none'}. "
                "The model that generalises best (smallest worst-case shortfall against the best model for each "
                f"test noise) is the one trained on **{generalises}**.")
    return {"training": list(training), "training_specs": training, "test": list(NOISES), "psnr": psnr.tolist(),
            "noisy_psnr": noisy_psnr, "worst_shortfall": worst.tolist(), "generalises_best": generalises,
            "test_images": len(test.images)}
