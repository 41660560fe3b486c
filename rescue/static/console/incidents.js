// Incidents: the store, the queue with its clocks, and the markers. A clock runs from the
// report; until the first dispatch it turns amber, then red, at the configured thresholds.

import { areaName, clock, escapeHtml, t, word } from "./i18n.js";

const SEVERITY_ORDER = { I: 0, II: 1, III: 2, IV: 3 };

export function firstDispatchMs(inc) {
  let first = null;
  for (const a of inc.assignments || []) {
    const at = Date.parse(a.assigned_at);
    if (!Number.isNaN(at) && (first == null || at < first)) first = at;
  }
  return first;
}

export function clockState(inc, nowMs, amberS, redS) {
  const reported = Date.parse(inc.reported_at);
  const first = firstDispatchMs(inc);
  if (first != null) return { seconds: (nowMs - reported) / 1000, colour: "done", dispatchS: (first - reported) / 1000 };
  const s = (nowMs - reported) / 1000;
  return { seconds: s, colour: s >= redS ? "red" : s >= amberS ? "amber" : "ok", dispatchS: null };
}

export class IncidentStore {
  constructor() { this.byId = new Map(); }

  load(fc) {
    this.byId.clear();
    for (const f of fc.features) this.byId.set(f.properties.id, f.properties);
  }

  get(id) { return this.byId.get(id); }

  upsert(inc) {
    const old = this.byId.get(inc.id);
    if (old && old.version != null && inc.version != null && inc.version < old.version) return null;
    const merged = { ...inc, sitreps: inc.sitreps ?? old?.sitreps ?? [] };
    this.byId.set(inc.id, merged);
    return merged;
  }

  /** One event; returns the incident it changed, if any. */
  apply(ev) {
    const p = ev.payload || {};
    if (p.incident && ev.type.startsWith("incident.")) return this.upsert(p.incident);
    if (ev.type === "sitrep.added") {
      const inc = this.byId.get(p.incident_id);
      if (!inc || !p.sitrep) return null;
      if (!inc.sitreps.some((s) => s.id === p.sitrep.id)) inc.sitreps = [...inc.sitreps, p.sitrep];
      return inc;
    }
    return null;
  }

  open() {
    return [...this.byId.values()].filter((i) => i.status !== "closed")
      .sort((a, b) => (SEVERITY_ORDER[a.severity] ?? 9) - (SEVERITY_ORDER[b.severity] ?? 9)
        || Date.parse(a.reported_at) - Date.parse(b.reported_at) || (a.id < b.id ? -1 : 1));
  }
}

/** The queue on the left and the markers on the map, kept in step with the store. */
export class IncidentView {
  constructor({ store, map, list, me, now, onSelect }) {
    Object.assign(this, { store, map, list, me, now, onSelect });
    this.markers = new Map();
    this.selected = null;
    this.amber = me.settings.dispatch_amber_s;
    this.red = me.settings.dispatch_red_s;
    this.scheduled = false;
    list.addEventListener("click", (e) => {
      const li = e.target.closest("li[data-id]");
      if (li) onSelect(li.dataset.id, { pan: true });
    });
    setInterval(() => this.tickClocks(), 1000);
  }

  changed() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => { this.scheduled = false; this.render(); });
  }

  select(id) {
    this.selected = id;
    for (const li of this.list.children) li.classList.toggle("selected", li.dataset.id === id);
    for (const [mid, m] of this.markers) m.getElement()?.classList.toggle("selected", mid === id);
  }

  render() {
    const open = this.store.open();
    const frag = document.createDocumentFragment();
    if (!open.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = t("none_open");
      frag.append(li);
    }
    for (const inc of open) {
      const li = document.createElement("li");
      li.dataset.id = inc.id;
      li.dataset.sev = inc.severity;
      if (inc.id === this.selected) li.classList.add("selected");
      const where = (inc.areas || []).slice(-2).map(areaName).join(" · ");
      li.innerHTML = `<span class="sev">${escapeHtml(inc.severity)}</span>
        <span class="title">${escapeHtml(inc.title || word("category", inc.category))}</span>
        <span class="clock"></span>
        <span class="meta">${escapeHtml(word("category", inc.category))} · ${escapeHtml(word("incident_status", inc.status))}
          · ${escapeHtml(where)} <span class="dispatch"></span></span>`;
      frag.append(li);
    }
    this.list.replaceChildren(frag);
    this.syncMarkers(open);
    this.tickClocks();
  }

  tickClocks() {
    const now = this.now();
    for (const li of this.list.children) {
      const inc = this.store.get(li.dataset.id);
      if (!inc) continue;
      const c = clockState(inc, now, this.amber, this.red);
      li.dataset.clock = c.colour;
      li.querySelector(".clock").textContent = clock(c.seconds);
      li.querySelector(".dispatch").textContent = c.dispatchS == null ? `· ${t("not_dispatched")}`
        : `· ${t("dispatched_in", { t: clock(c.dispatchS) })}`;
      this.markers.get(inc.id)?.getElement()?.setAttribute("data-clock", c.colour);
    }
  }

  syncMarkers(open) {
    const keep = new Set(open.map((i) => i.id));
    for (const [id, m] of this.markers) if (!keep.has(id)) { m.remove(); this.markers.delete(id); }
    for (const inc of open) {
      let m = this.markers.get(inc.id);
      const icon = L.divIcon({ className: `incident-marker sev-${inc.severity}${inc.id === this.selected ? " selected" : ""}`,
        iconSize: [20, 20], html: `<span>${escapeHtml(inc.severity)}</span>` });
      if (!m) {
        m = L.marker([inc.lat, inc.lon], { icon, keyboard: false, zIndexOffset: 1000, title: inc.title || inc.category })
          .on("click", () => this.onSelect(inc.id, { pan: false })).addTo(this.map);
        m.getElement()?.setAttribute("data-incident", inc.id);
        this.markers.set(inc.id, m);
      } else {
        m.setLatLng([inc.lat, inc.lon]);
        if (m.options.icon.options.className !== icon.options.className) {
          m.setIcon(icon);
          m.getElement()?.setAttribute("data-incident", inc.id);
        }
      }
    }
  }
}
