"""A small LRU cache with a byte budget, for answers that cannot change while the server runs.

The server loads the data once and never writes, so a rendered page or the result of a deterministic
query is the same until restart: keeping them saves the work of computing them again. Entries larger
than an eighth of the budget are not kept (one huge result must not evict everything else).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class ByteBudgetCache(Generic[V]):
    def __init__(self, budget: int):
        self.budget = budget
        self.used = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry[0]

    def put(self, key: Hashable, value: V, size: int) -> None:
        if self.budget <= 0 or size > self.budget // 8:
            return
        old = self._entries.pop(key, None)
        if old is not None:
            self.used -= old[1]
        self._entries[key] = (value, size)
        self.used += size
        while self.used > self.budget and self._entries:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.used -= evicted

    def __len__(self) -> int:
        return len(self._entries)
