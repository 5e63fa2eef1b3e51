"""Helpers shared by the tabs: turning engine errors into one-line messages, run folders."""

from __future__ import annotations

import csv
import functools
import inspect
import logging
import os
import shutil
import time
import uuid
from pathlib import Path

import gradio as gr

from engine.lora import list_loras, lora_label
from engine.paths import outputs_dir
from engine.presets import safe_name
from engine.request import field_info
from services.metrics import catalogue

logger = logging.getLogger(__name__)


def user_errors(handler):
    """Show ValueError/RuntimeError from the engine as a one-line message; the app keeps serving.

    Anything else is a bug: it is logged with its traceback, and the user still sees one line.
    """

    def as_user_error(err: Exception) -> gr.Error:
        if isinstance(err, gr.Error):
            return err
        if isinstance(err, (ValueError, RuntimeError)):
            return gr.Error(str(err), print_exception=False)
        logger.exception("unexpected error in %s", handler.__name__)
        return gr.Error(f"internal error ({type(err).__name__}: {err}); details are in the server log",
                        print_exception=False)

    if inspect.isgeneratorfunction(handler):  # streaming handlers (a sweep) yield updates as they go

        @functools.wraps(handler)
        def streaming(*args, **kwargs):
            try:
                yield from handler(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 - turned into one line for the user
                raise as_user_error(err) from None

        return streaming

    @functools.wraps(handler)
    def wrapped(*args, **kwargs):
        try:
            return handler(*args, **kwargs)
        except Exception as err:  # noqa: BLE001 - turned into one line for the user
            raise as_user_error(err) from None

    return wrapped


# On a ZeroGPU Space each model job gets a GPU for at most this long (seconds); the environment variable
# changes it. A longer limit waits longer in ZeroGPU's queue, so sweeps get more than single videos.
GPU_SECONDS = {
    "generate": ("VACE_LAB_GPU_SECONDS", 120),
    "sweep": ("VACE_LAB_SWEEP_GPU_SECONDS", 600),
    "pose": ("VACE_LAB_POSE_GPU_SECONDS", 120),
}


def gpu_job(kind: str):
    """Wrap a model entry point in ZeroGPU's @spaces.GPU when the `spaces` package is installed (on a
    Hugging Face Space); anywhere else the handler is returned unchanged."""

    def wrap(handler):
        try:
            import spaces
        except ImportError:
            return handler
        variable, default = GPU_SECONDS[kind]
        return spaces.GPU(duration=int(os.environ.get(variable, default)))(handler)

    return wrap


NONE = ""  # an empty dropdown choice: no LoRA, no axis, no prompt set
CUSTOM = "(custom)"  # the Sweep tab's preset dropdown: set the axes by hand
SWEEP_RUNS = "sweeps"  # outputs/<kind> folder the Sweep tab writes and the History tab lists


def new_output_dir(kind: str) -> Path:
    """A fresh folder under the workspace, named by time so runs sort in order."""
    name = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    path = outputs_dir(kind) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def named_copy(path: str | Path, name: str, folder: Path | None = None) -> str:
    """The file again under a name that says what it is, for downloads (a hard link where possible, so
    a large file is not stored twice), beside it or in `folder`. The original keeps its contract name."""
    path = Path(path)
    target = (folder or path.parent) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        try:
            os.link(path, target)
        except OSError:
            shutil.copyfile(path, target)
    return str(target)


def download_stem(path: str | Path | None, fallback: str) -> str:
    """A safe file-name stem from an uploaded file's name."""
    return safe_name(Path(path).stem if path else "", fallback, limit=48)


def new_cancel_flag(links: dict) -> gr.State:
    """Per-session flag a Stop button sets (request_stop) and a running job polls between steps. Each is
    listed in links["cancel_flags"] so that closing the tab sets them all (stop_jobs_when_tab_closes)."""
    flag = gr.State({"stop": False})
    links.setdefault("cancel_flags", []).append(flag)
    return flag


_OPEN_TABS: dict[str, list[dict]] = {}  # browser session -> its cancel flags, from page load to close


def stop_jobs_when_tab_closes(demo, flags: list):
    """A closed tab stops its jobs at their next step: the page's load files the session's cancel flags, and
    Gradio's unload (the tab's heartbeat ending) sets them."""

    def remember(request: gr.Request, *values):
        _OPEN_TABS[request.session_hash] = list(values)

    def stop(request: gr.Request):
        for flag in _OPEN_TABS.pop(request.session_hash, []):
            flag["stop"] = True
        logger.info("tab closed: its jobs stop at their next step")

    demo.load(remember, flags, None, queue=False, api_visibility="private")
    demo.unload(stop)


def request_stop(cancel: dict) -> dict:
    """The Stop buttons' handler: the running job sees the flag at its next step."""
    cancel["stop"] = True
    return cancel



def one_line_upload_errors(demo):
    """Gradio answers an upload it cannot decode (a broken image or video) with a long report of the event's
    inputs. Here that is one line naming the file, on every path: a fresh page, and a field the sample filled
    (Gradio then runs a per-session copy of the component, so a wrapper on the component would be skipped).
    Errors turning outputs into page data keep Gradio's full report: they are bugs, not bad uploads."""
    long_form = demo._format_processing_error

    def one_line(block_fn, index, block, value, is_input, original_error):
        if not is_input:
            return long_form(block_fn, index, block, value, is_input, original_error)
        name = value.get("orig_name") if isinstance(value, dict) else None
        if not name and isinstance(value, dict) and value.get("path"):
            name = Path(value["path"]).name
        return (f"{name or 'the uploaded file'}: cannot read the {block.get_block_name()} "
                f"({type(original_error).__name__})")

    demo._format_processing_error = one_line
    return demo


def described(name: str, with_info: bool = True, **overrides) -> dict:
    """A widget's label and info text from the request's field table (engine/request.py), so the page
    names each setting as grids, legends and --set do. Image and video widgets take no info text."""
    info = field_info(name)
    return {"label": info.label, **({"info": info.help} if with_info else {}), **overrides}


def lora_choices() -> list[tuple[str, str]]:
    """The LoRA dropdowns' choices, read when asked: a LoRA trained after the page loaded is listed."""
    return [("none", NONE)] + [(lora_label(path), str(path)) for path in list_loras()]


def with_named_inputs(handler, names: list[str], components: list, extra: tuple[str, ...] = (), progress=False):
    """Give a handler that takes *values the parameter names and defaults its widgets have, so the API
    ("Use via API", gradio_client) takes named arguments with the page's defaults: predict(prompt="...").
    `extra` names trailing inputs that are not widgets (a cancel-flag State); `progress` keeps Gradio's
    progress tracker, which it finds by its default value."""
    parameter = inspect.Parameter
    params = [parameter(name, parameter.POSITIONAL_OR_KEYWORD, default=getattr(component, "value", None))
              for name, component in zip(names, components, strict=True)]
    params += [parameter(name, parameter.POSITIONAL_OR_KEYWORD, default=None) for name in extra]
    if progress:
        params.append(parameter("progress", parameter.KEYWORD_ONLY, default=gr.Progress()))
    handler.__signature__ = inspect.Signature(params)
    return handler


# ---- sweep tables (the Sweep and History tabs) ---------------------------------------------------------

# cells.csv's columns as the table heads them: short words that wrap at spaces, not letter by letter.
TABLE_HEADERS = {"id": "cell", "status": "status"}  # and every metric by its one name (services/metrics.py)


def metrics_table(path) -> list[list]:
    """cells.csv for the page: readable headers, numbers to 3 significant digits, no all-empty columns."""
    with open(path, newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    # The video column is a path inside the run folder: the gallery and the downloads show the videos.
    keep = [i for i, name in enumerate(header)
            if name in ("id", "status") or (name != "video" and any(row[i] for row in rows))]
    # The headline metrics say the most: right after the status, where the page shows them without scrolling
    # sideways (they came last, out of sight).
    metrics = catalogue()
    status = header.index("status")
    keep.sort(key=lambda i: (0 if i <= status else 1 if header[i] in metrics and metrics[header[i]].headline else 2, i))
    heads = [TABLE_HEADERS.get(header[i]) or (metrics[header[i]].label if header[i] in metrics else
                                              _field_header(header[i])) for i in keep]
    return [heads] + [[_table_value(header[i], row[i]) for i in keep] for row in rows]


def _field_header(name: str) -> str:
    try:
        return field_info(name).label
    except ValueError:
        return name.replace("_", " ")


def _table_value(name: str, text: str) -> str:
    """A LoRA or file by its short name, as the grid labels it (a trained run's LoRA paths ran across the
    table); a number to 3 significant digits."""
    try:
        info = field_info(name)
    except ValueError:
        info = None
    if info is not None and info.kind in ("lora", "file") and text:
        return info.format(text)
    try:
        number = float(text)
    except ValueError:
        return text
    return f"{number:.3g}" if not number.is_integer() else str(int(number))
