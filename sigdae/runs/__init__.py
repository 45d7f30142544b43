"""The run directory: the one channel between a training process and whoever watches it.

A run lives in a folder (see :class:`RunDir` for its files). Training writes it through this package;
the CLI's progress display, ``sigdae eval`` and the TUI read it through this package. Nothing else knows
the file names.
"""

from sigdae.runs.events import EventLog, EventTail, Listener, read_events
from sigdae.runs.layout import RunDir
from sigdae.runs.manage import (RunInfo, check_run_name, delete_run, launch_run, load_run, request_stop,
                                resume_run, scan_runs, suggest_run_name, terminate_run)
from sigdae.runs.preview import Preview, read_preview, write_preview
from sigdae.runs.status import LIVE, RESUMABLE, RunStatus, effective_status, pid_alive

__all__ = ["RunDir", "RunStatus", "EventLog", "EventTail", "Listener", "read_events", "Preview",
           "read_preview", "write_preview", "RunInfo", "check_run_name", "delete_run", "launch_run",
           "load_run", "request_stop", "resume_run", "scan_runs", "suggest_run_name", "terminate_run", "LIVE", "RESUMABLE", "effective_status", "pid_alive"]
