// In-page driver of the console bench: N units clustered at the demo's real bases, each moving
// and reporting once a second, delivered as the server does (a JSON batch every 50 ms) through
// the console's own event path. `baseline` drives the same feed into Leaflet circle markers on
// a canvas renderer, one setLatLng per update: the textbook way to put units on a Leaflet map.
// Returns frames per second, main-thread share is read by the caller over CDP.
(() => {
  const M_PER_DEG = 111320;

  function gauss(rand) {
    let u = 0, v = 0;
    while (u === 0) u = rand();
    while (v === 0) v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  function rng(seed) {
    let s = seed >>> 0;
    return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 4294967296);
  }

  /** N synthetic units at the bases of the demo units (2 km spread, metres turned into degrees
   *  at the base's latitude), with a course and a speed each. */
  function makeUnits(n, seed = 7) {
    const c = window.rescueConsole;
    const bases = c.units.list.filter((u) => u.home).map((u) => ({ lat: u.home.lat, lon: u.home.lon, kind: u.kind }));
    const rand = rng(seed);
    const statuses = ["available", "available", "available", "assigned", "en_route", "on_scene", "returning"];
    const out = [];
    for (let i = 0; i < n; i++) {
      const b = bases[i % bases.length];
      const dy = gauss(rand) * 2000, dx = gauss(rand) * 2000;
      const lat = b.lat + dy / M_PER_DEG;
      const lon = b.lon + dx / (M_PER_DEG * Math.cos((b.lat * Math.PI) / 180));
      out.push({ id: `bench-${i}`, name: `bench unit ${i}`, kind: b.kind, status: statuses[i % statuses.length],
        lat, lon, home: { name: "base", lat: b.lat, lon: b.lon }, area: "3303", version: 1,
        heading: rand() * 2 * Math.PI, speed: 20 + rand() * 180, capabilities: [] });
    }
    return out;
  }

  function step(u, dtS) {
    const d = (u.speed / 3.6) * dtS; // metres
    u.lat += (d * Math.cos(u.heading)) / M_PER_DEG;
    u.lon += (d * Math.sin(u.heading)) / (M_PER_DEG * Math.cos((u.lat * Math.PI) / 180));
    u.heading += 0.2 * (Math.random() - 0.5);
  }

  /** Feed every unit once per second in 50 ms batches; `apply(batch)` consumes each. */
  function feed(units, apply, seconds) {
    return new Promise((resolve) => {
      const per = Math.ceil(units.length / 20);
      let next = 0, seq = 0, ticks = 0;
      const start = performance.now();
      const timer = setInterval(() => {
        const now = new Date().toISOString();
        const batch = [];
        for (let k = 0; k < per; k++) {
          const u = units[next];
          next = (next + 1) % units.length;
          step(u, 1);
          batch.push({ seq: ++seq, type: "resource.position", time: now, area: "3303", areas: ["3303"],
            payload: { id: u.id, lat: u.lat, lon: u.lon, time: now, version: 1, status: u.status, kind: u.kind, speed_kmh: u.speed,
              heading: (((u.heading * 180) / Math.PI) % 360 + 360) % 360 } });
        }
        // Through the wire format, as the socket delivers it.
        apply(JSON.parse(JSON.stringify({ events: batch, last_seq: seq })).events);
        ticks++;
        if (performance.now() - start >= seconds * 1000) { clearInterval(timer); resolve(ticks); }
      }, 50);
    });
  }

  function countFrames(seconds) {
    return new Promise((resolve) => {
      let frames = 0;
      const start = performance.now();
      const loop = (t) => {
        frames++;
        if (t - start < seconds * 1000) requestAnimationFrame(loop);
        else resolve(frames / ((t - start) / 1000));
      };
      requestAnimationFrame(loop);
    });
  }

  window.consoleBench = {
    async ours(n, seconds) {
      const c = window.rescueConsole;
      const units = makeUnits(n);
      for (const u of units) c.units.upsert({ ...u, position_time: new Date().toISOString() });
      c.layer.redraw();
      await new Promise((r) => setTimeout(r, 500));
      const s0 = { ...c.layer.stats };
      const [fps] = await Promise.all([countFrames(seconds), feed(units, (b) => c.applyEvents(b), seconds)]);
      const frames = c.layer.stats.frames - s0.frames;
      return { fps, drawMsPerFrame: (c.layer.stats.drawMs - s0.drawMs) / Math.max(1, frames), drawsPerS: frames / seconds,
        applied: c.layer.stats.applied - s0.applied, drawn: c.layer.stats.drawn };
    },
    clear() {
      const c = window.rescueConsole;
      for (const u of [...c.units.list]) if (u.id.startsWith("bench-")) c.units.remove(u.id);
      c.layer.redraw();
    },
    async baseline(n, seconds) {
      const c = window.rescueConsole;
      const units = makeUnits(n);
      const renderer = L.canvas();
      const markers = new Map();
      const colours = { available: "#3fb950", assigned: "#4c8dff", en_route: "#a371f7", on_scene: "#f78166", returning: "#39c5cf" };
      for (const u of units) {
        markers.set(u.id, L.circleMarker([u.lat, u.lon], { renderer, radius: 6, color: "#fff", weight: 1,
          fillColor: colours[u.status] || "#888", fillOpacity: 1 }).addTo(c.map));
      }
      await new Promise((r) => setTimeout(r, 500));
      const apply = (batch) => { for (const e of batch) markers.get(e.payload.id).setLatLng([e.payload.lat, e.payload.lon]); };
      const [fps] = await Promise.all([countFrames(seconds), feed(units, apply, seconds)]);
      for (const m of markers.values()) m.remove();
      return { fps };
    },
  };
})();
