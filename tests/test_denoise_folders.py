"""``sigdae denoise IN_DIR OUT_DIR``: bad files among good ones, --json, skipping finished outputs,
OUT inside IN, unwritable outputs, --jobs, and the progress bar."""

import json
import os
import sys

import numpy as np
import pytest
import soundfile as sf
from denoise_helpers import files_under, run, tiny_image_model, tiny_speech_model, write_speech
from PIL import Image

from sigdae.denoise_files import denoise_path


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_speech_model(tmp_path_factory.mktemp("model"))


def _mixed_folder(root):
    write_speech(root / "a.wav", seed=1)
    write_speech(root / "sub" / "b.flac", seed=2)
    (root / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + os.urandom(40))
    (root / "text.wav").write_text("this is not audio\n" * 20)
    (root / "empty.wav").write_bytes(b"")
    nan = np.full((800, 1), 0.1, np.float32)
    nan[400] = np.nan
    sf.write(root / "nan.wav", nan, 16000, subtype="FLOAT")
    (root / "notes.txt").write_text("ignored: not an audio extension")
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


BAD = ["corrupt.wav", "empty.wav", "nan.wav", "text.wav"]


def test_bad_files_are_reported_and_the_good_ones_written(capsys, model, tmp_path):
    inputs = _mixed_folder(tmp_path / "in")
    code, out, err = run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "out")
    assert code == 1, err
    assert files_under(tmp_path / "out") == ["a.wav", "sub/b.flac"]  # no partial or temporary files
    assert sf.info(tmp_path / "out" / "sub" / "b.flac").frames == 8000
    lines = err.strip().splitlines()
    assert len(lines) == len(BAD) and "Traceback" not in err
    for name, line in zip(BAD, lines):
        assert line.startswith("sigdae: failed: ") and name in line, line
    assert "empty" in lines[1] and "non-finite" in lines[2]
    assert "denoised 2 files" in out and "4 failed" in out
    assert {p: p.read_bytes() for p in inputs} == inputs  # inputs untouched


def test_json_report(capsys, model, tmp_path):
    _mixed_folder(tmp_path / "in")
    code, out, err = run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "out", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["summary"] == {"denoised": 2, "skipped": 0, "failed": 4, "interrupted": 0, "not started": 0}
    by_name = {os.path.relpath(f["input"], tmp_path / "in"): f for f in report["files"]}
    assert sorted(by_name) == sorted(["a.wav", "sub/b.flac", *BAD])
    good = by_name["a.wav"]
    assert good["status"] == "denoised" and good["error"] is None and good["seconds"] >= 0
    assert good["output"] == str(tmp_path / "out" / "a.wav")
    for name in BAD:
        assert by_name[name]["status"] == "failed" and name in by_name[name]["error"]
        assert "\n" not in by_name[name]["error"]
    assert "denoised 2 files" in err  # the summary goes to stderr, stdout is the JSON alone


def test_rerun_skips_finished_outputs_unless_overwrite(capsys, model, tmp_path):
    write_speech(tmp_path / "in" / "a.wav", seed=1)
    write_speech(tmp_path / "in" / "b.wav", seed=2)
    assert run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "out")[0] == 0
    os.utime(tmp_path / "out" / "a.wav", (1, 1))
    write_speech(tmp_path / "in" / "c.wav", seed=3)
    code, out, _ = run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "out")
    assert code == 0 and "denoised 1 file" in out and "2 skipped" in out and "--overwrite" in out
    assert os.stat(tmp_path / "out" / "a.wav").st_mtime == 1  # not written again
    code, out, _ = run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "out", "--overwrite")
    assert code == 0 and "denoised 3 files" in out and "skipped" not in out
    assert os.stat(tmp_path / "out" / "a.wav").st_mtime > 1


def test_out_inside_in_is_never_an_input(capsys, model, tmp_path):
    root = tmp_path / "in"
    write_speech(root / "a.wav")
    write_speech(root / "deep" / "b.wav")
    for _ in range(2):
        code, out, err = run(capsys, "denoise", "--model", model, root, root / "out", "--overwrite", "--json")
        assert code == 0, err
        assert sorted(os.path.relpath(f["input"], root) for f in json.loads(out)["files"]) == ["a.wav", "deep/b.wav"]
    assert files_under(root) == ["a.wav", "deep/b.wav", "out/a.wav", "out/deep/b.wav"]


def test_an_unwritable_output_fails_alone(capsys, model, tmp_path):
    write_speech(tmp_path / "in" / "a.wav")
    write_speech(tmp_path / "in" / "sub" / "b.wav")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "sub").write_text("a file where the output folder should go")
    code, out, err = run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "out")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "b.wav" in err and "Traceback" not in err
    assert files_under(tmp_path / "out") == ["a.wav", "sub"]


