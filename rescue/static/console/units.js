// Units on the map: a store fed by events and one canvas drawn from pre-rendered sprites.
// Thousands of moving units stay smooth because (1) events are queued and applied in one batch
// per animation frame, then drawn once; (2) each unit keeps its Web Mercator position at zoom 0,
// so a frame is a multiply-add and a drawImage per unit, with no Leaflet object per unit.

import { duration, escapeHtml, pickName, t, word } from "./i18n.js";

export const STATUS_COLOURS = {
  available: "#3fb950", assigned: "#4c8dff", en_route: "#a371f7", on_scene: "#f78166",
  returning: "#39c5cf", out_of_service: "#6e7681",
};
const KINDS = ["helicopter", "fixed_wing", "drone", "vessel", "volunteer_vessel", "land_team", "volunteer_team", "expert_team"];
const FRESHNESS = ["fresh", "aging", "stale", "home"];
const SIZE = 18; // CSS px of one sprite cell
const LOW = new Set(["available", "out_of_service"]); // drawn first: busy units stay on top
const MAX_BADGES = 2000; // stack counts drawn in one frame
const VECTOR_MIN = 6; // a moving unit's course vector: where it would be this many minutes on
const MOVING_KMH = 2; // slower than this, no vector (a boat at anchor swings)
const MAX_VECTOR_PX = 160;
const VECTOR_COLOUR = 0xd0fcf6f0; // #f0f6fc at ~80 % (ABGR, as the buffer holds it)
const MAX_STACK_LINES = 200; // units listed in one stack's popup

function world(lat, lon) {
  const max = 85.0511287798;
  const phi = (Math.max(-max, Math.min(max, lat)) * Math.PI) / 180;
  return [(256 * (lon + 180)) / 360, 256 * (0.5 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / (2 * Math.PI))];
}

function timeMs(s) { return s ? Date.parse(s) : null; }

/** Index into FRESHNESS of a fix taken at `time` (ms; null: none, drawn at home). */
function freshIndex(time, now, maxAgeMs) {
  if (time == null) return 3;
  const age = now - time;
  return age > maxAgeMs ? 2 : age > maxAgeMs / 2 ? 1 : 0;
}

/** The registry as the console knows it, kept current by events (versions and fix times
 *  guard against an older event overwriting newer state). */
export class UnitStore {
  constructor() {
    this.byId = new Map();
    this.list = [];
    this.listeners = new Set();
  }

  load(fc) {
    this.byId.clear();
    this.list = [];
    for (const f of fc.features) this.upsert(f.properties);
  }

  get(id) { return this.byId.get(id); }
  get size() { return this.list.length; }

  upsert(p) {
    let u = this.byId.get(p.id);
    if (u && p.version != null && u.version != null && p.version < u.version) return u;
    if (!u) {
      u = { id: p.id, idx: this.list.length };
      this.byId.set(p.id, u);
      this.list.push(u);
    }
    Object.assign(u, {
      name: p.name, call_sign: p.call_sign, kind: p.kind, status: p.status, area: p.area,
      capabilities: p.capabilities || [], speed_kmh: p.speed_kmh, version: p.version ?? u.version,
      home: p.home, agency: p.agency,
    });
    const pt = timeMs(p.position_time);
    if (p.lat != null && p.lon != null && (u.time == null || pt == null || pt >= u.time)) {
      if (pt !== u.time) u.course = u.sog = null; // a newer fix that says nothing of either
      u.lat = p.lat; u.lon = p.lon; u.time = pt;
    } else if (p.lat == null && u.time == null) {
      u.lat = null; u.lon = null; u.time = null;
    }
    this.place(u);
    return u;
  }

  place(u) {
    const at = u.lat != null ? [u.lat, u.lon] : u.home ? [u.home.lat, u.home.lon] : null;
    if (at) [u.wx, u.wy] = world(at[0], at[1]); else u.wx = u.wy = NaN;
    // The course vector: where the unit would be VECTOR_MIN minutes on at its course and
    // speed, as an offset in the same zoom-0 units (Mercator keeps local scale alike in x and
    // y: 256 units per 360 degrees of longitude, a degree 111.32 km x cos(latitude)).
    u.vx = u.vy = 0;
    if (u.lat != null && u.course != null && u.sog != null && u.sog >= MOVING_KMH) {
      const km = (u.sog * VECTOR_MIN) / 60;
      const perKm = 256 / (360 * 111.32 * Math.cos((u.lat * Math.PI) / 180));
      const a = (u.course * Math.PI) / 180;
      u.vx = Math.sin(a) * km * perKm;
      u.vy = -Math.cos(a) * km * perKm;
    }
  }

