// The operator's console: log in with a token (kept for the tab), then one live picture of the
// operator's scope. Live first, snapshot second: the socket is opened before the registry and
// the incidents are read, and what arrives meanwhile is applied after them (versions guard it),
// so nothing falls between the two.

import { Api } from "./api.js";
import { buildMap } from "./basemap.js";
import { CoverageLayer } from "./coverage.js";
import { Feed } from "./feed.js";
import { areaName, lang, pickName, setLang, t } from "./i18n.js";
import { IncidentStore, IncidentView } from "./incidents.js";
import { DirectiveBoard } from "./directives.js";
import { connectLive } from "./live.js";
import { MapFrames } from "./media.js";
import { Panel } from "./panel.js";
import { connectReplay, ReplayBar, ReplayClock } from "./replay.js";
import { legendControl, UnitLayer, UnitStore } from "./units.js";

const $ = (s) => document.querySelector(s);
const TOKEN_KEY = "rescue.token";

function showLogin(message = "") {
  $("#login").classList.remove("hidden");
  $("#login-error").textContent = message;
  $("#token").focus();
}

function logout(message = "") {
  sessionStorage.removeItem(TOKEN_KEY);
  if (message) sessionStorage.setItem("rescue.bye", message);
  window.location.reload();
}

function toast(message) {
  const el = $("#toast");
  el.textContent = message;
  el.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => el.classList.remove("show"), 6000);
}

function whoText(me) {
  if (me.role === "admin") return `${pickName(me.name)} · admin`;
  const level = me.level ? t(`level${me.level}`) : "";
  const desk = me.categories ? ` · ${me.categories.length} ${t("category")}` : "";
  return `${pickName(me.name)} · ${level} · ${areaName({ name: me.area_name || me.area || "", name_en: me.area_name_en })}${desk}`;
}

function showConn(s) {
  const el = $("#conn");
  el.dataset.state = s.state;
  el.dataset.caught = s.caught ?? 0;
  const caught = s.caught ? ` · ${t("caught_up", { n: s.caught })}` : "";
  el.textContent = `● ${t(s.state)}${s.state === "live" || s.state === "catching_up" ? caught : ""}`;
}

