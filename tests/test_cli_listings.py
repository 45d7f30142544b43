"""Listings (`sigdae corruptions list`, `models`, `recipes`, `corruptions show`) for people and for scripts:
a Rich table on a terminal, tab-separated lines in a pipe (nothing cut), JSON with --json, Markdown docs."""

import json
from pathlib import Path

import pytest

from sigdae.cli import main
from sigdae.corruptions import CORRUPTIONS, get

ROOT = Path(__file__).resolve().parents[1]
LONG_NAME = "zebra_stripes_with_a_really_long_name_40"
PLUGIN_ORIGIN = "entry point sigdae.corruptions: sigdae_zebra_plugin.noise:ZebraStripesWithAVeryLongClassName"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def long_plugin():
    """A plugin corruption with a 40-character name, registered in this process for the test only."""
    assert len(LONG_NAME) == 40
    plugin = type("ZebraStripes", (get("gaussian"),), {"__doc__": "Zebra stripes [for testing]: a plugin."})
    CORRUPTIONS.add(LONG_NAME, plugin, origin=PLUGIN_ORIGIN)
    yield LONG_NAME
    CORRUPTIONS._entries.pop(LONG_NAME)
    CORRUPTIONS._origins.pop(LONG_NAME)


def test_piped_corruption_list_keeps_long_plugin_names_whole(capsys, long_plugin):
    code, out, err = run(capsys, "corruptions", "list")  # capsys: standard output is not a terminal
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == len(CORRUPTIONS.list()), "one line per corruption, no header, no frame"
    assert [line.split("\t")[0] for line in lines] == CORRUPTIONS.list()
    matching = [line for line in lines if long_plugin in line]  # what `grep NAME` sees
    assert len(matching) == 1
    name, supports, summary, origin = matching[0].split("\t")
    assert name == long_plugin
    assert supports == "image, spectrogram, waveform"
    assert summary == "Zebra stripes [for testing]: a plugin"
    assert origin == PLUGIN_ORIGIN
    gaussian = next(line for line in lines if line.startswith("gaussian\t"))
    assert gaussian.endswith("\tbuilt-in") and "…" not in out


def test_corruption_list_json(capsys, long_plugin):
    code, out, err = run(capsys, "corruptions", "list", "--json")
    assert code == 0 and err == ""
    items = json.loads(out)
    assert [item["name"] for item in items] == CORRUPTIONS.list()
    plugin = next(item for item in items if item["name"] == long_plugin)
    assert plugin["origin"] == PLUGIN_ORIGIN and plugin["supports"] == ["image", "spectrogram", "waveform"]
    gaussian = next(item for item in items if item["name"] == "gaussian")
    assert gaussian["origin"] == "built-in"
    assert {p["name"] for p in gaussian["params"]} >= {"p", "std", "clip", "low", "high"}


def test_models_and_recipes_piped_and_json(capsys):
    from sigdae.models import MODELS
    from sigdae.recipes import RECIPES

    for command, names in (("models", MODELS.list()), ("recipes", list(RECIPES))):
        code, out, err = run(capsys, command)
        assert code == 0 and err == ""
        assert [line.split("\t")[0] for line in out.splitlines()] == names
        assert all(line.count("\t") >= 1 for line in out.splitlines())
        code, out, err = run(capsys, command, "--json")
        assert code == 0 and err == ""
        assert [item["name"] for item in json.loads(out)] == names
    recipes = {item["name"]: item for item in json.loads(run(capsys, "recipes", "--json")[1])}
    assert recipes["mnist"]["task"] == "mnist" and recipes["mnist"]["config"]["model"]["name"] == "conv"


def test_show_prints_square_brackets_literally(capsys, monkeypatch):
    code, out, _ = run(capsys, "corruptions", "show", "gaussian")
    assert code == 0
    assert "(a [low, high] pair draws it per sample)" in out and "clip the result to [low, high]" in out
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # as on a terminal: a Rich table, still without markup
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, "corruptions", "show", "gaussian")
    assert code == 0 and "│" in out
    assert "(a [low, high] pair draws it per sample)" in out and "clip the result to [low, high]" in out


def test_show_json(capsys):
    code, out, _ = run(capsys, "corruptions", "show", "masking", "--json")
    assert code == 0
    info = json.loads(out)
    assert info["name"] == "masking" and info["origin"] == "built-in"
    assert "fraction" in {p["name"] for p in info["params"]}


def test_terminal_listing_of_a_long_plugin_name(capsys, monkeypatch, long_plugin):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "120")
    code, out, _ = run(capsys, "corruptions", "list")
    assert code == 0
    assert any(line.startswith(f"│ {long_plugin} ") for line in out.splitlines())


def test_docs_corruptions_md_is_the_markdown_listing(capsys):
    plugins = [n for n in CORRUPTIONS.list() if not CORRUPTIONS.origin(n).startswith("sigdae.")]
    assert not plugins, f"a corruption plugin is installed ({plugins}): the reference covers the built-ins only"
    code, out, err = run(capsys, "corruptions", "list", "--markdown")
    assert code == 0 and err == ""
    committed = (ROOT / "docs" / "corruptions.md").read_text()
    assert out == committed, "docs/corruptions.md is stale: sigdae corruptions list --markdown > docs/corruptions.md"
    for name in CORRUPTIONS.list():
        assert f"\n## {name}\n" in out
    assert "| `std` | range | `0.1` |" in out
    assert "noise standard deviation (a [low, high] pair draws it per sample)" in out


def test_every_command_has_a_description_and_every_option_help():
    import argparse

    from sigdae.cli import build_parser

    def parsers(parser):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    yield sub
                    yield from parsers(sub)

    for parser in parsers(build_parser()):
        assert parser.description, parser.prog
        for action in parser._actions:
            assert action.help or isinstance(action, argparse._HelpAction), (parser.prog, action.dest)


def test_composites_can_be_shown(capsys):
    from sigdae.cli import main

    assert main(["corruptions", "show", "oneof"]) == 0
    out = capsys.readouterr().out
    assert "weights" in out and "exactly one" in out


def test_audio_corruptions_preview_as_spectrograms(tmp_path, capsys):
    import soundfile as sf
    from PIL import Image

    from sigdae.cli import main

    out = tmp_path / "hum.png"
    assert main(["corruptions", "preview", "hum(snr_db=5)", "--out", str(out)]) == 0
    width, height = Image.open(out).size
    assert height > 400 and width > 100
    assert sf.info(str(out.with_suffix(".wav"))).samplerate == 16000
