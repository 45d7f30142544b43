"""The figures the experiments draw. Each function takes plain numbers and arrays, writes one PNG and
returns its path; axis labels carry their units."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from sigdae.plots.style import new_figure, save


def heatmap(path: str | os.PathLike, values: np.ndarray, rows: Sequence[str], cols: Sequence[str], *,
            title: str, row_label: str, col_label: str, value_label: str, fmt: str = "{:.1f}") -> Path:
    """A matrix of scores with every cell written in it (the colour bar gives ``value_label``)."""
    values = np.asarray(values, dtype=float)
    fig, ax = new_figure(max(4.8, 0.62 * len(cols) + 2.4), max(3.2, 0.45 * len(rows) + 1.8))
    image = ax.imshow(values, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(cols)), labels=list(cols))
    if max(map(len, cols), default=0) > 5:  # words side by side would run into each other
        ax.tick_params(axis="x", labelrotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
            label.set_rotation_mode("anchor")
    ax.set_yticks(range(len(rows)), labels=list(rows))
    ax.set_xlabel(col_label)
    ax.set_ylabel(row_label)
    ax.set_title(title)
    middle = (np.nanmax(values) + np.nanmin(values)) / 2
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=8,
                color="black" if value > middle else "white")
    fig.colorbar(image, ax=ax, label=value_label)
    return save(fig, path)


def curves(path: str | os.PathLike, x: Sequence[float], series: Mapping[str, Sequence[float]], *, title: str,
           x_label: str, y_label: str, dashed: Sequence[str] = (), markers: Mapping[str, float] | None = None) -> Path:
    """One line per series over the same ``x``; series named in ``dashed`` are drawn dashed and grey-ish
    (references such as the noisy input); ``markers`` puts a dot on a series at an x (its training level)."""
    fig, ax = new_figure()
    for name, ys in series.items():
        style = {"linestyle": "--", "color": "0.45"} if name in dashed else {"marker": "o", "markersize": 3}
        line, = ax.plot(x, ys, label=name, linewidth=1.6, **style)
        if markers and name in markers:
            at = int(np.argmin(np.abs(np.asarray(x, dtype=float) - markers[name])))
            ax.plot([x[at]], [ys[at]], "o", markersize=9, markerfacecolor="none", color=line.get_color())
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False)
    return save(fig, path)


def roc_curves(path: str | os.PathLike, rocs: Mapping[str, tuple[np.ndarray, np.ndarray, float]], *,
               title: str) -> Path:
    """ROC curves: name -> (false positive rates, true positive rates, AUC)."""
    fig, ax = new_figure(5.2, 4.6)
    for name, (fpr, tpr, auc) in rocs.items():
        ax.plot(fpr, tpr, linewidth=1.5, label=f"{name} (AUC {auc:.2f})")
    ax.plot([0, 1], [0, 1], linestyle=":", color="0.5", linewidth=1)
    ax.set_xlabel("false positive rate (normal digits flagged)")
    ax.set_ylabel("true positive rate (held-out digits flagged)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return save(fig, path)


def histograms(path: str | os.PathLike, groups: Mapping[str, np.ndarray], *, title: str, x_label: str,
               bins: int = 50) -> Path:
    """Overlaid density histograms on shared bins."""
    fig, ax = new_figure()
    everything = np.concatenate([np.asarray(v, dtype=float) for v in groups.values()])
    edges = np.linspace(everything.min(), np.quantile(everything, 0.995), bins + 1)
    for name, values in groups.items():
        ax.hist(np.clip(values, edges[0], edges[-1]), bins=edges, density=True, histtype="stepfilled",
                alpha=0.35, label=name)
    ax.set_xlabel(x_label)
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False)
    return save(fig, path)


def scatter_by_label(path: str | os.PathLike, points: np.ndarray, labels: np.ndarray, *, title: str,
                     x_label: str, y_label: str) -> Path:
    """2-D points coloured by integer label (digits), with a legend of the labels."""
    fig, ax = new_figure(5.6, 4.8)
    cmap = _pyplot_colormap("tab10")
    for label in np.unique(labels):
        chosen = labels == label
        ax.scatter(points[chosen, 0], points[chosen, 1], s=3, alpha=0.6, color=cmap(int(label) % 10),
                   label=str(label), rasterized=True)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    ax.legend(fontsize=8, frameon=False, markerscale=4, loc="center left", bbox_to_anchor=(1.0, 0.5),
              title="digit")
    return save(fig, path)


def image_grid(path: str | os.PathLike, images: np.ndarray, *, title: str, columns: int | None = None,
               row_labels: Sequence[str] | None = None, normalise_each: bool = False, cmap: str = "gray") -> Path:
    """Images (N, H, W) tiled ``columns`` wide, one pixel of gap. ``normalise_each`` scales every tile to
    its own range (weights, filters); otherwise values are shown on [0, 1]."""
    images = np.asarray(images, dtype=float)
    n, h, w = images.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    mosaic = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1), np.nan)
    for i, tile in enumerate(images):
        if normalise_each:
            low, high = tile.min(), tile.max()
            tile = (tile - low) / (high - low) if high > low else np.zeros_like(tile)
        r, c = divmod(i, columns)
        mosaic[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = tile
    scale = 0.32 if h <= 32 else 0.2
    label_room = 1.2 if row_labels else 0.2
    fig, ax = new_figure(columns * scale * (w / 28) + label_room, rows * scale * (h / 28) + 0.6)
    ax.imshow(mosaic, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    if row_labels:
        ax.set_yticks([r * (h + 1) + h / 2 for r in range(len(row_labels))], labels=list(row_labels))
        ax.tick_params(axis="y", length=0)
    else:
        ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title)
    return save(fig, path)


def bars(path: str | os.PathLike, labels: Sequence[str], values: Sequence[float], *, title: str, y_label: str,
         x_label: str = "") -> Path:
    fig, ax = new_figure()
    ax.bar(range(len(values)), values, color="tab:blue")
    ax.set_xticks(range(len(values)), labels=list(labels))
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title)
    return save(fig, path)


def _pyplot_colormap(name: str):
    from sigdae.plots.style import pyplot

    return pyplot().get_cmap(name)