async function start(token) {
  const api = new Api(token, { onUnauthorized: () => logout(t("token_refused")) });
  let me;
  try {
    me = await api.get("/me");
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(err.status === 401 ? t("token_refused") : err.message);
    return;
  }
  if (me.role === "field") { showLogin("a field unit's token cannot open the console"); return; }
  sessionStorage.setItem(TOKEN_KEY, token);
  $("#login").classList.add("hidden");
  $("#who").textContent = whoText(me);
  $("#who").title = me.name;
  document.body.dataset.area = me.area || "";

  const params = new URLSearchParams(window.location.search);
  const replayId = params.get("replay");
  // An exercise with trainees in the loop: its own incidents and units, on its own clock.
  const exerciseId = replayId ? null : params.get("exercise");
  const scoped = (path) => exerciseId ? `${path}${path.includes("?") ? "&" : "?"}exercise=${encodeURIComponent(exerciseId)}` : path;
  if (exerciseId) {
    document.body.dataset.mode = "exercise";
    try {
      await joinExercise(api, me, exerciseId);
    } catch (err) { toast(`${exerciseId}: ${err.message}`); }
  }
  const replayClock = replayId ? new ReplayClock() : null;
  if (replayClock) {
    document.body.dataset.mode = "replay";
    api.now = () => replayClock.now(); // every timer in the console reads the replayed moment
  }

  const { map } = await buildMap($("#map"), me, api);
  const units = new UnitStore();
  const incidents = new IncidentStore();
  const feed = new Feed({ el: $("#feed"), me, units, incidents, api });
  const board = new DirectiveBoard({ el: $("#directives-box"), api, me, units, toast, scoped });
  if (replayId) $("#directives-box").dataset.readonly = "1";
  const panel = new Panel({ el: $("#panel"), api, me, units, incidents, map, toast,
    readOnly: !!replayId, board });
  const frames = new MapFrames({ api, map, incidents });
  const follow = $("#follow");
  let selected = null;

  const view = new IncidentView({ store: incidents, map, list: $("#queue"), me, now: () => api.now(),
    onSelect: (id, { pan }) => select(id, pan) });
  const layer = new UnitLayer(units, { maxAgeS: me.settings.max_position_age_s, now: () => api.now(),
    onApplied: (batch, changed) => { if (changed.length) panel.unitsChanged(changed); followView(); } });
  layer.addTo(map);
  legendControl(layer).addTo(map);
  const coverage = exerciseId || replayId ? null : new CoverageLayer({ api, map, toast });

  function select(id, pan) {
    selected = id;
    view.select(id);
    panel.show(id);
    const inc = incidents.get(id);
    if (inc && pan) map.panTo([inc.lat, inc.lon]);
  }
  panel.onCreated = (inc) => { view.changed(); select(inc.id, false); };

  // Follow is a choice: with it the map keeps the selected incident and its units in view (or
  // brings a new incident into view); without it nothing moves the map but the operator.
  function followView(newIncident) {
    if (!follow.checked) return;
    const pts = [];
    const inc = selected && incidents.get(selected);
    if (inc) {
      pts.push([inc.lat, inc.lon]);
      for (const a of inc.assignments || []) {
        const u = units.get(a.resource_id);
        if (a.active !== false && u && u.lat != null) pts.push([u.lat, u.lon]);
      }
    } else if (newIncident) pts.push([newIncident.lat, newIncident.lon]);
    if (!pts.length) return;
    const want = L.latLngBounds(pts);
    if (!map.getBounds().pad(-0.1).contains(want)) {
      if (pts.length === 1) map.panTo(pts[0]); else map.fitBounds(want.pad(0.2), { maxZoom: map.getZoom() });
    }
  }
  map.on("dragstart", () => { follow.checked = false; });
  follow.addEventListener("change", () => followView());

  map.on("click", (e) => {
    if (panel.mode === "new") { panel.setDraft(e.latlng); return; }
    const near = layer.hitAll(e.containerPoint);
    if (near.length === 1) unitPopup(near[0]);
    else if (near.length > 1) L.popup({ maxWidth: 360 }).setLatLng(e.latlng).setContent(layer.stackHtml(near)).openOn(map);
  });
  function unitPopup(u) {
    L.popup({ maxWidth: 320 }).setLatLng(u.lat != null ? [u.lat, u.lon] : [u.home.lat, u.home.lon])
      .setContent(layer.popupHtml(u)).openOn(map);
  }
  map.on("contextmenu", (e) => panel.startNew(e.latlng));
  // "Direct" in a unit's popup opens the composer for that unit.
  $("#map").addEventListener("click", (e) => {
    const b = e.target.closest("button.direct-unit");
    if (b && !replayId) { map.closePopup(); board.compose({ units: [b.dataset.rid] }); }
    const pick = e.target.closest("button.unit-pick"); // a line of a stack's list
    const u = pick && units.get(pick.dataset.rid);
    if (u) unitPopup(u);
  });
  $("#new-incident").addEventListener("click", () => panel.startNew(null));

  function route(events) {
    const unitEvents = events.filter((e) => e.type.startsWith("resource."));
    layer.queue(unitEvents);
    if (coverage && unitEvents.length) coverage.unitsChanged();
    let queueChanged = false;
    for (const ev of events) {
      if (ev.type === "message.posted") { panel.chat.add(ev.payload.message, ev.seq); continue; }
      if (ev.type.startsWith("directive.")) { board.apply(ev); continue; }
      if (ev.type === "media.added" || ev.type === "stream.frame") {
        panel.media.add(ev);
        if (ev.type === "stream.frame") frames.add(ev);
        continue;
      }
      if (!(ev.type.startsWith("incident.") || ev.type === "sitrep.added")) continue;
      const inc = incidents.apply(ev);
      if (!inc) continue;
      queueChanged = true;
      panel.incidentChanged(inc, { assignments: ev.type !== "sitrep.added" && ev.type !== "incident.updated" });
      if (ev.type === "incident.reported") followView(inc);
    }
    if (queueChanged) { view.changed(); frames.prune(); }
    feed.add(events);
  }

  if (replayId) {
    watchReplay({ token, id: replayId, clock: replayClock, api, me, units, incidents, layer, view,
      feed, panel, route, getSelected: () => selected });
    window.rescueConsole = { api, me, map, units, incidents, layer, panel, view, feed,
      applyEvents: (events) => route(events), select };
    return;
  }

  // Live first, then the snapshot; events before the snapshot is in wait in `early`.
  let early = [];
  let loaded = false;
  let loading = false;
  async function loadSnapshot() {
    loading = true;
    const [res, inc] = await Promise.all([
      api.get(scoped("/resources?limit=100000")),
      api.get(scoped("/incidents?status=reported,responding,on_scene,contained&limit=5000")),
    ]);
    units.load(res);
    incidents.load(inc);
    await board.load().catch((err) => toast(`${t("directives")}: ${err.message}`));
    await recentHistory(live.lastSeq).catch((err) => toast(`${t("feed")}: ${err.message}`));
    loaded = true;
    const pending = early;
    early = [];
    view.changed();
    layer.redraw();
    if (pending.length) route(pending);
    document.body.dataset.ready = "1";
  }
  // The feed opens on the last stretch of the log (what happened before this tab was opened),
  // read over HTTP up to where the socket took over; the stores are already current.
  async function recentHistory(upto) {
    let after = Math.max(0, upto - 3000);
    const seen = [];
    for (let page = 0; page < 3 && after < upto; page++) {
      const body = await api.get(scoped(`/events?after=${after}&limit=1000`));
      seen.push(...body.events.filter((e) => e.seq <= upto && e.type !== "resource.position"));
      // The units' last fixes among them give their course and speed, which the registry
      // loaded does not hold.
      for (const e of body.events) if (e.type === "resource.position") units.motionFrom(e);
      if (body.last_seq <= after) break;
      after = body.last_seq;
    }
    feed.add(seen.slice(-100));
    // The streams at work lately: each one's latest frame on the map from the start.
    const latest = new Map();
    for (const e of seen) if (e.type === "stream.frame") latest.set(`${e.payload.frame.incident_id}/${e.payload.frame.stream}`, e);
    for (const e of latest.values()) frames.add(e);
  }

  const live = connectLive({
    token,
    exercise: exerciseId,
    onEvents: (events) => { if (loaded) route(events); else early.push(...events); },
    onState: (s) => {
      showConn(s);
      if (s.state === "live" && !loaded && !loading) loadSnapshot().catch((err) => toast(err.message));
    },
    onRefused: (err) => logout(`${t("token_refused")}: ${err.message || err.code}`),
  });

  // Hooks for the browser tests and the browser bench: the same paths the socket drives.
  window.rescueConsole = { api, me, map, units, incidents, layer, panel, view, feed, live, board, frames,
    coverage, applyEvents: (events) => route(events), select };
}

