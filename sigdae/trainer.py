"""The training loop: corrupt on the fly, fit, validate each epoch, checkpoint atomically, resume.

A run lives in a directory written through :class:`sigdae.runs.RunDir` (config, status, events,
checkpoints, preview). Nothing here prints: progress is rendered by listeners of the event log (the
CLI's progress display; the TUI tails the file). The task (``sigdae.tasks``) supplies data, validation,
metrics and the default corruption; the trainer knows no task by name.
"""

from __future__ import annotations

import math
import os
import time
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from sigdae import checkpoint, distributed
from sigdae.config import ConfigError, complete, dumps_toml
from sigdae.corruptions import Corruption, from_config as build_corruption
from sigdae.device import autocast_dtype, compile_backend, memory_stats, select_device
from sigdae.errors import RunError, SigdaeError, TrainingError
from sigdae.finetune import adopt_init_model, load_init_state
from sigdae.interrupts import StopRequested, graceful_stop
from sigdae.losses import weight_penalty
from sigdae.optim import batch_scaled_lr, lr_factor, make_optimizer
from sigdae.runs import EventLog, Listener, Preview, RunDir, RunStatus
from sigdae.runs.loggers import make_loggers
from sigdae.tasks import Task, TaskData, get_task
from sigdae.train_state import TrainState


