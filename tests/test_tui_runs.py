"""Pure parts of the TUI and what it stands on: run directories and process state (``sigdae.runs``), the
event fold, the runs list's columns, the form rules."""

import torch

torch.set_num_threads(1)

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

from sigdae import runs  # noqa: E402
from sigdae.runs import RunDir, RunStatus  # noqa: E402
from sigdae.tui.catalog import load_catalog  # noqa: E402
from sigdae.tui.formatting import format_age, format_duration  # noqa: E402
from sigdae.tui.run_form import build_config, check_corruption, fields_for_task, initial_values  # noqa: E402
from sigdae.tui.run_state import RunState  # noqa: E402

HOST = os.uname().nodename


@pytest.fixture
def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass", "sigdae-test-run"])
    proc.wait()
    return proc.pid


def write_run(path, **info):
    run = RunDir(path)
    run.create(exist_ok=False)
    run.write_status(RunStatus(**{"host": HOST, "updated": time.time(), **info}))
    return path


def status_of(**info) -> str:
    return runs.effective_status(RunStatus.from_dict(info))


def test_pid_alive_needs_a_live_sigdae_process(live_pid, dead_pid):
    assert runs.pid_alive(live_pid)
    assert not runs.pid_alive(dead_pid)
    assert not runs.pid_alive(None) and not runs.pid_alive(0)
    unrelated = subprocess.Popen(["sleep", "30"])
    try:
        assert not runs.pid_alive(unrelated.pid), "a reused pid of another program is not a training process"
    finally:
        unrelated.kill()
        unrelated.wait()


def test_effective_status(live_pid, dead_pid):
    assert status_of(status="running", pid=live_pid, host=HOST) == "running"
    assert status_of(status="running", pid=dead_pid, host=HOST) == "interrupted"
    assert status_of(status="starting", pid=dead_pid, host=HOST) == "failed"
    assert status_of(status="running", pid=dead_pid, host="elsewhere") == "running"
    assert status_of(status="finished", pid=dead_pid) == "finished"
    assert status_of() == "unknown"


def test_scan_runs_lists_runs_newest_first(tmp_path, live_pid, dead_pid):
    write_run(tmp_path / "a", status="finished", updated=time.time() - 7200, task="mnist", model="conv",
              epoch=3, best=21.5, monitor="psnr")
    write_run(tmp_path / "b", status="running", pid=live_pid, updated=time.time() - 10)
    write_run(tmp_path / "c", status="running", pid=dead_pid, updated=time.time() - 60)
    (tmp_path / "not-a-run").mkdir()
    RunDir(tmp_path / "d").create()
    RunDir(tmp_path / "d").events_file.write_text("")
    found = runs.scan_runs(tmp_path)
    assert [r.name for r in found] == ["d", "b", "c", "a"]  # d: no run.json, dated by its events file
    by_name = {r.name: r for r in found}
    assert set(by_name) == {"a", "b", "c", "d"}
    assert by_name["a"].status == "finished" and by_name["a"].best == 21.5 and by_name["a"].epoch == 3
    assert by_name["b"].live and not by_name["b"].resumable
    assert by_name["c"].status == "interrupted" and not by_name["c"].resumable  # no last.pt
    RunDir(tmp_path / "c").last_checkpoint.write_bytes(b"x")
    assert runs.load_run(tmp_path / "c").resumable
    assert by_name["d"].status == "unknown"
    assert runs.scan_runs(tmp_path / "missing") == []


def test_scan_runs_finds_runs_one_folder_down(tmp_path):
    """``sigdae demo`` writes its runs into a group folder (demo-mnist/conv, demo-mnist/dense-seed)."""
    write_run(tmp_path / "top", status="finished", updated=time.time() - 30)
    write_run(tmp_path / "demo-mnist" / "conv", status="finished", updated=time.time() - 10)
    write_run(tmp_path / "demo-mnist" / "dense-seed", status="stopped", updated=time.time() - 20)
    (tmp_path / "demo-mnist" / "grid.png").write_bytes(b"")
    write_run(tmp_path / "a" / "b" / "too-deep", status="finished")
    found = runs.scan_runs(tmp_path)
    assert [r.name for r in found] == ["demo-mnist/conv", "demo-mnist/dense-seed", "top"]
    assert found[0].path == tmp_path / "demo-mnist" / "conv" and found[1].status == "stopped"


