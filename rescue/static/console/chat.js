// The incident's chat thread (DESIGN §13): the centres that see the incident and the units on
// it, in one ordered thread. Loaded when the panel opens an incident, then kept current by the
// `message.posted` events of the live stream; a message is sent with a client id, so a retry
// after a dropped link is stored once.

import { escapeHtml, t } from "./i18n.js";

function newId() {
  return window.crypto?.randomUUID ? crypto.randomUUID() : `m-${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export class Chat {
  constructor({ api, toast }) {
    Object.assign(this, { api, toast });
    this.incident = null;
    this.bySeq = new Map();
    this.el = null;
  }

  /** Show the thread of `incident` in `el` (a fresh panel section). */
  async mount(el, incident, { load = true } = {}) {
    if (this.incident !== incident) this.bySeq.clear();
    this.incident = incident;
    this.el = el;
    el.innerHTML = `<h3>${escapeHtml(t("chat"))}</h3><ol class="chat"></ol>
      <form class="chat-form"><input name="text" maxlength="2000" autocomplete="off" placeholder="${escapeHtml(t("say"))}">
      <button type="submit">${escapeHtml(t("send"))}</button></form>`;
    el.querySelector(".chat-form").addEventListener("submit", (e) => { e.preventDefault(); this.send(e.target); });
    this.render();
    if (!load) return;
    try {
      const body = await this.api.get(`/incidents/${encodeURIComponent(incident)}/messages?limit=1000`);
      if (this.incident === incident) { for (const m of body.messages) this.bySeq.set(m.seq, m); this.render(); }
    } catch (err) { this.toast(err.message); }
  }

  /** A `message.posted` event: shown if it belongs to the open thread. */
  add(msg, seq) {
    if (!msg || msg.incident_id !== this.incident) return;
    this.bySeq.set(seq ?? msg.seq, { ...msg, seq: seq ?? msg.seq });
    this.render();
  }

  render() {
    const ol = this.el?.querySelector(".chat");
    if (!ol) return;
    const items = [...this.bySeq.values()].sort((a, b) => a.seq - b.seq);
    ol.innerHTML = items.map((m) => `<li data-seq="${m.seq}"><span class="dim">${escapeHtml(new Date(m.time).toLocaleTimeString())}
      · ${escapeHtml(m.role === "field" ? m.unit || m.author : `${m.area_name || m.area || ""} ${m.level ? t(`level_${m.level}`) : ""}`)}</span><br>${escapeHtml(m.text)}</li>`).join("")
      || `<li class="dim">${escapeHtml(t("no_messages"))}</li>`;
    ol.scrollTop = ol.scrollHeight;
  }

  async send(form) {
    const input = form.elements.text;
    const text = input.value.trim();
    if (!text) return;
    const incident = this.incident;
    try {
      const msg = await this.api.post(`/incidents/${encodeURIComponent(incident)}/messages`, { id: newId(), text });
      input.value = "";
      if (this.incident === incident) this.add(msg, msg.seq);
    } catch (err) { this.toast(err.field ? `${err.field}: ${err.message}` : err.message); }
  }
}
