"""Land reachability: which land points a land unit can drive between.

Why: land units cannot cross water. Reachability classes are the landmasses of the land mask,
joined by the fixed links (bridges, causeways) listed in geo/data/links.json. Islands with no
fixed link (Nanji, Luxi, ...) form classes of their own. Each class is named by its smallest
landmass id, so the mainland (landmass 0) and everything bridged to it is component 0.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

LINKS_PATH = Path(__file__).resolve().parent / "data" / "links.json"
SNAP_KM = 1.5  # a link endpoint may sit this far off a coarse coastline; it snaps onto land
_KM_PER_DEG = 111.195


@dataclass(frozen=True)
class Link:
    """A fixed link between two landmasses; endpoints are (lat, lon)."""

    name: str
    kind: str
    a: tuple[float, float]
    b: tuple[float, float]
    landmass_a: int | None = None
    landmass_b: int | None = None


def read_links(path: Path | str | None = None) -> list[Link]:
    data = json.loads(Path(path or LINKS_PATH).read_text(encoding="utf-8"))
    return [
        Link(name=d["name"], kind=d.get("kind", "bridge"), a=(d["a"]["lat"], d["a"]["lon"]),
             b=(d["b"]["lat"], d["b"]["lon"]))
        for d in data["links"]
    ]


class LandReach:
    """Union of landmasses over fixed links (see module docstring)."""

    def __init__(self, land, links: list[Link]) -> None:
        self.land = land
        self._parent: dict[int, int] = {}
        self._roots = np.empty(0, dtype=int)  # landmass id -> component, filled on demand
        resolved = []
        for link in links:
            ma, mb = self._snap(*link.a), self._snap(*link.b)
            if ma is None or mb is None:
                log.warning("link %s: an endpoint is not on land; ignored", link.name)
            else:
                self._union(ma, mb)
            resolved.append(Link(link.name, link.kind, link.a, link.b, ma, mb))
        self.links = resolved

    @classmethod
    def load(cls, land, links_path: Path | str | None = None) -> LandReach:
        """`land` is a geo.landsea.LandMask (anything with landmass / is_land_many)."""
        return cls(land, read_links(links_path))

    # ---- union-find over landmass ids ---------------------------------------------------
    def _find(self, m: int) -> int:
        root = m
        while self._parent.get(root, root) != root:
            root = self._parent[root]
        while m != root:
            self._parent[m], m = root, self._parent.get(m, m)
        return root

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            lo, hi = min(ra, rb), max(ra, rb)
            self._parent[hi] = lo

    def _snap(self, lat: float, lon: float) -> int | None:
        """Landmass under a point, or the nearest one within SNAP_KM (coarse coastlines)."""
        m = self.land.landmass(lat, lon)
        if m is not None:
            return int(m)
        for r in np.linspace(0.1, SNAP_KM, 15):
            for ang in np.arange(16) * np.pi / 8:
                dlat = r * np.sin(ang) / _KM_PER_DEG
                dlon = r * np.cos(ang) / (_KM_PER_DEG * np.cos(np.radians(lat)))
                m = self.land.landmass(lat + dlat, lon + dlon)
                if m is not None:
                    return int(m)
        return None

    # ---- public -------------------------------------------------------------------------
    def component(self, lat: float, lon: float) -> int | None:
        """Reachability class of a point, None at sea."""
        m = self.land.landmass(lat, lon)
        return None if m is None else self._find(int(m))

    def components(self, lats, lons) -> np.ndarray:
        """Vectorised component(): int array, -1 at sea."""
        lats = np.atleast_1d(np.asarray(lats, dtype=float))
        lons = np.atleast_1d(np.asarray(lons, dtype=float))
        many = getattr(self.land, "landmass_many", None)
        if many is not None:
            ms = np.asarray(many(lats, lons), dtype=float)
            ms = np.where(np.isnan(ms), -1, ms).astype(int)
        else:
            ms = np.full(len(lats), -1)
            on = np.asarray(self.land.is_land_many(lats, lons), dtype=bool)
            for i in np.flatnonzero(on):
                m = self.land.landmass(lats[i], lons[i])
                ms[i] = -1 if m is None else int(m)
        top = int(ms.max()) if len(ms) else -1
        if top >= len(self._roots):  # union-find is fixed after __init__: extend the table
            self._roots = np.array([self._find(m) for m in range(top + 1)], dtype=int)
        return np.where(ms >= 0, self._roots[np.maximum(ms, 0)] if top >= 0 else -1, -1)

    def reachable(self, a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> bool:
        """Can a land unit at a drive to b? Both on land and in one component."""
        ca = self.component(a_lat, a_lon)
        return ca is not None and ca == self.component(b_lat, b_lon)
