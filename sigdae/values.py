"""Values written and read as one-line text: corruption-spec literals and ``KEY=VALUE`` settings.

* :func:`format_value` writes a value as a spec literal: ``0.5``, ``true``, ``[0.1, 0.5]``, ``none``,
  a bare word where it reads back as the same text, otherwise a double-quoted string.
* :func:`parse_word` and :func:`parse_quoted` read a spec's bare words and quoted strings back.
* :func:`parse_value` reads a setting typed by a user (``--set``, the TUI's forms): a TOML value
  where the text is one (numbers, lists, booleans, quoted strings), otherwise the plain text.

This module imports nothing of sigdae, so every layer can use it.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_./~:-]+$")
_NONE_WORDS = ("none", "null")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f]')


def parse_word(word: str) -> Any:
    """The value a bare spec word stands for: ``true``/``false`` (any case), ``none``/``null`` (None),
    an int, a float (Python's syntax, so ``.5`` and ``inf`` too), otherwise the word itself."""
    low = word.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in _NONE_WORDS:
        return None
    try:
        return int(word)
    except ValueError:
        pass
    try:
        return float(word)
    except ValueError:
        return word


def parse_quoted(literal: str) -> str:
    """The text of a double-quoted spec string (``"a \\"b\\""`` -> ``a "b"``); backslash escapes are
    Python's, and characters beyond ASCII are kept as they are."""
    return literal[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")


def _quote(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return _ESCAPES.get(char) or f"\\u{ord(char):04x}"

    return '"' + _NEEDS_ESCAPE.sub(escape, text) + '"'


def format_value(value: Any) -> str:
    """A value as a spec literal that :func:`parse_word` / :func:`parse_quoted` read back unchanged.

    Whole floats keep a ``.0`` (``1.0``, not ``1``) so they read back as floats; a string is bare when
    it would read back as the same string, otherwise quoted (control characters escaped), so the
    result stays on one line."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(int(value)) + ".0" if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if value is None:
        return "none"
    text = str(value)
    if _BARE.match(text) and isinstance(parse_word(text), str):
        return text
    return _quote(text)


def format_call(name: str, values: dict[str, Any]) -> str:
    """``name(key=value, ...)`` with each value as a spec literal."""
    args = ", ".join(f"{k}={format_value(v)}" for k, v in values.items())
    return f"{name}({args})"


def parse_value(text: str, plain_text: bool = True) -> Any:
    """A TOML value where ``text`` is one (``3``, ``1e-3``, ``[16, 32]``, ``true``, ``"relu"``); otherwise
    the stripped plain text, or with ``plain_text=False`` a ValueError."""
    text = text.strip()
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if plain_text:
            return text
        raise ValueError(f"not a TOML value: {text!r}") from None
