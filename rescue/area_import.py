"""`rescue areas import FILE`: real boundary files replace the approximate ones.

The merged areas are written under the data dir (`areas.geojson`), which the server prefers
over the packaged file at its next start; nothing in the package is modified.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from geo.areas import AreaIndex
from geo.geography import Geography
from rescue.config import Config
from resources.errors import ValidationError

log = logging.getLogger(__name__)


def override_path(config: Config) -> Path:
    return config.data_dir / "areas.geojson"


def load_geography(config: Config) -> Geography:
    """The packaged geography, with imported areas when an import has been made."""
    geo = Geography.load()
    path = override_path(config)
    if path.exists():
        geo.areas = AreaIndex.from_file(path)  # replaces the lazy attribute
        log.info("areas: using imported boundaries from %s", path)
    return geo


def import_areas(config: Config, file: Path) -> tuple[int, Path]:
    import geopandas as gpd

    if not file.exists():
        raise ValidationError("file", f"{file} does not exist")
    log.info("reading %s", file)
    try:
        gdf = gpd.read_file(file)
    except Exception as e:  # noqa: BLE001 - any reader failure is bad input here
        raise ValidationError("file", f"cannot read {file.name}: {e}") from None
    if "code" in gdf.columns:
        gdf["code"] = gdf["code"].astype(str)
    if "parent" in gdf.columns:
        gdf["parent"] = gdf["parent"].where(gdf["parent"].notna(), None)
        gdf["parent"] = gdf["parent"].map(lambda v: None if v is None else str(v))
    base = load_geography(config).areas
    try:
        merged = base.replace_from(gdf)
    except ValueError as e:
        raise ValidationError("file", str(e)) from None
    path = override_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(merged.feature_collection(), ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    log.info("wrote %d areas to %s", len(merged), path)
    return len(gdf), path
