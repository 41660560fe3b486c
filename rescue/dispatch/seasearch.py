"""Sea route km from one incident, searched only as far as needed and remembered across
requests.

Why: a whole search of the sea graph costs ~5-15 ms, and a console asks for the same incident's
suggestions again and again (every refresh, every unit status change) while the vessels it
ranks mostly sit at their bases. So the search state of an incident (a search grown as far as
the vessels asked so far needed, geo.seagraph.GrowingField, and every final answer it gave) is
kept in a small LRU by the dispatcher: a repeated suggestion reads its sea answers from a dict,
a vessel that reported a new position costs its join and line-of-sight tests against the search
already grown, and one farther out takes the search on from where it stopped.

Answers are exactly the whole-graph search's (DESIGN §5: a bound may prune, never change, an
answer), for the reason given in `SeaSearch.km`; a cached answer is a final one, so it is the
same whatever request asked first. Memory: ~1.7 MB a search while it can still grow (its heap),
~0.8 MB once complete; SeaSearches keeps 32.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

ANSWERS_MAX = 20_000  # targets remembered per incident (vessels' places)
# How far a search grows at a time while some target's answer is still open: x GROWTH +
# GROWTH_KM, or up to the farthest open target's bound if nearer. A step too short costs a look
# at the targets again (~10-50 us); too long settles nodes no answer needs (a search costs ~
# its reach squared). Answers never depend on it.
GROWTH = 1.1
GROWTH_KM = 1.0


class SeaSearch:
    """The sea search state of one incident point under one model limit."""

    def __init__(self, sea: Any, lat: float, lon: float, model_limit: float) -> None:
        self.sea, self.lat, self.lon = sea, float(lat), float(lon)
        self.model_limit = model_limit
        self._growing: Any = None
        self._whole: Any = None
        self.builds = 0  # times the search was started or taken further
        self.answers: dict[tuple[float, float], float] = {}
        # one request at a time grows the search (its heap is not for two threads at once;
        # under gevent requests take turns anyway, and this costs nothing uncontended)
        self._lock = threading.Lock()

    @property
    def limit(self) -> float:
        """How far the search has settled every node (km)."""
        return 0.0 if self._growing is None else min(self._growing.radius, self.model_limit)

    def _grow(self, limit: float) -> None:
        if self._growing is None:
            self._growing = self.sea.growing_from(self.lat, self.lon)
        if self._growing.grow(min(limit, self.model_limit)):
            self.builds += 1

    def whole(self) -> Any:
        """The field at the model's limit (else the whole graph)."""
        with self._lock:
            return self._whole_field()

    def _whole_field(self) -> Any:
        sea = self.sea
        if hasattr(sea, "growing_from"):
            self._grow(self.model_limit)
            return self._growing.field(self.model_limit)
        if self._whole is None:  # a sea model without a graph to grow: one search
            limit = self.model_limit
            self._whole = (sea.field_from(self.lat, self.lon, limit_km=limit)
                           if np.isfinite(limit) else sea.field_from(self.lat, self.lon))
            self.builds += 1
        return self._whole

    def km(self, lats: np.ndarray, lons: np.ndarray, dist_km: np.ndarray) -> np.ndarray:
        """Sea route km to these targets (straight-line km `dist_km`), as the whole field
        gives them.

        The search grows only as far as the targets asked need (geo.seagraph.GrowingField): a
        target's answer is the whole search's once its best graph approach (min over its
        joins of node distance + leg) is within the settled radius, since the node that gives
        it is then settled, and the route's shortcut and line of sight start from there. The
        approach is at least the straight line, so the search first goes as far as the
        farthest target's; then, while some approach's bound (from the distances known so far)
        is beyond the radius, further. Targets with no join do not depend on the search. A
        target's answer is remembered, and being final it is the same whatever asked first."""
        lats, lons = np.asarray(lats, float), np.asarray(lons, float)
        n = len(lats)
        if not hasattr(self.sea, "growing_from") or n == 0:  # a model without a graph
            return np.asarray(self.whole().km_to(lats, lons), dtype=float)
        with self._lock:
            return self._km(lats, lons, np.asarray(dist_km, float))

    def _km(self, lats: np.ndarray, lons: np.ndarray, dist_km: np.ndarray) -> np.ndarray:
        n = len(lats)
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
        joins = self.sea.joins(lats[todo], lons[todo])
        nodes, legs = joins[3], joins[4]
        joined = ((nodes >= 0) & np.isfinite(legs)).any(axis=1)
        self._grow(float(np.max(dist_km[todo])))
        while self.limit < self.model_limit:
            bound = self._growing.bound(nodes[joined], legs[joined])
            bound = bound[bound > self.limit]
            if not len(bound):
                break
            self._grow(min(float(bound.max()), self.limit * GROWTH + GROWTH_KM))
        km = self._growing.field(self.model_limit).km_of_joins(joins)[0]
        out[todo] = km
        if len(known) + len(todo) > ANSWERS_MAX:
            known.clear()
        known.update(zip([keys[i] for i in todo.tolist()], km.tolist(), strict=True))
        return out


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