  remove(id) {
    const u = this.byId.get(id);
    if (!u) return;
    const last = this.list.pop();
    if (last !== u) { this.list[u.idx] = last; last.idx = u.idx; }
    this.byId.delete(id);
  }

  /** The course and speed of a unit's current fix, from a past `resource.position` event
   *  (the registry loaded holds neither): taken only from the event of that very fix, and
   *  nothing else of it (its status may be older than the unit's). */
  motionFrom(ev) {
    const p = ev.payload || {};
    const u = this.byId.get(p.id);
    if (!u || u.time == null || timeMs(p.time) !== u.time) return;
    u.course = p.heading ?? null; u.sog = p.speed_kmh ?? null;
    this.place(u);
  }

  /** One event; returns the unit it changed, if any. */
  apply(ev) {
    const p = ev.payload || {};
    switch (ev.type) {
      case "resource.position": {
        const u = this.byId.get(p.id);
        if (!u) return null;
        const tm = timeMs(p.time);
        if (u.time != null && tm != null && tm < u.time) return null;
        u.lat = p.lat; u.lon = p.lon; u.time = tm;
        if (p.status) u.status = p.status;
        if (p.version != null && (u.version == null || p.version > u.version)) u.version = p.version;
        if (p.speed_kmh != null) u.speed = p.speed_kmh;
        // The fix's own course and speed (a fix without them has no vector).
        u.course = p.heading ?? null; u.sog = p.speed_kmh ?? null;
        this.place(u);
        return u;
      }
      case "resource.deleted":
        this.remove(p.id || p.resource?.id);
        return null;
      default:
        if (ev.type.startsWith("resource.") && p.resource) return this.upsert(p.resource);
        return null;
    }
  }
}

function drawShape(g, kind, r) {
  g.beginPath();
  switch (kind) {
    case "helicopter": g.arc(0, 0, r * 0.72, 0, 2 * Math.PI); break;
    case "fixed_wing": g.moveTo(0, -r); g.lineTo(r * 0.9, r * 0.7); g.lineTo(0, r * 0.3); g.lineTo(-r * 0.9, r * 0.7); g.closePath(); break;
    case "drone": g.moveTo(0, -r); g.lineTo(r, 0); g.lineTo(0, r); g.lineTo(-r, 0); g.closePath(); break;
    case "vessel": case "volunteer_vessel":
      g.moveTo(0, -r); g.lineTo(r * 0.75, -r * 0.2); g.lineTo(r * 0.6, r * 0.85); g.lineTo(-r * 0.6, r * 0.85); g.lineTo(-r * 0.75, -r * 0.2); g.closePath(); break;
    case "expert_team":
      for (let i = 0; i < 6; i++) { const a = (Math.PI / 3) * i; g.lineTo(r * 0.85 * Math.cos(a), r * 0.85 * Math.sin(a)); } g.closePath(); break;
    default: g.rect(-r * 0.72, -r * 0.72, r * 1.44, r * 1.44);
  }
}

/** One sprite: kind by shape, status by colour, freshness by outline and opacity; volunteers
 *  hollow-centred; a helicopter carries its rotor, a drone its four arms. */
function drawSprite(g, kind, status, fresh) {
  const r = SIZE * 0.38;
  const colour = STATUS_COLOURS[status] || "#8b98a5";
  g.save();
  g.globalAlpha = fresh === "stale" ? 0.45 : fresh === "home" ? 0.6 : 1;
  drawShape(g, kind, r);
  g.fillStyle = fresh === "home" ? "rgba(15,20,25,.85)" : colour;
  g.fill();
  g.lineWidth = fresh === "fresh" ? 1.5 : 2;
  g.strokeStyle = fresh === "fresh" ? "#f0f6fc" : fresh === "aging" ? "#f0a020" : fresh === "home" ? colour : "#8b98a5";
  if (fresh === "stale" || fresh === "home") g.setLineDash([2, 2]);
  g.stroke();
  g.setLineDash([]);
  g.strokeStyle = "#f0f6fc";
  g.lineWidth = 1.3;
  if (kind === "helicopter") {
    g.beginPath(); g.moveTo(-r * 1.2, -r * 1.2); g.lineTo(r * 1.2, r * 1.2); g.moveTo(r * 1.2, -r * 1.2); g.lineTo(-r * 1.2, r * 1.2); g.stroke();
  } else if (kind === "drone") {
    g.beginPath(); g.arc(0, 0, r * 0.25, 0, 2 * Math.PI); g.fillStyle = "#f0f6fc"; g.fill();
  } else if (kind === "volunteer_vessel" || kind === "volunteer_team") {
    g.beginPath(); g.arc(0, 0, r * 0.3, 0, 2 * Math.PI); g.fillStyle = "#0f1419"; g.fill();
  }
  g.restore();
}

