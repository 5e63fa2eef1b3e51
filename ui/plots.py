"""Plotly figures of sweep metrics: each metric against the X value, one line per Y value.

When seed is one of the other axes, the line is the mean over seeds and the error bars show the spread
(one standard deviation): a difference smaller than that is noise.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from services.metrics import catalogue

# What a sweep plots, by the one name each metric has (services/metrics.py), the most telling first; the run
# metrics (seconds, memory) are plotted too, but not per step.
METRICS = {name: info.label for name, info in catalogue().items() if name not in ("s_per_step", "peak_memory_mb")}


def _number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _value_name(field: str, value) -> str:
    """A value as grids label it ('Pretrained', 'LoRA mine.safetensors', 'Ref: me.png'): a file's name, not its path."""
    from services.axes import value_label

    try:
        return value_label(field, value)
    except (KeyError, ValueError):  # a field the request table does not describe (a tier, a run's own column)
        return f"{field} {value}"


def _axis_title(field: str) -> str:
    from engine.request import request_fields

    info = request_fields().get(field)
    return info.label if info else field


def metric_figure(rows: list[dict], metric: str, x_field: str, y_field: str | None = None):
    """rows: one dict per cell (cells.csv); returns a plotly Figure."""
    import plotly.graph_objects as go

    series: dict = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if row.get("status") not in ("done", "reused"):
            continue
        value = _number(row.get(metric))
        if value is None:
            continue
        series[row.get(y_field, "") if y_field else ""][row[x_field]].append(value)
    figure = go.Figure()
    for name, points in series.items():
        xs = list(points)
        means = [statistics.fmean(points[x]) for x in xs]
        spread = [statistics.pstdev(points[x]) if len(points[x]) > 1 else 0.0 for x in xs]
        figure.add_trace(go.Scatter(
            x=[_number(x) if _number(x) is not None else _value_name(x_field, x) for x in xs], y=means,
            mode="lines+markers", name=_value_name(y_field, name) if y_field else metric,
            error_y={"type": "data", "array": spread, "visible": any(spread)},
        ))
    # Axis titles and a legend below the plot get the room they need: long LoRA names in a legend at the side
    # squeezed the plot, and fixed margins clipped the axis titles.
    figure.update_layout(title=METRICS.get(metric, metric), xaxis_title=_axis_title(x_field),
                         yaxis_title=METRICS.get(metric, metric), height=360,
                         margin={"l": 20, "r": 20, "t": 40, "b": 20},
                         legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0})
    figure.update_xaxes(automargin=True)
    figure.update_yaxes(automargin=True)
    return figure


def sweep_figures(rows: list[dict], axis_fields: dict) -> dict:
    """One figure per metric; axis_fields maps 'x'/'y'/'z' to field names. Seeds become spread, not lines."""
    x_field = axis_fields.get("x")
    if not x_field:
        return {}
    others = [f for name, f in axis_fields.items() if name != "x" and f != "seed"]
    y_field = others[0] if others else None
    # A metric no cell has (pose adherence without control keypoints) gets no empty plot.
    measured = [metric for metric in METRICS if any(_number(row.get(metric)) is not None for row in rows)]
    figures = {metric: metric_figure(rows, metric, x_field, y_field) for metric in measured}
    if "num_inference_steps" in axis_fields.values() and x_field != "num_inference_steps":
        figures["runtime_vs_steps"] = metric_figure(rows, "seconds", "num_inference_steps", x_field)
    return figures


def smoothed(values: list[float], weight: float = 0.9) -> list[float]:
    """Exponential moving average with bias correction, as TensorBoard smooths loss curves."""
    out, average = [], 0.0
    for count, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight ** count))
    return out


def training_loss_figure(rows: list[dict]):
    """rows: loss.csv (one row per sample per step). Raw and smoothed step loss, and loss by noise level."""
    import plotly.graph_objects as go

    steps: dict = {}
    buckets: dict = defaultdict(list)
    for row in rows:
        steps[int(row["step"])] = float(row["loss"])
        buckets[int(row["bucket"])].append((int(row["step"]), float(row["sample_loss"])))
    xs = sorted(steps)
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=xs, y=[steps[x] for x in xs], mode="lines", name="loss", opacity=0.35))
    figure.add_trace(go.Scatter(x=xs, y=smoothed([steps[x] for x in xs]), mode="lines", name="smoothed"))
    for bucket in sorted(buckets):
        points = buckets[bucket]
        low, high = bucket / 4, (bucket + 1) / 4
        figure.add_trace(go.Scatter(x=[p[0] for p in points], y=smoothed([p[1] for p in points]), mode="lines",
                                    name=f"noise {low:.2f}-{high:.2f}", line={"dash": "dot"}))
    figure.update_layout(title="Training loss (raw, smoothed, and by noise level)", xaxis_title="step",
                         yaxis_title="flow-matching loss", height=320, margin={"l": 40, "r": 10, "t": 40, "b": 40})
    return figure
