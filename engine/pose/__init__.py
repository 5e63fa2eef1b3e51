"""Pose: extraction (backends), the one whole-body format, import, rendering, diagnostics, fitting, metrics.

Import the module you need (engine.pose.extract, engine.pose.render, ...); this package imports nothing,
so `import engine.pose.format` stays cheap.
"""
