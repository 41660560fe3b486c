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


class _Shaped(BaseConverter):
    schema: dict[str, Any] = {"type": "string"}


class ResourceId(_Shaped):
    regex = r"(?!(?:export|import)(?:/|$))[A-Za-z0-9_-]{1,64}"
    schema = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$",
              "not": {"enum": ["export", "import"]}}


class IncidentId(_Shaped):
    regex = r"[A-Za-z0-9_-]{1,40}"
    schema = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,40}$"}


class AreaCode(_Shaped):
    regex = r"\d{2}(?:\d{2}(?:\d{2}(?:\d{3})?)?)?M?"
    schema = {"type": "string", "pattern": r"^\d{2}(?:\d{2}(?:\d{2}(?:\d{3})?)?)?M?$"}


class Name(_Shaped):
    regex = r"[A-Za-z0-9_-]{1,64}"
    schema = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"}


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
