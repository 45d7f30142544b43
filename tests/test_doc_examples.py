"""The code in README.md and docs/ works as written: the Python snippets run (on tiny data where they
train), every `sigdae ...` command line parses with the real CLI, and the quick start's denoise lines
run for real."""

import re
import shlex
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sigdae.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path, languages):
    text = path.read_text(encoding="utf-8")
    return [m.group(2) for m in re.finditer(r"^```(\w+)\n(.*?)^```$", text, re.S | re.M) if m.group(1) in languages]


def command_lines(path):
    """`sigdae ...` lines of the shell blocks, continuation lines joined, comments and [optional] parts dropped."""
    lines = []
    for block in blocks(path, ("bash", "sh", "console")):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"(^|\s)#.*$", "", line).strip()  # comments, whole-line ones too
            line = re.sub(r"\[[^\]]*\]", "", line)
            for part in re.split(r"\s*(?:&&|\||;)\s*", line):
                words = shlex.split(re.sub(r"\s[<>]\s*\S+", "", part))  # redirections are the shell's
                if words and Path(words[0]).name == "sigdae":
                    lines.append(words[1:])
    return lines


ALL_COMMANDS = [(path.name, words) for path in DOCS for words in command_lines(path)]


@pytest.mark.parametrize("where, words", ALL_COMMANDS, ids=[f"{w}: {' '.join(c)[:40]}" for w, c in ALL_COMMANDS])
def test_every_documented_command_line_parses(where, words):
    build_parser().parse_args(words)


def test_the_readme_has_commands_to_check():
    assert len(command_lines(ROOT / "README.md")) >= 8


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rate = 16000
    t = np.arange(rate // 2) / rate
    speech = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    noisy = (speech + 0.05 * np.random.default_rng(0).standard_normal(t.size)).astype(np.float32)
    sf.write("noisy.flac", noisy, rate)
    Path("recordings/sub").mkdir(parents=True)
    Path("assets").symlink_to(ROOT / "assets")  # the README's commands run in a checkout
    sf.write("recordings/sub/a.wav", noisy, rate)
    return tmp_path


def test_the_readme_python_quick_start_runs_as_written(workdir):
    (code,) = [b for b in blocks(ROOT / "README.md", ("python",)) if "sigdae.train(" in b]
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["summary"]["status"] == "finished"
    assert namespace["denoised"].shape == namespace["noisy"].shape
    assert Path("clean.flac").is_file() and sf.info("clean.flac").frames == sf.info("noisy.flac").frames


def test_the_readme_denoise_lines_run(workdir, capsys):
    denoise = [w for w in command_lines(ROOT / "README.md") if w[0] == "denoise" and "--model" not in w]
    assert denoise
    for words in denoise:
        assert main([*words, "--quiet"]) == 0, words
    assert Path("clean.flac").is_file() and Path("cleaned/sub/a.wav").is_file()


def test_the_plugin_guide_examples_work(monkeypatch):
    import torch

    from sigdae.losses import build_loss
    from sigdae.models import build_model
    from sigdae.registry import LOSSES, MODELS

    corruption, check, model, loss = blocks(ROOT / "docs" / "plugins.md", ("python",))[:4]
    module = types.ModuleType("sigdae_plugin_example")
    monkeypatch.setitem(sys.modules, "sigdae_plugin_example", module)
    exec(compile(corruption, "plugins.md", "exec"), module.__dict__)
    from sigdae.corruptions import CORRUPTIONS

    for registry in (CORRUPTIONS, MODELS, LOSSES):  # the registrations below end with the test
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
        monkeypatch.setattr(registry, "_origins", dict(registry._origins))
    CORRUPTIONS.add("scanlines", module.ScanLines, origin="docs", replace=True)  # what the entry point does
    namespace = {}
    exec(compile(check, "plugins.md", "exec"), namespace)
    namespace["test_scanlines_keeps_the_contract"]()
    exec(compile(model, "plugins.md", "exec"), namespace)
    MODELS.add("tiny_conv_doc", namespace["TinyConv"], origin="docs", replace=True)
    x = torch.rand(2, 1, 8, 8)
    assert build_model("tiny_conv_doc", width=4)(x).shape == x.shape
    exec(compile(loss, "plugins.md", "exec"), namespace)
    LOSSES.add("tv", namespace["total_variation"], origin="docs", replace=True)
    assert float(build_loss("mse + tv*0.1")(x, x)) > 0


@pytest.mark.parametrize("index", range(len(blocks(ROOT / "docs" / "deployment.md", ("python",)))))
def test_the_deployment_guide_snippets_run(index, workdir):
    code = blocks(ROOT / "docs" / "deployment.md", ("python",))[index]
    exec(compile(code, "deployment.md", "exec"), {})
