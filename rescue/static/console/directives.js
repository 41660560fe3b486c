// Directives (DESIGN §13): the board of open directives this centre sees, overdue first, with
// each recipient's answer and the time since issue; a composer opened from an incident or a
// unit; answer buttons for the directives addressed to this centre. Loaded once, then kept
// current by the `directive.*` events of the live stream; states are recomputed every second
// on the server's clock, so a directive turns overdue on screen the moment its deadline passes.

import { clock, escapeHtml, pickName, t } from "./i18n.js";

const RANK = { issued: 0, received: 1, accepted: 2, unable: 3, done: 3 };
const ANSWERS = ["received", "accepted", "unable", "done"];

function newId() {
  return window.crypto?.randomUUID ? crypto.randomUUID() : `d-${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

/** open | overdue | closed, as the server decides it (rescue.directives.Directive.state). */
export function directiveState(d, nowMs) {
  if (d.cancelled || d.recipients.every((r) => RANK[r.state] >= RANK.done)) return "closed";
  const late = nowMs >= Date.parse(d.deadline) && d.recipients.some((r) => RANK[r.state] < RANK.accepted);
  return late ? "overdue" : "open";
}

export class DirectiveBoard {
  constructor({ el, api, me, units, toast, scoped = (p) => p }) {
    Object.assign(this, { el, api, me, units, toast, scoped });
    this.items = new Map();
    this.draft = null;
    el.innerHTML = `<div class="box-head"><h2>${escapeHtml(t("directives"))} <span class="count"></span></h2>
      <button type="button" class="compose-open">${escapeHtml(t("direct"))}</button></div>
      <form class="composer hidden"></form><ol class="directives"></ol>`;
    el.addEventListener("click", (e) => this.onClick(e));
    this.form = el.querySelector(".composer");
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.send(); });
    setInterval(() => this.render(), 1000);
  }

  async load() {
    const body = await this.api.get(this.scoped("/directives?limit=500"));
    for (const d of body.directives) this.items.set(d.id, d);
    this.render();
  }

  /** A `directive.*` event from the live stream. */
  apply(ev) {
    const d = ev.payload?.directive;
    if (!d) return;
    const known = this.items.get(d.id);
    if (known && (known.seq_seen || 0) > ev.seq) return; // an older state arriving late
    this.items.set(d.id, { ...d, seq_seen: ev.seq });
    if (ev.type === "directive.overdue" && this.concernsMe(d)) {
      this.toast(`${t("overdue_alert")}: ${d.text.slice(0, 80)} → ${(ev.payload.late || []).map((k) => this.nameOf(k)).join(", ")}`);
      this.el.classList.add("alarm");
      setTimeout(() => this.el.classList.remove("alarm"), 4000);
    }
    if (ev.type === "directive.issued" && this.addressedToMe(d)) this.toast(`${t("new_directive")}: ${d.text.slice(0, 80)}`);
    this.render();
  }

  concernsMe(d) {
    const area = d.issuer?.area;
    return !this.me.area || (area && area.startsWith(this.me.area)) || this.addressedToMe(d);
  }

  addressedToMe(d) {
    return !!this.me.area && d.recipients.some((r) => r.kind === "area" && r.id === this.me.area);
  }

  nameOf(key) {
    const [kind, id] = key.includes(":") ? key.split(/:(.*)/s) : ["unit", key];
    if (kind === "unit") { const u = this.units.get(id); return u ? pickName(u.name) : id; }
    return id;
  }

  render() {
    const now = this.api.now();
    const list = [...this.items.values()].map((d) => ({ d, state: directiveState(d, now) }))
      .filter((x) => x.state !== "closed")
      .sort((a, b) => (a.state === "overdue" ? 0 : 1) - (b.state === "overdue" ? 0 : 1) || Date.parse(a.d.issued) - Date.parse(b.d.issued));
    this.el.querySelector(".count").textContent = list.length ? `(${list.length})` : "";
    const ol = this.el.querySelector(".directives");
    ol.innerHTML = list.map(({ d, state }) => {
      const who = d.recipients.map((r) => `<span class="rcpt ans-${escapeHtml(r.state)}" title="${escapeHtml(r.reason || "")}">${escapeHtml(this.nameOf(`${r.kind}:${r.id}`))} · ${escapeHtml(t(`ans_${r.state}`))}</span>`).join(" ");
      const mine = this.addressedToMe(d);
      const answer = mine ? ANSWERS.map((a) => `<button type="button" class="answer" data-id="${escapeHtml(d.id)}" data-state="${a}">${escapeHtml(t(`ans_${a}`))}</button>`).join("") : "";
      const canCancel = !this.me.area || (d.issuer?.area || "").startsWith(this.me.area);
      return `<li class="directive st-${state}" data-id="${escapeHtml(d.id)}" data-state="${state}">
        <div><span class="badge">${escapeHtml(t(`st_${state}`))}</span> <span class="age">${escapeHtml(clock((now - Date.parse(d.issued)) / 1000))}</span>
          <span class="dim">${escapeHtml(d.issuer?.area_name || d.issuer?.area || "")}</span></div>
        <div class="text">${escapeHtml(d.text)}</div><div class="rcpts">${who}</div>
        <div class="acts">${answer}${canCancel ? `<button type="button" class="withdraw" data-id="${escapeHtml(d.id)}">${escapeHtml(t("withdraw"))}</button>` : ""}</div></li>`;
    }).join("") || `<li class="dim">${escapeHtml(t("no_directives"))}</li>`;
  }

  /** The composer, preset: {incident?, units?: [ids], areas?: [{code, name}]} */
  compose({ incident = null, units = [], areas = [] } = {}) {
    this.draft = { incident };
    const unitBoxes = units.map((id) => `<label class="pick"><input type="checkbox" name="unit" value="${escapeHtml(id)}" checked> ${escapeHtml(this.nameOf(`unit:${id}`))}</label>`).join("");
    const areaOpts = areas.map((a) => `<option value="${escapeHtml(a.code)}">${escapeHtml(pickName(a.name || a.code))}</option>`).join("");
    this.form.innerHTML = `<div class="to">${unitBoxes || ""}
        ${areaOpts ? `<label>${escapeHtml(t("to_centre"))} <select name="area"><option value="">—</option>${areaOpts}</select></label>` : ""}
        ${!unitBoxes && !areaOpts ? `<label>${escapeHtml(t("to_units"))}<input name="ids" placeholder="unit id, …"></label>` : ""}</div>
      ${incident ? `<div class="dim">${escapeHtml(t("about"))} ${escapeHtml(incident)}</div>` : ""}
      <textarea name="text" rows="2" maxlength="2000" required placeholder="${escapeHtml(t("directive_text"))}"></textarea>
      <div class="row"><label>${escapeHtml(t("deadline"))} <select name="deadline_s">
        ${[60, 120, 300, 600, 1800].map((s) => `<option value="${s}"${s === 120 ? " selected" : ""}>${clock(s)}</option>`).join("")}</select></label>
      <button type="submit" class="primary">${escapeHtml(t("issue"))}</button>
      <button type="button" class="compose-close">${escapeHtml(t("cancel"))}</button></div>`;
    this.form.classList.remove("hidden");
    this.form.elements.text.focus();
  }

  async send() {
    const f = this.form.elements;
    const area = f.area?.value;
    const picked = [...this.form.querySelectorAll("input[name=unit]:checked")].map((i) => i.value);
    const typed = (f.ids?.value || "").split(/[\s,]+/).filter(Boolean);
    const to = area ? { area } : { resources: picked.length ? picked : typed };
    const body = { id: newId(), to, text: f.text.value.trim(), deadline_s: Number(f.deadline_s.value) };
    if (this.draft?.incident) body.incident = this.draft.incident;
    if (!body.text || (!to.area && !to.resources.length)) { this.toast(t("directive_incomplete")); return; }
    try {
      const d = await this.api.post("/directives", body);
      this.items.set(d.id, { ...d, seq_seen: d.seq });
      this.form.classList.add("hidden");
      this.render();
    } catch (err) { this.toast(err.field ? `${err.field}: ${err.message}` : err.message); }
  }

  async onClick(e) {
    const b = e.target.closest("button");
    if (!b || b.disabled) return;
    if (b.classList.contains("compose-open")) this.compose();
    else if (b.classList.contains("compose-close")) this.form.classList.add("hidden");
    else if (b.classList.contains("answer")) {
      const body = { id: newId(), state: b.dataset.state };
      if (body.state === "unable") {
        const reason = window.prompt(t("unable_reason"));
        if (!reason) return;
        body.reason = reason;
      }
      b.disabled = true;
      try {
        const out = await this.api.post(`/directives/${encodeURIComponent(b.dataset.id)}/answer`, body);
        this.items.set(out.directive.id, { ...out.directive, seq_seen: out.seq || 0 });
        this.render();
      } catch (err) { b.disabled = false; this.toast(err.message); }
    } else if (b.classList.contains("withdraw")) {
      b.disabled = true;
      try {
        const d = await this.api.post(`/directives/${encodeURIComponent(b.dataset.id)}/cancel`);
        this.items.set(d.id, d);
        this.render();
      } catch (err) { b.disabled = false; this.toast(err.message); }
    }
  }
}