def test_folder_usage_errors(capsys, model, tmp_path):
    write_speech(tmp_path / "in" / "a.wav")
    code, _, err = run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "single.wav")
    assert code == 2 and "OUT must be a folder" in err and "single.wav/" in err
    assert not (tmp_path / "single.wav").exists()
    code, _, err = run(capsys, "denoise", "--model", model, tmp_path / "in", str(tmp_path / "v.wav") + "/")
    assert code == 0 and (tmp_path / "v.wav" / "a.wav").is_file()  # a trailing slash makes it a folder
    code, _, err = run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "in" / ".")
    assert code == 2 and "never overwrites its input" in err
    code, _, err = run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "o", "--jobs", "0")
    assert code == 2 and "--jobs" in err


def test_workers_fork_on_the_cpu_and_spawn_on_cuda():
    from sigdae.denoise_jobs import start_method

    assert start_method("cuda") == "spawn"
    assert start_method("cpu") == ("fork" if sys.platform.startswith("linux") else start_method("cpu"))


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_jobs_give_the_same_outputs(capsys, monkeypatch, model, tmp_path, method):
    import sigdae.denoise_jobs

    monkeypatch.setattr(sigdae.denoise_jobs, "start_method", lambda device_type: method)
    for i in range(4):
        write_speech(tmp_path / "in" / f"{i}.wav", seconds=0.3, seed=i)
    (tmp_path / "in" / "bad.wav").write_bytes(b"not audio")
    assert run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "one")[0] == 1
    code, out, err = run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "two", "--jobs", "2",
                         "--threads", "1", "--json")
    assert code == 1, err
    report = json.loads(out)
    assert [os.path.basename(f["input"]) for f in report["files"]] == ["0.wav", "1.wav", "2.wav", "3.wav", "bad.wav"]
    assert [f["status"] for f in report["files"]] == ["denoised"] * 4 + ["failed"]
    assert files_under(tmp_path / "two") == files_under(tmp_path / "one") == [f"{i}.wav" for i in range(4)]
    for i in range(4):
        assert (tmp_path / "two" / f"{i}.wav").read_bytes() == (tmp_path / "one" / f"{i}.wav").read_bytes()


def test_image_folder_has_a_progress_bar(capsys, monkeypatch, tmp_path):
    model = tiny_image_model(tmp_path)
    (tmp_path / "in").mkdir()
    for i in range(3):
        Image.fromarray(np.full((12, 12), 40 * i, np.uint8), mode="L").save(tmp_path / "in" / f"{i}.png")
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # Rich draws its bar as on a terminal
    code, out, err = run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "out")
    assert code == 0 and "denoised 3 files" in out
    assert "denoising" in err and "3/3" in err


def test_library_report(model, tmp_path):
    write_speech(tmp_path / "in" / "a.wav")
    (tmp_path / "in" / "b.wav").write_bytes(b"")
    seen = []
    report = denoise_path(tmp_path / "in", tmp_path / "out", model, device="cpu", on_result=seen.append)
    assert [f.status for f in report.files] == ["denoised", "failed"] and report.failed == [report.files[1]]
    assert report.written == [(tmp_path / "in" / "a.wav", tmp_path / "out" / "a.wav")]
    assert seen == report.files


def test_short_files_enhanced_together_give_the_same_outputs(capsys, monkeypatch, model, tmp_path):
    """On a GPU, a folder's short files share model calls; simulated here on the CPU."""
    from sigdae.enhance import Enhancer

    for i, rate in enumerate([16000, 16000, 8000, 16000]):
        write_speech(tmp_path / "in" / f"{i}.wav", seconds=0.2 + 0.1 * i, rate=rate, seed=i)
    write_speech(tmp_path / "in" / "long.wav", seconds=16.0)  # longer than a chunk: the usual path
    nan = np.zeros((400, 1), np.float32)
    nan[7] = np.nan
    sf.write(tmp_path / "in" / "nan.wav", nan, 16000, subtype="FLOAT")
    assert run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "one")[0] == 1
    original = Enhancer.__init__

    def as_on_a_gpu(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.on_gpu, self.batch_chunks = True, 16

    monkeypatch.setattr(Enhancer, "__init__", as_on_a_gpu)
    groups = []
    monkeypatch.setattr(Enhancer, "enhance_many", lambda self, signals, rate, _many=Enhancer.enhance_many:
                        groups.append((rate, len(signals))) or _many(self, signals, rate))
    code, out, err = run(capsys, "denoise", "--model", model, tmp_path / "in", tmp_path / "together", "--json")
    assert code == 1 and sorted(groups) == [(8000, 1), (16000, 3)]
    report = json.loads(out)
    assert [f["status"] for f in report["files"]] == ["denoised"] * 5 + ["failed"]
    assert "non-finite" in report["files"][-1]["error"]
    assert files_under(tmp_path / "together") == files_under(tmp_path / "one")
    for name in files_under(tmp_path / "one"):
        a, rate_a = sf.read(tmp_path / "one" / name)
        b, rate_b = sf.read(tmp_path / "together" / name)
        assert rate_a == rate_b and a.shape == b.shape and np.abs(a - b).max() <= 2 / 2**15
