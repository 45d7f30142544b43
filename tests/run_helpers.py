"""Listeners the training tests share."""

from sigdae.runs import RunDir


class StopAtStep:
    """Asks the run to stop once ``step`` training steps are done (mid-epoch)."""

    def __init__(self, run_dir, step):
        self.run, self.step = RunDir(run_dir), step

    def __call__(self, event):
        if event["type"] == "step" and event["step"] >= self.step:
            self.run.request_stop()
