"""The puppet world and the toy WanVACE model trained on it (see engine/toy/world.py)."""
