"""The ``sigdae`` command, in-process through ``sigdae.cli.main`` and once as the installed console script."""

import torch

torch.set_num_threads(1)

import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from sigdae import __version__  # noqa: E402
from sigdae.cli import main  # noqa: E402
from sigdae.datasets.mnist import MNIST  # noqa: E402

SCRIPT = Path(sys.executable).parent / "sigdae"
TRAIN_ARGS = ["--epochs", "1", "--device", "cpu", "--set", "data.limit=256", "--set", "data.val_limit=64",
              "--set", "train.steps_per_epoch=4", "--set", "train.batch_size=32", "--quiet"]


def run(capsys, *argv):
    """(exit code, stdout, stderr) of ``sigdae ARGV`` run in this process."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_usage_error(capsys, *argv, match=None):
    code, out, err = run(capsys, *argv)
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {err!r}"
    assert "Traceback" not in err and "Traceback" not in out
    assert lines[0].startswith(("error:", "sigdae: error:")), lines[0]
    if match:
        assert match in lines[0], lines[0]
    return lines[0]


def digit(i=0):
    return MNIST("test").images[i:i + 1]


# ---- help and usage errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["--help"], ["train", "--help"], ["eval", "--help"], ["denoise", "--help"], ["corruptions", "--help"],
    ["corruptions", "list", "--help"], ["corruptions", "show", "--help"], ["corruptions", "preview", "--help"],
    ["recipes", "--help"], ["models", "--help"], ["demo", "--help"], ["tui", "--help"],
])
def test_help_exits_zero(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: sigdae") and err == ""
    if len(argv) > 1:
        assert f"sigdae {' '.join(argv[:-1])}" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"sigdae {__version__}"


def test_no_command_prints_help_and_exits_2(capsys):
    code, out, _ = run(capsys)
    assert code == 2 and "usage: sigdae" in out


def test_unknown_command(capsys):
    assert_usage_error(capsys, "frobnicate", match="invalid choice: 'frobnicate'")


def test_unknown_option(capsys):
    assert_usage_error(capsys, "train", "--recipe", "mnist", "--epochs", "many", match="invalid int value")
    assert_usage_error(capsys, "eval", "x", "--bogus", match="unrecognized arguments: --bogus")


def test_unknown_recipe(capsys):
    line = assert_usage_error(capsys, "train", "--recipe", "nope", match="unknown recipe 'nope'")
    assert "mnist" in line


def test_train_needs_a_source(capsys):
    assert_usage_error(capsys, "train", "--epochs", "1", match="--recipe")
    assert_usage_error(capsys, "train", "--recipe", "mnist", "--set", "novalue", match="KEY=VALUE")


def test_missing_config_file(capsys, tmp_path):
    assert_usage_error(capsys, "train", "--config", tmp_path / "nope.toml", match="config file not found")


def test_init_from_a_missing_checkpoint(capsys, tmp_path):
    assert_usage_error(capsys, "train", "--recipe", "mnist", "--init", tmp_path / "gone.pt", "--run-dir",
                       tmp_path / "r", match="no such checkpoint")
    assert not (tmp_path / "r").exists()


def test_init_bundled_names_the_bundled_speech_model():
    from sigdae.cli import build_parser, train_config
    from sigdae.enhance import bundled_model_path

    args = build_parser().parse_args(["train", "--recipe", "speech-spec", "--init", "bundled"])
    assert train_config(args)["train"]["init"] == str(bundled_model_path())


def test_widen_is_a_table_on_the_command_line():
    from sigdae.cli import build_parser, train_config

    args = build_parser().parse_args(["train", "--recipe", "speech-realtime", "--init", "bundled",
                                      "--set", "train.widen={hidden = 384}"])
    assert train_config(args)["train"]["widen"] == {"hidden": 384}


def test_widen_without_init_is_a_usage_error(capsys, tmp_path):
    assert_usage_error(capsys, "train", "--recipe", "speech-realtime", "--set", "train.widen={hidden = 384}",
                       "--run-dir", tmp_path / "r", match="train.widen needs train.init")


def test_bad_train_setting(capsys, tmp_path):
    assert_usage_error(capsys, "train", "--recipe", "mnist", "--run-dir", tmp_path / "r", "--set", "train.epohcs=2",
                       match="unknown [train] setting 'epohcs'")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("spec, match", [
    ("gaussian(std=", None),
    ("nosuchnoise(x=1)", "nosuchnoise"),
    ("gaussian(sdt=0.3)", "sdt"),
    ("gaussian(std=-1)", "std"),
])
def test_bad_corruption_spec(capsys, tmp_path, spec, match):
    assert_usage_error(capsys, "corruptions", "preview", spec, "--out", tmp_path / "x.png", match=match)
    assert not (tmp_path / "x.png").exists()
    assert_usage_error(capsys, "train", "--recipe", "mnist", "--run-dir", tmp_path / "r", "--corruption", spec,
                       *TRAIN_ARGS, match=match)
    assert not (tmp_path / "r" / "last.pt").exists()


def test_show_unknown_corruption(capsys):
    assert_usage_error(capsys, "corruptions", "show", "nosuchnoise", match="unknown corruptions 'nosuchnoise'")


def test_eval_missing_model(capsys, tmp_path):
    assert_usage_error(capsys, "eval", tmp_path / "nothing", match="no such checkpoint or run directory")


# ---- corruptions ------------------------------------------------------------------------------------

@pytest.fixture
def terminal(monkeypatch):
    """Standard output counts as an 80-column terminal (Rich's TTY_COMPATIBLE), as when a person runs sigdae."""
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "80")


