// The public HTTP API, with the tab's token. Errors come back as ApiError carrying the
// server's {code, message, field}; a 401 logs the operator out.

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || String(status);
    this.field = e.field || null;
  }
}

export class Api {
  constructor(token, { onUnauthorized = () => {} } = {}) {
    this.token = token;
    this.onUnauthorized = onUnauthorized;
    this.skewMs = 0; // server clock minus ours, from the Date header: timers use server time
  }

  now() { return Date.now() + this.skewMs; }

  async request(method, path, body) {
    const headers = { Authorization: `Bearer ${this.token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res;
    try {
      res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new ApiError(0, { error: { code: "network", message: `network: ${err.message}` } });
    }
    const date = res.headers.get("Date");
    if (date) {
      const skew = Date.parse(date) - Date.now();
      if (Math.abs(skew) > 2000) this.skewMs = skew; // the Date header has 1 s resolution
    }
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    if (res.status === 401) this.onUnauthorized(new ApiError(401, data));
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  /** A page behind the token (an after-action report) opened in a new tab. */
  async open(path) {
    const tab = window.open("", "_blank");
    const res = await fetch(path.startsWith("/api/v1/") ? path : `/api/v1${path}`, { headers: { Authorization: `Bearer ${this.token}` } });
    if (!res.ok) {
      if (tab) tab.close();
      throw new ApiError(res.status, await res.json().catch(() => null));
    }
    const url = URL.createObjectURL(await res.blob());
    if (tab) tab.location.href = url; else window.location.href = url;
  }

  /** Bytes behind the token (a photo, a frame) as an object URL; `path` may be a full
   *  /api/v1/... URL as the server gives it. The caller revokes it. */
  async blobUrl(path) {
    const url = path.startsWith("/api/v1/") ? path : `/api/v1${path}`;
    let res;
    try {
      res = await fetch(url, { headers: { Authorization: `Bearer ${this.token}` } });
    } catch (err) {
      throw new ApiError(0, { error: { code: "network", message: `network: ${err.message}` } });
    }
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    return URL.createObjectURL(await res.blob());
  }

  /** A multipart form (a photo with its caption). */
  async upload(path, formData) {
    let res;
    try {
      res = await fetch(`/api/v1${path}`, { method: "POST", headers: { Authorization: `Bearer ${this.token}` }, body: formData });
    } catch (err) {
      throw new ApiError(0, { error: { code: "network", message: `network: ${err.message}` } });
    }
    const data = await res.json().catch(() => null);
    if (res.status === 401) this.onUnauthorized(new ApiError(401, data));
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  get(path) { return this.request("GET", path); }
  post(path, body) { return this.request("POST", path, body ?? {}); }
  patch(path, body) { return this.request("PATCH", path, body); }
  del(path) { return this.request("DELETE", path); }
}
