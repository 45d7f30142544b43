"""TUI benchmark: time to first screen, the TUI's CPU while watching a running job, and training
throughput with the TUI attached vs headless (same run config).

    .venv/bin/python benchmarks/tui.py [--epochs 2] [--steps 100] [--repeats 3]

The TUI runs in a pseudo-terminal (80×24) exactly as `sigdae tui` would in an SSH session; its CPU time
is read from /proc/<pid>/stat (utime + stime).
"""

from __future__ import annotations

import argparse
import os
import pty
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from fcntl import ioctl
from pathlib import Path

from sigdae.recipes import recipe
from sigdae.runs import RunDir, launch_run, load_run, read_events

SIGDAE = str(Path(sys.executable).parent / "sigdae")
TICKS = os.sysconf("SC_CLK_TCK")


class Terminal:
    """`sigdae tui` in a pseudo-terminal, its output drained (and kept) by a thread."""

    def __init__(self, runs_dir: Path):
        master, slave = pty.openpty()
        ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([SIGDAE, "tui", "--runs-dir", str(runs_dir)], stdin=slave, stdout=slave,
                                     stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.master, self.output, self.lock = master, bytearray(), threading.Lock()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.output += chunk

    def wait_for(self, *needles: bytes, timeout: float = 30.0) -> float:
        """Seconds from launch until every needle has been drawn."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.lock:
                if all(n in self.output for n in needles):
                    return time.perf_counter() - self.started
            time.sleep(0.005)
        raise TimeoutError(f"the TUI did not draw {needles} within {timeout}s")

    def send(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        os.close(self.master)


def run_config(epochs: int, steps: int) -> dict:
    config = recipe("mnist")
    config["device"] = "cpu"
    config["train"].update(epochs=epochs, steps_per_epoch=steps)
    return config


def throughput(run_dir: Path) -> float:
    events = list(read_events(RunDir(run_dir).events_file))
    start = next(e for e in events if e["type"] == "start")
    end = next(e for e in events if e["type"] == "end")
    assert end["status"] == "finished", end
    return end["step"] * start["batch_size"] / end["elapsed"]


def train_headless(config: dict, run_dir: Path) -> float:
    run = RunDir(run_dir)
    run.create(exist_ok=False)
    run.write_config(config)
    subprocess.run([SIGDAE, "train", "--config", str(run.config_file), "--run-dir", str(run.path), "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    return throughput(run_dir)


def train_watched(config: dict, runs_dir: Path, name: str) -> tuple[float, float]:
    """Start the run, watch it in the TUI's run view until it ends; (samples/s, TUI CPU % of one core)."""
    run_dir = runs_dir / name
    term = Terminal(runs_dir)  # attached before the run starts, as a user would have it open
    term.wait_for(b"Quit", b"Corruptions")
    time.sleep(5.0)  # let its background start-up (model and corruption lists) finish first
    launch_run(config, run_dir)
    while load_run(run_dir).status == "starting":
        time.sleep(0.2)
    time.sleep(2.5)  # the runs list refreshes every 2 s
    term.send("\r")  # open the run (the only one, selected)
    term.wait_for(b"samples/s", timeout=120)
    time.sleep(2.0)  # past the view's first draw: measure the steady state
    cpu0, t0 = term.cpu_seconds(), time.perf_counter()
    while load_run(run_dir).live:
        time.sleep(0.2)
    cpu = (term.cpu_seconds() - cpu0) / (time.perf_counter() - t0) * 100
    term.close()
    return throughput(run_dir), cpu


def first_screen(runs_dir: Path) -> float:
    term = Terminal(runs_dir)
    seconds = term.wait_for(b"Quit", b"Corruptions")  # the footer: the whole first screen is drawn
    term.close()
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs_dir = Path(tmp) / "runs"
        runs_dir.mkdir()
        starts = sorted(first_screen(runs_dir) for _ in range(args.repeats))
        config = run_config(args.epochs, args.steps)
        headless = train_headless(config, Path(tmp) / "headless")
        watched, tui_cpu = train_watched(config, runs_dir, "watched")
    rows = [("first screen of `sigdae tui` (median)", f"{starts[len(starts) // 2]:.2f} s"),
            ("TUI CPU while watching a running job", f"{tui_cpu:.1f} % of one core"),
            ("training headless", f"{headless:,.0f} samples/s"),
            ("training with the TUI attached", f"{watched:,.0f} samples/s"),
            ("attached / headless", f"{watched / headless:.1%}")]
    print(f"mnist recipe, cpu, {args.epochs} epochs × {args.steps} steps, batch {config['train']['batch_size']}; "
          f"{os.cpu_count()} CPUs")
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'result':>22}")
    for name, value in rows:
        print(f"{name:<{width}}  {value:>22}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