def test_stop_delete_and_resume_refuse_what_they_must(tmp_path, live_pid, dead_pid):
    live = write_run(tmp_path / "live", status="running", pid=live_pid)
    done = write_run(tmp_path / "done", status="finished", pid=dead_pid)
    assert runs.request_stop(live) and RunDir(live).stop_requested()
    assert not runs.request_stop(done) and not RunDir(done).stop_requested()
    with pytest.raises(RuntimeError, match="running"):
        runs.delete_run(live)
    with pytest.raises(RuntimeError, match="running"):
        runs.resume_run(live)
    with pytest.raises(RuntimeError, match="last.pt"):
        runs.resume_run(done)
    runs.delete_run(done)
    assert not done.exists()


def test_names_and_durations(tmp_path):
    assert runs.check_run_name(tmp_path, "") == "give the run a name"
    assert "letters" in runs.check_run_name(tmp_path, "a b")
    assert "letters" in runs.check_run_name(tmp_path, "../x")
    (tmp_path / "taken").mkdir()
    assert "already exists" in runs.check_run_name(tmp_path, "taken")
    assert runs.check_run_name(tmp_path, "mnist-1") is None
    first = runs.suggest_run_name(tmp_path, "mnist", now=0)
    (tmp_path / first).mkdir()
    assert runs.suggest_run_name(tmp_path, "mnist", now=0) == f"{first}-2"
    assert [format_age(s) for s in (5, 125, 7300, 200000)] == ["5s", "2m", "2h", "2d"]
    assert format_duration(None) == "--:--" and format_duration(75) == "01:15"
    assert format_duration(3725) == "1:02:05"


def test_runs_list_columns_grow_with_the_terminal():
    from sigdae.tui.runs_screen import COLUMNS, column_widths

    assert column_widths(80, ["x" * 40]) == dict(COLUMNS) == column_widths(60, [])
    wide = column_widths(100, ["mnist-20261204-123456"])
    assert wide["run"] == 21 and wide["corruption"] == 12 + 15 and sum(wide.values()) == sum(dict(COLUMNS).values()) + 20
    assert column_widths(90, ["n" * 40])["run"] == 26


def test_log_tail(tmp_path):
    RunDir(tmp_path).log_file.write_text("a\n\nb\nTraceback\nValueError: bad\n")
    assert RunDir(tmp_path).log_tail(2) == ["Traceback", "ValueError: bad"]
    assert RunDir(tmp_path / "nothing").log_tail() == []


def test_run_state_folds_events():
    state = RunState()
    t = 1_700_000_000.0
    state.apply([
        {"type": "start", "time": t, "device": "cpu", "task": "mnist", "model": "conv", "parameters": 1234,
         "epochs": 2, "steps_per_epoch": 4, "batch_size": 32, "resumed_from_epoch": 0},
        {"type": "step", "time": t + 1, "epoch": 1, "step": 2, "loss": 0.5, "progress": 0.25, "eta": 3.0,
         "samples_per_s": 100.0, "elapsed": 1.0, "memory": {"gpu_allocated_mb": 10.0}},
        {"type": "epoch", "time": t + 2, "epoch": 1, "step": 4, "train_loss": 0.4, "val": {"loss": 0.3, "psnr": 18.0},
         "monitor": "psnr", "best": 18.0, "best_epoch": 1, "improved": True, "progress": 0.5, "eta": 2.0},
    ])
    assert (state.status, state.epoch, state.step, state.samples_per_s) == ("running", 1, 4, 100.0)
    assert state.train_steps == {2: 0.5} and state.val_epochs == {1: 0.3}
    assert state.best_text() == "psnr 18.00 dB (epoch 1)"
    assert "epoch 1/2" in state.log[-1] and "★ best" in state.log[-1] and "psnr 18.00 dB" in state.log[-1]
    state.apply([{"type": "end", "time": t + 3, "status": "stopped", "elapsed": 2.5, "error": None}])
    assert state.status == "stopped" and "stopped after 1 epochs" in state.log[-1]
    state.apply([{"type": "start", "time": t + 9, "resumed_from_epoch": 1, "epochs": 2}])
    assert state.status == "running" and "resumed at epoch 1" in state.log[-1]