/** Every sprite, rendered once and kept as its painted pixels: a frame copies those pixels
 *  into one buffer and puts it on the canvas in one call. In a software-rendered browser
 *  (headless Chromium, a wall-screen PC without GPU) that is ~6x faster than a drawImage per
 *  unit, and the difference is what keeps 10,000 moving units smooth. */
class Atlas {
  constructor(dpr) {
    this.cell = Math.ceil(SIZE * dpr);
    this.statuses = Object.keys(STATUS_COLOURS);
    const rows = this.statuses.length + 1; // + unknown status
    const canvas = document.createElement("canvas");
    canvas.width = this.cell * KINDS.length * FRESHNESS.length;
    canvas.height = this.cell * rows;
    const g = canvas.getContext("2d", { willReadFrequently: true });
    g.scale(dpr, dpr);
    KINDS.forEach((k, ki) => FRESHNESS.forEach((f, fi) => [...this.statuses, "?"].forEach((st, si) => {
      g.save();
      g.translate((ki * FRESHNESS.length + fi) * SIZE + SIZE / 2, si * SIZE + SIZE / 2);
      drawSprite(g, k, st, f);
      g.restore();
    })));
    const all = new Uint32Array(g.getImageData(0, 0, canvas.width, canvas.height).data.buffer);
    this.kindIdx = new Map(KINDS.map((k, i) => [k, i]));
    this.statusIdx = new Map(this.statuses.map((st, i) => [st, i]));
    this.rows = rows;
    this.sprites = [];
    this.badges = new Map();
    this.dpr = dpr;
    const c = this.cell;
    for (let ki = 0; ki < KINDS.length; ki++) {
      for (let fi = 0; fi < FRESHNESS.length; fi++) {
        for (let si = 0; si < rows; si++) {
          this.sprites.push(pixels(all, canvas.width, (ki * FRESHNESS.length + fi) * c, si * c, c, c));
        }
      }
    }
  }

  /** The count a stack of `n` units carries (a small dark pill, 2 to 99+), rendered once
   *  per label and kept as pixels like the sprites. */
  badge(n) {
    const label = n > 99 ? "99+" : String(n);
    let b = this.badges.get(label);
    if (b) return b;
    const d = this.dpr, bh = Math.ceil(11 * d);
    const cv = document.createElement("canvas");
    const g = cv.getContext("2d", { willReadFrequently: true });
    const font = `bold ${Math.round(9 * d)}px sans-serif`;
    g.font = font;
    const bw = Math.ceil(Math.max(12 * d, g.measureText(label).width + 5 * d));
    cv.width = bw + 2; cv.height = bh + 2; // (which resets the context's state)
    g.font = font;
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillStyle = "rgba(15,20,25,.9)";
    g.strokeStyle = "#f0f6fc";
    g.lineWidth = d;
    g.beginPath();
    if (g.roundRect) g.roundRect(1, 1, bw, bh, bh / 2); else g.rect(1, 1, bw, bh);
    g.fill();
    g.stroke();
    g.fillStyle = "#f0f6fc";
    g.fillText(label, 1 + bw / 2, 1 + bh / 2 + 0.5 * d);
    b = pixels(new Uint32Array(g.getImageData(0, 0, cv.width, cv.height).data.buffer),
      cv.width, 0, 0, cv.width, cv.height);
    Object.assign(b, { w: cv.width, h: cv.height, c: Math.max(cv.width, cv.height) });
    this.badges.set(label, b);
    return b;
  }

  sprite(kind, fresh, status) {
    const ki = this.kindIdx.get(kind) ?? this.kindIdx.get("land_team");
    const si = this.statusIdx.get(status) ?? this.rows - 1;
    return this.sprites[(ki * FRESHNESS.length + fresh) * this.rows + si];
  }
}

/** The painted pixels of a w x h box at (x0, y0) of an image `width` wide, as a blit reads
 *  them: offsets, colours and alphas. */
