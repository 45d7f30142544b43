"""Self-describing checkpoints: registry name + config + state, loaded with ``weights_only=True``.

Nothing in a checkpoint is pickled code: a model is rebuilt from its registry name and config, so a
checkpoint from someone else can be inspected and loaded without executing anything from it.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any, Sequence

import torch

from sigdae.errors import CheckpointError  # noqa: F401  (raised here; importable from here)
from sigdae.version import __version__
from sigdae.fileio import atomic_output

FORMAT = 1




def save(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    with atomic_output(path) as tmp:
        torch.save({"format": FORMAT, "sigdae_version": __version__, **payload}, tmp)


def model_payload(model: torch.nn.Module, **extra: Any) -> dict[str, Any]:
    return {"model": {"name": model.name, "config": model.config,
                      "state": {k: v.detach().cpu() for k, v in model.state_dict().items()}}, **extra}


def resolve(path: str | os.PathLike, prefer: str = "best.pt") -> Path:
    """A checkpoint file from a file path or a run directory (``best.pt``, else ``last.pt``)."""
    path = Path(path)
    if path.is_dir():
        for name in (prefer, "best.pt", "last.pt"):
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"no checkpoint (best.pt or last.pt) in {path}")
    if not path.is_file():
        raise CheckpointError(f"no such checkpoint or run directory: {path}")
    return path


def load(path: str | os.PathLike, prefer: str = "best.pt", map_location: str | torch.device = "cpu") -> dict[str, Any]:
    file = resolve(path, prefer)
    if file.stat().st_size == 0:
        raise CheckpointError(f"cannot read checkpoint {file}: the file is empty")
    try:
        payload = torch.load(file, map_location=map_location, weights_only=True)
    except Exception as exc:  # corrupt file, pickled code, not a torch file at all
        raise CheckpointError(f"cannot read checkpoint {file}: {_load_failure(file, exc)}") from None
    model = payload.get("model") if isinstance(payload, dict) else None
    if not isinstance(model, dict) or "name" not in model:
        raise CheckpointError(f"{file} is not a sigdae checkpoint")
    if not isinstance(model.get("config", {}), dict) or not isinstance(model.get("state", {}), dict):
        raise CheckpointError(f"{file} is damaged: its model config or weights are not tables")
    bad = [k for k, v in model.get("state", {}).items()
           if isinstance(v, torch.Tensor) and v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{file} holds non-finite weights ({bad[0]}{' and others' if len(bad) > 1 else ''}): "
                              "the run that wrote it diverged")
    payload["path"] = str(file)
    return payload


def _load_failure(file: Path, exc: Exception) -> str:
    """Why torch.load refused a file, in one line, without PyTorch's advice to trust the file."""
    if not zipfile.is_zipfile(file):
        return "not a PyTorch checkpoint, or damaged"
    text = str(exc)
    if "weights_only" in text or "Unsupported global" in text:
        return "it holds Python objects other than weights, which sigdae never loads"
    return text.splitlines()[0][:200] if text else type(exc).__name__


INFERENCE_KEYS = ("model", "task", "signal", "sample_rate", "corruption", "config_toml")


def average_states(payloads: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """The mean of several checkpoints' weights (a "model soup"): they must share one architecture, as
    runs fine-tuned from the same weights do. Integer buffers (batch-norm step counts) come from the first."""
    first = payloads[0]["model"]
    for other in payloads[1:]:
        spec = other["model"]
        same = (spec["name"], spec["config"], spec["state"].keys()) == (first["name"], first["config"],
                                                                          first["state"].keys())
        if not same:
            raise CheckpointError(f"cannot average {other['path']} with {payloads[0]['path']}: "
                                  "the models differ in architecture")
    return {key: torch.stack([p["model"]["state"][key].float() for p in payloads]).mean(0).to(value.dtype)
            if value.is_floating_point() else value for key, value in first["state"].items()}


def export(src: str | os.PathLike, dst: str | os.PathLike, note: str = "",
           average: Sequence[str | os.PathLike] = ()) -> dict[str, Any]:
    """Write an inference-only copy of a run's checkpoint (no optimizer, RNG or history), e.g. to ship it;
    with ``average``, its weights are averaged with those of the other runs or checkpoints."""
    payload = load(src)
    slim = {k: payload[k] for k in INFERENCE_KEYS if k in payload}
    if average:
        others = [load(p) for p in average]
        slim["model"] = {**payload["model"], "state": average_states([payload, *others])}
        slim["averaged_from"] = [payload["path"], *(o["path"] for o in others)]
    trainer = payload.get("trainer", {})
    slim["trained"] = {k: trainer[k] for k in ("epoch", "step", "elapsed", "best", "best_epoch") if k in trainer}
    if note:
        slim["note"] = note
    save(dst, slim)
    return slim


def build_model(payload: dict[str, Any]) -> torch.nn.Module:
    from sigdae.models import build_model as build

    spec = payload["model"]
    model = build(spec["name"], **spec["config"])
    try:
        model.load_state_dict(spec["state"])
    except RuntimeError as exc:
        raise CheckpointError(f"checkpoint weights do not fit model '{spec['name']}': "
                              f"{str(exc).splitlines()[0][:200]}") from None
    return model
