// The right-hand panel: one incident (details, advice, assignments changing live, situation
// reports) or the new-incident form with its live preview.

import { adviceHtml } from "./advice.js";
import { areaName, clock, duration, escapeHtml, pickName, t, word } from "./i18n.js";
import { Chat } from "./chat.js";
import { SceneMedia } from "./media.js";
import { clockState } from "./incidents.js";

function debounce(fn, ms) {
  let h = null;
  return (...a) => { clearTimeout(h); h = setTimeout(() => fn(...a), ms); };
}

export class Panel {
  constructor({ el, api, me, units, incidents, map, toast, readOnly = false, board = null }) {
    // readOnly: a replay, where the stores hold the recorded picture and nothing is acted on.
    Object.assign(this, { el, api, me, units, incidents, map, toast, readOnly, board });
    this.chat = new Chat({ api, toast });
    this.media = new SceneMedia({ api, toast, readOnly });
    this.id = null;
    this.mode = "empty";
    this.suggestion = null;
    this.refreshAdvice = debounce(() => this.loadAdvice(), 400);
    this.preview = debounce(() => this.loadPreview(), 300);
    this.draft = null;
    el.addEventListener("click", (e) => this.onClick(e));
    setInterval(() => this.mode === "incident" && this.tickClock(), 1000);
  }

  // ------------------------------------------------------------------ one incident

  async show(id) {
    this.mode = "incident";
    this.id = id;
    this.suggestion = null;
    this.clearDraft();
    this.render();
    if (this.readOnly) return;
    try {
      const inc = await this.api.get(`/incidents/${encodeURIComponent(id)}`);
      if (this.id !== id) return;
      this.incidents.upsert(inc);
      this.render();
    } catch (err) { this.toast(err.message); }
    this.loadAdvice();
  }

  async loadAdvice() {
    const id = this.id;
    if (this.mode !== "incident" || !id || this.readOnly) return;
    const inc = this.incidents.get(id);
    if (!inc || inc.status === "closed") { this.suggestion = null; this.renderAdvice(); return; }
    try {
      const s = await this.api.get(`/incidents/${encodeURIComponent(id)}/suggestions?k=5`);
      if (this.id !== id) return;
      this.suggestion = s;
    } catch (err) {
      this.suggestion = { error: err.message };
    }
    this.renderAdvice();
  }

  /** Called by the app when events changed an incident or units: re-render what they touch. */
  incidentChanged(inc, { assignments = false } = {}) {
    if (this.mode !== "incident" || inc.id !== this.id) return;
    this.renderDetails();
    this.renderAssignments();
    this.renderSitreps();
    if (assignments) this.refreshAdvice();
  }

  unitsChanged(changed) {
    if (this.mode !== "incident") return;
    const inc = this.incidents.get(this.id);
    if (!inc) return;
    const mine = new Set((inc.assignments || []).map((a) => a.resource_id));
    if (changed.some((u) => mine.has(u.id))) this.renderAssignments();
  }

  render() {
    if (this.mode !== "incident") return;
    const inc = this.incidents.get(this.id);
    this.el.className = "";
    this.el.innerHTML = `<div class="inc-head"></div><dl class="details"></dl>
      <div class="actions"></div>
      <section class="assignments-box"><h3>${escapeHtml(t("assignments"))}</h3><ul class="assignments"></ul></section>
      <section class="advice"><p class="dim">…</p></section>
      <section class="sitreps-box"><h3>${escapeHtml(t("sitreps"))}</h3><ol class="sitreps"></ol>
        <form class="sitrep-form"><textarea name="text" rows="2" maxlength="4000" placeholder="${escapeHtml(t("add_sitrep"))}"></textarea>
        <button type="submit">${escapeHtml(t("send"))}</button></form></section>
      <section class="media-box"></section>
      <section class="chat-box"></section>`;
    this.media.mount(this.el.querySelector(".media-box"), this.id, { load: !this.readOnly });
    this.chat.mount(this.el.querySelector(".chat-box"), this.id, { load: !this.readOnly });
    this.el.querySelector(".sitrep-form").addEventListener("submit", (e) => { e.preventDefault(); this.sendSitrep(e.target); });
    if (!inc) return;
    this.renderDetails();
    this.renderAssignments();
    this.renderSitreps();
    this.renderAdvice();
  }