def test_corruptions_list_on_a_terminal(capsys, terminal):
    code, out, err = run(capsys, "corruptions", "list")
    assert code == 0 and err == ""
    from sigdae.corruptions import names

    builtins = {"gaussian", "salt_pepper", "masking", "noise_factor", "speckle", "poisson", "reverb", "clipping"}
    assert builtins <= set(names())
    rows = [line for line in out.splitlines() if line.startswith("│ ")]
    assert len(rows) == len(names()), "one line per corruption"
    for name, row in zip(names(), rows):
        assert row.startswith(f"│ {name} ") and len(row) <= 80, row
    assert "│ built-in │" in rows[0]
    assert "warning" not in out
    code2, out2, _ = run(capsys, "corruptions")
    assert code2 == 0 and out2 == out


def test_corruptions_show(capsys):
    code, out, err = run(capsys, "corruptions", "show", "gaussian")
    assert code == 0 and err == ""
    assert out.startswith("gaussian:")
    assert "supports: image" in out
    for param in ("p", "std", "clip", "low", "high"):
        assert f" {param} " in out, param
    assert "0.1" in out  # std's default


def test_corruptions_preview(capsys, tmp_path):
    out_png = tmp_path / "x.png"
    code, out, err = run(capsys, "corruptions", "preview", "salt_pepper(amount=0.2)", "--out", out_png)
    assert code == 0 and err == ""
    assert str(out_png) in out
    with Image.open(out_png) as img:
        assert img.format == "PNG"
        array = np.asarray(img)
    assert array.shape[0] > 28 * 2 and array.shape[1] > 28 * 8
    # salt and pepper: the noisy row has pure black and pure white pixels where the clean row has neither pattern
    assert (array == 0).any() and (array == 255).any()
    code, _, _ = run(capsys, "corruptions", "preview", "salt_pepper(amount=0.2)", "--out", tmp_path / "y.png")
    assert np.array_equal(np.asarray(Image.open(tmp_path / "y.png")), array), "same seed, same preview"


def test_preview_of_an_audio_only_corruption_draws_spectrograms(capsys, tmp_path):
    code, out, _ = run(capsys, "corruptions", "preview", "clipping", "--out", tmp_path / "x.png")
    assert code == 0 and "spectrograms" in out and (tmp_path / "x.png").is_file()


def test_recipes_and_models(capsys):
    code, out, _ = run(capsys, "recipes")
    assert code == 0 and {"mnist", "mnist-dense", "mnist-full"} <= {line.split()[0] for line in out.splitlines()}
    code, out, _ = run(capsys, "models")
    assert code == 0 and {"conv", "dense", "sparse", "vae", "contractive"} <= {line.split()[0] for line in out.splitlines()}


# ---- train, eval, denoise on a tiny run -------------------------------------------------------------

@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("cli") / "run"
    code = main(["train", "--recipe", "mnist", "--run-dir", str(run_dir), *TRAIN_ARGS])
    assert code == 0
    return run_dir


def test_train(run_dir):
    for name in ("config.toml", "run.json", "events.jsonl", "last.pt", "best.pt", "preview.npz"):
        assert (run_dir / name).is_file(), name
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "finished" and info["epoch"] == 1
    config = (run_dir / "config.toml").read_text()
    assert "limit = 256" in config and "steps_per_epoch = 4" in config


