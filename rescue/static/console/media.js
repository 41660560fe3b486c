// Scene media (DESIGN §13) in the console: the incident's gallery (photos as thumbnails, voice
// notes and clips fetched when played), its snapshot streams (the latest frame large, a strip
// of the recent ones), an upload form for the centre, and the latest frame of every stream on
// the map beside its incident. Bytes come through the API with the tab's token (an <img> cannot
// send one), kept as object URLs and let go when no longer shown.

import { escapeHtml, t } from "./i18n.js";

const STRIP = 8;

/** Object URLs for media ids, fetched once each; `release` lets go of those not kept. */
class BlobCache {
  constructor(api) { this.api = api; this.urls = new Map(); }

  async url(path) {
    if (!this.urls.has(path)) this.urls.set(path, this.api.blobUrl(path).catch((err) => { this.urls.delete(path); throw err; }));
    return this.urls.get(path);
  }

  release(keep) {
    for (const [path, p] of this.urls) {
      if (keep.has(path)) continue;
      this.urls.delete(path);
      p.then((u) => URL.revokeObjectURL(u)).catch(() => {});
    }
  }
}

export class SceneMedia {
  constructor({ api, toast, readOnly = false }) {
    Object.assign(this, { api, toast, readOnly });
    this.blobs = new BlobCache(api);
    this.incident = null;
    this.items = new Map(); // id -> media (photos, voice, clips)
    this.streams = new Map(); // name -> [frames, newest first]
    this.el = null;
  }

  async mount(el, incident, { load = true } = {}) {
    if (this.incident !== incident) { this.items.clear(); this.streams.clear(); }
    this.incident = incident;
    this.el = el;
    el.innerHTML = `<h3>${escapeHtml(t("scene"))}</h3><div class="streams"></div><div class="gallery"></div>
      ${this.readOnly ? "" : `<form class="upload"><input type="file" name="file" accept="image/*,audio/*,video/*">
      <input name="caption" maxlength="500" placeholder="${escapeHtml(t("caption"))}">
      <button type="submit">${escapeHtml(t("upload"))}</button></form>`}`;
    el.querySelector(".upload")?.addEventListener("submit", (e) => { e.preventDefault(); this.upload(e.target); });
    el.addEventListener("click", (e) => this.onClick(e));
    this.render();
    if (!load) return;
    try {
      const body = await this.api.get(`/incidents/${encodeURIComponent(incident)}/media?limit=500`);
      if (this.incident !== incident) return;
      for (const m of body.media) this.items.set(m.id, m);
      for (const s of body.streams) {
        const strip = await this.api.get(`/incidents/${encodeURIComponent(incident)}/streams/${encodeURIComponent(s.name)}/frames?limit=${STRIP}`);
        this.streams.set(s.name, strip.frames);
      }
      if (this.incident === incident) this.render();
    } catch (err) { this.toast(err.message); }
  }

  /** A `media.added` or `stream.frame` event: shown if it belongs to the open incident. */
  add(ev) {
    const m = ev.payload.media || ev.payload.frame;
    if (!m || m.incident_id !== this.incident) return;
    const item = { ...m, seq: ev.seq };
    if (ev.type === "stream.frame") {
      const strip = this.streams.get(m.stream) || [];
      if (strip.some((f) => f.id === m.id)) return;
      strip.unshift(item);
      this.streams.set(m.stream, strip.slice(0, STRIP));
    } else this.items.set(m.id, item);
    this.render();
  }