  renderDetails() {
    const inc = this.incidents.get(this.id);
    if (!inc) return;
    const head = this.el.querySelector(".inc-head");
    head.innerHTML = `<h2 class="inc-title"><span class="sev-badge sev-${escapeHtml(inc.severity)}">${escapeHtml(inc.severity)}</span>
      ${escapeHtml(inc.title || word("category", inc.category))}</h2>
      <div class="inc-clock" data-clock=""></div>`;
    const chain = (inc.areas || []).map(areaName).join(" › ");
    this.el.querySelector(".details").innerHTML = `
      <dt>${escapeHtml(t("category"))}</dt><dd>${escapeHtml(word("category", inc.category))}</dd>
      <dt>${escapeHtml(t("status"))}</dt><dd class="inc-status">${escapeHtml(word("incident_status", inc.status))}</dd>
      <dt>${escapeHtml(t("persons"))}</dt><dd>${inc.persons_at_risk ?? 0}</dd>
      <dt>${escapeHtml(t("areas"))}</dt><dd>${escapeHtml(chain)}${inc.maritime ? ` · ${escapeHtml(areaName(inc.maritime))}` : ""}</dd>
      <dt>${escapeHtml(t("surface"))}</dt><dd>${escapeHtml(t(inc.surface || "land"))}</dd>
      <dt>${escapeHtml(t("lead"))}</dt><dd>${escapeHtml(word("lead", inc.lead_level))} (${escapeHtml(inc.lead_area || "")})</dd>
      <dt>${escapeHtml(t("coordinates"))}</dt><dd>${inc.lat.toFixed(5)}, ${inc.lon.toFixed(5)}</dd>
      <dt>${escapeHtml(t("reported"))}</dt><dd>${escapeHtml(new Date(inc.reported_at).toLocaleString())}</dd>`;
    const options = this.me.vocabulary.incident_statuses.map((s) => `<option value="${s}"${s === inc.status ? " selected" : ""}>${escapeHtml(word("incident_status", s))}</option>`).join("");
    this.el.querySelector(".actions").innerHTML = `<label>${escapeHtml(t("status"))}
      <select class="set-status">${options}</select></label>
      ${this.readOnly ? "" : `<button type="button" class="direct-incident">${escapeHtml(t("direct"))}</button>`}`;
    this.el.querySelector(".set-status").addEventListener("change", (e) => this.setStatus(e.target.value));
    this.tickClock();
  }

  tickClock() {
    const inc = this.incidents.get(this.id);
    const el = this.el.querySelector(".inc-clock");
    if (!inc || !el) return;
    const c = clockState(inc, this.api.now(), this.me.settings.dispatch_amber_s, this.me.settings.dispatch_red_s);
    el.dataset.clock = c.colour;
    el.textContent = `${clock(c.seconds)} · ${c.dispatchS == null ? t("not_dispatched") : t("dispatched_in", { t: clock(c.dispatchS) })}`;
  }

  renderAssignments() {
    const inc = this.incidents.get(this.id);
    const ul = this.el.querySelector(".assignments");
    if (!inc || !ul) return;
    const active = (inc.assignments || []).filter((a) => a.active !== false);
    ul.innerHTML = active.map((a) => {
      const u = this.units.get(a.resource_id);
      const status = u ? u.status : "assigned";
      const outside = this.me.area && a.area && !a.area.startsWith(this.me.area);
      return `<li data-rid="${escapeHtml(a.resource_id)}">
        <span class="name">${escapeHtml(u ? pickName(u.name) : a.resource_id)}</span>
        <span class="unit-status status-${escapeHtml(status)}" data-status="${escapeHtml(status)}">${escapeHtml(word("status", status))}</span>
        ${outside ? `<span class="tag outside">${escapeHtml(t("outside"))}</span>` : ""}
        <span class="dim">${escapeHtml(word("capability", a.requirement || ""))}${a.eta_s != null ? ` · ${escapeHtml(t("eta"))} ${escapeHtml(duration(a.eta_s))}` : ""}</span>
        <button type="button" class="release" data-rid="${escapeHtml(a.resource_id)}">${escapeHtml(t("release"))}</button></li>`;
    }).join("") || `<li class="dim">${escapeHtml(t("not_dispatched"))}</li>`;
  }

