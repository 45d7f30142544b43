"""A variational autoencoder on MNIST: digits decoded from draws of its prior, and walks through its
latent space between the codes of test digits."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sigdae.experiments.common import Settings, fit, mnist_test, psnr_per_image, reconstruct, train_config
from sigdae.experiments.report import Report

SUMMARY = "digits sampled from a VAE's prior, and latent-space walks between test digits"

WALK_PAIRS = [(1, 7), (3, 8), (4, 9), (0, 6), (2, 5)]  # digit classes: walk from the first to the second
WALK_STEPS = 10


def latent_size(settings: Settings) -> int:
    return 16 if settings.size.wide else 8


def run(settings: Settings, report: Report) -> dict[str, Any]:
    from sigdae.plots.charts import image_grid

    latent = latent_size(settings)
    model_config = {"name": "vae", "in_features": 784, "hidden": [256], "latent": latent,
                    "output_activation": "sigmoid"}
    # BCE is a mean over pixels, the KL a sum over latent units: weighting the KL by 1/784 makes the loss the
    # negative ELBO per pixel
    config = train_config(settings, model_config, "", loss="bce", penalties={"kl": 1 / 784},
                          epochs=2 * settings.size.epochs)
    model = fit(settings, config, f"VAE, latent {latent}")
    generator = torch.Generator().manual_seed(settings.seed)
    samples = model.sample(64, generator=generator).reshape(-1, 28, 28).numpy()

    test = mnist_test(settings.size)
    with torch.no_grad():
        mu, logvar = model.posterior(test.images)
    kl_per_unit = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).mean(0)
    active_units = int((kl_per_unit > 0.01).sum())
    walks, endpoints_ok = [], 0
    labels = test.labels.numpy()
    for a, b in WALK_PAIRS:
        ia, ib = int(np.flatnonzero(labels == a)[0]), int(np.flatnonzero(labels == b)[0])
        t = torch.linspace(0, 1, WALK_STEPS).unsqueeze(1)
        with torch.no_grad():
            path = model.activate(model.decoder((1 - t) * mu[ia] + t * mu[ib])).reshape(-1, 28, 28)
        walks.append(path.numpy())
        start, end = path[0].flatten(), path[-1].flatten()
        xa, xb = test.images[ia].flatten(), test.images[ib].flatten()
        endpoints_ok += int(((start - xa) ** 2).mean() < ((start - xb) ** 2).mean()
                            and ((end - xb) ** 2).mean() < ((end - xa) ** 2).mean())
    recon = reconstruct(model, test.images)
    recon_psnr = float(psnr_per_image(recon, test.images).mean())
    data_mean = test.images.mean(0).flatten().numpy()
    sample_mean = samples.reshape(len(samples), -1).mean(0)
    mean_image_correlation = float(np.corrcoef(data_mean, sample_mean)[0, 1])

    report.text(f"A VAE 784-256-({latent})-256-784 trained on clean digits with the ELBO (binary cross-entropy "
                f"plus the KL divergence to the N(0, I) prior, both per pixel). On {len(test.images):,} test digits it "
                f"reconstructs at {recon_psnr:.2f} dB (mean per-image PSNR) and uses {active_units} of its {latent} "
                f"latent units (KL above 0.01 nat). The mean of the prior samples correlates with the mean test "
                f"digit at r = {mean_image_correlation:.2f}.")
    report.figure(image_grid(report.path("vae_samples.png"), samples, columns=8, title="Digits from the VAE's prior"),
                  "64 digits decoded from independent draws z ~ N(0, I).")
    report.figure(image_grid(report.path("vae_walks.png"), np.concatenate(walks), columns=WALK_STEPS,
                             row_labels=[f"{a} → {b}" for a, b in WALK_PAIRS], title="Latent-space walks"),
                  f"Decoded points on the straight line between the posterior means of two test digits, "
                  f"{WALK_STEPS} steps per row.")
    return {"latent": latent, "recon_psnr": recon_psnr, "active_units": active_units,
            "kl_per_unit": kl_per_unit.tolist(), "mean_image_correlation": mean_image_correlation,
            "sample_pixel_std": float(samples.reshape(len(samples), -1).std(0).mean()),
            "samples_min": float(samples.min()), "samples_max": float(samples.max()),
            "walk_endpoints_match": endpoints_ok, "walks": len(WALK_PAIRS), "test_images": len(test.images)}
