"""One bundle of everything geographic, each part loaded on first use.

Why: the app, the CLI, the simulator and the tests need the same few data sets; loading them
lazily keeps imports free of I/O and lets a command that only needs areas skip the sea graph.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


class Geography:
    def __init__(self, data_dir: str | Path | None = None,
                 roads_path: str | Path | None = None):
        self.data_dir = Path(data_dir) if data_dir is not None else DATA_DIR
        self.roads_path = Path(roads_path) if roads_path is not None else None

    @classmethod
    def load(cls, data_dir: str | Path | None = None,
             roads_path: str | Path | None = None) -> Geography:
        """Nothing is read here; attributes load on first access. `roads_path` is an imported
        road graph (`rescue roads import`); without one, land travel uses the detour factor."""
        return cls(data_dir, roads_path)

    @cached_property
    def roads(self):
        if self.roads_path is None or not self.roads_path.exists():
            return None
        from geo.roads import RoadGraph

        return RoadGraph.load(self.roads_path)

    @cached_property
    def areas(self):
        from geo.areas import AreaIndex

        # the index asks for the land mask (land or sea) on its first locate, not before
        return AreaIndex.from_file(self.data_dir / "areas.geojson", land=lambda: self.land)

    @cached_property
    def land(self):
        from geo.landsea import LandMask

        return LandMask.load(self.data_dir / "land.geojson")

    @cached_property
    def layers(self):
        from geo.layers import LayerStore

        return LayerStore.load(self.data_dir / "layers")

    @cached_property
    def sea(self):
        from geo.seagraph import SeaGraph

        return SeaGraph.load(self.data_dir / "seagraph.npz", land=self.land)

    @cached_property
    def reach(self):
        from geo.landreach import LandReach

        return LandReach.load(self.land, self.data_dir / "links.json")
