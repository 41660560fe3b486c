// The coverage layer (issue 11 §4): for one coverage target at a time, the cells of the
// operator's area coloured by whether an available unit reaches them within the target's ETA,
// and the move-ups that would restore lost cover. Off by default; while on, it is fetched
// again shortly after units change (the server recomputes only what changed).

import { duration, escapeHtml, pickName, t } from "./i18n.js";

const COVERED = "#2ea043";
const UNCOVERED = "#f85149";
const REFRESH_DELAY_MS = 1500;

export class CoverageLayer {
  constructor({ api, map, toast }) {
    this.api = api;
    this.map = map;
    this.toast = toast;
    this.renderer = L.canvas({ padding: 0.3 });
    this.cells = L.geoJSON(null, { renderer: this.renderer, style: (f) => this.style(f),
      onEachFeature: (f, lyr) => lyr.bindTooltip(() => this.tip(f), { sticky: true }) });
    this.moves = L.layerGroup();
    this.on = false;
    this.target = null;
    this.timer = null;
    this.loads = 0;
    this.control = this.buildControl();
    this.control.addTo(map);
  }

  buildControl() {
    const self = this;
    const Ctl = L.Control.extend({
      onAdd() {
        const div = L.DomUtil.create("div", "coverage-box");
        div.innerHTML = `<label><input type="checkbox" id="coverage-toggle"> ${escapeHtml(t("coverage"))}</label>
          <select id="coverage-target" aria-label="${escapeHtml(t("coverage_target"))}" hidden></select>
          <div id="coverage-summary" class="dim"></div><ol id="coverage-moveup"></ol>`;
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        self.box = div;
        div.querySelector("#coverage-toggle").addEventListener("change", (e) => self.toggle(e.target.checked));
        div.querySelector("#coverage-target").addEventListener("change", (e) => { self.target = e.target.value; self.load(); });
        div.querySelector("#coverage-moveup").addEventListener("click", (e) => {
          const li = e.target.closest("li[data-lat]");
          if (li) self.map.panTo([Number(li.dataset.lat), Number(li.dataset.lon)]);
        });
        return div;
      },
    });
    return new Ctl({ position: "topleft" });
  }

  async toggle(on) {
    this.on = on;
    const picker = this.box.querySelector("#coverage-target");
    if (!on) {
      this.map.removeLayer(this.cells);
      this.map.removeLayer(this.moves);
      picker.hidden = true;
      this.box.querySelector("#coverage-summary").textContent = "";
      this.box.querySelector("#coverage-moveup").innerHTML = "";
      delete document.body.dataset.coverage;
      return;
    }
    if (!this.target) {
      try {
        const { targets } = await this.api.get("/coverage/moveup");
        picker.innerHTML = targets.map((x) => `<option value="${escapeHtml(x.name)}">${escapeHtml(x.title)}</option>`).join("");
        this.target = targets.length ? targets[0].name : null;
      } catch (err) { this.toast(`${t("coverage")}: ${err.message}`); return; }
    }
    picker.hidden = false;
    this.cells.addTo(this.map);
    this.moves.addTo(this.map);
    await this.load();
  }

  /** Units changed (any resource event): fetch again shortly, once for a burst of them. */
  unitsChanged() {
    if (!this.on || this.timer) return;
    this.timer = setTimeout(() => { this.timer = null; this.load(); }, REFRESH_DELAY_MS);
  }

  async load() {
    if (!this.on || !this.target) return;
    const name = this.target;
    let fc;
    try {
      fc = await this.api.get(`/coverage?target=${encodeURIComponent(name)}`);
    } catch (err) { this.toast(`${t("coverage")}: ${err.message}`); return; }
    if (!this.on || name !== this.target) return; // switched meanwhile
    this.cells.clearLayers();
    this.cells.addData(fc);
    this.drawMoves(fc.moveup);
    const tg = fc.targets[0];
    const s = tg ? tg.summary : null;
    this.box.querySelector("#coverage-summary").textContent = s
      ? t("covered_n", { n: s.covered, of: s.sites }) : "";
    this.loads += 1;
    document.body.dataset.coverage = String(this.loads);
  }

  style(f) {
    const v = f.properties[this.target];
    return { stroke: false, fillOpacity: 0.35, fillColor: v && v.covered ? COVERED : UNCOVERED };
  }

  tip(f) {
    const v = f.properties[this.target] || {};
    const eta = v.best_eta_s == null ? t("coverage_none") : `${t("eta")} ${duration(v.best_eta_s)}`;
    return escapeHtml(`${eta}${v.unit ? ` · ${v.unit}` : ""}`);
  }

  drawMoves(moves) {
    this.moves.clearLayers();
    const list = this.box.querySelector("#coverage-moveup");
    list.innerHTML = moves.length ? "" : `<li class="dim">${escapeHtml(t("no_moveup"))}</li>`;
    for (const m of moves) {
      const to = [m.post.lat, m.post.lon];
      L.polyline([[m.from.lat, m.from.lon], to], { color: "#d2a8ff", weight: 2, dashArray: "6 4" }).addTo(this.moves);
      L.circleMarker(to, { radius: 6, color: "#d2a8ff", weight: 2, fillOpacity: 0.2 })
        .bindTooltip(escapeHtml(pickName(m.post.name))).addTo(this.moves);
      const li = document.createElement("li");
      li.dataset.lat = m.post.lat;
      li.dataset.lon = m.post.lon;
      li.innerHTML = `<b>${escapeHtml(pickName(m.name))}</b> → ${escapeHtml(pickName(m.post.name))}<br>
        <span class="dim">${escapeHtml(t("moveup_line", { n: m.restored, lost: m.lost, travel: duration(m.travel_s) }))}</span>`;
      list.append(li);
    }
  }
}
