"""The operator's console (DESIGN §10): one page at `/`, its own scripts, and the two
libraries it uses (Leaflet, the Socket.IO client) served from `web/node_modules`, where
`make` installs them with npm from the lock file. Nothing is fetched from elsewhere."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from flask import Blueprint, Flask, abort, render_template, send_from_directory

log = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[1]
# The only vendor files served: what the page loads (and the sources maps beside them).
VENDOR = re.compile(r"^(leaflet/dist/(leaflet\.(js|css)(\.map)?|images/[a-z0-9-]+\.png)"
                    r"|socket\.io-client/dist/socket\.io\.min\.js(\.map)?)$")


def register(app: Flask, web_dir: Path | None = None) -> None:
    modules = (web_dir or ROOT / "web") / "node_modules"
    if not (modules / "leaflet" / "dist" / "leaflet.js").is_file():
        log.warning("the console's libraries are missing under %s: run `make` (npm ci --prefix "
                    "web) or set RESCUE_WEB_DIR; the API works without them", modules)
    bp = Blueprint("console", __name__, static_folder="static/console",
                   static_url_path="/console", template_folder="templates")

    @bp.get("/")
    def index():  # noqa: ANN202
        return render_template("console.html")

    @bp.get("/vendor/<path:name>")
    def vendor(name: str):  # noqa: ANN202
        if not VENDOR.match(name) or not (modules / name).is_file():
            abort(404)
        return send_from_directory(modules, name, max_age=3600)

    app.register_blueprint(bp)
