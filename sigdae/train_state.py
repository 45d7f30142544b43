"""What a resumable run remembers besides weights and optimizer: its counters, best score and history,
its random generators, and where it stands inside an epoch."""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Iterator

import torch


class TrainState:
    def __init__(self, seed: int, device: torch.device):
        # epoch_step / epoch_loss_*: where a run stopped inside an epoch, so a resume continues there
        self.counters: dict[str, Any] = {
            "epoch": 0, "step": 0, "elapsed": 0.0, "best": -math.inf, "best_epoch": 0, "bad_epochs": 0,
            "lr_scale": 1.0, "history": [], "epoch_step": 0, "epoch_loss_sum": 0.0, "epoch_loss_steps": 0}
        self.shuffle_gen = torch.Generator().manual_seed(seed)             # data order and augmentation
        self.noise_gen = torch.Generator(device=device).manual_seed(seed + 7)   # corruption draws
        self.epoch_rng: dict[str, torch.Tensor] = {}   # the data generators' states when the epoch began

    def checkpoint_fields(self) -> dict[str, Any]:
        """The ``trainer`` and ``rng`` entries of a checkpoint."""
        trainer = {k: v for k, v in self.counters.items() if k != "history"}
        trainer["history_json"] = json.dumps(self.counters["history"])
        rng = {"shuffle": self.shuffle_gen.get_state(), "noise": self.noise_gen.get_state(),
               "torch": torch.get_rng_state(), **{f"epoch_{k}": v for k, v in self.epoch_rng.items()}}
        return {"trainer": trainer, "rng": rng}

    def restore(self, payload: dict[str, Any]) -> None:
        self.counters.update(payload["trainer"])
        self.counters["history"] = json.loads(self.counters.pop("history_json", "[]"))
        self.shuffle_gen.set_state(payload["rng"]["shuffle"].cpu())
        self.noise_gen.set_state(payload["rng"]["noise"].cpu())
        torch.set_rng_state(payload["rng"]["torch"].cpu())
        if self.counters["epoch_step"]:
            self.epoch_rng = {k: payload["rng"][f"epoch_{k}"].cpu() for k in ("shuffle", "torch")}

    def epoch_batches(self, make_batches: Callable[[], Iterator[Any]]) -> Iterator[Any]:
        """This epoch's batches. After a stop inside an epoch, the generators go back to where the epoch
        began and the batches already trained on are drawn again and skipped, so the resumed run sees
        exactly the batches an uninterrupted one would; then the generators take their stop states."""
        if not self.counters["epoch_step"]:
            self.epoch_rng = {"shuffle": self.shuffle_gen.get_state(), "torch": torch.get_rng_state()}
            return make_batches()
        at_stop = {"shuffle": self.shuffle_gen.get_state(), "torch": torch.get_rng_state()}
        self.shuffle_gen.set_state(self.epoch_rng["shuffle"])
        torch.set_rng_state(self.epoch_rng["torch"])
        batches = make_batches()
        for _ in range(self.counters["epoch_step"]):
            next(batches)
        self.shuffle_gen.set_state(at_stop["shuffle"])
        torch.set_rng_state(at_stop["torch"])
        return batches

    def end_epoch(self) -> float:
        """The finished epoch's mean training loss; the position inside the epoch starts again."""
        c = self.counters
        train_loss = c["epoch_loss_sum"] / max(1, c["epoch_loss_steps"])
        c.update(epoch_step=0, epoch_loss_sum=0.0, epoch_loss_steps=0)
        self.epoch_rng = {}
        return train_loss