  render() {
    if (!this.el) return;
    const streams = this.el.querySelector(".streams");
    streams.innerHTML = [...this.streams].map(([name, frames]) => `<figure class="stream" data-stream="${escapeHtml(name)}">
        <img class="latest" data-src="${escapeHtml(frames[0].url)}" alt="${escapeHtml(name)}">
        <figcaption>${escapeHtml(name)} · <span class="dim">${escapeHtml(new Date(frames[0].time).toLocaleTimeString())}</span></figcaption>
        <div class="strip">${frames.slice(1).map((f) => `<img data-src="${escapeHtml(f.url)}" title="${escapeHtml(new Date(f.time).toLocaleTimeString())}">`).join("")}</div></figure>`).join("");
    const items = [...this.items.values()].sort((a, b) => (a.seq || 0) - (b.seq || 0));
    this.el.querySelector(".gallery").innerHTML = items.map((m) => {
      const who = escapeHtml(m.unit || m.area_name || m.author || "");
      const cap = m.caption ? `<figcaption>${escapeHtml(m.caption)}</figcaption>` : "";
      if (m.type === "image") {
        return `<figure class="media" data-id="${escapeHtml(m.id)}"><img class="thumb" data-src="${escapeHtml(m.thumbnail_url || m.url)}" data-full="${escapeHtml(m.url)}" alt="">${cap}<span class="dim">${who}</span></figure>`;
      }
      return `<figure class="media ${escapeHtml(m.type)}" data-id="${escapeHtml(m.id)}"><button type="button" class="play" data-url="${escapeHtml(m.url)}" data-type="${escapeHtml(m.type)}">▶ ${escapeHtml(t(m.type === "audio" ? "voice_note" : "clip"))}</button>${cap}<span class="dim">${who}</span></figure>`;
    }).join("") || (this.streams.size ? "" : `<p class="dim">${escapeHtml(t("no_media"))}</p>`);
    const shown = new Set();
    for (const img of this.el.querySelectorAll("img[data-src]")) {
      shown.add(img.dataset.src);
      this.blobs.url(img.dataset.src).then((u) => { img.src = u; }).catch(() => img.classList.add("missing"));
    }
    this.blobs.release(shown);
  }

  async onClick(e) {
    const img = e.target.closest("img.thumb");
    if (img) { this.api.open(img.dataset.full).catch((err) => this.toast(err.message)); return; }
    const b = e.target.closest("button.play");
    if (!b) return;
    b.disabled = true;
    try {
      const url = await this.api.blobUrl(b.dataset.url);
      const player = document.createElement(b.dataset.type === "video" ? "video" : "audio");
      player.controls = true;
      player.src = url;
      b.replaceWith(player);
      player.play().catch(() => {});
    } catch (err) { b.disabled = false; this.toast(err.message); }
  }

  async upload(form) {
    const file = form.elements.file.files[0];
    if (!file) return;
    const body = new FormData();
    body.append("file", file);
    if (form.elements.caption.value.trim()) body.append("caption", form.elements.caption.value.trim());
    body.append("id", window.crypto?.randomUUID ? crypto.randomUUID() : `u-${Date.now()}`);
    const incident = this.incident;
    try {
      const m = await this.api.upload(`/incidents/${encodeURIComponent(incident)}/media`, body);
      form.reset();
      if (this.incident === incident) { this.items.set(m.id, m); this.render(); }
    } catch (err) { this.toast(err.field ? `${err.field}: ${err.message}` : err.message); }
  }
}

/** The latest frame of each stream on the map, beside its incident (or where it was taken). */
export class MapFrames {
  constructor({ api, map, incidents }) {
    Object.assign(this, { api, map, incidents });
    this.markers = new Map(); // "incident/stream" -> {marker, url, at}
  }

  async add(ev) {
    const f = ev.payload.frame;
    if (!f) return;
    const key = `${f.incident_id}/${f.stream}`;
    const inc = this.incidents.get(f.incident_id);
    const at = f.lat != null ? [f.lat, f.lon] : inc ? [inc.lat, inc.lon] : null;
    if (!at) return;
    let entry = this.markers.get(key);
    if (!entry) {
      const icon = L.divIcon({ className: "frame-marker", html: `<img alt="${escapeHtml(f.stream)}"><span>${escapeHtml(f.stream)}</span>`, iconSize: [96, 84], iconAnchor: [-8, 42] });
      entry = { marker: L.marker(at, { icon, interactive: false }).addTo(this.map), url: null };
      this.markers.set(key, entry);
    } else entry.marker.setLatLng(at);
    const el = entry.marker.getElement();
    if (el) el.dataset.frame = f.id;
    try {
      const url = await this.api.blobUrl(f.url);
      if (entry.url) URL.revokeObjectURL(entry.url);
      entry.url = url;
      const img = entry.marker.getElement()?.querySelector("img");
      if (img) img.src = url;
    } catch { /* the next frame will do */ }
  }

  /** Frames of incidents no longer open leave the map. */
  prune() {
    for (const [key, entry] of this.markers) {
      const inc = this.incidents.get(key.split("/")[0]);
      if (inc && inc.status !== "closed") continue;
      entry.marker.remove();
      if (entry.url) URL.revokeObjectURL(entry.url);
      this.markers.delete(key);
    }
  }
}
