"""Running one runbook: validate its parameters, then execute it with papermill in its own run folder.

A run folder (default ``./runs/<name>-<UTC timestamp>/``) holds::

    input.ipynb       the runbook as it was when the run started
    executed.ipynb    the notebook papermill executed (paths in it are relative to the run folder)
    report.html       outputs only: code, prompts and papermill's injected-parameters cell hidden
    result.json       what the notebook recorded with ``record_result`` (``null`` if nothing)
    parameters.json   every parameter's value, defaults filled in
    run.json          status, exit code, failure summary and timings
    manifest.json     written last: every other file's SHA-256, the tool, parameters, time and user; its
                      hash is shown in report.html (``m365move audit verify RUN_DIR`` checks the folder)
    manifest.sig      its Ed25519 signature, when ``M365MOVE_SIGNING_KEY`` is set

Nothing is created before the parameters have been validated, so a rejected run leaves no folder.
Environment values given to the run reach the kernel only (see ``environment.py``); no file holds them.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from m365move.bundle import seal_folder
from m365move.bundle.provenance import who
from m365move.errors import InputError, M365MoveError
from m365move.files.atomic_files import write_text_atomically
from m365move.files.workspace import default_workspace
from m365move.runbooks.caller_paths import absolute_caller_paths
from m365move.runbooks.catalog import KERNEL_NAME, Runbook, find_runbook
from m365move.runbooks.cells import is_step, notebook_text, read_notebook_file
from m365move.runbooks.environment import kernel_environment
from m365move.runbooks.outcome import Failure, RunOutcome, RunStatus
from m365move.runbooks.parameters import ParameterError, ParametersCell, load_parameters_file, resolve_parameters
from m365move.runbooks.render import render_report
from m365move.runbooks.report_header import endpoint_without_secrets
from m365move.runbooks.result import recorded_result
from m365move.runbooks.step_tracker import ProgressCallback, StepTracker
from m365move.text.secret_redaction import withheld_environment, withhold_passwords
from m365move.version_info import tool_commit, tool_version

JOURNAL_ENV = "M365MOVE_JOURNAL_URL"  # a shared journal's URL (with its password): never written as is
DEFAULT_CELL_TIMEOUT = 3600.0  # seconds; a migration cell may legitimately take long
DEFAULT_START_TIMEOUT = 60.0
RUNS_DIR = Path("runs")


def run_runbook(
    name: str,
    params: Mapping[str, object] | None = None,
    output_dir: Path | str | None = None,
    *,
    params_file: Path | str | None = None,
    notebooks_dir: Path | str | None = None,
    extra_env: Mapping[str, str] | None = None,
    cell_timeout: float | None = DEFAULT_CELL_TIMEOUT,
    start_timeout: float = DEFAULT_START_TIMEOUT,
    progress: ProgressCallback | None = None,
) -> RunOutcome:
    """Validate, execute and report one runbook; a failed cell is an outcome, bad parameters raise.

    ``params`` override ``params_file``; text values are coerced by the declared type, typed values
    must match it. Raises :class:`ParameterError` (exit 2) before any kernel starts or folder exists.
    """
    started = time.perf_counter()
    started_at = _now()
    timings: dict[str, float] = {}
    runbook = find_runbook(name, notebooks_dir)
    values = validate_parameters(runbook, params or {}, params_file)
    # A URL's password (a shared journal's) reaches the kernel only through its environment: every file of the
    # run folder (parameters, notebook, report, manifest) holds the masked value.
    values, withheld = withhold_passwords(values)
    extra_env = {**(extra_env or {}), **withheld_environment(withheld)}
    _require_kernelspec()
    timings["validate"] = time.perf_counter() - started

    mark = time.perf_counter()
    run_dir = _make_run_dir(runbook.name, output_dir)
    shutil.copyfile(runbook.path, run_dir / "input.ipynb")
    _write_json(run_dir / "parameters.json", values)
    steps = sum(1 for cell in runbook.read().cells if is_step(cell)) + (1 if values else 0)
    tracker = StepTracker(steps, progress)
    timings["prepare"] = time.perf_counter() - mark

    mark = time.perf_counter()
    status, failure = _execute(run_dir, values, tracker, extra_env, cell_timeout, start_timeout)
    finished = time.perf_counter()
    first, last = tracker.first_started or finished, tracker.last_finished or finished
    timings["kernel_start"] = first - mark
    timings["cells"] = tracker.cell_seconds
    timings["kernel_stop"] = max(0.0, finished - max(first, last))

    mark = time.perf_counter()
    notebook = _relativise(run_dir)
    result = recorded_result(notebook)
    _write_json(run_dir / "result.json", result)
    provenance = {"title": runbook.title, "started_at": started_at, "finished_at": _now(), **who(),
                  "tool": {"version": tool_version(), "commit": tool_commit()},
                  "journal_url": _journal_endpoint(extra_env)}
    outcome = RunOutcome(runbook.name, status, run_dir, values, result, failure, timings, provenance)
    timings["finalize"] = time.perf_counter() - mark

    mark = time.perf_counter()
    _write_json(run_dir / "run.json", outcome.as_dict())  # the report header reads it
    render_report(run_dir)
    timings["render"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    timings["overhead"] = timings["total"] - timings["cells"]
    _write_json(run_dir / "run.json", outcome.as_dict())  # again, with the render and total times
    # Last: the manifest seals the folder (every file's SHA-256; the report shows the manifest's hash).
    seal_folder(run_dir, kind=f"runbook {runbook.name}", parameters=values)
    return outcome


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _journal_endpoint(extra_env: Mapping[str, str] | None) -> str | None:
    """Where a shared journal is (from the environment), without its password: run.json is a shared file."""
    url = (extra_env or {}).get(JOURNAL_ENV) or os.environ.get(JOURNAL_ENV)
    return endpoint_without_secrets(url) if url else None


def validate_parameters(
    runbook: Runbook, params: Mapping[str, object], params_file: Path | str | None = None
) -> dict[str, object]:
    """Every parameter's value for this run, or a ParameterError naming each wrong one."""
    cell: ParametersCell = runbook.parameters_cell()
    given: dict[str, object] = dict(load_parameters_file(Path(params_file))) if params_file else {}
    given.update(params)
    if "workspace" in cell.by_name() and "workspace" not in given:
        # The workspace the CLI uses from this folder, so `runs list` and `audit` see runbook runs too.
        given["workspace"] = str(Path(default_workspace()).resolve())
    values = resolve_parameters(cell, absolute_caller_paths(given), runbook=runbook.name)
    if runbook.mutating and values.get("execute") is True and values.get("confirm") is None:
        # The notebook would refuse too, but only after a kernel start; say it now.
        raise ParameterError(
            ["parameter 'confirm' is required when execute is true"],
            where=f"runbook {runbook.name}",
            hint=runbook.confirm or "see `m365move runbook show`",
        )
    return values


