// `/centre`: the console is a Socket.IO client like any other (DESIGN §6). It resumes from the
// last seq it applied, so a dropped link or a restarted server costs a catch-up, not a reload.

export function connectLive({ token, exercise = null, onEvents, onState, onRefused }) {
  let seq = null; // the last seq applied: what a reconnection resumes from
  let caught = 0;
  const socket = window.io("/centre", {
    transports: ["websocket"],
    // Read on every (re)connection attempt: always resume from what was applied.
    // `exercise`: an exercise's own log (trainees in the loop), sealed from the live one.
    auth: (cb) => cb({ token, ...(exercise ? { exercise } : {}), ...(seq == null ? {} : { last_seq: seq }) }),
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });
  const state = (s, extra = {}) => onState({ state: s, lastSeq: seq, ...extra });

  socket.on("connect", () => { caught = 0; state("catching_up", { caught }); });
  socket.on("events", (msg) => {
    if (!msg || !Array.isArray(msg.events)) return;
    const fresh = seq == null ? msg.events : msg.events.filter((e) => e.seq > seq);
    if (fresh.length) onEvents(fresh, { backlog: !!msg.backlog });
    if (typeof msg.last_seq === "number" && (seq == null || msg.last_seq > seq)) seq = msg.last_seq;
    if (msg.backlog) { caught += fresh.length; state("catching_up", { caught }); }
  });
  socket.on("ready", (msg) => {
    if (seq == null || msg.last_seq > seq) seq = msg.last_seq;
    state("live", { caught: msg.caught_up ?? caught });
  });
  socket.on("disconnect", (reason) => {
    // The server closing us (a revoked token) is not a network fault: do not retry blindly.
    state(reason === "io server disconnect" ? "offline" : "reconnecting");
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
  });
  socket.io.on("reconnect_attempt", () => state("reconnecting"));
  socket.on("connect_error", (err) => {
    const code = err && err.data && err.data.code;
    if (code) { onRefused(err.data); socket.disconnect(); return; }
    state("reconnecting");
  });

  return { get lastSeq() { return seq; } };
}
