"""``sigdae plot`` and the figure helpers: PNGs of real curves from an event log, previews, overlays."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sigdae.cli.plot import run as plot_command
from sigdae.runs import EventLog, Preview, RunDir


def make_run(path, signal="image", epochs=3, loss_sign=-1.0):
    run = RunDir(path)
    run.create()
    log = EventLog(run.events_file)
    log.emit("start", task="mnist" if signal == "image" else "speech")
    step = 0
    for epoch in range(1, epochs + 1):
        for _ in range(4):
            step += 10
            log.emit("step", epoch=epoch, step=step, loss=loss_sign * (10 + step / 10))
        monitor = "psnr" if signal == "image" else "si_sdr"
        log.emit("epoch", epoch=epoch, step=step, val={"loss": -12.0 - epoch, monitor: 12.0 + epoch}, monitor=monitor)
    log.close()
    rng = np.random.default_rng(0)
    if signal == "image":
        arrays = {k: rng.random((4, 1, 28, 28), dtype=np.float32) for k in ("clean", "noisy", "denoised")}
        run.write_preview(Preview("image", epochs, 0, arrays))
    else:
        t = np.arange(16000) / 16000
        clean = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32).reshape(1, 1, -1)
        noisy = clean + 0.05 * rng.standard_normal(clean.shape).astype(np.float32)
        run.write_preview(Preview("waveform", epochs, 16000, {"clean": clean, "noisy": noisy, "denoised": clean}))
    return path


def png_size(path):
    with Image.open(path) as image:
        return image.size


def test_curves_of_one_run_with_negative_losses(tmp_path):
    from sigdae.plots.runs import plot_curves, read_curves

    run = make_run(tmp_path / "a")
    curves = read_curves(run)
    assert curves.steps == list(range(10, 130, 10)) and all(v < 0 for v in curves.step_loss)
    assert curves.monitor == "psnr" and curves.val["psnr"] == [13.0, 14.0, 15.0]
    out = plot_curves([run], tmp_path / "curves.png")
    width, height = png_size(out)
    assert width >= 800 and height >= 300 and out.stat().st_size < 150_000


def test_plot_command_writes_curves_and_the_image_preview(tmp_path, capsys):
    import argparse

    run = make_run(tmp_path / "img")
    assert plot_command(argparse.Namespace(runs=[str(run)], out=None, no_preview=False)) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(run / "curves.png"), str(run / "curves-preview.png")]
    assert all(png_size(p)[0] > 200 for p in printed)


def test_speech_run_gets_spectrograms(tmp_path):
    from sigdae.plots.runs import plot_preview

    run = make_run(tmp_path / "speech", signal="waveform")
    out = plot_preview(run, tmp_path / "spec.png")
    width, height = png_size(out)
    assert width >= 800 and height >= 500


def test_several_runs_overlay_through_the_cli(tmp_path, monkeypatch, capsys):
    from sigdae.cli.program import main

    a, b = make_run(tmp_path / "a"), make_run(tmp_path / "b", epochs=2)
    monkeypatch.chdir(tmp_path)
    assert main(["plot", str(a), str(b), "--out", "both.png"]) == 0
    assert (tmp_path / "both.png").is_file() and not (tmp_path / "both-preview.png").exists()


def test_a_folder_without_events_is_a_one_line_error(tmp_path, capsys):
    from sigdae.cli.program import main

    (tmp_path / "empty").mkdir()
    assert main(["plot", str(tmp_path / "empty")]) == 2
    assert "no events.jsonl" in capsys.readouterr().err


def test_chart_helpers_write_small_pngs(tmp_path):
    from sigdae.plots import charts

    values = np.arange(12, dtype=float).reshape(3, 4)
    paths = [
        charts.heatmap(tmp_path / "h.png", values, ["a", "b", "c"], ["1", "2", "3", "4"], title="t",
                       row_label="r", col_label="c", value_label="PSNR (dB)"),
        charts.curves(tmp_path / "c.png", [0.1, 0.2, 0.3], {"m": [1, 2, 3], "ref": [0, 1, 2]}, title="t",
                      x_label="x", y_label="y", dashed=["ref"], markers={"m": 0.2}),
        charts.roc_curves(tmp_path / "r.png", {"d": (np.array([0, 0.5, 1]), np.array([0, 0.9, 1]), 0.7)}, title="t"),
        charts.histograms(tmp_path / "hi.png", {"a": np.random.rand(100), "b": np.random.rand(100) + 1}, title="t",
                          x_label="x"),
        charts.scatter_by_label(tmp_path / "s.png", np.random.rand(50, 2), np.arange(50) % 10, title="t",
                                x_label="x", y_label="y"),
        charts.image_grid(tmp_path / "g.png", np.random.rand(12, 28, 28), title="t", columns=6),
        charts.bars(tmp_path / "b.png", ["1", "2"], [3.0, 4.0], title="t", y_label="deg"),
    ]
    for path in paths:
        assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size < 150_000


def test_importing_sigdae_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, sigdae, sigdae.experiments, sigdae.cli.plot; print('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


@pytest.mark.parametrize("name", ["curves", "preview"])
def test_missing_parts_are_run_errors(tmp_path, name):
    from sigdae.errors import RunError
    from sigdae.plots.runs import plot_curves, plot_preview

    (tmp_path / "r").mkdir()
    with pytest.raises(RunError):
        (plot_curves([tmp_path / "r"], tmp_path / "x.png") if name == "curves"
         else plot_preview(tmp_path / "r", tmp_path / "x.png"))
