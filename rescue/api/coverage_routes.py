"""Coverage (issue 11 §4): GeoJSON cells with the best ETA per target, and move-up suggestions.

The target names come from the coverage file loaded at start, so the published query names
exactly the targets this server knows (an unknown one is a 400 naming `target`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from flask import Blueprint, jsonify
from pydantic import ConfigDict, Field

from rescue.api.contract import AnyGeometry, Contract, Lax, Out
from rescue.api.deps import caller, ctx, query
from rescue.services import coverage as svc


class CoverageSummary(Out):
    sites: int
    covered: int
    median_eta_s: int | None
    worst_eta_s: int | None


class CoverageTargetOut(Out):
    name: str
    title: str
    capability: str
    modes: list[str]
    max_eta_s: int
    horizon_s: int
    over: str | None
    coast_km: float | None
    area: str | None
    points: list[dict[str, Any]]
    summary: CoverageSummary


class CoverageCell(Out):
    """A cell: its outline, and per target that applies to it {best_eta_s (null: no unit
    within the target's horizon), covered, unit}."""

    type: Literal["Feature"]
    id: int
    geometry: AnyGeometry
    properties: dict[str, Any]


class MoveUpOut(Out):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    target: str
    resource_id: str
    name: str
    kind: str
    mode: str
    area: str
    origin: dict[str, float] = Field(alias="from")
    post: dict[str, Any]
    travel_s: int
    distance_km: float
    restored: int
    lost: int
    before: CoverageSummary
    after: CoverageSummary
    eta_gain_s: dict[str, int | None]
    restored_cells: list[int]
    movable: bool


class CoverageOut(Out):
    type: Literal["FeatureCollection"]
    features: list[CoverageCell]
    targets: list[CoverageTargetOut]
    moveup: list[MoveUpOut]
    computed_at: str
    cell_km: float


class MoveUpList(Out):
    moveup: list[MoveUpOut]
    targets: list[CoverageTargetOut]
    computed_at: str


def register(bp: Blueprint, c: Contract, targets: Iterable[str]) -> None:
    names = tuple(sorted(set(targets)))
    Target = Literal[names]  # type: ignore[valid-type]  # noqa: N806 - a type

    class CoverageQuery(Lax):
        target: Target | None = Field(None, description="one coverage target only")  # type: ignore[valid-type]

    @bp.get("/coverage")
    @c.spec.validate(query=CoverageQuery, resp=c.resp(200, CoverageOut, errors=(400, 401, 403)),
                     tags=["coverage"], skip_validation=True)
    def coverage():  # noqa: ANN202
        """The cells of your area with, per coverage target, the best ETA of the available
        units and whether it meets the target; the targets' summaries; move-up suggestions."""
        x = ctx()
        q = query(CoverageQuery)
        return jsonify(svc.coverage_geojson(x, caller(), x.clock(), q.target))

    @bp.get("/coverage/moveup")
    @c.spec.validate(query=CoverageQuery, resp=c.resp(200, MoveUpList, errors=(400, 401, 403)),
                     tags=["coverage"], skip_validation=True)
    def coverage_moveup():  # noqa: ANN202
        """Which available units to move where to restore lost cover, with the ETA gained and
        their own travel time (greedy; never a move that uncovers more than it restores)."""
        x = ctx()
        q = query(CoverageQuery)
        return jsonify(svc.moveup(x, caller(), x.clock(), q.target))
