"""Field standards read back (DESIGN §12): the AIS traffic this server hears (vessels that are
not units), for the console's optional traffic layer."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, jsonify
from pydantic import Field

from rescue.api.contract import Contract, FeatureCollection, Lax
from rescue.api.deps import caller, ctx, query
from rescue.api.geojson import collection


class TrafficQuery(Lax):
    minutes: int = Field(30, ge=1, le=24 * 60, description="reports heard in the last minutes")


def register(bp: Blueprint, c: Contract) -> None:
    doc = c.spec.validate

    @bp.get("/ais/traffic")
    @doc(query=TrafficQuery, resp=c.resp(200, FeatureCollection), tags=["standards"],
         skip_validation=True)
    def ais_traffic():  # noqa: ANN202
        """Vessels heard on this server's AIS listener that are not units: the latest report
        of each (GeoJSON points; empty when the listener is off). Centres only."""
        principal = caller()
        principal.require("operator", "trainer")
        q = query(TrafficQuery)
        x = ctx()
        svc = x.extensions.get("ais")
        since = x.clock() - timedelta(minutes=q.minutes)
        features = svc.traffic.features(since) if svc is not None else []
        return jsonify(collection(features))
