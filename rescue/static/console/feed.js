// The live feed of the operator's scope: every event but positions, newest first, with a mark
// when mutual aid crosses the area's edge (my unit sent out, or another area's unit sent in).

import { escapeHtml, pickName, t, word } from "./i18n.js";

const MAX_LINES = 300;

export class Feed {
  constructor({ el, me, units, incidents, api }) {
    Object.assign(this, { el, me, units, incidents, api });
    this.names = new Map();
    this.pendingNames = new Set();
    this.counter = 0;
  }

  /** Area codes of an event outside my scope (none for an admin). */
  outside(ev) {
    const scope = this.me.area;
    if (!scope) return [];
    const areas = ev.areas && ev.areas.length ? ev.areas : [ev.area];
    return areas.filter((a) => a && !a.startsWith(scope));
  }

  learn(areas) {
    for (const a of areas || []) if (a.code) this.names.set(a.code, a.name);
  }

  nameOf(code) {
    if (this.names.has(code)) return this.names.get(code);
    if (!this.pendingNames.has(code)) {
      this.pendingNames.add(code);
      this.api.get(`/areas/${encodeURIComponent(code)}`).then((a) => {
        this.names.set(code, a.name);
        for (const el of this.el.querySelectorAll(`[data-area="${CSS.escape(code)}"]`)) el.textContent = a.name;
      }).catch(() => {});
    }
    return code;
  }

  subject(ev) {
    const p = ev.payload || {};
    if (p.incident) { this.learn(p.incident.areas); return p.incident.title || word("category", p.incident.category); }
    if (p.resource) return pickName(p.resource.name);
    if (p.directive) {
      const who = p.answer ? ` · ${p.answer.recipient.replace(/^(unit|area):/, "")} ${p.answer.state}` : "";
      return `${p.directive.text.slice(0, 60)}${who}`;
    }
    const iid = p.incident_id || p.message?.incident_id || p.media?.incident_id;
    if (iid) {
      const inc = this.incidents.get(iid);
      const what = p.message ? `: ${p.message.text.slice(0, 60)}` : p.media?.caption ? `: ${p.media.caption.slice(0, 60)}` : "";
      return (inc ? inc.title || word("category", inc.category) : iid) + what;
    }
    return p.id ? pickName(this.units.get(p.id)?.name || p.id) : "";
  }

  add(events) {
    const frag = document.createDocumentFragment();
    let n = 0;
    for (const ev of events) {
      // Positions and camera frames are on the map and the panel; the feed would drown in them.
      if (ev.type === "resource.position" || ev.type === "token.revoked" || ev.type === "stream.frame") continue;
      const li = document.createElement("li");
      li.dataset.type = ev.type;
      li.dataset.seq = ev.seq;
      const away = this.outside(ev);
      if (away.length) li.classList.add("outside");
      const time = new Date(ev.time).toLocaleTimeString([], { hour12: false });
      const extra = ev.type === "resource.status" || ev.type === "resource.assigned" || ev.type === "resource.released"
        ? ` → ${word("status", ev.payload?.resource?.status)}` : "";
      li.innerHTML = `<span class="t">${escapeHtml(time)}</span><b>${escapeHtml(word("event", ev.type))}</b>
        ${escapeHtml(this.subject(ev))}${escapeHtml(extra)}${away.length ? ` <span class="tag outside">${escapeHtml(t("outside"))}:
        ${away.map((c) => `<span data-area="${escapeHtml(c)}">${escapeHtml(this.nameOf(c))}</span>`).join(", ")}</span>` : ""}`;
      frag.prepend(li);
      n++;
    }
    if (!n) return;
    this.el.prepend(frag);
    while (this.el.childElementCount > MAX_LINES) this.el.lastElementChild.remove();
  }
}
