// Replay mode (DESIGN §11): the console joined to a replay (`/?replay=rp-…`). The server sends
// the picture at the replay's moment (after joining and after every seek) and then the
// recorded events as the shared clock passes them; the bar below the header moves that clock
// for everyone watching (pause, play, speed, seek) and forks a what-if exercise from it.
// Every clock in the console (incident timers, fix freshness) reads the replayed moment.

import { escapeHtml, t } from "./i18n.js";

const SPEEDS = [1, 10, 100, 1000, null];

/** The replayed moment, interpolated between the server's messages. */
export class ReplayClock {
  constructor() { this.status = null; this.at = 0; this.received = 0; }

  set(status) {
    this.status = status;
    this.at = Date.parse(status.time);
    this.received = performance.now();
  }

  /** An events frame: as fast as possible, the clock is where the events are. */
  seen(time) {
    const ms = Date.parse(time);
    if (this.status && this.status.speed == null && ms > this.at) { this.at = ms; this.received = performance.now(); }
  }

  now() {
    const s = this.status;
    if (!s) return Date.now();
    if (s.state !== "playing" || s.speed == null) return this.at;
    return Math.min(Date.parse(s.to), this.at + (performance.now() - this.received) * s.speed);
  }
}

export function connectReplay({ token, id, onPicture, onEvents, onStatus, onRefused, onProgress }) {
  const socket = window.io("/centre", {
    transports: ["websocket"],
    auth: { token, exercise: id },
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });
  socket.on("replay", (msg) => {
    if (!msg || !msg.replay) return;
    onStatus(msg.replay);
    if (msg.picture) onPicture(msg.picture);
  });
  socket.on("events", (msg) => { if (msg && Array.isArray(msg.events)) onEvents(msg.events, msg); });
  // A long rebuild of the picture (a first seek far into a big exercise): how far it is.
  socket.on("replay_progress", (msg) => { if (msg && typeof msg.done === "number" && onProgress) onProgress(msg.done); });
  socket.on("connect_error", (err) => {
    const data = err && err.data;
    if (data) { onRefused(data); socket.disconnect(); }
  });
  return socket;
}

function stamp(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The timeline: play/pause, speed, a scrubber over the slice, the replayed clock, fork. */
export class ReplayBar {
  constructor({ el, api, id, clock, toast, canFork }) {
    Object.assign(this, { el, api, id, clock, toast });
    this.dragging = false;
    el.innerHTML = `<button type="button" class="rp-play" aria-label="${escapeHtml(t("play"))}">▶</button>
      <select class="rp-speed" aria-label="${escapeHtml(t("speed"))}">${SPEEDS.map((s) =>
        `<option value="${s ?? "max"}">${s == null ? escapeHtml(t("fastest")) : `${s}×`}</option>`).join("")}</select>
      <input type="range" class="rp-scrub" min="0" max="1" step="1" value="0" aria-label="${escapeHtml(t("timeline"))}">
      <time class="rp-clock">—</time>
      <span class="rp-state"></span>
      ${canFork ? `<button type="button" class="rp-fork">${escapeHtml(t("fork"))}</button>` : ""}`;
    this.play = el.querySelector(".rp-play");
    this.speed = el.querySelector(".rp-speed");
    this.scrub = el.querySelector(".rp-scrub");
    this.clockEl = el.querySelector(".rp-clock");
    this.stateEl = el.querySelector(".rp-state");
    this.play.addEventListener("click", () => this.toggle());
    this.speed.addEventListener("change", () => this.control("speed", { speed: this.speed.value === "max" ? null : Number(this.speed.value) }));
    this.scrub.addEventListener("input", () => { this.dragging = true; this.showClock(this.scrubTime()); });
    this.scrub.addEventListener("change", () => {
      this.dragging = false;
      this.control("seek", { time: new Date(this.scrubTime()).toISOString() });
    });
    el.querySelector(".rp-fork")?.addEventListener("click", () => this.fork());
    const tick = () => { this.tick(); requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  }

  /** A button opening the after-action report of what is replayed. */
  reportLink(path) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "rp-report";
    b.textContent = t("aar");
    b.addEventListener("click", () => this.api.open(path).catch((err) => this.toast(err.message)));
    this.el.append(b);
  }

  /** The replay's fold ahead (its `replay.prepare` job): how far, until seeks start from
   *  saved pictures. Polled each second; gone quietly if the job cannot be read. */
  async follow(jobId) {
    const tag = document.createElement("span");
    tag.className = "rp-prep";
    this.el.append(tag);
    for (;;) {
      let job;
      try { job = await this.api.get(`/jobs/${encodeURIComponent(jobId)}`); } catch { tag.remove(); return; }
      tag.dataset.state = job.status;
      if (job.status === "done") { tag.textContent = t("replay_prepared"); return; }
      if (job.status !== "queued" && job.status !== "running") { tag.remove(); return; }
      tag.textContent = t("replay_preparing", { pct: Math.round(100 * job.progress) });
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }

  scrubTime() { return Date.parse(this.clock.status.from) + Number(this.scrub.value) * 1000; }

  update(status) {
    this.clock.set(status);
    const span = Math.max(1, Math.round((Date.parse(status.to) - Date.parse(status.from)) / 1000));
    this.scrub.max = String(span);
    this.play.textContent = status.state === "playing" ? "⏸" : "▶";
    this.play.setAttribute("aria-label", t(status.state === "playing" ? "pause" : "play"));
    this.speed.value = status.speed == null ? "max" : String(status.speed);
    if (this.speed.value === "") { // a speed the menu does not list
      this.speed.insertAdjacentHTML("afterbegin", `<option value="${status.speed}">${status.speed}×</option>`);
      this.speed.value = String(status.speed);
    }
    this.el.dataset.state = status.state;
    this.stateEl.textContent = t(`replay_${status.state}`);
  }

  /** The picture being rebuilt on the server: the share done, until it arrives. */
  loading(done) {
    this.el.dataset.state = "loading";
    this.stateEl.textContent = t("replay_loading", { pct: Math.round(100 * done) });
  }

  tick() {
    const s = this.clock.status;
    if (!s || this.dragging) return;
    const now = this.clock.now();
    this.scrub.value = String(Math.round((now - Date.parse(s.from)) / 1000));
    this.showClock(now);
  }

  showClock(ms) {
    this.clockEl.textContent = stamp(ms);
    this.clockEl.dateTime = new Date(ms).toISOString();
  }

  toggle() {
    const s = this.clock.status;
    if (s) this.control(s.state === "playing" ? "pause" : "resume");
  }

  async control(action, body) {
    try {
      this.update(await this.api.post(`/replays/${encodeURIComponent(this.id)}/${action}`, body));
    } catch (err) {
      this.toast(err.message);
      if (this.clock.status) this.update(this.clock.status);
    }
  }

  async fork() {
    try {
      const ex = await this.api.post(`/replays/${encodeURIComponent(this.id)}/fork`, {});
      this.toast(t("forked", { id: ex.exercise }));
      this.el.dataset.forked = ex.exercise;
    } catch (err) { this.toast(err.message); }
  }
}
