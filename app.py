"""VACE Lab: `python app.py` starts the lab in the browser.

With no GPU it runs the toy engine (assets/toy: a small WanVACE trained in this lab on its puppet world), or
the embedded tiny engine (random weights, the output is noise) where those weights are missing, and says which.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading

logger = logging.getLogger("vace-lab")

# Tabs in display order: (title, id, module, builder). Each builder is build_*_tab(engine, links) and returns
# the widgets other tabs may fill (links[id]), e.g. the Prompts tab sends a prompt to Generate.
TABS = [
    ("Generate", "generate", "ui.generate_tab", "build_generate_tab"),
    ("Pose", "pose", "ui.pose_tab", "build_pose_tab"),
    ("Prompts", "prompts", "ui.prompts_tab", "build_prompts_tab"),
    ("Sweep", "sweep", "ui.sweep_tab", "build_sweep_tab"),
    ("Train", "train", "ui.train_tab", "build_train_tab"),
    ("History", "history", "ui.history_tab", "build_history_tab"),
]


def build_app(engine):
    import importlib

    import gradio as gr

    with gr.Blocks(title="VACE Lab") as demo:
        gr.Markdown("# VACE Lab\nPose-driven video generation with Wan2.1-VACE, Wan2.2-Animate and Wan-Animate-2: "
                    "see what the model gets, then what it makes.")
        gr.Markdown(engine.banner(), elem_id="engine-banner")
        with gr.Tabs() as tabs:
            links = {"tabs": tabs}
            links["tab_objects"] = {}
            for title, tab_id, module, function in TABS:
                with gr.Tab(title, id=tab_id) as tab:
                    links["tab_objects"][tab_id] = tab
                    links[tab_id] = getattr(importlib.import_module(module), function)(engine, links)
            for connect in links.get("after_build", []):  # links to tabs built later than their source
                connect()
        from ui.common import one_line_upload_errors, stop_jobs_when_tab_closes

        stop_jobs_when_tab_closes(demo, links.get("cancel_flags", []))
    return one_line_upload_errors(demo)


MAX_UPLOAD = os.environ.get("VACE_LAB_MAX_UPLOAD", "200mb")  # larger uploads are refused before they land


def default_host() -> str:
    if os.environ.get("GRADIO_SERVER_NAME"):
        return os.environ["GRADIO_SERVER_NAME"]
    return "0.0.0.0" if os.environ.get("SPACE_ID") else "127.0.0.1"


def launch_options() -> dict:
    """What every launch shares (tests use it too): the browser may read only files in the workspace,
    and uploads have a size limit."""
    from engine.paths import workspace

    return {"allowed_paths": [str(workspace())], "max_file_size": MAX_UPLOAD, "show_error": True}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Start VACE Lab in the browser.")
    from experiments.flags import add_model_arguments

    add_model_arguments(parser, default=os.environ.get("VACE_LAB_MODEL", "auto"))
    parser.add_argument("--host", default=default_host(), help="127.0.0.1 here; 0.0.0.0 on a Hugging Face Space")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 7860)))
    return parser.parse_args(argv)


def warm_up(engine):
    """Load the model in the background so the first click is fast; errors surface again on use. The toy also
    makes one 1-step video of its sample: a CPU's first generation pays about 10 s of one-off set-up, and the
    sample's encoded control and reference are then cached for the first click."""
    try:
        engine.load()
        if engine.family.warm_up_on_start:
            engine.warm_up()
    except Exception as err:  # noqa: BLE001 - reported to the user when they generate
        logger.warning("model not warmed up yet: %s", err)


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    from engine import Engine
    from experiments.flags import speed_changes

    try:
        engine = Engine.from_name(args.model, **speed_changes(args))
    except ValueError as err:
        raise SystemExit(f"error: {err}")
    logger.info(engine.banner().replace("**", ""))
    demo = build_app(engine)
    demo.queue(default_concurrency_limit=1).launch(server_name=args.host, server_port=args.port,
                                                   prevent_thread_lock=True, **launch_options())
    # Warmed up once the page is served: loading the model imports diffusers while the page is being built,
    # and on 2 cores the two slowed each other (the page answered ~4 s later with the warm-up started first).
    threading.Thread(target=warm_up, args=(engine,), daemon=True).start()
    demo.block_thread()


if __name__ == "__main__":
    main()
