"""Map layers (GeoJSON FeatureCollections) served by GET /layers/{name}.

Point layers (airports, ports, standby points, helipads, hospitals) are files in geo/data/layers;
`land` and `admin` are the land mask and the areas file themselves, so nothing is stored twice.
Files are read on first use and cached.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


class LayerStore:
    def __init__(self, files: dict[str, Path]):
        self._files = dict(files)
        self._cache: dict[str, dict] = {}
        self._lock = threading.Lock()

    @classmethod
    def load(cls, dir: str | Path | None = None, *, land: str | Path | None = None,
             admin: str | Path | None = None) -> LayerStore:
        """Layers in `dir` (default geo/data/layers) plus the `land` and `admin` layers."""
        layer_dir = Path(dir) if dir is not None else DATA_DIR / "layers"
        files = {p.stem: p for p in sorted(layer_dir.glob("*.geojson"))}
        base = layer_dir.parent
        for name, given, default in (("land", land, base / "land.geojson"),
                                     ("admin", admin, base / "areas.geojson")):
            path = Path(given) if given is not None else default
            if name not in files and path.exists():
                files[name] = path
        return cls(files)

    def names(self) -> list[str]:
        return sorted(self._files)

    def __contains__(self, name: str) -> bool:
        return name in self._files

    def get(self, name: str) -> dict:
        """The layer as a GeoJSON dict (shared: do not mutate); KeyError if unknown."""
        if name not in self._files:
            raise KeyError(name)
        with self._lock:
            if name not in self._cache:
                with open(self._files[name], encoding="utf-8") as fh:
                    self._cache[name] = json.load(fh)
            return self._cache[name]
