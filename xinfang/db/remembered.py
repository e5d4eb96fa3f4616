"""What a process remembers having found over a bound, so that its later requests do not read
the bound's rows again only to find there are more.

A door reads up to ``MAX_LISTED_CASES`` case ids of a handling unit, ``MAX_LISTED_UNITS`` units
of a subtree, and the ledger's filter bar ``PLACES_LISTED`` places, to choose between naming
them and asking for them by a subquery or a search. A key found over its bound (the bound part
of the key) takes the other form at once from then on. Either form reads the same rows: what is
remembered only chooses the statement's form, so a key that fell below its bound since is still
answered right.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar


class OverTheBound:
    """Keys found over their bound in this process; emptied when ``most`` are held (a
    province's units, each its own key, cannot fill a worker's memory)."""

    everyone: ClassVar[list[OverTheBound]] = []

    def __init__(self, most: int = 4096):
        self.most = most
        self._keys: set[Hashable] = set()
        OverTheBound.everyone.append(self)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._keys

    def add(self, key: Hashable) -> None:
        if len(self._keys) >= self.most:
            self._keys.clear()
        self._keys.add(key)

    @classmethod
    def forget_all(cls) -> None:
        """Every process memory of this kind emptied (each test's database is its own)."""
        for remembered in cls.everyone:
            remembered._keys.clear()