/** Joining an exercise as a trainee (operators; trainers and admins act on it anyway), and
 *  the console's clocks set to the exercise's, kept in step every 10 s. */
async function joinExercise(api, me, id) {
  const ex = me.role === "operator" ? await api.post(`/exercises/${encodeURIComponent(id)}/join`)
    : await api.get(`/exercises/${encodeURIComponent(id)}`);
  const wallNow = api.now.bind(api);
  let clock = ex.clock;
  api.now = () => clock ? Date.parse(clock.sim) + (wallNow() - Date.parse(clock.wall)) * clock.speed : wallNow();
  setInterval(async () => {
    try { clock = (await api.get(`/exercises/${encodeURIComponent(id)}`)).clock; } catch { /* next time */ }
  }, 10_000);
  const tag = document.createElement("span");
  tag.className = "mode-tag";
  tag.textContent = `${t("exercise")} · ${ex.scenario} · ${id}`;
  $("#conn").after(tag);
}

/** Replay mode: the picture the server sends replaces the stores (on joining, after a seek);
 *  recorded events then flow through the same route as live ones. */
function watchReplay({ token, id, clock, api, me, units, incidents, layer, view, feed, panel, route, getSelected }) {
  const el = document.createElement("div");
  el.id = "replay-bar";
  $("#top").after(el);
  const bar = new ReplayBar({ el, api, id, clock, toast, canFork: me.role === "trainer" || me.role === "admin" });
  const asFeatures = (list) => ({ features: list.map((p) => ({ properties: p })) });
  const socket = connectReplay({
    token,
    id,
    onStatus: (s) => {
      if (s.state === "gone") { showConn({ state: "offline" }); toast(t("replay_gone")); return; }
      bar.update(s);
      const el2 = $("#conn");
      el2.dataset.state = "replay";
      el2.textContent = `● ${t("replay")} · ${t(`replay_${s.state}`)}`;
    },
    onPicture: (pic) => {
      layer.pending = []; // events of the timeline before the seek
      units.load(asFeatures(pic.units));
      incidents.load(asFeatures(pic.incidents));
      feed.el.innerHTML = "";
      view.changed();
      layer.redraw();
      const sel = getSelected();
      if (sel && !incidents.get(sel)) panel.close(); else if (sel) panel.render();
      document.body.dataset.ready = "1";
      document.body.dataset.pictures = String(Number(document.body.dataset.pictures || 0) + 1);
    },
    onEvents: (events, msg) => { clock.seen(msg.time); route(events); },
    onProgress: (done) => bar.loading(done),
    onRefused: (err) => toast(`${t("replay")}: ${err.message || err.code}`),
  });
  api.get(`/replays/${encodeURIComponent(id)}`).then((r) => {
    if (r.exercise) bar.reportLink(`/exercises/${encodeURIComponent(r.exercise)}/report.html`);
    if (r.prepare_job) bar.follow(r.prepare_job);
  }).catch(() => {});
  window.rescueReplay = { bar, clock, socket };
}

function init() {
  setLang(lang());
  $("#lang").textContent = lang() === "en" ? "中文" : "EN";
  $("#lang").addEventListener("click", () => {
    setLang(lang() === "en" ? "zh" : "en");
    window.location.reload(); // labels drawn into the map and panels follow on a clean start
  });
  $("#logout").addEventListener("click", () => logout());
  $("#login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = $("#token").value.trim();
    if (token) start(token);
  });
  const bye = sessionStorage.getItem("rescue.bye");
  sessionStorage.removeItem("rescue.bye");
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) start(saved); else showLogin(bye || "");
}

init();
