"""The compiled (Numba) steps, compiled before a process serves: the k-nearest search
(resources/spatial_kdtree.py) and the sea routes' line of sight (geo/seaclear.py). Each
compiles in seconds on a machine's first run and loads from its disk cache in a fraction of
one after; `make` runs this once so that no server or test process starts by compiling them
(python -m rescue.warmup).
"""

from __future__ import annotations

from functools import cache

from geo import seaclear
from resources.spatial import ResourceIndex
from resources.vocabulary import Vocabulary


@cache
def warm() -> None:
    """Once a process: what is compiled depends on the arrays' types, not on any registry,
    so a default vocabulary's one-unit index compiles it for every index."""
    ResourceIndex.warm(Vocabulary.default())
    seaclear.warm()


if __name__ == "__main__":
    warm()
