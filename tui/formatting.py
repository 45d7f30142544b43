"""How the TUI writes ages, durations and metric values (short, to fit table cells and status lines)."""

from __future__ import annotations

from typing import Any

from rich.text import Text

STATUS_STYLE = {"running": "bold green", "starting": "green", "finished": "cyan", "stopped": "magenta",
                "interrupted": "bold yellow", "failed": "bold red"}


def status_text(status: str) -> Text:
    """A run's (or an experiment's) status in its colour."""
    return Text(status, style=STATUS_STYLE.get(status, "dim"))

DB_METRICS = ("psnr", "si_sdr", "snr", "sdr")


def format_age(seconds: float) -> str:
    """``5s``, ``2m``, ``2h``, ``2d``: the largest whole unit."""
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def format_duration(seconds: float | None) -> str:
    """``01:15`` or ``1:02:05``; ``--:--`` when unknown."""
    if seconds is None or seconds != seconds or seconds == float("inf"):
        return "--:--"
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def format_metric(name: str, value: Any) -> str:
    """A metric in its units: decibel metrics as ``18.00 dB``, others with four decimals."""
    if not isinstance(value, (int, float)):
        return str(value)
    if name in DB_METRICS or name.endswith("_db"):
        return f"{value:.2f} dB"
    return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
