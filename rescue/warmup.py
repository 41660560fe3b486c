"""The compiled (Numba) steps, compiled before a process serves: the k-nearest search
(resources/spatial_kdtree.py), the sea routes' line of sight (geo/seaclear.py) and the sea
search itself (geo/seafrontier.py). Each compiles in seconds on a machine's first run and loads
from its disk cache in a fraction of one after; `make` runs this once so that no server or test
process starts by compiling them (python -m rescue.warmup). And the geography a server loads
before it listens.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from geo import seaclear, seafrontier
from resources.spatial import ResourceIndex
from resources.vocabulary import Vocabulary


@cache
def warm() -> None:
    """Once a process: what is compiled depends on the arrays' types, not on any registry,
    so a default vocabulary's one-unit index compiles it for every index."""
    ResourceIndex.warm(Vocabulary.default())
    seaclear.warm()
    seafrontier.warm()


def warm_geography(geography: Any) -> None:
    """The geography's parts that load on first use (the sea graph ~0.3-0.7 s, the land's
    reachability ~0.2 s), loaded now: a server does this before it listens, so that the first
    maritime suggestion after a restart does not load them on the event loop."""
    for part in ("areas", "land", "sea", "reach"):
        getattr(geography, part)


if __name__ == "__main__":
    warm()
