"""Interrupts and temporary files: SIGINT/SIGTERM keep finished outputs and leave no temporary file, a
killed run's leftovers go the next time the output is written, and temporary names fit the name limit."""

import os
import signal
import subprocess
import time

import numpy as np
import pytest
import soundfile as sf
import torch
from denoise_helpers import PYTHON, files_under, tiny_speech_model, write_speech

from sigdae import audio, fileio
from sigdae.denoise_files import denoise_path
from sigdae.enhance import Enhancer


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_speech_model(tmp_path_factory.mktemp("model"))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_file_keeps_finished_outputs_and_removes_the_temp(monkeypatch, model, tmp_path, signum):
    write_speech(tmp_path / "in" / "a.wav", seconds=0.5)
    write_speech(tmp_path / "in" / "b.wav", seconds=40.0)  # three 15 s chunks
    write_speech(tmp_path / "in" / "c.wav", seconds=0.5)
    original = Enhancer.enhance
    calls = []

    def enhance_then_signal(self, x, rate, offset=0):
        calls.append(x.shape[-1])
        if len(calls) == 2:  # the first chunk of b.wav
            os.kill(os.getpid(), signum)
        return original(self, x, rate, offset)

    monkeypatch.setattr(Enhancer, "enhance", enhance_then_signal)
    report = denoise_path(tmp_path / "in", tmp_path / "out", model, device="cpu")
    assert report.signal == signum and len(calls) == 2
    assert [f.status for f in report.files] == ["denoised", "interrupted", "not started"]
    assert files_under(tmp_path / "out") == ["a.wav"]  # no b.wav, no temporary file
    text = report.interruption()
    assert text.startswith(f"interrupted by {signal.Signals(signum).name}: kept 1 finished output")
    assert "b.wav (temporary file removed)" in text and "1 file not started" in text


def test_sigterm_from_outside(model, tmp_path):
    write_speech(tmp_path / "in" / "a.wav", seconds=0.5)
    write_speech(tmp_path / "in" / "long.wav", seconds=600.0)
    proc = subprocess.Popen([PYTHON, "-m", "sigdae", "denoise", "--model", str(model), "--threads", "1",
                             str(tmp_path / "in"), str(tmp_path / "out")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not any(p.name.startswith(".long.wav.") for p in (tmp_path / "out").glob(".*")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.strip().splitlines()[-1].startswith("sigdae: interrupted by SIGTERM: kept 1 finished output")
    assert "Traceback" not in err
    assert files_under(tmp_path / "out") == ["a.wav"]


def test_a_killed_runs_temp_file_is_removed_on_the_next_write(tmp_path):
    target = tmp_path / "o.wav"
    stale = tmp_path / ".o.wav.0badc0de.tmp"
    stale.write_bytes(b"half a file from a process that was killed")
    other = tmp_path / ".other.wav.0badc0de.tmp"  # another output's: left alone
    other.write_bytes(b"x")
    audio.write(target, torch.zeros(1, 100), 16000)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.wav.0badc0de.tmp", "o.wav"]


def test_a_live_writers_temp_file_is_left_alone(tmp_path):
    target = tmp_path / "o.wav"
    live = fileio.reserve_temp(target)  # this process is writing it (it holds the lock)
    audio.write(target, torch.zeros(1, 100), 16000)
    assert os.path.exists(live)
    fileio.discard_temp(live)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.wav"]


@pytest.mark.parametrize("name", ["a" * 251 + ".wav", "é" * 125 + ".flac", "x" * 255])
def test_temp_names_fit_the_name_limit(tmp_path, name):
    tmp = fileio.reserve_temp(tmp_path / name, ".tmp")
    assert len(os.fsencode(os.path.basename(tmp))) <= fileio.NAME_MAX
    fileio.discard_temp(tmp)
    if name.endswith((".wav", ".flac")):
        audio.write(tmp_path / name, np.zeros(100, np.float32), 16000)
        assert sf.info(tmp_path / name).frames == 100
        assert [p.name for p in tmp_path.iterdir()] == [name]
    # a leftover with a shortened name is found again
    stale = fileio.reserve_temp(tmp_path / name)
    fileio._release(stale)  # as if its process had been killed
    assert fileio.remove_stale_temps(tmp_path / name) == [stale]


def test_interrupt_message_from_the_command(capsys, monkeypatch, model, tmp_path):
    from sigdae.cli import main

    write_speech(tmp_path / "in.wav", seconds=20.0)
    original = Enhancer.enhance

    def enhance_then_signal(self, x, rate, offset=0):
        os.kill(os.getpid(), signal.SIGINT)
        return original(self, x, rate, offset)

    monkeypatch.setattr(Enhancer, "enhance", enhance_then_signal)
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN when the suite runs as a background job of a shell
    code = main(["denoise", "--model", str(model), str(tmp_path / "in.wav"), str(tmp_path / "out.wav")])
    out, err = capsys.readouterr()
    assert code == 130 and out == ""
    assert err.strip() == (f"sigdae: interrupted by SIGINT: no output was finished; did not write "
                           f"{tmp_path / 'out.wav'} (temporary file removed)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]
    assert signal.getsignal(signal.SIGINT) == before  # the handlers are restored
