"""``sigdae corruptions list|show|preview``: what the corruption registry holds, and what a spec does."""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from typing import Any

from sigdae.cli.common import Parser, add_json_flag
from sigdae.cli.listing import origin_label, print_listing
from sigdae.errors import UsageError
from sigdae.report import console, markdown_table, plain_table, rich_table

LIST_FIELDS = {"name": "name", "supports": "supports", "headline": "summary", "origin": "origin"}
PARAM_COLUMNS = ["parameter", "type", "default", "range", "help"]


def add_parser(sub) -> None:
    p = sub.add_parser("corruptions", help="list, describe and preview corruptions",
                       description="The corruptions sigdae knows (plugins included): list them, show one's "
                                   "parameters, or preview a spec on MNIST digits.")
    p.set_defaults(handler=run, action=None, json=False, markdown=False)
    csub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser,
                            help="list (the default), show NAME or preview SPEC")
    q = csub.add_parser("list", help="every registered corruption (plugins included)")
    formats = q.add_mutually_exclusive_group()
    add_json_flag(formats, "every corruption with its parameters")
    formats.add_argument("--markdown", action="store_true", help="print a Markdown reference of every corruption")
    q = csub.add_parser("show", help="a corruption's parameters")
    q.add_argument("name", help="a corruption's name (see `sigdae corruptions list`)")
    add_json_flag(q, "the corruption's description")
    q = csub.add_parser("preview", help="write a PNG of a corruption applied to MNIST digits")
    q.add_argument("spec", help="a name or a spec, e.g. 'salt_pepper(amount=0.2)'")
    q.add_argument("--out", default="corruption-preview.png", help="the PNG to write")
    q.add_argument("--seed", type=int, default=0, help="random seed of the corruption")


def run(args: argparse.Namespace) -> int:
    if args.action == "show":
        return show(args.name, as_json=args.json)
    if args.action == "preview":
        return preview(args.spec, args.out, args.seed)
    if args.markdown:
        sys.stdout.write(corruptions_markdown())
    else:
        list_corruptions(as_json=args.json)
    return 0


COMPOSITES = {
    "chain": ("apply corruptions one after another: chain(a, b, p=0.5), or a + b",
              [("corruptions", "spec", "", "", "the corruptions, in order (positional)")]),
    "oneof": ("apply exactly one of several corruptions to each sample: oneof(a, b, weights=[3, 1]), or a | b",
              [("corruptions", "spec", "", "", "the choices, at least two (positional)"),
               ("weights", "list", "equal", "", "relative chance of each choice")]),
}


def describe(name: str) -> dict[str, Any]:
    from sigdae.corruptions import CORRUPTIONS

    if name in COMPOSITES:
        summary, params = COMPOSITES[name]
        params = [("p", "float", 1.0, [0.0, 1.0], "probability that a sample is corrupted at all"), *params]
        return {"name": name, "summary": summary, "headline": summary, "supports": ["what its parts support"],
                "needs_sample_rate": False, "origin": "built-in",
                "params": [dict(zip(("name", "type", "default", "range", "help"), prm)) for prm in params]}
    info = {k: v for k, v in CORRUPTIONS.describe(name).items() if k != "kind"}
    return {**info, "origin": origin_label(info["origin"])}


def list_corruptions(as_json: bool = False) -> None:
    from sigdae.corruptions import CORRUPTIONS

    items = [describe(name) for name in CORRUPTIONS.list()]
    print_listing(items, LIST_FIELDS, as_json=as_json, terminal_table=_fitted_table)
    for failure in CORRUPTIONS.failures.values():  # one plain line each, never wrapped
        print(f"warning: {failure}", file=sys.stderr)


