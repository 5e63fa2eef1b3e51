"""One small least-recently-used map for every cache in the engine (prompt embeddings, prepared
conditions, conditioning latents, loaded LoRA adapters). Keys are always passed in by the caller."""

from __future__ import annotations

from collections import OrderedDict


class LRU:
    """At most `capacity` items; the one used longest ago goes first, through `on_evict(key, value)`."""

    def __init__(self, capacity: int, on_evict=None):
        if capacity < 1:
            raise ValueError(f"an LRU needs a capacity of at least 1, got {capacity}")
        self.capacity = capacity
        self.on_evict = on_evict
        self._items: OrderedDict = OrderedDict()

    def __contains__(self, key) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key, default=None):
        """The value for key (now the most recently used), or default."""
        if key not in self._items:
            return default
        self._items.move_to_end(key)
        return self._items[key]

    def put(self, key, value):
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.capacity:
            old_key, old_value = self._items.popitem(last=False)
            if self.on_evict is not None:
                self.on_evict(old_key, old_value)

    def get_or_compute(self, key, compute) -> tuple[object, bool]:
        """(value, True) when cached; else (compute(), False) after storing it."""
        if key in self._items:
            return self.get(key), True
        value = compute()
        self.put(key, value)
        return value, False

    def keys(self) -> list:
        return list(self._items)

    def clear(self):
        self._items.clear()
