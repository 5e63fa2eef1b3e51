"""The lab's application layer: what the UI tabs and the command line call to get work done.

    sweep_spec, axes   a sweep's grid (presets, axis values) and how each value prints
    runner             SweepRunner: plans, runs and finishes a sweep (grid, metrics, manifest)
    sweep_jobs         SweepJob: one sweep in a thread, polled by the page for progress
    run_store, grid    a run folder's cells and manifest; the labelled comparison grid
    history            every run in the workspace: list, compare, re-render
    train_runs         datasets, checkpoints, and the training process the Train tab starts

Dependencies point one way: ui -> services -> engine; the command line (experiments/) -> services.
"""