function pixels(all, width, x0, y0, w, h) {
  const dx = [], dy = [], px = [], al = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = all[(y0 + y) * width + x0 + x];
      if (p >>> 24) { dx.push(x); dy.push(y); px.push(p); al.push(p >>> 24); }
    }
  }
  return { dx: Int16Array.from(dx), dy: Int16Array.from(dy), px: Uint32Array.from(px),
    a: Uint8Array.from(al), off: null, width: 0 };
}

function blend(s, d, a) {
  const na = 255 - a;
  const r = ((s & 255) * a + (d & 255) * na) / 255;
  const g = (((s >>> 8) & 255) * a + ((d >>> 8) & 255) * na) / 255;
  const b = (((s >>> 16) & 255) * a + ((d >>> 16) & 255) * na) / 255;
  return ((Math.max(a, d >>> 24) << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

/** A course vector from (x0, y0) towards (x1, y1), at most MAX_VECTOR_PX long, `width`
 *  pixels wide, into the frame buffer. */
function line(buf, w, h, x0, y0, x1, y1, width) {
  let dx = x1 - x0, dy = y1 - y0;
  const len = Math.hypot(dx, dy);
  if (len < 1) return;
  if (len > MAX_VECTOR_PX) { dx *= MAX_VECTOR_PX / len; dy *= MAX_VECTOR_PX / len; }
  const steps = Math.ceil(Math.max(Math.abs(dx), Math.abs(dy)));
  for (let i = 0; i <= steps; i++) {
    const x = (x0 + (dx * i) / steps) | 0, y = (y0 + (dy * i) / steps) | 0;
    for (let k = 0; k < width; k++) {
      const xx = Math.abs(dx) > Math.abs(dy) ? x : x + k, yy = Math.abs(dx) > Math.abs(dy) ? y + k : y;
      if (xx >= 0 && yy >= 0 && xx < w && yy < h) buf[yy * w + xx] = VECTOR_COLOUR;
    }
  }
}

/** Copy one sprite into the frame buffer at (x0, y0), blending its soft edges. */
function blit(buf, w, h, sp, x0, y0, c) {
  const px = sp.px, al = sp.a;
  if (x0 >= 0 && y0 >= 0 && x0 + c <= w && y0 + c <= h) {
    if (sp.width !== w) { sp.off = Int32Array.from(sp.dx, (x, k) => sp.dy[k] * w + x); sp.width = w; }
    const off = sp.off, base = y0 * w + x0;
    for (let k = 0; k < px.length; k++) {
      const i = base + off[k];
      const d = buf[i];
      buf[i] = al[k] === 255 || d === 0 ? px[k] : blend(px[k], d, al[k]);
    }
    return;
  }
  const dx = sp.dx, dy = sp.dy;
  for (let k = 0; k < px.length; k++) {
    const x = x0 + dx[k], y = y0 + dy[k];
    if (x < 0 || y < 0 || x >= w || y >= h) continue;
    const i = y * w + x;
    const d = buf[i];
    buf[i] = al[k] === 255 || d === 0 ? px[k] : blend(px[k], d, al[k]);
  }
}

/** The canvas layer. `queue(events)` is all a feed does; the frame applies and draws. */
export const UnitLayer = L.Layer.extend({
  initialize(store, { maxAgeS = 1800, now = () => Date.now(), onApplied = () => {} } = {}) {
    this.store = store;
    this.maxAgeMs = maxAgeS * 1000;
    this.now = now;
    this.onApplied = onApplied;
    this.pending = [];
    this.frame = 0;
    this.stats = { frames: 0, applied: 0, drawMs: 0, drawn: 0 };
  },

  onAdd(map) {
    const pane = map.getPane("units") || map.createPane("units");
    pane.style.zIndex = 450;
    pane.style.pointerEvents = "none";
    this.canvas = L.DomUtil.create("canvas", "leaflet-zoom-hide", pane);
    this.g = this.canvas.getContext("2d", { willReadFrequently: true });
    this.dpr = window.devicePixelRatio || 1;
    this.atlas = new Atlas(this.dpr);
    map.on("moveend zoomend resize viewreset", this.reset, this);
    this.timer = setInterval(() => this.redraw(), 5000); // freshness changes as time passes
    this.reset();
  },

  onRemove(map) {
    map.off("moveend zoomend resize viewreset", this.reset, this);
    clearInterval(this.timer);
    L.DomUtil.remove(this.canvas);
  },

  queue(events) {
    for (const e of events) this.pending.push(e);
    this.redraw();
  },

  redraw() {
    if (!this.frame && this._map) this.frame = requestAnimationFrame(() => this.tick());
  },

  reset() {
    const map = this._map;
    const size = map.getSize();
    this.topLeft = map.containerPointToLayerPoint([0, 0]);
    L.DomUtil.setPosition(this.canvas, this.topLeft);
    this.canvas.width = Math.round(size.x * this.dpr);
    this.canvas.height = Math.round(size.y * this.dpr);
    this.canvas.style.width = `${size.x}px`;
    this.canvas.style.height = `${size.y}px`;
    this.redraw();
  },

  tick() {
    this.frame = 0;
    const t0 = performance.now();
    if (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      const changed = [];
      for (const e of batch) {
        const u = this.store.apply(e);
        if (u && e.type !== "resource.position") changed.push(u);
      }
      this.stats.applied += batch.length;
      this.onApplied(batch, changed);
    }
    this.draw();
    this.stats.frames += 1;
    this.stats.drawMs += performance.now() - t0;
  },

  draw() {
    const map = this._map;
    const w = this.canvas.width, h = this.canvas.height;
    if (!this.image || this.image.width !== w || this.image.height !== h) {
      if (!w || !h) return;
      this.image = this.g.createImageData(w, h);
      this.buf = new Uint32Array(this.image.data.buffer);
    }
    const buf = this.buf;
    buf.fill(0);
    const s = Math.pow(2, map.getZoom()) * this.dpr;
    const origin = map.getPixelOrigin();
    const ox = (origin.x + this.topLeft.x) * this.dpr;
    const oy = (origin.y + this.topLeft.y) * this.dpr;
    const atlas = this.atlas, c = atlas.cell, half = c >> 1;
    const now = this.now(), maxAge = this.maxAgeMs;
    // Course vectors first, under every unit; only of fixes still fresh or aging.
    for (const u of this.store.list) {
      if (!u.vx && !u.vy) continue;
      const x = u.wx * s - ox, y = u.wy * s - oy;
      if (!(x > -c && y > -c && x < w + c && y < h + c)) continue;
      if (freshIndex(u.time, now, maxAge) > 1) continue;
      line(buf, w, h, x, y, x + u.vx * s, y + u.vy * s, Math.max(1, Math.round(this.dpr)));
    }
    let drawn = 0;
    // Units drawn on (nearly) the same spot, counted per cell of half a sprite: a unit at a
    // base with others hides them, so the spot carries their number (a click lists them).
    const cell = Math.max(1, half), stacks = new Map();
    for (let pass = 0; pass < 2; pass++) {
      for (const u of this.store.list) {
        if ((pass === 0) !== LOW.has(u.status)) continue;
        const x = u.wx * s - ox, y = u.wy * s - oy;
        if (!(x > -c && y > -c && x < w + c && y < h + c)) continue; // also skips NaN
        const fresh = freshIndex(u.time, now, maxAge);
        blit(buf, w, h, atlas.sprite(u.kind, fresh, u.status), (x | 0) - half, (y | 0) - half, c);
        drawn++;
        const key = Math.floor(x / cell) * 65536 + Math.floor(y / cell);
        const st = stacks.get(key);
        if (st) st.n++; else stacks.set(key, { n: 1, x, y });
      }
    }
    let badges = 0;
    for (const st of stacks.values()) {
      if (st.n < 2 || badges >= MAX_BADGES) continue;
      const b = atlas.badge(st.n);
      blit(buf, w, h, b, (st.x | 0) + half - (b.w >> 1), (st.y | 0) - half - (b.h >> 1), b.c);
      badges++;
    }
    this.g.putImageData(this.image, 0, 0);
    this.stats.drawn = drawn;
    this.stats.stacks = badges;
  },

  /** The unit drawn nearest a container point, within a few pixels. */
  hit(containerPoint) {
    return this.hitAll(containerPoint)[0] ?? null;
  },

  /** Every unit drawn within a few pixels of a container point, nearest first (a stack at
   *  a base: the click lists them all instead of picking one). */
  hitAll(containerPoint, radius = 12) {
    const map = this._map;
    const s = Math.pow(2, map.getZoom());
    const origin = map.getPixelOrigin();
    const base = map.containerPointToLayerPoint([0, 0]);
    const near = [];
    for (const u of this.store.list) {
      const x = u.wx * s - origin.x - base.x - containerPoint.x;
      const y = u.wy * s - origin.y - base.y - containerPoint.y;
      const d = x * x + y * y;
      if (d < radius * radius) near.push([d, u]);
    }
    near.sort((a, b) => a[0] - b[0] || String(a[1].name).localeCompare(String(b[1].name)));
    return near.map(([, u]) => u);
  },

  freshness(u) {
    return FRESHNESS[freshIndex(u.time, this.now(), this.maxAgeMs)];
  },

  popupHtml(u) {
    const fresh = this.freshness(u);
    const fix = u.time == null ? t("no_fix")
      : `${t(fresh)} · ${duration((this.now() - u.time) / 1000)} (${new Date(u.time).toLocaleTimeString()})`;
    return `<div class="unit-pop"><strong>${escapeHtml(pickName(u.name))}</strong> ${escapeHtml(u.call_sign || "")}<br>
      ${escapeHtml(word("kind", u.kind))} · <span class="status-${escapeHtml(u.status)}">${escapeHtml(word("status", u.status))}</span><br>
      ${t("last_fix")}: ${escapeHtml(fix)}<br>
      ${u.course != null && u.sog != null ? `${escapeHtml(t("course_speed", { c: String(Math.round(u.course)).padStart(3, "0"), v: Math.round(u.sog) }))}<br>` : ""}
      ${t("home")}: ${escapeHtml(pickName(u.home?.name || ""))}<br>
      <span class="dim">${escapeHtml((u.capabilities || []).join(", "))}</span><br>
      <button type="button" class="direct-unit" data-rid="${escapeHtml(u.id)}">${escapeHtml(t("direct"))}</button></div>`;
  },

  /** The units of a stack, one line each (status, name, call sign, kind): a line opens that
   *  unit's own popup. */
  stackHtml(units) {
    const shown = units.slice(0, MAX_STACK_LINES);
    const rows = shown.map((u) => `<li><button type="button" class="unit-pick" data-rid="${escapeHtml(u.id)}">
      <span class="dot" style="background:${STATUS_COLOURS[u.status] || "#8b98a5"}"></span>
      <strong>${escapeHtml(pickName(u.name))}</strong> ${escapeHtml(u.call_sign || "")}
      <span class="dim">${escapeHtml(word("kind", u.kind))} · ${escapeHtml(word("status", u.status))}</span></button></li>`);
    const more = units.length > shown.length
      ? `<li class="dim">${escapeHtml(t("more_units", { n: units.length - shown.length }))}</li>` : "";
    return `<div class="unit-stack"><strong>${escapeHtml(t("units_here", { n: units.length }))}</strong>
      <ul>${rows.join("")}${more}</ul></div>`;
  },
});

/** A legend drawn from the same sprites as the map. */
export function legendControl(layer) {
  const ctl = L.control({ position: "bottomleft" });
  ctl.onAdd = () => {
    const div = L.DomUtil.create("div", "legend");
    L.DomEvent.disableClickPropagation(div);
    const sprite = (kind, status, fresh) => {
      const cv = document.createElement("canvas");
      cv.width = cv.height = SIZE * 2;
      cv.style.width = cv.style.height = `${SIZE}px`;
      const g = cv.getContext("2d");
      g.scale(2, 2); g.translate(SIZE / 2, SIZE / 2);
      drawSprite(g, kind, status, fresh);
      return cv;
    };
    const head = document.createElement("details");
    div.append(head);
    head.innerHTML = `<summary>${escapeHtml(t("legend"))}</summary>`;
    const add = (c, l) => { const r = document.createElement("div"); r.className = "legend-row"; r.append(c, document.createTextNode(` ${l}`)); head.append(r); };
    for (const k of KINDS) add(sprite(k, "available", "fresh"), word("kind", k));
    for (const s of Object.keys(STATUS_COLOURS)) add(sprite("land_team", s, "fresh"), word("status", s));
    for (const f of FRESHNESS) add(sprite("land_team", "assigned", f), f === "home" ? t("no_fix") : t(f));
    const vec = document.createElement("canvas");
    vec.width = vec.height = SIZE * 2;
    vec.style.width = vec.style.height = `${SIZE}px`;
    const vg = vec.getContext("2d");
    vg.strokeStyle = "#f0f6fc"; vg.lineWidth = 2; vg.beginPath(); vg.moveTo(4, SIZE * 2 - 4); vg.lineTo(SIZE * 2 - 4, 4); vg.stroke();
    add(vec, t("course_vector", { min: VECTOR_MIN }));
    return div;
  };
  return ctl;
}
