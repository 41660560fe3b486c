"""The straightforward coverage: for each site, one dispatcher ETA model and every candidate.

Why keep it: it is what coverage means, written the obvious way (rescue.dispatch.eta.EtaModel
per site over ListSource's candidates, exactly what the dispatcher's brute-force ranking
evaluates), so it is the oracle of the tests and the baseline of bench/bench_coverage.py. It
builds one sea shortest-path search per site at sea, which is why rescue.dispatch.coverage
exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import numpy as np

from rescue.dispatch.coverage_grid import Sites
from rescue.dispatch.coverage_targets import CoverageTarget
from rescue.dispatch.eta import EtaModel
from rescue.dispatch.policy import DispatchPolicy
from rescue.dispatch.sources import ListSource


def naive_best(target: CoverageTarget, sites: Sites, resources: Iterable[Any], geography: Any,
               policy: DispatchPolicy, now: datetime, kind_modes: Mapping[str, str],
               which: Iterable[int] | None = None) -> np.ndarray:
    """Best ETA (float s; inf for none within the horizon) at each site (or at `which`
    sites only; the others stay inf), one EtaModel per site."""
    source = ListSource(resources, kind_modes)
    out = np.full(len(sites), np.inf)
    for i in (range(len(sites)) if which is None else which):
        lat, lon = float(sites.lat[i]), float(sites.lon[i])
        batch = source.everything(lat, lon, target.capability, now=now,
                                  max_age_s=policy.max_position_age_s, exercise=None,
                                  modes=target.modes)
        if len(batch) == 0:
            continue
        model = EtaModel(lat, lon, sites.locations[i], geography, policy)
        best = float(np.min(model.evaluate(batch).eta_s))
        out[i] = best if best <= target.horizon_s else np.inf
    return out