  renderSitreps() {
    const inc = this.incidents.get(this.id);
    const ol = this.el.querySelector(".sitreps");
    if (!inc || !ol) return;
    const items = [...(inc.sitreps || [])].reverse();
    ol.innerHTML = items.map((s) => `<li><span class="dim">${escapeHtml(new Date(s.time).toLocaleTimeString())}
        · ${escapeHtml(pickName(s.author || ""))}</span><br>${escapeHtml(s.text)}
        ${s.casualties || s.persons_rescued ? `<br><span class="dim">+${s.persons_rescued || 0} / ✝${s.casualties || 0}</span>` : ""}</li>`).join("")
      || `<li class="dim">${escapeHtml(t("no_sitreps"))}</li>`;
  }

  renderAdvice() {
    const box = this.el.querySelector(".advice");
    if (!box) return;
    const s = this.suggestion;
    if (!s) { box.innerHTML = `<p class="dim">…</p>`; return; }
    if (s.error) { box.innerHTML = `<p class="error">${escapeHtml(s.error)}</p>`; return; }
    const inc = this.incidents.get(this.id);
    const assigned = new Set((inc?.assignments || []).filter((a) => a.active !== false).map((a) => a.resource_id));
    box.innerHTML = adviceHtml(s, { units: this.units, assignable: true, assigned });
  }

  async onClick(e) {
    const b = e.target.closest("button");
    if (!b || b.disabled) return;
    if (b.classList.contains("assign")) {
      b.disabled = true;
      try {
        const inc = await this.api.post(`/incidents/${encodeURIComponent(this.id)}/assignments`,
          { resource_id: b.dataset.rid, requirement: b.dataset.req, eta_s: Math.round(Number(b.dataset.eta)) });
        this.incidents.upsert(inc);
        this.incidentChanged(inc, { assignments: true });
      } catch (err) {
        b.disabled = false;
        this.toast(err.status === 409 ? `${t("taken")}: ${err.message}` : err.message);
        this.refreshAdvice();
      }
    } else if (b.classList.contains("release")) {
      b.disabled = true;
      try {
        await this.api.del(`/incidents/${encodeURIComponent(this.id)}/assignments/${encodeURIComponent(b.dataset.rid)}`);
      } catch (err) { b.disabled = false; this.toast(err.message); }
    } else if (b.classList.contains("cancel-draft")) {
      this.close();
    } else if (b.classList.contains("direct-incident") && this.board) {
      // To the units on it, or to a centre below this one among the incident's areas.
      const inc = this.incidents.get(this.id);
      const units = (inc?.assignments || []).filter((a) => a.active !== false).map((a) => a.resource_id);
      const mine = this.me.area || "";
      const areas = (inc?.areas || []).filter((a) => a.code.startsWith(mine) && a.code !== mine);
      this.board.compose({ incident: this.id, units, areas });
    }
  }

  async setStatus(status) {
    try {
      const inc = await this.api.patch(`/incidents/${encodeURIComponent(this.id)}`, { status });
      this.incidents.upsert(inc);
      this.incidentChanged(inc, { assignments: true });
    } catch (err) { this.toast(err.message); this.renderDetails(); }
  }

  async sendSitrep(form) {
    const text = form.elements.text.value.trim();
    if (!text) return;
    try {
      await this.api.post(`/incidents/${encodeURIComponent(this.id)}/sitreps`, { text });
      form.reset();
    } catch (err) { this.toast(err.field ? `${err.field}: ${err.message}` : err.message); }
  }

  close() {
    this.mode = "empty";
    this.id = null;
    this.clearDraft();
    this.el.className = "empty";
    this.el.innerHTML = `<p data-t="pick_incident">${escapeHtml(t("pick_incident"))}</p>`;
  }

  // ------------------------------------------------------------------ a new incident