def _require_kernelspec() -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
    except NoSuchKernel:
        raise M365MoveError(
            f"no Jupyter kernelspec named {KERNEL_NAME!r}; "
            f"install it with `python -m ipykernel install --sys-prefix --name {KERNEL_NAME}`"
        ) from None


def _make_run_dir(name: str, output_dir: Path | str | None) -> Path:
    if output_dir is not None:
        run_dir = Path(output_dir)
        if run_dir.exists() and any(run_dir.iterdir()):
            raise InputError("the output folder is not empty", where=str(run_dir), hint="one folder per run")
    else:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        run_dir = RUNS_DIR / f"{name}-{stamp}"
        suffix = 2
        while run_dir.exists():  # two runs in the same second
            run_dir = RUNS_DIR / f"{name}-{stamp}-{suffix}"
            suffix += 1
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _execute(
    run_dir: Path,
    values: dict[str, object],
    tracker: StepTracker,
    extra_env: Mapping[str, str] | None,
    cell_timeout: float | None,
    start_timeout: float,
) -> tuple[RunStatus, Failure | None]:
    """Run papermill and map its ways of failing to a status; a failure names the running step."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    absolute = run_dir.resolve()
    try:
        with kernel_environment(extra_env), _quiet_logger("papermill"):
            papermill.execute_notebook(
                str(absolute / "input.ipynb"),
                str(absolute / "executed.ipynb"),
                parameters=values,
                kernel_name=KERNEL_NAME,
                cwd=str(absolute),
                progress_bar=False,
                start_timeout=start_timeout,
                execution_timeout=cell_timeout,
                # The kernel's own log (unencrypted-TCP notices, the interrupt on a timeout) is noise
                # beside our progress lines; what a reader needs is in the notebook and the summary.
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                **tracker.hooks(),
                **_progress_relay(tracker),
            )
    except PapermillExecutionError as error:
        if error.ename == "KeyboardInterrupt":  # the kernel got the terminal's Ctrl+C first
            return RunStatus.INTERRUPTED, _failure(tracker, "KeyboardInterrupt", "interrupted (Ctrl+C)")
        return RunStatus.CELL_ERROR, _failure(tracker, error.ename, error.evalue)
    except KeyboardInterrupt:
        # Ctrl+C at the terminal reaches this process and the kernel (one process group): the cells that ran are in
        # executed.ipynb (papermill saves it after each cell); the report is rendered and sealed from them.
        return RunStatus.INTERRUPTED, _failure(tracker, "KeyboardInterrupt", "interrupted (Ctrl+C)")
    except CellTimeoutError as error:
        return RunStatus.TIMEOUT, _failure(tracker, "CellTimeoutError", _first_line(error))
    except DeadKernelError as error:
        return RunStatus.DEAD_KERNEL, _failure(tracker, "DeadKernelError", _first_line(error))
    except RuntimeError as error:
        # jupyter_client raises a bare RuntimeError when the kernel does not answer within start_timeout.
        if tracker.current is not None:
            raise
        return RunStatus.DEAD_KERNEL, _failure(tracker, type(error).__name__, _first_line(error))
    return RunStatus.OK, None


def _progress_relay(tracker: StepTracker) -> dict[str, Any]:
    """When steps are shown, the cells' own progress (orders placed and polled, …) is shown with them."""
    if tracker.on_step is None:
        return {}
    from m365move.progress.kernel_relay import ENGINE_NAME, relay_to_display

    return {"engine_name": ENGINE_NAME, "relay": relay_to_display}


@contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """Silence papermill's log for the run: it re-checks parameters we validated (and misreads
    ``X | None``), and its cell-error lines repeat what our failure summary says better."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _failure(tracker: StepTracker, exception: str, message: str) -> Failure:
    step = tracker.current
    if step is None:  # nothing ran: the kernel itself failed
        return Failure(0, tracker.total, "(kernel start)", "", exception, message)
    return Failure(step.number, step.total, step.label, step.cell_id, exception, message)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


def _relativise(run_dir: Path) -> dict[str, Any]:
    """Make the executed notebook carry paths relative to the run folder, so the folder can move."""
    executed = run_dir / "executed.ipynb"
    if not executed.is_file():  # papermill stopped before its first save; keep the folder complete
        shutil.copyfile(run_dir / "input.ipynb", executed)
    notebook = read_notebook_file(executed)
    papermill_metadata = notebook.metadata.get("papermill", {})
    papermill_metadata["input_path"] = "input.ipynb"
    papermill_metadata["output_path"] = "executed.ipynb"
    text = notebook_text(notebook)
    for prefix in {str(run_dir.resolve()), str(run_dir.absolute())}:
        text = text.replace(prefix + "/", "").replace(prefix, ".")
    write_text_atomically(executed, text)
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _write_json(path: Path, data: object) -> None:
    write_text_atomically(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