def test_run_state_counts_the_epoch_in_progress():
    state = RunState()
    state.apply([{"type": "start", "time": 0.0, "epochs": 3, "steps_per_epoch": 4, "resumed_from_epoch": 0}])
    assert state.epoch_now() == 0
    state.apply([{"type": "step", "time": 1.0, "epoch": 1, "step": 1, "loss": 0.5}])
    assert (state.epoch, state.epoch_now()) == (0, 1)
    state.apply([{"type": "epoch", "time": 2.0, "epoch": 1, "step": 4, "train_loss": 0.4, "val": {}},
                 {"type": "step", "time": 3.0, "epoch": 2, "step": 5, "loss": 0.4}])
    assert (state.epoch, state.epoch_now()) == (1, 2)
    state.apply([{"type": "end", "time": 4.0, "status": "stopped"}])
    assert state.epoch_now() == 1, "a run that is not training shows the epochs it finished"
    state.apply([{"type": "start", "time": 5.0, "epochs": 3, "resumed_from_epoch": 1}])
    assert state.epoch_now() == 1


def test_form_rules_build_a_config_or_explain_the_problem(tmp_path):
    catalog = load_catalog()
    values = {**initial_values(catalog.recipes["mnist"]), "epochs": "3", "steps_per_epoch": "4", "limit": "512"}
    config, errors = build_config(catalog, "mnist", values, "conv", {"channels": "[8, 16]"}, "gaussian(std=0.3)", "cpu")
    assert errors == {}
    assert config["train"]["epochs"] == 3 and config["data"]["limit"] == 512 and config["device"] == "cpu"
    assert config["model"] == {"name": "conv", "channels": [8, 16]} and config["corruption"]["spec"] == "gaussian(std=0.3)"
    bad = {**values, "epochs": "0", "lr": "fast", "batch_size": "1.5"}
    _, errors = build_config(catalog, "mnist", bad, "conv", {"nonsense": "3"}, "gaussian(std=", "cpu")
    assert errors["epochs"] == "epochs must be at least 1"
    assert "learning rate must be a number" in errors["lr"] and "whole number" in errors["batch_size"]
    assert "unknown option 'nonsense'" in errors["model"] and "ended early" in errors["corruption"]
    with pytest.raises(ValueError, match="does not work on images"):
        check_corruption("hum", catalog.task("mnist"))


def test_form_tasks_come_from_the_task_registry():
    from sigdae.tasks import TASKS

    catalog = load_catalog()
    assert catalog.tasks()[0] == "mnist" and {"speech-spec", "speech-wave"} <= set(catalog.tasks())
    for name in TASKS.list():  # "speech" too: every registered task has its label and signal
        task = catalog.task(name)
        assert catalog.task_label(name) == TASKS.get(name).label and task.signal in ("image", "waveform")
    assert catalog.task_label("not-registered") == "not-registered"
    assert "clean_dirs" in fields_for_task(catalog.task("speech")) and "limit" not in fields_for_task(catalog.task("speech"))
    assert "limit" in fields_for_task(catalog.task("mnist")) and "rir_dir" not in fields_for_task(catalog.task("mnist"))


def speech_folders(root):
    clean, noise, rirs, pairs = (root / name for name in ("clean", "noise", "rirs", "pairs"))
    for folder in (clean, noise, rirs, pairs / "clean", pairs / "noisy"):
        folder.mkdir(parents=True)
    return clean, noise, rirs, pairs


