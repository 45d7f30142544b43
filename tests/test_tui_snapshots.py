"""SVG snapshots of the main screens at 80×24, from fixed run directories written here.

Update after an intended change with ``pytest tests/test_tui_snapshots.py --snapshot-update``.
"""

import torch

torch.set_num_threads(1)

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from tui_waiting import until  # noqa: E402

from sigdae.runs import Preview, RunDir, RunStatus  # noqa: E402
from sigdae.tui.app import SigdaeApp  # noqa: E402

SIZE = (80, 24)
HOST = os.uname().nodename
T0 = 1_700_000_000.0


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    """``runs`` (a relative path, so the title is the same everywhere) with four fixed runs."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "sigdae-test-run"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    now = time.time()
    fake = {
        "mnist-conv": dict(status="finished", updated=now - 150, epoch=10, best=24.31, monitor="psnr", model="conv",
                           corruption="noise_factor(factor=0.5)"),
        "mnist-live": dict(status="running", pid=sleeper.pid, updated=now - 600, epoch=2, model="conv",
                           corruption="gaussian(std=0.3) + masking(fraction=0.2)"),
        "mnist-dense": dict(status="running", pid=dead.pid, updated=now - 7300, epoch=4, best=19.02, monitor="psnr",
                            model="dense", corruption="salt_pepper(amount=0.1)"),
        "speech-wave": dict(status="failed", updated=now - 200000, task="speech-wave", model="conv",
                            corruption="colored_noise(snr_db=[0, 20])", error="TaskError: no clean speech"),
    }
    for name, info in fake.items():
        run = RunDir(tmp_path / "runs" / name)
        run.create(exist_ok=False)
        run.write_status(RunStatus(**{"task": "mnist", "device": "cpu", "host": HOST, **info}))
    write_events(RunDir(tmp_path / "runs" / "mnist-conv"))
    write_preview(RunDir(tmp_path / "runs" / "mnist-conv"))
    yield tmp_path / "runs"
    sleeper.kill()
    sleeper.wait()


def write_events(run: RunDir) -> None:
    """A finished 10-epoch MNIST run, each event at a fixed time."""
    log = run.event_log()
    log.emit("start", time=T0, device="cpu", task="mnist", model="conv", parameters=117073,
             corruption="noise_factor(factor=0.5)", epochs=10, steps_per_epoch=40, batch_size=128, resumed_from_epoch=0)
    step = 0
    for epoch in range(1, 11):
        for _ in range(4):
            step += 10
            log.emit("step", time=T0 + step, epoch=epoch, step=step, loss=0.08 + 0.5 / (1 + step / 20), lr=1e-3,
                     samples_per_s=1500.0, progress=step / 400, elapsed=step * 0.1, eta=(400 - step) * 0.1, memory={})
        log.emit("epoch", time=T0 + step + 1, epoch=epoch, step=step, train_loss=0.08 + 0.5 / (1 + step / 20),
                 val={"loss": 0.09 + 0.3 / (1 + step / 30), "psnr": 15 + epoch * 0.93, "ssim": 0.6 + epoch * 0.03},
                 monitor="psnr", best=15 + epoch * 0.93, best_epoch=epoch, improved=True, progress=step / 400,
                 eta=(400 - step) * 0.1)
    log.emit("end", time=T0 + 500, status="finished", error=None, epoch=10, step=400, elapsed=40.0)
    log.close()


def write_preview(run: RunDir) -> None:
    from sigdae.datasets.mnist import MNIST

    clean = MNIST("test").images[:8].numpy()
    noisy = np.clip(clean + 0.5 * np.random.default_rng(0).standard_normal(clean.shape), 0, 1)
    denoised = np.clip(clean * 0.9 + 0.03, 0, 1)
    run.write_preview(Preview("image", 10, 0, {"clean": clean, "noisy": noisy.astype(np.float32),
                                               "denoised": denoised}))


def test_runs_list(snap_compare, runs_dir):
    assert snap_compare(SigdaeApp("runs", preload=False), terminal_size=SIZE)


def test_run_view(snap_compare, runs_dir):
    async def open_run(pilot):
        await pilot.press("enter")
        await until(pilot, lambda: pilot.app.screen.state.status == "finished", 60, "the run view")

    assert snap_compare(SigdaeApp("runs", preload=False), terminal_size=SIZE, run_before=open_run)


def test_preview(snap_compare, runs_dir):
    async def open_preview(pilot):
        await pilot.press("enter", "p")
        await until(pilot, lambda: getattr(pilot.app.screen, "preview", None) is not None, 60, "the preview")
        await pilot.press("m")  # the headless terminal has no colour: switch to half blocks

    assert snap_compare(SigdaeApp("runs", preload=False), terminal_size=SIZE, run_before=open_preview)


def test_new_run_form(snap_compare, runs_dir):
    async def open_form(pilot):
        await pilot.press("n")
        await until(pilot, lambda: pilot.app.screen.query("#form-status"), 60, "the form")
        pilot.app.screen.query_one("#name").value = "demo"  # the suggested name carries the time
        for field in pilot.app.screen.query("Input"):
            field.cursor_blink = False
        await until(pilot, lambda: "ready" in str(pilot.app.screen.query_one("#form-status").content), 60,
                    "the form's check")

    assert snap_compare(SigdaeApp("runs", preload=False), terminal_size=SIZE, run_before=open_form)


def test_playground(snap_compare, runs_dir):
    async def open_playground(pilot):
        await pilot.press("c")
        await until(pilot, lambda: getattr(pilot.app.screen, "spec", ""), 60, "the playground")
        await pilot.press("ctrl+t")
        for field in pilot.app.screen.query("Input"):
            field.cursor_blink = False
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(SigdaeApp("runs", preload=False), terminal_size=SIZE, run_before=open_playground)