def _fitted_table(out, rows: list[list[str]]):
    """One line per corruption: names and supports whole, the summary and a plugin's origin cut to fit."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="corruptions (`sigdae corruptions show NAME` for the whole story)")
    widths = [max(len(row[col]) for row in rows) for col in range(4)]
    frame = 5 + 4 * 2  # the table's five vertical rules and two spaces of padding in each of four columns
    rest = out.width - frame - widths[0] - widths[1]
    widths[3] = min(widths[3], 30, max(8, rest // 2))
    widths[2] = max(8, min(widths[2], rest - widths[3]))
    for title, width in zip(LIST_FIELDS.values(), widths):
        table.add_column(title, no_wrap=True, overflow="ellipsis", max_width=width)
    for row in rows:
        table.add_row(*map(Text, row))
    return table


def _param_rows(info: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for prm in info["params"]:
        rng = prm.get("range") or prm.get("choices") or ""
        rows.append((prm["name"], prm["type"], json.dumps(prm["default"]), json.dumps(rng) if rng else "",
                     prm["help"]))
    return rows


def show(name: str, as_json: bool = False) -> int:
    info = describe(name)
    if as_json:
        print(json.dumps(info, indent=1))
        return 0
    needs_rate = "  (needs the sample rate)" if info["needs_sample_rate"] else ""
    head = f": {info['summary']}\nsupports: {', '.join(info['supports'])}{needs_rate}\norigin: {info['origin']}"
    out = console()
    if out.is_terminal:
        out.print(f"{name}{head}", markup=False, highlight=False)
        out.print(rich_table(PARAM_COLUMNS, _param_rows(info)))
    else:
        out.file.write(f"{name}{head}\n{plain_table(PARAM_COLUMNS, _param_rows(info), indent='  ')}")
        out.file.flush()
    return 0


def preview(spec: str, out: str, seed: int) -> int:
    import torch

    from sigdae.corruptions import parse
    from sigdae.datasets.mnist import MNIST
    from sigdae.images import write_grid

    corruption = parse(spec)
    if "image" not in corruption.supports:
        return preview_audio(corruption, out, seed)
    clean = MNIST("test").images[:8]
    noisy = corruption(clean, torch.Generator().manual_seed(seed))
    write_grid(out, [clean, noisy.clamp(0, 1)])
    print(f"wrote {out}: top clean, bottom {corruption.spec()}")
    return 0


PREVIEW_SECONDS = 3.0


def preview_audio(corruption, out: str, seed: int) -> int:
    """Spectrograms (top clean, bottom corrupted) of the bundled example speech as a PNG, and the corrupted
    clip as a WAV beside it."""
    import importlib.resources
    from pathlib import Path

    import torch

    from sigdae import audio
    from sigdae.images import write_image

    if "waveform" not in corruption.supports:
        raise UsageError(f"preview draws images and audio; {corruption.spec()} supports "
                         f"{', '.join(sorted(corruption.supports))}")
    clean, rate = audio.read(Path(str(importlib.resources.files("sigdae.assets") / "examples" / "clean.wav")))
    clean = clean.mean(dim=0, keepdim=True)[:, : int(PREVIEW_SECONDS * rate)].unsqueeze(0)
    noisy = corruption(clean, torch.Generator().manual_seed(seed), sample_rate=rate)
    rows = [_spectrogram_image(x[0, 0]) for x in (clean, noisy)]
    write_image(out, torch.cat([rows[0], torch.ones(1, 4, rows[0].shape[-1]), rows[1]], dim=1))
    wav = str(Path(out).with_suffix(".wav"))
    audio.write(wav, noisy[0].clamp(-1, 1), rate)
    print(f"wrote {out}: spectrograms, top clean speech, bottom {corruption.spec()}; and {wav}")
    return 0


def _spectrogram_image(x):
    """A (1, F, T) grey image of ``x``'s log spectrogram, low frequencies at the bottom, 80 dB of range."""
    import torch

    spec = torch.stft(x, 512, 128, window=torch.hann_window(512), return_complex=True).abs()
    db = 20 * torch.log10(spec.clamp_min(1e-8))
    image = ((db - db.max() + 80) / 80).clamp(0, 1).flip(0)
    return image.unsqueeze(0)


def _paragraphs(text: str) -> str:
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip())


def corruptions_markdown() -> str:
    """A Markdown reference of every registered corruption: a summary table, then each one's parameters."""
    from sigdae.corruptions import CORRUPTIONS

    infos = [describe(name) for name in CORRUPTIONS.list()]
    parts = ["# Corruptions\n",
             "Every corruption sigdae knows, with its parameters. A spec (`--corruption`, or `[corruption] spec` "
             "in a config) names them with their parameters: `gaussian(std=0.3) + masking(fraction=0.2)` applies "
             "one after the other, `a | b` or `oneof(a, b, weights=[3, 1])` picks one per sample, and a parameter "
             "of type range, given as a pair like `std=[0.1, 0.5]`, is drawn per sample. "
             "`sigdae corruptions show NAME` prints the same in a terminal.\n",
             "This page is generated by `sigdae corruptions list --markdown`.\n",
             markdown_table(["name", "supports", "summary"],
                            [(f"[{i['name']}](#{i['name']})", ", ".join(i["supports"]), i["headline"]) for i in infos])]
    for info in infos:
        doc = _paragraphs(inspect.getdoc(CORRUPTIONS.get(info["name"])) or info["summary"])
        facts = [f"Supports: {', '.join(info['supports'])}."]
        if info["needs_sample_rate"]:
            facts.append("Needs the sample rate.")
        if info["origin"] != "built-in":
            facts.append(f"From the plugin {info['origin']}.")
        rows = [(f"`{n}`", t, f"`{d}`", f"`{r}`" if r else "", h) for n, t, d, r, h in _param_rows(info)]
        parts += [f"## {info['name']}\n", f"{doc}\n", " ".join(facts) + "\n", markdown_table(PARAM_COLUMNS, rows)]
    return "\n".join(parts)
