"""Every metric a sweep's cells may hold, named once: the plot menu, the cells table and History's What differs
all read these names. The most telling come first (engine.metrics.MetricInfo.headline): the default plot is the
first one a run measured."""

from __future__ import annotations

from engine.metrics import RUN_METRICS, VIDEO_METRICS, MetricInfo
from engine.pose.metrics import POSE_METRICS


def catalogue() -> dict[str, MetricInfo]:
    """Every model family's metrics and every model's, headline metrics first."""
    from engine.families import FAMILY_MODULES, family_named

    found: dict[str, MetricInfo] = {}
    for name in FAMILY_MODULES:
        found.update(family_named(name).metric_info)
    found.update(POSE_METRICS)
    found.update(VIDEO_METRICS)
    ordered = sorted(found.items(), key=lambda item: not item[1].headline)  # stable: headline first
    return dict(ordered + list(RUN_METRICS.items()))


def label(name: str) -> str:
    """A metric's human name ("figure F1"), or the name itself for one this lab does not describe."""
    info = catalogue().get(name)
    return info.label if info else name


def default_plot(measured: list[str]) -> str | None:
    """The metric to plot first: the most telling one the run measured."""
    return next((name for name in catalogue() if name in measured), None)
