"""A linear undercomplete autoencoder against PCA with the same code size: both reach about the same
reconstruction error, and the decoder spans the principal subspace (small principal angles), the classic
result of Baldi & Hornik (1989)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sigdae.experiments.common import Settings, fit, mnist_test, reconstruct, train_config
from sigdae.experiments.report import Report

SUMMARY = "a linear autoencoder against PCA: reconstruction errors and principal angles between the subspaces"


def code_size(settings: Settings) -> int:
    """Code sizes where MNIST's eigenvalue spectrum has a clear gap (the 7th eigenvalue is 0.76 of the 6th,
    the 13th 0.85 of the 12th), so the principal subspace is well determined and worth comparing against."""
    return 12 if settings.size.wide else 6


def principal_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Principal angles (degrees, ascending) between the column spaces of ``a`` and ``b`` (D x k each)."""
    qa, _ = np.linalg.qr(a)
    qb, _ = np.linalg.qr(b)
    cosines = np.linalg.svd(qa.T @ qb, compute_uv=False)
    return np.sort(np.degrees(np.arccos(np.clip(cosines, -1.0, 1.0))))


def training_images(settings: Settings) -> torch.Tensor:
    """The images the Trainer fits on (the training split less the validation part, then the limit)."""
    from sigdae.datasets.mnist import train_val_split
    from sigdae.tasks import get_task

    defaults = get_task("mnist").data_defaults
    train, _ = train_val_split(n_val=defaults["n_val"], seed=defaults["split_seed"])
    return train.images[: settings.size.train_images or None]


def run(settings: Settings, report: Report) -> dict[str, Any]:
    from sigdae.plots.charts import bars, image_grid

    k = code_size(settings)
    model_config = {"name": "undercomplete", "in_features": 784, "code": k, "activation": "identity",
                    "output_activation": "identity"}
    config = train_config(settings, model_config, "", loss="mse", lr=1e-2, batch_size=128,
                          epochs=2 * settings.size.epochs)
    model = fit(settings, config, f"linear AE, code {k}")
    train = training_images(settings).flatten(1).double().numpy()
    mean = train.mean(axis=0)
    centred = train - mean
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)  # ascending
    eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
    components = eigenvectors[:, :k]                          # (784, k)
    decoder = model.decoder[0].weight.detach().double().numpy()  # (784, k)
    angles = principal_angles(decoder, components)

    test = mnist_test(settings.size)
    flat = test.images.flatten(1).double().numpy()
    pca_recon = mean + (flat - mean) @ components @ components.T
    ae_recon = reconstruct(model, test.images).flatten(1).double().numpy()
    pca_mse = float(((pca_recon - flat) ** 2).mean())
    ae_mse = float(((ae_recon - flat) ** 2).mean())
    explained = float(eigenvalues[:k].sum() / eigenvalues.sum())

    report.text(f"A linear autoencoder 784-{k}-784 (no activation, MSE loss, no corruption) against PCA with {k} "
                f"components, both fitted on the same {len(train):,} training images. PCA keeps "
                f"{100 * explained:.1f}% of the training variance. Reconstruction error is the mean squared error "
                f"per pixel on {len(test.images):,} MNIST test images; the principal angles are between the span of "
                f"the decoder's {k} columns and the span of the top {k} principal components.")
    report.table(["", "test MSE per pixel", "relative to PCA"],
                 [[f"PCA, {k} components", pca_mse, 1.0], [f"linear AE, code {k}", ae_mse, ae_mse / pca_mse]])
    report.table(["principal angles (degrees)", "smallest", "median", "largest"],
                 [["decoder vs PCA subspace", float(angles[0]), float(np.median(angles)), float(angles[-1])]])
    report.figure(bars(report.path("pca_angles.png"), [str(i + 1) for i in range(k)], angles,
                       title="Principal angles: linear AE decoder vs PCA", y_label="angle (degrees)",
                       x_label="principal angle (ascending)"),
                  "Principal angles between the AE decoder's column space and the top principal components "
                  "(0° = the same direction).")
    shown = 10
    tiles = np.concatenate([flat[:shown], np.clip(pca_recon[:shown], 0, 1), np.clip(ae_recon[:shown], 0, 1)])
    report.figure(image_grid(report.path("pca_reconstructions.png"), tiles.reshape(-1, 28, 28), columns=shown,
                             row_labels=["test digit", f"PCA ({k})", f"linear AE ({k})"],
                             title="Reconstructions"),
                  "Test digits and their reconstructions by PCA and by the linear autoencoder.")
    return {"code_size": k, "explained_variance": explained, "pca_mse": pca_mse, "ae_mse": ae_mse,
            "mse_ratio": ae_mse / pca_mse, "principal_angles_deg": angles.tolist(),
            "max_angle_deg": float(angles[-1]), "mean_angle_deg": float(angles.mean()),
            "train_images": len(train), "test_images": len(test.images)}
