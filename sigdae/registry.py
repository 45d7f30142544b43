"""One registration mechanism for corruptions, models and losses.

Built-ins register with a decorator; other distributions add entries through the entry-point group
``sigdae.<kind>`` (e.g. ``sigdae.corruptions``). Plugins are imported lazily, on the first lookup, and a
plugin that fails to import is recorded with its error instead of taking the registry down.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import inspect
import re
from typing import Any, Callable, Iterator

from sigdae.errors import PluginError


class RegistryError(PluginError):
    """A name is unknown, taken twice, or its plugin failed to load."""


class Registry:
    def __init__(self, kind: str, group: str | None = None):
        self.kind = kind
        self.group = group or f"sigdae.{kind}"
        self._entries: dict[str, Any] = {}
        self._origins: dict[str, str] = {}
        self._failed: dict[str, str] = {}
        self._plugins_loaded = False

    def register(self, name: str | None = None, *, replace: bool = False) -> Callable[[Any], Any]:
        """Decorator: ``@MODELS.register("conv")`` (name defaults to the object's ``name`` or ``__name__``)."""

        def decorate(obj: Any) -> Any:
            key = name or obj.__dict__.get("name") or obj.__name__
            self.add(key, obj, origin=getattr(obj, "__module__", "?"), replace=replace)
            return obj

        return decorate

    def add(self, name: str, obj: Any, *, origin: str = "?", replace: bool = False) -> None:
        if name in self._entries and not replace and self._entries[name] is not obj:
            raise RegistryError(f"{self.kind} '{name}' is already registered (by {self._origins[name]})")
        self._entries[name] = obj
        self._origins[name] = origin
        if isinstance(obj, type) and not obj.__dict__.get("name"):
            obj.name = name

    def load_plugins(self, *, force: bool = False) -> None:
        if self._plugins_loaded and not force:
            return
        self._plugins_loaded = True
        for ep in importlib.metadata.entry_points(group=self.group):
            if ep.name in self._entries and self._origins.get(ep.name, "").startswith("entry point"):
                continue
            try:
                obj = ep.load()
            except Exception as exc:  # a broken plugin must not break sigdae
                self._failed[ep.name] = (
                    f"plugin {self.kind} '{ep.name}' (entry point {self.group}: {ep.value}) "
                    f"failed to import: {type(exc).__name__}: {exc}"
                )
                continue
            self._failed.pop(ep.name, None)
            if ep.name not in self._entries:
                self.add(ep.name, obj, origin=f"entry point {self.group}: {ep.value}")

    @property
    def failures(self) -> dict[str, str]:
        """Plugins that failed to load: name -> one-line error."""
        self.load_plugins()
        return dict(self._failed)

    def list(self, pattern: str | None = None) -> list[str]:
        self.load_plugins()
        names = sorted(self._entries)
        return [n for n in names if fnmatch.fnmatch(n, pattern)] if pattern else names

    def get(self, name: str) -> Any:
        self.load_plugins()
        if name in self._entries:
            return self._entries[name]
        if name in self._failed:
            raise RegistryError(self._failed[name])
        known = ", ".join(self.list()) or "none"
        raise RegistryError(f"unknown {self.kind} '{name}' (known: {known})")

    def origin(self, name: str) -> str:
        self.get(name)
        return self._origins[name]

    def describe(self, name: str) -> dict[str, Any]:
        obj = self.get(name)
        doc = inspect.getdoc(obj) or ""
        info: dict[str, Any] = {"name": name, "kind": self.kind, "origin": self._origins[name],
                                "summary": doc.split("\n\n")[0].replace("\n", " ")}
        info["headline"] = re.split(r"(?<=[.;])\s", info["summary"].replace("``", ""))[0].rstrip(".;")
        describe = getattr(obj, "describe", None)
        if callable(describe):
            info.update(describe())
        return info

    def __contains__(self, name: str) -> bool:
        self.load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.list())


CORRUPTIONS = Registry("corruptions")
MODELS = Registry("models")
LOSSES = Registry("losses")
