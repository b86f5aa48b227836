// The one socket per tab at /ws/ (the session cookie signs it in; the server checks the
// Origin), shared by every module of the page through realtime(). Reconnects by itself
// with backoff and keeps the connection badge current: connecting / connected /
// disconnected with a Retry button. Frames are JSON objects with a "type" (shared/API.md).
//
// A server that froze or a network that vanished closes nothing: the heartbeat finds
// out. A ping every 4 s that is not answered within 4 s drops the socket, so the badge
// says "disconnected" within 10 s whatever went away.

const PING_EVERY_MS = 4_000;
const PONG_WITHIN_MS = 4_000;
const CONNECT_WITHIN_MS = 5_000; // a frozen server accepts TCP but never answers
const MAX_BACKOFF_MS = 15_000;

export class Realtime {
  constructor({ path = "/ws/", badge = document.querySelector("[data-connection]") } = {}) {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.url = `${scheme}://${location.host}${path}`;
    this.badge = badge;
    this.handlers = new Map();
    this.openHandlers = [];
    this.socket = null;
    this.state = "connecting";
    this.attempt = 0;
    this.everConnected = false;
    this.refusals = 0; // consecutive 4401 closes: signed out, stop retrying after two
    this.reconnectTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    const retry = this.badge?.querySelector("[data-connection-retry]");
    retry?.addEventListener("click", () => this.retryNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.state === "disconnected") this.retryNow();
    });
    window.addEventListener("online", () => this.state !== "connected" && this.retryNow());
    // the browser knows the network is gone: no need to wait for the heartbeat
    window.addEventListener("offline", () => this.drop());
  }

  /** Call fn(frame) for every frame of this type. */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(fn);
    return this;
  }

  /** Call fn({ reconnected }) each time the socket is (again) connected. */
  onConnected(fn) {
    this.openHandlers.push(fn);
    return this;
  }

  get connected() {
    return this.state === "connected" && this.socket?.readyState === WebSocket.OPEN;
  }

  /** Send a frame if connected; false when it could not be sent (use HTTP instead). */
  send(frame) {
    if (!this.connected) return false;
    try {
      this.socket.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  /** Connect unless already connected or connecting (every module may call it). */
  start() {
    if (!this.socket && !this.reconnectTimer) this.connect();
    return this;
  }

  connect() {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    // once lost, the badge says so until a connection really works again
    if (this.state !== "disconnected") this.setState("connecting");
    let socket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    setTimeout(() => socket === this.socket && this.state !== "connected" && this.drop(), CONNECT_WITHIN_MS);
    socket.addEventListener("open", () => {
      // Accepted, but not yet known to be signed in: the first pong says so.
      socket.send(JSON.stringify({ type: "ping" }));
    });
    socket.addEventListener("message", (event) => this.receive(socket, event));
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      this.stopPings();
      // 4401: signed out. Anything else — 1011 when the server lost its channel layer
      // (Redis), 1012/1013 on a restart or overload, 1006 when the link just broke — is
      // retried with growing backoff until a connection works again.
      // every close code in order (the last 20), for tests: a retry refused while the
      // server is still down closes again at once and must not hide the first code
      const codes = (document.documentElement.dataset.realtimeCloses ?? "").split(" ").filter(Boolean);
      document.documentElement.dataset.realtimeCloses = [...codes, event.code].slice(-20).join(" ");
      this.refusals = event.code === 4401 ? this.refusals + 1 : 0;
      if (this.refusals >= 2) {
        this.setState("disconnected"); // signed out: only a click (or a reload) retries
        return;
      }
      this.scheduleReconnect();
    });
  }

  receive(socket, event) {
    if (socket !== this.socket) return; // a replaced socket's late frames
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    if (this.state !== "connected") {
      this.attempt = 0;
      this.refusals = 0;
      const reconnected = this.everConnected;
      this.everConnected = true;
      this.setState("connected");
      this.startPings();
      for (const fn of this.openHandlers) fn({ reconnected });
    }
    // any frame shows the link is alive (a pong is just the one it is sure to get)
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
    for (const fn of this.handlers.get(frame.type) ?? []) {
      try {
        fn(frame);
      } catch (error) {
        console.warn("realtime handler failed", error); // one bad handler must not stop the rest
      }
    }
  }

  startPings() {
    this.stopPings();
    this.pingTimer = setInterval(() => {
      if (this.pongTimer) return; // still waiting for the last answer: let it run out
      if (!this.send({ type: "ping" })) return;
      this.pongTimer = setTimeout(() => this.drop(), PONG_WITHIN_MS); // dead link
    }, PING_EVERY_MS);
  }

  /** Give up on the current socket now (its closing handshake may never end) and retry. */
  drop() {
    const stale = this.socket;
    if (!stale) return;
    this.socket = null; // its late events are ignored from now on
    this.stopPings();
    try {
      stale.close();
    } catch {
      // already closed
    }
    this.scheduleReconnect();
  }

  stopPings() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pongTimer = null;
  }

  scheduleReconnect() {
    clearTimeout(this.reconnectTimer);
    this.setState("disconnected");
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
    this.attempt += 1;
    this.reconnectTimer = setTimeout(() => this.connect(), backoff * (0.75 + Math.random() / 2));
  }

  retryNow() {
    this.refusals = 0;
    this.attempt = 0;
    if (this.socket && this.socket.readyState <= WebSocket.OPEN && this.state === "connected") return;
    // A socket still connecting is dropped: only one may ever deliver frames.
    const stale = this.socket;
    this.socket = null;
    stale?.close();
    this.connect();
  }

  setState(state) {
    this.state = state;
    document.documentElement.dataset.realtime = state; // for styles and browser tests
    if (!this.badge) return;
    this.badge.hidden = false;
    const label = this.badge.querySelector("[data-connection-state]");
    const retry = this.badge.querySelector("[data-connection-retry]");
    if (label) {
      label.textContent = state;
      label.dataset.state = state;
    }
    // Retry (now, rather than at the next backoff) is offered as soon as it is lost
    if (retry) retry.hidden = state !== "disconnected";
  }
}

let shared = null;

/** The page's one Realtime (created on first use; call .start() to connect). */
export function realtime() {
  shared ??= new Realtime();
  return shared;
}
