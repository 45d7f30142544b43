"""Pictures as terminal text (numpy only): image grids, spectrograms, and quality numbers.

Images use the upper-half block "▀" with the top pixel as foreground and the bottom pixel as
background colour, so one cell shows two pixels. Without colour ("shade" mode) each cell shows the
mean of its two pixels as one of `` ░▒▓█``. Rich downsamples the RGB colours for 256/16-colour terminals.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
from rich.style import Style
from rich.text import Text

SHADES = " ░▒▓█"
# a small perceptual colour map (dark blue → magenta → orange → yellow) for spectrograms
HEAT = np.array([[0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
                 [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191]], dtype=float)


def auto_mode(color_system: str | None) -> str:
    """``color`` unless the terminal has no (or only 8/16) colours or NO_COLOR is set."""
    if os.environ.get("NO_COLOR") or color_system in (None, "standard", "windows"):
        return "shade"
    return "color"


def downscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Box-average a 2-D array by an integer factor (edges cropped)."""
    if factor <= 1:
        return image
    h, w = image.shape[0] // factor * factor, image.shape[1] // factor * factor
    return image[:h, :w].reshape(h // factor, factor, w // factor, factor).mean(axis=(1, 3))


def _gray(value: float) -> Style:
    v = int(round(float(np.clip(value, 0, 1)) * 255))
    return Style(color=f"rgb({v},{v},{v})")


def pixel_rows(rgb_top: np.ndarray, rgb_bottom: np.ndarray) -> Text:
    """One text line from two rows of RGB (0..255) pixels."""
    line = Text(no_wrap=True)
    for top, bottom in zip(rgb_top, rgb_bottom):
        line.append("▀", Style(color=f"rgb({top[0]},{top[1]},{top[2]})", bgcolor=f"rgb({bottom[0]},{bottom[1]},{bottom[2]})"))
    return line


def gray_to_rgb(image: np.ndarray) -> np.ndarray:
    v = (np.clip(image, 0, 1) * 255).round().astype(int)
    return np.stack([v, v, v], axis=-1)


def image_lines(image: np.ndarray, mode: str = "color") -> list[Text]:
    """A 2-D array in [0, 1] as ``ceil(h / 2)`` lines of ``w`` cells."""
    image = np.nan_to_num(np.asarray(image, dtype=float))
    if image.shape[0] % 2:
        image = np.vstack([image, np.zeros((1, image.shape[1]))])
    lines = []
    for r in range(0, image.shape[0], 2):
        top, bottom = image[r], image[r + 1]
        if mode == "color":
            lines.append(pixel_rows(gray_to_rgb(top), gray_to_rgb(bottom)))
        else:
            levels = np.clip(((top + bottom) / 2 * (len(SHADES) - 1)).round().astype(int), 0, len(SHADES) - 1)
            lines.append(Text("".join(SHADES[i] for i in levels), no_wrap=True))
    return lines


def image_row(images: Sequence[np.ndarray], mode: str = "color", gap: int = 1) -> Text:
    """Images (each 2-D, same shape) side by side."""
    per_image = [image_lines(img, mode) for img in images]
    out = Text(no_wrap=True, overflow="crop")
    for i in range(len(per_image[0]) if per_image else 0):
        if i:
            out.append("\n")
        out.append_text(Text(" " * gap).join(lines[i] for lines in per_image))
    return out


def fit_images(count: int, size: int, width: int, gap: int = 1) -> tuple[int, int]:
    """(downscale factor, images per row) for ``count`` images of ``size`` px in ``width`` cells:
    all of them at full or half size if they fit, else at least four, as large as possible."""
    def per_row(factor: int) -> int:
        return max(1, (width + gap) // (size // factor + gap))

    for factor in (1, 2):
        if per_row(factor) >= count:
            return factor, count
    for factor in (2, 3, 4):
        if per_row(factor) >= min(count, 4):
            return factor, min(count, per_row(factor))
    return 4, min(count, per_row(4))


def image_grid(rows: Sequence[tuple[str, np.ndarray]], width: int, mode: str = "color") -> Text:
    """Labelled rows of images (each array (N, 1, H, W) or (N, H, W)) fitted to ``width`` cells."""
    out = Text(no_wrap=True, overflow="crop")
    for i, (label, batch) in enumerate(rows):
        batch = np.asarray(batch, dtype=float).reshape(-1, *np.asarray(batch).shape[-2:])
        factor, per_row = fit_images(len(batch), batch.shape[-1], width)
        if i:
            out.append("\n")
        out.append(label + "\n", style="bold")
        out.append_text(image_row([downscale(img, factor) for img in batch[:per_row]], mode))
    return out


def stft_db(wave: np.ndarray, n_fft: int = 512, hop: int = 128) -> np.ndarray:
    """Magnitude spectrogram in dB, shape (freq bins, frames), low frequencies first."""
    wave = np.nan_to_num(np.asarray(wave, dtype=float).reshape(-1), posinf=0.0, neginf=0.0)
    if wave.size < n_fft:
        wave = np.pad(wave, (0, n_fft - wave.size))
    frames = 1 + (wave.size - n_fft) // hop
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    spec = np.abs(np.fft.rfft(wave[idx] * np.hanning(n_fft), axis=1)).T
    return 20 * np.log10(spec + 1e-8)


def resize(array: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Nearest-neighbour resize of a 2-D array (fine for a terminal-sized picture)."""
    r = (np.arange(rows) * array.shape[0] / rows).astype(int)
    c = (np.arange(cols) * array.shape[1] / cols).astype(int)
    return array[r][:, c]


def spectrogram_lines(db: np.ndarray, width: int, height: int, top_db: float, mode: str = "color",
                      floor_db: float = 80.0) -> Text:
    """``height`` lines × ``width`` cells of a dB spectrogram, high frequencies on top."""
    level = spectrogram_level(resize(db, height * 2, width), top_db, floor_db)
    if mode != "color":
        return Text("\n").join(image_lines(level, "shade"))
    rgb = heat_rgb(level)
    return Text("\n").join(pixel_rows(rgb[r], rgb[r + 1]) for r in range(0, rgb.shape[0], 2))


def spectrogram_level(db: np.ndarray, top_db: float, floor_db: float = 80.0) -> np.ndarray:
    """dB values as levels in [0, 1] (``floor_db`` below ``top_db`` is 0), high frequencies on top."""
    return np.clip((np.nan_to_num(db, nan=-np.inf)[::-1] - (top_db - floor_db)) / floor_db, 0, 1)


def heat_rgb(level: np.ndarray) -> np.ndarray:
    """Levels in [0, 1] through the HEAT colour map, as integer RGB (0..255), shape ``level.shape + (3,)``."""
    pos = np.clip(np.nan_to_num(level), 0, 1) * (len(HEAT) - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(HEAT) - 1)
    return (HEAT[lo] + (HEAT[hi] - HEAT[lo]) * (pos - lo)[..., None]).round().astype(int)


def psnr(pred: np.ndarray, clean: np.ndarray) -> float:
    """PSNR in dB of all images together (``pred`` clipped to [0, 1]); identical images give inf."""
    from sigdae import metrics  # torch loads only when a score is first needed, not at start-up

    pred = np.clip(pred, 0, 1)
    if np.array_equal(pred, clean):
        return float("inf")
    return float(metrics.psnr(pred.reshape(1, -1), np.asarray(clean).reshape(1, -1)))


def si_sdr(pred: np.ndarray, clean: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB of the whole signal (all clips together)."""
    from sigdae import metrics

    return float(metrics.si_sdr(np.asarray(pred).reshape(1, -1), np.asarray(clean).reshape(1, -1), eps=1e-12))