class Trainer:
    """Fits a model described by a run config; see the module docstring for the run directory."""

    def __init__(self, config: dict[str, Any], run_dir: str | os.PathLike | None = None,
                 listeners: list[Listener] | None = None, resume: bool = False):
        from sigdae.losses import build_loss
        from sigdae.models import build_model

        self.config = complete(config)
        task = get_task(str(self.config["task"]))
        self.run = RunDir(run_dir) if run_dir else None
        self.run_dir = self.run.path if self.run else None
        self.resume = resume
        self.train_cfg = self.config["train"]
        self.group = distributed.from_env()
        distributed.check_batch(self.group, self.train_cfg["batch_size"])
        self.device = distributed.start(self.group, select_device(str(self.config["device"])))
        self.writer = self.run if self.group.main else None  # rank 0 alone writes the run directory
        torch.manual_seed(int(self.config["seed"]))
        init_state, grown = adopt_init_model(self.config) if self.train_cfg["init"] and not resume else (None, [])
        self.model = build_model(self.config["model"]["name"],
                                 **{k: v for k, v in self.config["model"].items() if k != "name"}).to(self.device)
        if init_state is not None:
            load_init_state(self.model, init_state, may_lack_parameters=bool(grown),
                            widen=bool(self.train_cfg["widen"]))
        self.loss_fn = build_loss(self.config["loss"].get("spec", "mse"))
        self.penalty_weights = dict(self.config["loss"].get("penalties", {}))
        self.weight_l1 = float(self.config["loss"].get("l1", 0.0))
        self.weight_l2 = float(self.config["loss"].get("l2", 0.0))
        self.corruption = self._corruption(task)
        self.train_state = TrainState(int(self.config["seed"]), self.device)
        self.state = self.train_state.counters
        self.shuffle_gen, self.noise_gen = self.train_state.shuffle_gen, self.train_state.noise_gen
        self.task: TaskData = task.build(self.config, self.corruption, self.device, self.shuffle_gen)
        # channels_last: 2-D convolutions (images, spectrograms) run about 1.3x faster on oneDNN and cuDNN;
        # 1-D weights are left as they are. Before DDP is built, whose gradient buckets follow the layout.
        self.model.to(memory_format=torch.channels_last)
        self.net = distributed.wrap(self.group, self.model, self.device)  # raw output; DDP when distributed
        if self.train_cfg["compile"]:
            self.net = torch.compile(self.net, backend=compile_backend(self.train_cfg["compile"]))
        self.optimizer = make_optimizer(self.model, self.train_cfg)
        self.amp_dtype = self._amp_dtype()
        self.scaler = torch.amp.GradScaler("cuda") if self.amp_dtype == torch.float16 else None
        self.stop_flag = {"stop": False}
        if self.writer is not None:
            listeners = [*(listeners or []), *make_loggers(self.train_cfg["loggers"], self.writer)]
        self.events = self.writer.event_log(listeners) if self.writer else EventLog(None, listeners if
                                                                                   self.group.main else [])

    def _corruption(self, task: Task) -> Corruption:
        """The run's corruption; ``auto`` is the task's default, written into the config as its spec."""
        spec = self.config["corruption"].get("spec")
        if str(spec).strip() == "auto":
            corruption = task.default_corruption(self.config.get("data", {}))
            self.config["corruption"]["spec"] = corruption.spec()
            return corruption
        corruption = build_corruption(spec or "gaussian(std=0)")
        if task.signal not in corruption.supports:
            raise ConfigError(f"the corruption {corruption.spec()} works on {' and '.join(sorted(corruption.supports))}, "
                              f"not on the {task.signal}s of task '{task.name}'")
        return corruption

    # ---- setup -------------------------------------------------------------------------------
    def _amp_dtype(self) -> torch.dtype | None:
        return autocast_dtype(self.device, self.train_cfg["amp"])

    def _prepare_run_dir(self) -> None:
        if self.writer is None:  # no run directory, or a process other than rank 0 (it only reads)
            if self.run is not None and self.resume and self.run.last_checkpoint.exists():
                self._load_last()
            return
        self.run.create()
        if not self.resume and self.run.has_checkpoint():
            raise ConfigError(f"{self.run_dir} already holds a run with a model: pass --resume to continue it, "
                           f"--init {self.run_dir} to fine-tune from it, or choose another --run-dir")
        if self.resume and self.run.last_checkpoint.exists():
            self._load_last()
        elif self.resume and self.run.best_checkpoint.exists():
            raise RunError(f"{self.run_dir} has best.pt but no last.pt to resume from: fine-tune from it with "
                           f"--init {self.run_dir} and a new --run-dir")
        self.run.write_config(self.config)
        self._write_status("running")

    def _write_status(self, status: str, **extra: Any) -> None:
        if self.writer is None:
            return
        self.run.write_status(RunStatus.mine(status, device=str(self.device), task=self.config["task"],
                                             model=self.config["model"]["name"],
                                             corruption=self.corruption.spec(), processes=self.group.world,
                                             **extra))

    def _load_last(self) -> None:
        payload = checkpoint.load(self.run.last_checkpoint, map_location=self.device)
        self.model.load_state_dict(payload["model"]["state"])
        self.optimizer.load_state_dict(payload["optimizer"])
        self.train_state.restore(payload)

    def _save(self, name: str) -> None:
        """``last`` (resumable) or ``best`` (inference only: no optimizer state)."""
        if self.writer is None:
            return
        payload = checkpoint.model_payload(
            self.model, config_toml=dumps_toml(self.config), task=self.config["task"],
            signal=self.task.signal, sample_rate=self.task.sample_rate, corruption=self.corruption.spec(),
            optimizer=self.optimizer.state_dict(), **self.train_state.checkpoint_fields())
        if name == "best":
            payload.pop("optimizer")
        checkpoint.save(self.run.checkpoint(name), payload)

    # ---- the loop ----------------------------------------------------------------------------
    def progress(self) -> float:
        t = self.train_cfg
        by_steps = self.state["step"] / max(1, t["epochs"] * self.steps_per_epoch())
        budget = t["max_minutes"] * 60
        return min(1.0, max(by_steps, self.state["elapsed"] / budget if budget else 0.0))

    def steps_per_epoch(self) -> int:
        return int(self.train_cfg["steps_per_epoch"]) or len(self.task.train)

    def _set_lr(self) -> float:
        t = self.train_cfg
        factor = lr_factor(self.progress(), t["warmup"], t["schedule"], t["min_lr_ratio"]) * self.state["lr_scale"]
        lr = batch_scaled_lr(t["lr"], t["batch_size"], t["lr_batch"], t["lr_rule"]) * factor
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        return lr

    def _batches(self) -> Iterator[Any]:
        """Endless training batches, ``steps_per_epoch`` at a time. Every epoch starts a fresh pass (a new
        shuffle), so the data order depends only on the checkpointed generators and resuming is exact."""
        while True:
            yield from self.task.train

    def train_step(self, batch: Any) -> torch.Tensor:
        if isinstance(batch, (tuple, list)):
            noisy, clean = (b.to(self.device, non_blocking=True) for b in batch)
        else:
            clean = batch.to(self.device, non_blocking=True)
            with torch.no_grad():
                noisy = self.corruption(clean, self.noise_gen, sample_rate=self.task.sample_rate)
        noisy, clean = distributed.shard(self.group, (noisy, clean))  # every process drew the same global batch
        autocast = torch.autocast(self.device.type, dtype=self.amp_dtype) if self.amp_dtype else nullcontext()
        with autocast:
            raw = self.net(noisy)
            pred = self.model.activate(raw)
            logits = raw if self.model.output_activation == "sigmoid" else None
            loss = self.loss_fn(pred.float(), clean, logits=None if logits is None else logits.float())
            for key, term in self.model.penalties().items():
                loss = loss + float(self.penalty_weights.get(key, 1.0)) * term
            if self.weight_l1 or self.weight_l2:
                loss = loss + weight_penalty(self.model, l1=self.weight_l1, l2=self.weight_l2)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        if self.train_cfg["grad_clip"]:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.train_cfg["grad_clip"])
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        return loss.detach()

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        self.model.eval()
        totals: dict[str, float] = {}
        n = self.task.val_noisy.shape[0]
        batch = max(1, self.train_cfg["batch_size"])
        limit = self.train_cfg["val_batches"] * batch or n
        seen = 0
        for i in range(0, min(n, limit), batch):
            noisy = self.task.val_noisy[i:i + batch].to(self.device)
            clean = self.task.val_clean[i:i + batch].to(self.device)
            raw = self.model.forward_raw(noisy)
            pred = self.model.activate(raw)
            logits = raw if self.model.output_activation == "sigmoid" else None
            parts = {"loss": self.loss_fn(pred, clean, logits=logits) * clean.shape[0]}
            parts.update({k: v.sum() for k, v in self.task.metrics(pred, clean).items()})
            for key, value in parts.items():
                totals[key] = totals.get(key, 0.0) + float(value)
            seen += clean.shape[0]
        self.model.train()
        return {k: v / seen for k, v in totals.items()}

    def _write_preview(self) -> None:
        if self.writer is None:
            return
        count = self.task.preview_items
        noisy = self.task.val_noisy[:count].to(self.device)
        with torch.no_grad():
            self.model.eval()
            denoised = self.model(noisy).float().cpu()
            self.model.train()
        arrays = {"clean": self.task.val_clean[:count].numpy(), "noisy": noisy.cpu().numpy(),
                  "denoised": denoised.numpy()}
        self.run.write_preview(Preview(self.task.signal, self.state["epoch"], self.task.sample_rate or 0,
                                       {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}))

    def fit(self) -> dict[str, Any]:
        """Train until the epochs or the time budget are spent, a stop is asked for, or early stopping."""
        try:
            with ExitStack() as hold:
                error = None
                try:
                    if self.writer is not None:
                        hold.enter_context(self.writer.lock())
                    self._prepare_run_dir()
                except SigdaeError as exc:
                    error = exc
                if distributed.agree(self.group, self.device, error is not None)[0]:  # all stop, or none
                    raise error or RunError("the main training process could not set up the run directory")
                return self._fit()
        finally:
            distributed.finish(self.group)

    def _fit(self) -> dict[str, Any]:
        self.model.train()
        steps_per_epoch = self.steps_per_epoch()
        t = self.train_cfg
        self.events.emit("start", run_dir=str(self.run_dir) if self.run_dir else None, device=str(self.device),
                         task=self.config["task"], model=self.config["model"]["name"],
                         parameters=self.model.num_parameters(), corruption=self.corruption.spec(),
                         epochs=t["epochs"], max_minutes=t["max_minutes"], steps_per_epoch=steps_per_epoch,
                         batch_size=t["batch_size"], resumed_from_epoch=self.state["epoch"],
                         precision=str(self.amp_dtype or torch.float32).removeprefix("torch."),
                         data=self.task.info, config=self.config)
        status, error = "finished", None
        try:
            with graceful_stop(self.stop_flag):
                while not self._done():
                    self._run_epoch(self.train_state.epoch_batches(self._batches), steps_per_epoch)
        except StopRequested:
            status = "stopped"
        except OSError as exc:  # a full disk, a folder gone: one line, and the run says it failed
            self._finish("failed", f"{type(exc).__name__}: {exc}")
            raise TrainingError(f"training stopped by a file error: {exc}; last.pt keeps the last complete "
                                "checkpoint") from exc
        except BaseException as exc:
            status, error = ("interrupted", "KeyboardInterrupt") if isinstance(exc, KeyboardInterrupt) else (
                "failed", f"{type(exc).__name__}: {exc}")
            self._finish(status, error)
            raise
        self._finish(status, error)
        return self.summary(status)

    def _done(self) -> bool:
        t = self.train_cfg
        if self.state["epoch"] >= t["epochs"]:
            return True
        if t["max_minutes"] and self.state["elapsed"] >= t["max_minutes"] * 60:
            return True
        patience = t["early_stop_patience"]
        return bool(patience and self.state["bad_epochs"] >= patience)

    def _check_stop(self) -> None:
        asked = self.stop_flag["stop"] or (self.writer is not None and self.writer.stop_requested())
        if distributed.agree(self.group, self.device, asked)[0]:
            if self.writer is not None:
                self.writer.clear_stop()
            self._save("last")
            raise StopRequested

    def _run_epoch(self, batches: Iterator[Any], steps_per_epoch: int) -> None:
        t, st = self.train_cfg, self.state
        epoch = st["epoch"] + 1
        window_loss, window_steps, window_samples = torch.zeros((), device=self.device), 0, 0
        last_log = tick = time.perf_counter()
        budget = t["max_minutes"] * 60
        while st["epoch_step"] < steps_per_epoch:
            self._check_stop()
            lr = self._set_lr()
            batch = next(batches)
            window_loss += self.train_step(batch)
            window_steps += 1
            window_samples += (batch[0] if isinstance(batch, (tuple, list)) else batch).shape[0]
            st["step"] += 1
            st["epoch_step"] += 1
            now = time.perf_counter()
            st["elapsed"] += now - tick
            tick = now
            (out_of_time,) = distributed.agree(self.group, self.device, bool(budget and st["elapsed"] >= budget))
            if now - last_log >= t["log_every_s"] or st["epoch_step"] == steps_per_epoch or out_of_time:
                loss = float(window_loss) / window_steps  # every epoch ends with a step event
                self._check_finite(loss, batch)
                st["epoch_loss_sum"] += loss * window_steps
                st["epoch_loss_steps"] += window_steps
                self.events.emit("step", epoch=epoch, step=st["step"], loss=loss, lr=lr,
                                 samples_per_s=window_samples / max(now - last_log, 1e-9), progress=self.progress(),
                                 elapsed=st["elapsed"], eta=self._eta(), memory=memory_stats(self.device))
                window_loss.zero_()
                window_steps = window_samples = 0
                last_log = now
            if out_of_time:
                break
        self._end_epoch(epoch, self.train_state.end_epoch())

    def _check_finite(self, loss: float, batch: Any) -> None:
        """Stop with a clear error once the loss is not finite; ``last.pt`` keeps the last finite epoch."""
        if math.isfinite(loss):
            return
        where = f"the training loss became {loss} at step {self.state['step']}"
        clean = batch[1] if isinstance(batch, (tuple, list)) else batch
        if not isinstance(batch, (tuple, list)):
            with torch.no_grad():
                noisy = self.corruption(clean.to(self.device), self.noise_gen, sample_rate=self.task.sample_rate)
            if not torch.isfinite(noisy).all():
                raise TrainingError(f"{where}: the corruption {self.corruption.spec()} gives non-finite values")
        if not torch.isfinite(clean).all():
            raise TrainingError(f"{where}: the training data hold non-finite values")
        raise TrainingError(f"{where} (training diverged: try a lower train.lr or a train.grad_clip)")

    def _end_epoch(self, epoch: int, train_loss: float) -> None:
        t = self.train_cfg
        started = time.perf_counter()
        val = self.validate()
        if any(math.isnan(v) for v in val.values()):
            nan = ", ".join(k for k, v in val.items() if math.isnan(v))
            raise TrainingError(f"validation after epoch {epoch} gave NaN ({nan}): the model diverged; "
                                "last.pt keeps the previous epoch")
        self.state["epoch"] = epoch
        score = val.get(self.task.monitor, -val["loss"])
        improved = score > self.state["best"]
        if improved:
            self.state.update(best=score, best_epoch=epoch, bad_epochs=0)
        else:
            self.state["bad_epochs"] += 1
            if t["schedule"] == "plateau" and self.state["bad_epochs"] % 2 == 0:
                self.state["lr_scale"] *= 0.5
        self.state["history"].append({"epoch": epoch, "train_loss": train_loss, **{f"val_{k}": v for k, v in val.items()}})
        self._save("last")
        if improved:
            self._save("best")
        self._write_preview()
        self.events.emit("epoch", epoch=epoch, step=self.state["step"], train_loss=train_loss,
                         val=val, monitor=self.task.monitor, best=self.state["best"],
                         best_epoch=self.state["best_epoch"], improved=improved, progress=self.progress(),
                         elapsed=self.state["elapsed"], eta=self._eta(), val_seconds=time.perf_counter() - started)

    def _eta(self) -> float | None:
        p = self.progress()
        return self.state["elapsed"] * (1 - p) / p if p > 0 else None

    def _finish(self, status: str, error: str | None) -> None:
        """The end event and status; on a full disk they may not be writable, which must not hide why
        the run ended (a run.json left at "running" reads as interrupted once the process is gone)."""
        try:
            self.events.emit("end", status=status, error=error, epoch=self.state["epoch"], step=self.state["step"],
                             best=self.state["best"], best_epoch=self.state["best_epoch"],
                             elapsed=self.state["elapsed"])
            self._write_status(status, error=error, epoch=self.state["epoch"], best=self.state["best"],
                               monitor=self.task.monitor)
        except OSError:
            pass
        finally:
            self.events.close()

    def summary(self, status: str) -> dict[str, Any]:
        last = self.state["history"][-1] if self.state["history"] else {}
        return {"status": status, "epochs": self.state["epoch"], "steps": self.state["step"],
                "elapsed": self.state["elapsed"], "best": self.state["best"], "best_epoch": self.state["best_epoch"],
                "monitor": self.task.monitor, "last": last, "run_dir": str(self.run_dir) if self.run_dir else None}

