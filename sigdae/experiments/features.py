"""What the code layer learns: the first-layer features of a sparse DAE as an image grid, and the test
digits' codes in a 2-unit code layer, coloured by digit."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sigdae.experiments.common import Settings, fit, layer_sizes, mnist_test, noise_factor, train_config
from sigdae.experiments.report import Report

SUMMARY = "first-layer features of a sparse DAE as images, and 2-D codes of the test digits by class"

TRAIN_NOISE = 0.3
SPARSE = {"name": "sparse", "in_features": 784, "hidden": [100], "sparsity": "kl", "rho": 0.05,
          "output_activation": "sigmoid"}
SPARSITY_WEIGHT = 0.3
CODE_2D = {"name": "dense", "in_features": 784, "hidden": [256, 64, 2], "activation": "leaky_relu",
           "output_activation": "sigmoid"}


@torch.no_grad()
def codes(model: torch.nn.Module, images: torch.Tensor, batch: int = 2000) -> np.ndarray:
    return torch.cat([model.encode(images[i:i + batch]) for i in range(0, len(images), batch)]).numpy()


def knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Accuracy of k-nearest-neighbour votes for the second half of the points from the first half: how
    well digits separate in the code space (0.1 is chance for ten digits)."""
    half = len(points) // 2
    reference, queries = points[:half], points[half:]
    distances = ((queries[:, None, :] - reference[None, :, :]) ** 2).sum(-1)
    nearest = labels[:half][np.argsort(distances, axis=1)[:, :k]]
    votes = np.array([np.bincount(row, minlength=10).argmax() for row in nearest])
    return float((votes == labels[half:]).mean())


def run(settings: Settings, report: Report) -> dict[str, Any]:
    from sigdae.plots.charts import image_grid, scatter_by_label

    noise = noise_factor(TRAIN_NOISE)
    sparse = fit(settings, train_config(settings, SPARSE, noise, loss="bce", penalties={"sparsity": SPARSITY_WEIGHT}),
                 "sparse DAE, 100 units")
    test = mnist_test(settings.size)
    weights = sparse.encoder[0].weight.detach().numpy().reshape(-1, 28, 28)
    activity = codes(sparse, test.images).mean(axis=0)
    two_d = fit(settings, train_config(settings, CODE_2D, noise), "2-unit code")
    points = codes(two_d, test.images)
    labels = test.labels.numpy()
    subset = slice(0, 4000)  # the kNN score compares all pairs: a few thousand points are plenty
    accuracy = knn_accuracy(points[subset], labels[subset])

    report.text(f"**First-layer features.** A sparse DAE 784-100-784 (sigmoid code, KL sparsity toward an "
                f"average activation of {SPARSE['rho']:g}, weight {SPARSITY_WEIGHT:g}; BCE loss; noise factor "
                f"{TRAIN_NOISE:g}). Each tile is one hidden unit's input weights as a 28×28 image, scaled to its own "
                f"range. Mean code activation on the test digits: {activity.mean():.3f} (target {SPARSE['rho']:g}).")
    report.figure(image_grid(report.path("features_filters.png"), weights, columns=10, normalise_each=True,
                             title="Sparse DAE: first-layer features"),
                  "Input weights of the 100 hidden units of the sparse DAE (each scaled to its own range).")
    report.text(f"**A 2-unit code.** A dense DAE {layer_sizes(CODE_2D)} (leaky ReLU) trained on PSNR with noise factor "
                f"{TRAIN_NOISE:g}; its 2-D codes of {len(points):,} clean test digits, coloured by the digit (labels "
                f"are not used in training). A 5-nearest-neighbour vote in the 2-D code space names the digit "
                f"correctly for {100 * accuracy:.1f}% of held-out points (chance: 10%).")
    report.figure(scatter_by_label(report.path("features_codes_2d.png"), points, labels,
                                   title="Test digits in a 2-unit code layer", x_label="code unit 1",
                                   y_label="code unit 2"),
                  "The 2-D codes of the test digits, coloured by digit.")
    return {"sparse_mean_activation": float(activity.mean()), "rho": SPARSE["rho"],
            "filters": int(weights.shape[0]), "code_2d_knn_accuracy": accuracy, "test_images": len(points)}