  startNew(latlng) {
    if (this.readOnly) return;
    this.mode = "new";
    this.id = null;
    const v = this.me.vocabulary;
    const cats = v.categories.map((c) => `<option value="${escapeHtml(c)}">${escapeHtml(word("category", c))}</option>`).join("");
    const sevs = v.severities.map((s) => `<option value="${s}"${s === "III" ? " selected" : ""}>${s}</option>`).join("");
    this.el.className = "";
    this.el.innerHTML = `<h2>${escapeHtml(t("report"))}</h2><p class="dim">${escapeHtml(t("click_map"))}</p>
      <form class="new-incident" novalidate>
        <div class="row"><label>lat<input name="lat" type="number" step="any" min="-90" max="90" required></label>
          <label>lon<input name="lon" type="number" step="any" min="-180" max="180" required></label></div>
        <label>${escapeHtml(t("category"))}<select name="category">${cats}</select></label>
        <div class="row"><label>${escapeHtml(t("severity"))}<select name="severity">${sevs}</select></label>
          <label>${escapeHtml(t("persons"))}<input name="persons_at_risk" type="number" min="0" step="1" value="0"></label></div>
        <label>${escapeHtml(t("title_f"))}<input name="title" maxlength="200"></label>
        <p class="where dim"></p><p class="error form-error" role="alert"></p>
        <div class="row"><button type="submit" class="primary">${escapeHtml(t("report"))}</button>
          <button type="button" class="cancel-draft">${escapeHtml(t("cancel"))}</button></div>
      </form><section class="advice preview"></section>`;
    const form = this.el.querySelector("form");
    form.addEventListener("input", () => { this.placeDraft(); this.preview(); });
    form.addEventListener("submit", (e) => { e.preventDefault(); this.submitNew(form); });
    if (latlng) this.setDraft(latlng);
  }

  setDraft(latlng) {
    if (this.mode !== "new") return;
    const form = this.el.querySelector("form");
    form.elements.lat.value = latlng.lat.toFixed(5);
    form.elements.lon.value = latlng.lng.toFixed(5);
    this.placeDraft();
    this.preview();
  }

  draftValues() {
    const f = this.el.querySelector("form");
    const lat = Number(f.elements.lat.value), lon = Number(f.elements.lon.value);
    const ok = f.elements.lat.value !== "" && f.elements.lon.value !== "" && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
    return { ok, lat, lon, category: f.elements.category.value, severity: f.elements.severity.value,
      persons_at_risk: Math.max(0, Math.floor(Number(f.elements.persons_at_risk.value) || 0)),
      title: f.elements.title.value.trim() };
  }

  placeDraft() {
    const v = this.draftValues();
    if (!v.ok) return;
    if (!this.draft) this.draft = L.marker([v.lat, v.lon], { icon: L.divIcon({ className: "incident-marker draft", iconSize: [20, 20] }) }).addTo(this.map);
    else this.draft.setLatLng([v.lat, v.lon]);
  }

  clearDraft() { if (this.draft) { this.draft.remove(); this.draft = null; } }

  async loadPreview() {
    if (this.mode !== "new") return;
    const v = this.draftValues();
    const box = this.el.querySelector(".preview");
    const where = this.el.querySelector(".where");
    if (!v.ok) return;
    try {
      const [loc, s] = await Promise.all([
        this.api.get(`/locate?lat=${v.lat}&lon=${v.lon}`),
        this.api.post("/dispatch/suggest", { lat: v.lat, lon: v.lon, category: v.category, severity: v.severity, k: 3 }),
      ]);
      if (this.mode !== "new") return;
      where.textContent = `${loc.areas.map(areaName).join(" › ")} · ${t(loc.surface)}`;
      box.innerHTML = adviceHtml(s, { units: this.units });
    } catch (err) {
      where.textContent = "";
      box.innerHTML = `<p class="error">${escapeHtml(err.field ? `${err.field}: ${err.message}` : err.message)}</p>`;
    }
  }

  async submitNew(form) {
    const v = this.draftValues();
    const err = form.querySelector(".form-error");
    if (!v.ok) { err.textContent = `lat/lon: ${t("click_map")}`; return; }
    const body = { lat: v.lat, lon: v.lon, category: v.category, severity: v.severity, persons_at_risk: v.persons_at_risk };
    if (v.title) body.title = v.title;
    try {
      const inc = await this.api.post("/incidents", body);
      this.incidents.upsert(inc);
      this.clearDraft();
      this.onCreated?.(inc);
    } catch (e) {
      err.textContent = e.field ? `${e.field}: ${e.message}` : e.message;
    }
  }
}
