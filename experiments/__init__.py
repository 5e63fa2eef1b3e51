"""Headless experiments on top of the engine: the command line (`python -m experiments ...`)."""
