"""Sea route km from one incident, searched only as far as needed and remembered across
requests.

Why: a whole search of the sea graph costs ~5-15 ms, and a console asks for the same incident's
suggestions again and again (every refresh, every unit status change) while the vessels it
ranks mostly sit at their bases. So the search state of an incident (the widest field built so
far and every final answer it gave) is kept in a small LRU by the dispatcher: a repeated
suggestion reads its sea answers from a dict, and a vessel that reported a new position costs
one line-of-sight test against the field already built.

Answers are exactly the whole-graph search's (DESIGN §5: a bound may prune, never change, an
answer), for the reason given in `SeaSearch.km`; a cached answer is a final one, so it is the
same whatever request asked first.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np

ANSWERS_MAX = 20_000  # targets remembered per incident (vessels' places)
# The first search's reach: the farthest target asked (straight line) x DETOUR + DETOUR_KM.
# Too short and the targets behind land widen it (a new search twice as far); too long and
# every first ask settles nodes no answer needs (a search costs ~ its reach squared). Measured
# over the bench's 20 sea incidents (bench_dispatch_scale), against x1.25 + 10 km: the demo's
# first ask 3.2 -> 2.6-2.9 ms, at 100k 138 -> 158 per second. Answers never depend on it.
DETOUR = 1.15
DETOUR_KM = 3.0


class SeaSearch:
    """The sea search state of one incident point under one model limit."""

    def __init__(self, sea: Any, lat: float, lon: float, model_limit: float) -> None:
        self.sea, self.lat, self.lon = sea, float(lat), float(lon)
        self.model_limit = model_limit
        self.field: Any = None
        self.limit = 0.0  # how far the current field searched (km)
        self.builds = 0
        self.answers: dict[tuple[float, float], float] = {}

    def whole(self) -> Any:
        """The field at the model's limit (else the whole graph)."""
        if self.field is None or self.limit < self.model_limit:
            self._build(self.model_limit)
        return self.field

    def _build(self, limit: float) -> None:
        sea = self.sea
        self.field = (sea.field_from(self.lat, self.lon, limit_km=limit) if np.isfinite(limit)
                      else sea.field_from(self.lat, self.lon))
        self.limit = limit
        self.builds += 1

    def km(self, lats: np.ndarray, lons: np.ndarray, dist_km: np.ndarray) -> np.ndarray:
        """Sea route km to these targets (straight-line km `dist_km`), as the whole field
        gives them.

        A search bounded to L km costs ~(L / graph size)^2 of a whole one, and the ranking asks
        only for vessels near the incident. A target's answer from a search bounded to L equals
        the whole one when its best graph approach (min over its snap nodes of node distance +
        leg) is <= L: every node nearer than L has its whole-search distance, and the route's
        shortcut and line of sight start from that approach. Targets with no approach at all do
        not depend on the field. The others widen the search (doubling) and are asked again;
        at the model's own limit every answer is final."""
        lats, lons = np.asarray(lats, float), np.asarray(lons, float)
        n = len(lats)
        snap = getattr(self.sea, "_snap", None)
        if snap is None or n == 0:  # a sea model without a graph to bound: the whole field
            return np.asarray(self.whole().km_to(lats, lons), dtype=float)
        keys = list(zip(lats.tolist(), lons.tolist(), strict=True))
        known = self.answers
        if known:
            got = list(map(known.get, keys))
            out = np.fromiter((np.inf if g is None else g for g in got), float, n)
            todo = np.array([i for i, g in enumerate(got) if g is None], dtype=np.int64)
            if not len(todo):
                return out
        else:  # an incident's first ask
            out, todo = np.full(n, np.inf), np.arange(n)
        want = min(float(np.max(dist_km[todo])) * DETOUR + DETOUR_KM, self.model_limit)
        if self.field is None or self.limit < want:
            self._build(min(max(want, 2.0 * self.limit), self.model_limit))
        if len(known) + len(todo) > ANSWERS_MAX:
            known.clear()
        while True:
            f = self.field
            km, best, joined = f.km_and_approach(lats[todo], lons[todo])
            if self.limit >= self.model_limit or getattr(f, "dist", None) is None:
                final = np.ones(len(todo), bool)
            else:
                final = (best <= self.limit) | ~joined
            done, values = todo[final], km[final]
            out[done] = values
            known.update(zip([keys[i] for i in done.tolist()], values.tolist(), strict=True))
            todo = todo[~final]
            if len(todo) == 0:
                return out
            self._build(min(2.0 * self.limit, self.model_limit))


class SeaSearches:
    """The last incidents' sea searches (an LRU), shared by a dispatcher's requests."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[tuple, SeaSearch] = OrderedDict()

    def get(self, sea: Any, lat: float, lon: float, model_limit: float) -> SeaSearch:
        key = (id(sea), float(lat), float(lon), model_limit)
        got = self._items.get(key)
        if got is not None and got.sea is sea:
            self._items.move_to_end(key)
            return got
        got = self._items[key] = SeaSearch(sea, lat, lon, model_limit)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return got