@pytest.mark.parametrize("recipe", ["speech-spec", "speech-wave"])
def test_form_starts_a_speech_recipe_with_its_defaults(tmp_path, recipe):
    """"auto" (the task's default noise mix) is a valid corruption; RIR and validation-pair folders are
    fields of their own, checked as typed."""
    catalog = load_catalog()
    clean, noise, rirs, pairs = speech_folders(tmp_path)
    defaults = catalog.recipes[recipe]
    values = {**initial_values(defaults), "clean_dirs": str(clean)}
    config, errors = build_config(catalog, recipe, values, defaults["model"]["name"], {},
                                  defaults["corruption"]["spec"], "cpu")
    assert errors == {}, errors
    assert config["corruption"] == {"spec": "auto"} and config["task"] == recipe
    assert config["data"]["clean_dirs"] == [str(clean)] and config["data"]["rir_dir"] == ""
    assert config["data"]["snr_db"] == defaults["data"]["snr_db"]

    values.update(noise_dirs=str(noise), rir_dir=str(rirs), pairs_dir=str(pairs))
    config, errors = build_config(catalog, recipe, values, defaults["model"]["name"], {}, "auto", "cpu")
    assert errors == {}, errors
    assert config["data"]["rir_dir"] == str(rirs) and config["data"]["pairs_dir"] == str(pairs)
    assert config["data"]["noise_dirs"] == [str(noise)]

    values.update(rir_dir=str(tmp_path / "missing"), pairs_dir=str(clean))
    _, errors = build_config(catalog, recipe, values, defaults["model"]["name"], {}, "auto", "cpu")
    assert errors["rir_dir"] == f"RIR folder: no such folder: {tmp_path / 'missing'}"
    assert "has no clean/ or noisy/ inside" in errors["pairs_dir"]
    assert "corruption" not in errors


def test_auto_corruption_is_checked_against_the_task_and_its_data(tmp_path):
    catalog = load_catalog()
    assert check_corruption("auto", catalog.task("mnist")) == "auto"  # noise_factor(factor=0.5)
    assert check_corruption(" auto ", catalog.task("speech-wave"), {"clean_dirs": [str(tmp_path)]}) == "auto"
    with pytest.raises(ValueError, match=r"corruption: auto: data.rumble=-1"):
        check_corruption("auto", catalog.task("speech"), {"rumble": -1})
    with pytest.raises(ValueError, match="registered task"):
        check_corruption("auto", None)
    with pytest.raises(ValueError, match="unknown corruption"):
        check_corruption("auto + gaussian", catalog.task("speech"))


def test_launched_runs_do_not_inherit_the_tuis_lower_priority(tmp_path):
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import os, sys, time
        from sigdae.runs import RunDir
        from sigdae.runs.manage import _spawn
        os.nice(10)                                   # as sigdae.tui.app.run does
        run = RunDir({str(tmp_path)!r})
        _spawn([sys.executable, "-c", "import os; print(os.nice(0))"], run)
        deadline = time.monotonic() + 20
        while not run.log_file.read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.05)                          # polls until the child has written
        print(run.log_file.read_text().strip())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    expected = "0" if os.geteuid() == 0 else "10"   # only a privileged user may raise priority again
    assert out[-1] == expected


def test_the_form_offers_all_gpus_as_one_run(monkeypatch):
    from types import SimpleNamespace

    from sigdae.tui.catalog import list_devices, split_device

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_properties",
                        lambda i: SimpleNamespace(name="H200", total_memory=141 * 2 ** 30))
    values = [value for _, value in list_devices()]
    assert values == ["auto", "cuda:0", "cuda:1", "cuda*2", "cpu"]
    assert split_device("cuda*2") == ("cuda", 2) and split_device("cuda:1") == ("cuda:1", 1)
    catalog = load_catalog()
    values = initial_values(catalog.recipes["mnist"])
    noise = "gaussian(std=0.3)"
    config, errors = build_config(catalog, "mnist", {**values, "batch_size": "64"}, "conv", {}, noise, "cuda*2")
    assert not errors and config["device"] == "cuda"
    _, errors = build_config(catalog, "mnist", {**values, "batch_size": "63"}, "conv", {}, noise, "cuda*2")
    assert "batch_size" in errors
