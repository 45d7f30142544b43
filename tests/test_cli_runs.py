"""`sigdae runs list|stop|resume|export` on a folder of runs."""

import json
import shutil

from sigdae.cli import main
from sigdae.runs import RunDir, RunStatus


def make_run(path, status="finished"):
    run = RunDir(path)
    run.create()
    run.write_status(RunStatus(status=status, task="mnist", model="conv", epoch=2, best=20.5, monitor="psnr",
                               updated=1.0))
    with open(run.events_file, "w") as f:
        for epoch in (1, 2):
            f.write(json.dumps({"type": "epoch", "epoch": epoch, "step": 3 * epoch, "elapsed": 1.0 * epoch,
                                "train_loss": -10.0 - epoch, "val": {"loss": -19.0, "psnr": 19.0 + epoch}}) + "\n")
    return run


def test_list_export_and_refusals(tmp_path, capsys):
    make_run(tmp_path / "runs" / "a")
    assert main(["runs", "list", str(tmp_path / "runs"), "--json"]) == 0
    (item,) = json.loads(capsys.readouterr().out)
    assert item["name"] == "a" and item["status"] == "finished" and item["best"] == "20.500"
    assert main(["runs", "export", str(tmp_path / "runs" / "a"), "--csv"]) == 0
    lines = (tmp_path / "runs" / "a" / "epochs.csv").read_text().splitlines()
    assert lines[0] == "epoch,step,elapsed,train_loss,val_loss,val_psnr" and lines[2].startswith("2,6,2.0,-12.0")
    capsys.readouterr()
    assert main(["runs", "stop", str(tmp_path / "runs" / "a")]) == 2
    assert "is not running" in capsys.readouterr().err
    assert main(["runs", "resume", str(tmp_path / "runs" / "a")]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    assert main(["runs", "export", str(tmp_path / "nothing"), "--csv"]) == 2
    shutil.rmtree(tmp_path / "runs")
