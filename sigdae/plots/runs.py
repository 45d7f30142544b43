"""Figures of training runs: loss and monitored metric curves from ``events.jsonl`` (several runs
overlaid), and the preview of the last epoch (spectrograms for speech runs, digits for image runs)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from sigdae.errors import RunError
from sigdae.plots.style import new_figure, save
from sigdae.runs import RunDir, read_events

TOP_DB = 80.0  # dynamic range of the spectrogram colour scale
METRIC_UNITS = {"psnr": "PSNR (dB)", "si_sdr": "SI-SDR (dB)", "ssim": "SSIM", "pesq": "PESQ", "stoi": "STOI"}


@dataclass
class RunCurves:
    """What one run's event log says: the training loss per logged step and the validation scores per epoch."""

    name: str
    steps: list[int] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    epochs: list[int] = field(default_factory=list)
    val: dict[str, list[float]] = field(default_factory=dict)
    monitor: str = ""


def read_curves(run: str | os.PathLike) -> RunCurves:
    run_dir = RunDir(run)
    if not run_dir.events_file.is_file():
        raise RunError(f"{run}: no events.jsonl (not a training run, or it has not started)")
    curves = RunCurves(run_dir.name)
    for event in read_events(run_dir.events_file):
        if event.get("type") == "step":
            curves.steps.append(int(event["step"]))
            curves.step_loss.append(float(event["loss"]))
        elif event.get("type") == "epoch":
            curves.epochs.append(int(event["epoch"]))
            curves.monitor = str(event.get("monitor") or curves.monitor)
            for key, value in (event.get("val") or {}).items():
                curves.val.setdefault(key, []).append(float(value))
    if not curves.steps:
        raise RunError(f"{run}: the event log has no training step yet")
    return curves


def plot_curves(runs: Sequence[str | os.PathLike], out: str | os.PathLike) -> Path:
    """Training loss against step and the monitored validation metric against epoch, one line per run.
    The loss axis is linear (losses such as -PSNR are negative)."""
    all_curves = [read_curves(run) for run in runs]
    monitor = next((c.monitor for c in all_curves if c.monitor), "")
    fig, (loss_ax, metric_ax) = new_figure(10.0, 4.0, ncols=2)
    for curves in all_curves:
        loss_ax.plot(curves.steps, curves.step_loss, linewidth=1.2, label=curves.name)
        values = curves.val.get(monitor) or curves.val.get("loss") or []
        if values:
            metric_ax.plot(curves.epochs[:len(values)], values, marker="o", markersize=3, linewidth=1.4,
                           label=curves.name)
    loss_ax.set_xlabel("training step")
    loss_ax.set_ylabel("training loss (mean over each logging window)")
    loss_ax.set_title("training loss")
    metric_name = METRIC_UNITS.get(monitor, monitor or "validation loss")
    metric_ax.set_xlabel("epoch")
    metric_ax.set_ylabel(f"validation {metric_name}")
    metric_ax.set_title(f"validation {metric_name}")
    metric_ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in (loss_ax, metric_ax):
        ax.grid(alpha=0.3)
    if len(all_curves) > 1:
        loss_ax.legend(fontsize=8, frameon=False)
        metric_ax.legend(fontsize=8, frameon=False)
    return save(fig, out)


def plot_preview(run: str | os.PathLike, out: str | os.PathLike) -> Path:
    """The run's last preview: clean / noisy / denoised spectrograms of the first validation example for a
    speech run, a grid of digits (rows clean, noisy, denoised) for an image run."""
    run_dir = RunDir(run)
    if not run_dir.preview_file.is_file():
        raise RunError(f"{run}: no preview yet (one is written after every epoch)")
    preview = run_dir.read_preview()
    if preview.is_image:
        return _image_preview(preview, out, run_dir.name)
    return _spectrograms(preview, out, run_dir.name)


def _image_preview(preview: Any, out: str | os.PathLike, name: str) -> Path:
    from sigdae.plots.charts import image_grid

    rows = [np.asarray(preview.arrays[k])[:, 0] for k in ("clean", "noisy", "denoised")]
    count = rows[0].shape[0]
    return image_grid(out, np.concatenate(rows), columns=count, row_labels=["clean", "noisy", "denoised"],
                      title=f"{name}: preview after epoch {preview.epoch}")


def _spectrograms(preview: Any, out: str | os.PathLike, name: str) -> Path:
    rate = preview.sample_rate or 16000
    fig, axes = new_figure(10.0, 7.0, nrows=3)
    images = []
    for ax, key in zip(axes, ("clean", "noisy", "denoised")):
        wave = np.asarray(preview.arrays[key], dtype=np.float64).reshape(preview.arrays[key].shape[0], -1)[0]
        spectrum, _, _, image = ax.specgram(wave + 1e-9, NFFT=512, Fs=rate, noverlap=384, cmap="magma", scale="dB")
        images.append((image, 10 * np.log10(spectrum.max() + 1e-30)))
        ax.set_ylabel("frequency (Hz)")
        ax.set_title(key, loc="left", fontsize=9)
    top = images[0][1]  # the clean signal's loudest bin sets one colour scale for all three
    for image, _ in images:
        image.set_clim(top - TOP_DB, top)
    axes[-1].set_xlabel("time (s)")
    fig.suptitle(f"{name}: preview after epoch {preview.epoch}")
    fig.colorbar(images[0][0], ax=list(axes), label="power spectral density (dB/Hz)")
    return save(fig, out)
