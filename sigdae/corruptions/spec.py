"""Corruption specs: one line for the command line and TOML, e.g. ``gaussian(std=0.5) + masking(p=0.25)``.

Grammar (``|`` binds looser than ``+``)::

    expr  := seq ('|' seq)*              one of, per sample
    seq   := atom ('+' atom)*            one after another
    atom  := '(' expr ')' | NAME ['(' [arg (',' arg)*] ')']
    arg   := NAME '=' value | expr       (positional arguments only for chain(...) and oneof(...))
    value := number | true | false | word | "quoted string" | '[' value (',' value)* ']'

``chain(a, b, p=0.5)`` and ``oneof(a, b, weights=[3, 1], p=0.8)`` give composites a probability or
weights. In TOML, a corruption is either such a string or an array of tables
(``[[corruption]] name = "gaussian"  std = 0.5``), applied in order.
"""

from __future__ import annotations

import re
from typing import Any

from sigdae.corruptions.base import Corruption, CorruptionError
from sigdae.corruptions.compose import Chain, OneOf
from sigdae.registry import CORRUPTIONS, RegistryError
from sigdae.values import format_call, format_value, parse_quoted, parse_word

__all__ = ["parse", "from_config", "format_value", "format_call"]

MAX_DEPTH = 64  # brackets and parentheses inside one another

_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<punct>[()\[\],=+|])|(?P<word>[^\s()\[\],=+|"]+))')


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise CorruptionError(f"corruption spec: cannot read {text[pos:]!r}")
        kind = m.lastgroup
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    def error(self, msg: str) -> CorruptionError:
        shown = self.text if len(self.text) <= 80 else self.text[:77] + "..."
        return CorruptionError(f"corruption spec {shown!r}: {msg}")

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise self.error(f"ended early{f', expected {value!r}' if value else ''}")
        if value is not None and tok[1] != value:
            raise self.error(f"expected {value!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Corruption:
        if not self.tokens:
            raise self.error("is empty")
        node = self.expr()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()[1]!r}")
        return node

    def expr(self) -> Corruption:
        options = [self.seq()]
        while self.peek() == ("punct", "|"):
            self.take("|")
            options.append(self.seq())
        return options[0] if len(options) == 1 else OneOf(options)

    def seq(self) -> Corruption:
        steps = [self.atom()]
        while self.peek() == ("punct", "+"):
            self.take("+")
            steps.append(self.atom())
        if len(steps) == 1:
            return steps[0]
        flat = [s for step in steps for s in (step.steps if type(step) is Chain and step.p == 1.0 else [step])]
        return Chain(flat)

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"is nested more than {MAX_DEPTH} levels deep")

    def atom(self) -> Corruption:
        self.nest()
        try:
            return self._atom()
        finally:
            self.depth -= 1

    def _atom(self) -> Corruption:
        tok = self.peek()
        if tok == ("punct", "("):
            self.take("(")
            node = self.expr()
            self.take(")")
            return node
        kind, name = self.take()
        if kind != "word":
            raise self.error(f"expected a corruption name, found {name!r}")
        positional: list[Any] = []
        kwargs: dict[str, Any] = {}
        if self.peek() == ("punct", "("):
            self.take("(")
            while self.peek() != ("punct", ")"):
                if self.peek() is None:
                    raise self.error(f"ended early, expected ')' to close {name}(")
                nxt = self.peek(1)
                if self.peek() and self.peek()[0] == "word" and nxt == ("punct", "="):
                    key = self.take()[1]
                    self.take("=")
                    if key in kwargs:
                        raise self.error(f"{name}: {key} given twice")
                    kwargs[key] = self.value()
                elif name in ("chain", "oneof"):
                    positional.append(self.expr())
                else:
                    positional.append(self.value())
                if self.peek() == ("punct", ","):
                    self.take(",")
                elif self.peek() is None:
                    raise self.error(f"ended early, expected ')' to close {name}(")
                elif self.peek() != ("punct", ")"):
                    raise self.error(f"expected ',' or ')' in {name}(...)")
            self.take(")")
        return _build(name, positional, kwargs, self.error)

    def value(self) -> Any:
        kind, tok = self.take()
        if tok == "[":
            self.nest()
            items = []
            while self.peek() != ("punct", "]"):
                items.append(self.value())
                if self.peek() == ("punct", ","):
                    self.take(",")
            self.take("]")
            self.depth -= 1
            return items
        if kind == "str":
            return parse_quoted(tok)
        if kind != "word":
            raise self.error(f"expected a value, found {tok!r}")
        return parse_word(tok)


def _build(name: str, positional: list[Corruption], kwargs: dict[str, Any], error) -> Corruption:
    if name == "chain":
        return Chain(positional, **kwargs)
    if name == "oneof":
        return OneOf(positional, **kwargs)
    try:
        cls = CORRUPTIONS.get(name)
    except RegistryError as exc:
        raise CorruptionError(str(exc)) from None
    if positional:
        names = [prm.name for prm in cls.params]
        if len(names) != 1 or len(positional) != 1 or names[0] in kwargs:
            example = f"{name}({names[0]}=...)" if names else name
            raise error(f"{name}: give its parameters by name, e.g. {example} "
                        f"(parameters: {', '.join(['p', *names])})")
        kwargs[names[0]] = positional[0]
    return cls(**kwargs)


def parse(text: str) -> Corruption:
    """Build a corruption from a spec string."""
    return _Parser(text).parse()


def from_config(config: Any) -> Corruption:
    """Build a corruption from a spec string, a table (``to_config()`` form) or a list of tables."""
    if isinstance(config, Corruption):
        return config
    if isinstance(config, str):
        return parse(config)
    if isinstance(config, (list, tuple)):
        steps = [from_config(c) for c in config]
        return steps[0] if len(steps) == 1 else Chain(steps)
    if isinstance(config, dict):
        config = dict(config)
        name = config.pop("name", None)
        if name is None:
            raise CorruptionError(f"corruption table needs a 'name' key: {config}")
        if name == "chain":
            return Chain([from_config(c) for c in config.pop("steps")], **config)
        if name == "oneof":
            return OneOf([from_config(c) for c in config.pop("choices")], **config)
        return _build(name, [], config, CorruptionError)
    raise CorruptionError(f"cannot build a corruption from {type(config).__name__}")
