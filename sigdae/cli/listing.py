"""Listings for people and scripts (``sigdae recipes``, ``sigdae models``, ``sigdae corruptions list``).

On a terminal a Rich table; in a pipe or a file one item per line, tab-separated columns, nothing cut;
with ``--json`` a JSON list of objects.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Callable, Sequence

from sigdae.cli.common import add_json_flag
from sigdae.report import console, rich_table


def _plain(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    return " ".join(text.split())  # no tab or newline inside a column


def origin_label(origin: str) -> str:
    return "built-in" if origin.startswith("sigdae.") else origin


def print_listing(items: Sequence[dict[str, Any]], fields: dict[str, str], *, as_json: bool = False,
                  title: str | None = None, terminal_table: Callable[[Any, list[list[str]]], Any] | None = None) -> None:
    """``items`` as JSON; or their ``fields`` (key -> column title) as a Rich table on a terminal
    (``terminal_table(console, rows)`` builds a custom one), else as tab-separated lines."""
    if as_json:
        print(json.dumps(list(items), indent=1))
        return
    out = console()
    rows = [[_plain(item[key]) for key in fields] for item in items]
    if out.is_terminal:
        out.print(terminal_table(out, rows) if terminal_table else rich_table(list(fields.values()), rows, title))
        return
    out.file.write("".join("\t".join(row) + "\n" for row in rows))
    out.file.flush()


def add_parsers(sub) -> None:
    p = sub.add_parser("recipes", help="list the named training recipes")
    add_json_flag(p, "the recipes, with their configs,")
    p.set_defaults(handler=list_recipes)
    p = sub.add_parser("models", help="list the registered models")
    add_json_flag(p, "the models")
    p.set_defaults(handler=list_models)


def list_recipes(args: argparse.Namespace) -> int:
    from sigdae.recipes import RECIPES

    items = [{"name": name, "task": cfg.get("task", ""), "description": cfg.get("description", ""),
              "config": {k: v for k, v in cfg.items() if k != "description"}} for name, cfg in RECIPES.items()]
    fields = {"name": "name", "task": "task", "description": "description"}
    print_listing(items, fields, as_json=args.json, title="recipes (sigdae train --recipe NAME)")
    return 0


def list_models(args: argparse.Namespace) -> int:
    from sigdae.models import MODELS

    items = []
    for name in MODELS.list():
        info = {k: v for k, v in MODELS.describe(name).items() if k != "kind"}
        items.append({**info, "origin": origin_label(info["origin"])})
    fields = {"name": "name", "summary": "summary", "origin": "origin"}
    print_listing(items, fields, as_json=args.json, title="models (a config's [model] name)")
    return 0
