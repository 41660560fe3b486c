"""Path parameters with a shape: Werkzeug converters that match only what can name something,
and tell the OpenAPI document their pattern.

A path that cannot name a resource (a control character, a slash, the reserved words
`export` and `import` where a resource id goes) is no route at all: 404, or 405 with an
Allow header that lists exactly the methods of the path asked for."""

from __future__ import annotations

from typing import Any

from flask import Flask
from spectree.plugins.flask_plugin import FlaskPlugin
from werkzeug.routing import BaseConverter

from rescue.incidents import INCIDENT_ID_BODY
from resources.model import AREA_BODY, ID_BODY, RESERVED_IDS


class _Shaped(BaseConverter):
    schema: dict[str, Any] = {"type": "string"}


def _shape(body: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^{body}$", **extra}


_RESERVED = "|".join(sorted(RESERVED_IDS))


class ResourceId(_Shaped):
    regex = rf"(?!(?:{_RESERVED})(?:/|$)){ID_BODY}"
    schema = _shape(ID_BODY, **{"not": {"enum": sorted(RESERVED_IDS)}})


class IncidentId(_Shaped):
    regex = INCIDENT_ID_BODY
    schema = _shape(INCIDENT_ID_BODY)


class AreaCode(_Shaped):
    regex = AREA_BODY
    schema = _shape(AREA_BODY)


class Name(_Shaped):
    regex = ID_BODY
    schema = _shape(ID_BODY)


CONVERTERS: dict[str, type[_Shaped]] = {"rid": ResourceId, "iid": IncidentId,
                                         "areacode": AreaCode, "name": Name}


def install(app: Flask) -> None:
    app.url_map.converters.update(CONVERTERS)


class ShapedFlaskPlugin(FlaskPlugin):
    """spectree's Flask plugin, documenting our converters' patterns."""

    def parse_path(self, route: Any, path_parameter_descriptions: Any) -> tuple[str, list]:
        path, params = super().parse_path(route, path_parameter_descriptions)
        from spectree.plugins.werkzeug_utils import werkzeug_parse_rule as parse_rule

        shaped = {var: CONVERTERS[conv].schema for conv, _args, var in parse_rule(str(route))
                  if conv in CONVERTERS}
        for p in params:
            if p["name"] in shaped:
                p["schema"] = dict(shaped[p["name"]])
        return path, params