def test_train_prints_the_run_directory_and_json(capsys, run_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    code, out, err = run(capsys, "train", "--resume", copy, "--epochs", "2", "--quiet", "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "finished" and summary["epochs"] == 2 and summary["steps"] == 8
    assert summary["run_dir"] == str(copy)
    starts = [json.loads(line) for line in (copy / "events.jsonl").read_text().splitlines()
              if '"type": "start"' in line]
    assert [s["resumed_from_epoch"] for s in starts] == [0, 1]


def test_train_refuses_an_existing_run_dir(capsys, run_dir):
    before = (run_dir / "events.jsonl").read_bytes()
    assert_usage_error(capsys, "train", "--recipe", "mnist", "--run-dir", run_dir, *TRAIN_ARGS,
                       match="already holds a run")
    assert (run_dir / "events.jsonl").read_bytes() == before


def test_eval_json(capsys, run_dir):
    code, out, err = run(capsys, "eval", run_dir, "--json", "--limit", "200", "--device", "cpu")
    assert code == 0, err
    result = json.loads(out)
    assert result["images"] == 200
    assert result["model"] == str(run_dir / "best.pt")
    for side in ("denoised", "noisy"):
        assert set(result[side]) == {"psnr", "ssim"}
        assert 0 < result[side]["psnr"] < 60 and -1 <= result[side]["ssim"] <= 1
    # deterministic: the test noise is fixed
    code, out2, _ = run(capsys, "eval", run_dir, "--json", "--limit", "200", "--device", "cpu")
    assert json.loads(out2) == result


def test_eval_table(capsys, run_dir):
    code, out, _ = run(capsys, "eval", run_dir, "--limit", "50", "--device", "cpu")
    assert code == 0 and "PSNR" in out and "noisy input" in out and "50 images" in out


def test_denoise_png(capsys, run_dir, tmp_path):
    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    noisy = (digit() + 0.3 * torch.randn(1, 1, 28, 28, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    Image.fromarray((noisy[0, 0].numpy() * 255).round().astype(np.uint8), mode="L").save(src)
    original = src.read_bytes()
    code, out, err = run(capsys, "denoise", "--model", run_dir, src, dst, "--device", "cpu")
    assert code == 0, err
    assert "denoised 1 file" in out
    assert src.read_bytes() == original
    with Image.open(dst) as img:
        assert img.size == (28, 28) and img.mode == "L"
    first = dst.read_bytes()

    # an existing output is refused (and left alone) without --overwrite
    assert_usage_error(capsys, "denoise", "--model", run_dir, src, dst, "--device", "cpu", match="--overwrite")
    assert dst.read_bytes() == first
    code, _, _ = run(capsys, "denoise", "--model", run_dir, src, dst, "--overwrite", "--quiet", "--device", "cpu")
    assert code == 0 and dst.read_bytes() == first  # same model, same input, same output

    # never the input, not even with --overwrite
    assert_usage_error(capsys, "denoise", "--model", run_dir, src, src, "--overwrite", "--device", "cpu",
                       match="never overwrites its input")
    assert_usage_error(capsys, "denoise", "--model", run_dir, src, tmp_path / "." / "in.png", "--overwrite",
                       match="never overwrites its input")
    assert src.read_bytes() == original


def test_denoise_odd_sized_png(capsys, run_dir, tmp_path):
    src = tmp_path / "odd.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (31, 45), dtype=np.uint8), mode="L").save(src)
    code, _, err = run(capsys, "denoise", "--model", run_dir, src, tmp_path / "odd-out.png", "--quiet")
    assert code == 0, err
    with Image.open(tmp_path / "odd-out.png") as img:
        assert img.size == (45, 31)


def test_denoise_npy_and_strength(capsys, run_dir, tmp_path):
    src = tmp_path / "batch.npy"
    batch = MNIST("test").images[:3, 0].numpy()
    noisy = np.clip(batch + 0.4 * np.random.default_rng(1).standard_normal(batch.shape), 0, 1).astype(np.float32)
    np.save(src, noisy)
    code, _, err = run(capsys, "denoise", "--model", run_dir, src, tmp_path / "out.npy", "--quiet")
    assert code == 0, err
    out = np.load(tmp_path / "out.npy")
    assert out.shape == (3, 28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    np.testing.assert_array_equal(np.load(src), noisy)
    code, _, _ = run(capsys, "denoise", "--model", run_dir, src, tmp_path / "same.npy", "--strength", "0", "--quiet")
    assert code == 0
    np.testing.assert_allclose(np.load(tmp_path / "same.npy"), noisy, atol=1e-7)


def test_denoise_folder(capsys, run_dir, tmp_path):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    for i, rel in enumerate(["a.png", "sub/b.png"]):
        Image.fromarray((digit(i)[0, 0].numpy() * 255).astype(np.uint8), mode="L").save(tmp_path / "in" / rel)
    (tmp_path / "in" / "notes.txt").write_text("not an image")
    code, out, err = run(capsys, "denoise", "--model", run_dir, tmp_path / "in", tmp_path / "out")
    assert code == 0, err
    assert "denoised 2 files" in out
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")
                  if p.is_file()) == ["a.png", "sub/b.png"]


def test_denoise_bad_arguments(capsys, run_dir, tmp_path):
    src = tmp_path / "in.npy"
    np.save(src, np.zeros((28, 28), np.float32))
    assert_usage_error(capsys, "denoise", "--model", run_dir, src, tmp_path / "o.npy", "--strength", "2",
                       match="--strength must be in [0, 1]")
    assert_usage_error(capsys, "denoise", "--model", run_dir, tmp_path / "missing.png", tmp_path / "o.png",
                       match="no such file or folder")
    assert_usage_error(capsys, "denoise", "--model", tmp_path / "no-run", src, tmp_path / "o.npy",
                       match="no such checkpoint or run directory")
    assert_usage_error(capsys, "denoise", "--model", run_dir, src, tmp_path / "o.xyz", match="unknown image extension")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    assert_usage_error(capsys, "denoise", "--model", run_dir, tmp_path / "bad.png", tmp_path / "o.png",
                       match="cannot read image")
    assert not any(p.name.startswith("o.") for p in tmp_path.iterdir())


def test_denoise_with_an_image_model_on_audio_names_both(capsys, run_dir, tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "speech.flac", np.zeros(1600, np.float32), 16000)
    line = assert_usage_error(capsys, "denoise", "--model", run_dir, tmp_path / "speech.flac", tmp_path / "out.wav",
                              match="is an image model")
    assert f"{tmp_path / 'speech.flac'} is audio" in line and "cannot read image" not in line
    (tmp_path / "clips").mkdir()
    sf.write(tmp_path / "clips" / "a.wav", np.zeros(1600, np.float32), 16000)
    line = assert_usage_error(capsys, "denoise", "--model", run_dir, tmp_path / "clips", tmp_path / "out",
                              match="is an image model")
    assert "holds audio files and no images" in line
    assert not (tmp_path / "out.wav").exists() and not (tmp_path / "out").exists()


def test_denoise_with_a_speech_model_on_an_image_names_both(capsys, tmp_path):
    from sigdae import checkpoint
    from sigdae.models import build_model

    model = tmp_path / "speech.pt"
    checkpoint.save(model, checkpoint.model_payload(build_model("spectral_mask"), signal="waveform",
                                                    sample_rate=16000, task="speech-spec"))
    Image.fromarray(np.zeros((28, 28), np.uint8), mode="L").save(tmp_path / "digit.png")
    line = assert_usage_error(capsys, "denoise", "--model", model, tmp_path / "digit.png", tmp_path / "out.png",
                              match="is a speech model")
    assert f"{tmp_path / 'digit.png'} is an image" in line
    assert not (tmp_path / "out.png").exists()


def test_eval_refuses_a_checkpoint_with_code(capsys, tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    torch.save({"model": {"name": "conv", "config": {}, "state": {}}, "x": Evil()}, tmp_path / "evil.pt")
    assert_usage_error(capsys, "eval", tmp_path / "evil.pt", match="cannot read checkpoint")


# ---- the installed console script ---------------------------------------------------------------------

def test_console_script(tmp_path):
    assert SCRIPT.is_file(), SCRIPT
    env = {**os.environ, "COLUMNS": "120"}
    done = subprocess.run([str(SCRIPT), "--help"], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0 and done.stdout.startswith("usage: sigdae") and done.stderr == ""
    for name in ("train", "eval", "denoise", "corruptions", "demo", "tui"):
        assert name in done.stdout
    done = subprocess.run([str(SCRIPT), "train", "--recipe", "nope", "--run-dir", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("sigdae: error: unknown recipe 'nope'")
    assert not (tmp_path / "r").exists() and not (tmp_path / "runs").exists()
