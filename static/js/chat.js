// Messaging pages, live. The pages work without this (forms post, pages show what is new
// on load); this adds the socket on top of the same markup:
// - conversation page: optimistic sending (sending → sent → failed + Retry), messages,
//   typing indicator (shown at most 5 s), "Seen" receipts, reactions, older pages on
//   scroll, and after a reconnect the messages missed (after the last seq) merged by id;
// - inbox: last message, unread counts and online dots kept current.
// Message text is only ever set with textContent: nothing from a message becomes markup.

import { sharedRealtime } from "./realtime.js";

const API = "/api/v1";
const TYPING_SHOWN_MS = 5_000;
const TYPING_SEND_EVERY_MS = 2_000;
const ACK_WITHIN_MS = 10_000;
const PAGE = 30;

function uuid4() {
  if (window.crypto?.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  return document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/)?.[1] ?? "";
}

async function api(method, path, body) {
  const headers = { "X-CSRFToken": csrfToken(), Accept: "application/json" };
  let payload = body;
  if (body !== undefined && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  try {
    const response = await fetch(API + path, {
      method, headers, body: payload, credentials: "same-origin",
    });
    let data = null;
    if (response.status !== 204) {
      try {
        data = await response.json();
      } catch {
        data = null;
      }
    }
    return { ok: response.ok, status: response.status, data };
  } catch {
    return { ok: false, status: 0, data: null }; // offline
  }
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function clockTime(iso) {
  const date = iso ? new Date(iso) : new Date();
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function setPresence(userId, online) {
  for (const dot of document.querySelectorAll(`[data-presence="${CSS.escape(userId)}"]`)) {
    dot.classList.toggle("online", online);
    dot.setAttribute("aria-label", online ? "Online" : "Offline");
  }
}

function clearPresence() {
  for (const dot of document.querySelectorAll("[data-presence]")) {
    dot.classList.remove("online");
    dot.setAttribute("aria-label", "Offline");
  }
}

// --- the conversation page -------------------------------------------------------------

class Chat {
  constructor(root, realtime) {
    this.root = root;
    this.rt = realtime;
    this.data = JSON.parse(document.getElementById("chat-data").textContent);
    this.id = this.data.conversation_id;
    this.me = this.data.me.id;
    this.log = root.querySelector("[data-log]");
    this.seenLine = root.querySelector("[data-seen]");
    this.typingLine = root.querySelector("[data-typing]");
    this.composer = root.querySelector("[data-composer]");
    this.textarea = this.composer.querySelector("textarea");
    this.photo = this.composer.querySelector("[data-photo]");
    const choices = root.querySelector(".react-choices");
    this.reactionChoices = choices
      ? [...choices.querySelectorAll("button")].map((button) => button.value)
      : ["❤️", "😂", "😮", "😢", "👍", "🔥"];
    this.names = new Map(this.data.participants.map((p) => [p.id, p.name]));
    this.readSeqs = new Map(this.data.participants.map((p) => [p.id, p.last_read_seq]));
    this.lastSeq = this.data.last_seq;
    this.pending = new Map(); // client_id -> {content, file, timer, state}
    this.typers = new Map(); // user id -> shown until (ms)
    this.lastTypingSent = 0;
    this.catchingUp = null;
    this.olderLink = root.querySelector("[data-older]");

    for (const time of this.log.querySelectorAll("time[datetime]")) {
      time.textContent = clockTime(time.getAttribute("datetime"));
    }
    this.composer.addEventListener("submit", (event) => this.onSubmit(event));
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.composer.requestSubmit();
      }
    });
    this.textarea.addEventListener("input", () => this.onInput());
    this.photo?.addEventListener("change", () => {
      this.photo.closest("label")?.classList.toggle("has-file", this.photo.files.length > 0);
    });
    this.log.addEventListener("submit", (event) => this.onReactionSubmit(event));
    this.log.addEventListener("click", (event) => {
      const retry = event.target.closest("[data-retry]");
      if (retry) this.dispatch(retry.dataset.retry);
    });
    root.querySelector("[data-delete-conversation]")?.addEventListener("submit", (event) => {
      if (!window.confirm("Delete this conversation for you? The others keep it.")) {
        event.preventDefault();
      }
    });
    this.watchOlder();
    document.addEventListener("visibilitychange", () => this.markRead());

    realtime
      .on("message.new", (f) => f.message.conversation_id === this.id && this.receive(f.message))
      .on("message.ack", (f) => this.confirm(f.client_id, f.message))
      .on("message.error", (f) => this.fail(f.client_id, f.error?.message))
      .on("typing", (f) => f.conversation_id === this.id && this.showTyping(f.user))
      .on("read", (f) => f.conversation_id === this.id && this.onRead(f))
      .on("reaction", (f) => this.renderReactions(f.message_id, f.reactions))
      .on("presence", (f) => setPresence(f.user.id, f.online))
      .onConnected(({ reconnected }) => {
        // What we showed may be stale: the socket now tells who is online again.
        if (reconnected) clearPresence();
        if (reconnected) this.catchUp().then(() => this.resendPending());
        this.markRead();
      });

    window.scrollTo(0, document.body.scrollHeight);
    this.updateSeen();
  }

  // --- sending ---

  onSubmit(event) {
    event.preventDefault();
    const content = this.textarea.value.trim();
    const file = this.photo?.files[0] ?? null;
    if (!content && !file) return;
    const clientId = uuid4();
    this.pending.set(clientId, { content, file, timer: null });
    this.log.append(this.pendingElement(clientId, content, file));
    this.textarea.value = "";
    if (this.photo) {
      this.photo.value = "";
      this.photo.closest("label")?.classList.remove("has-file");
    }
    this.root.querySelector("[data-empty]")?.remove();
    this.lastTypingSent = 0; // typing again after a message is news at once
    this.scrollToEnd(true);
    this.dispatch(clientId);
  }

  pendingElement(clientId, content, file) {
    const bubble = el("div", { class: "msg-bubble" });
    if (file) bubble.append(el("p", { class: "msg-photo-note", text: "Photo" }));
    if (content) bubble.append(el("p", { class: "msg-text", text: content }));
    return el(
      "li",
      { class: "msg mine pending", "data-client-id": clientId, "data-sender-id": this.me },
      bubble,
      el("div", { class: "msg-meta" },
        el("time", { text: clockTime() }),
        el("span", { class: "msg-status", "data-status": true })),
    );
  }

  dispatch(clientId) {
    const item = this.pending.get(clientId);
    if (!item) return;
    this.setStatus(clientId, "sending");
    clearTimeout(item.timer);
    const frame = { type: "message.send", conversation_id: this.id, client_id: clientId, content: item.content };
    if (!item.file && this.rt.send(frame)) {
      item.timer = setTimeout(() => this.fail(clientId, "No answer from the server."), ACK_WITHIN_MS);
    } else {
      this.sendOverHttp(clientId, item);
    }
  }

  async sendOverHttp(clientId, item) {
    let body = { client_id: clientId, content: item.content };
    if (item.file) {
      body = new FormData();
      body.append("client_id", clientId);
      body.append("content", item.content);
      body.append("image", item.file);
    }
    const response = await api("POST", `/conversations/${this.id}/messages`, body);
    if (response.ok) this.confirm(clientId, response.data);
    else this.fail(clientId, response.data?.error?.message ?? "Not sent.");
  }

  confirm(clientId, message) {
    const item = this.pending.get(clientId);
    if (item) clearTimeout(item.timer);
    this.pending.delete(clientId);
    if (message) this.receive(message);
  }

  fail(clientId, reason) {
    const item = this.pending.get(clientId);
    if (!item) return;
    clearTimeout(item.timer);
    this.setStatus(clientId, "failed", reason);
  }

  resendPending() {
    // What was on its way when the connection dropped goes again with the same client id:
    // the server answers with the stored message if it arrived, so nothing is doubled.
    for (const [clientId, item] of this.pending) {
      const node = this.log.querySelector(`[data-client-id="${CSS.escape(clientId)}"] [data-status]`);
      if (node?.dataset.state === "sending" && !item.file) this.dispatch(clientId);
    }
  }

  setStatus(clientId, state, reason) {
    const node = this.log.querySelector(`[data-client-id="${CSS.escape(clientId)}"] [data-status]`);
    if (!node) return;
    node.dataset.state = state;
    node.replaceChildren();
    if (state === "sending") node.textContent = "Sending…";
    else if (state === "sent") node.textContent = "Sent";
    else if (state === "failed") {
      node.append(`Failed${reason ? `: ${reason}` : ""} `);
      node.append(el("button", { type: "button", class: "link-button", "data-retry": clientId, text: "Retry" }));
    }
  }

  // --- receiving ---

  receive(message) {
    if (message.seq > this.lastSeq + 1 && this.lastSeq > 0 && !this.catchingUp) {
      this.catchUp(); // a gap: fetch what is missing; this one is merged meanwhile
    }
    this.place(message);
    this.lastSeq = Math.max(this.lastSeq, message.seq);
    if (message.sender.id !== this.me) {
      this.typers.delete(message.sender.id);
      this.renderTyping();
      this.markRead();
    } else {
      this.readSeqs.set(this.me, Math.max(this.readSeqs.get(this.me) ?? 0, message.seq));
    }
    this.updateSeen();
  }

  place(message) {
    let node = this.log.querySelector(`[data-message-id="${CSS.escape(message.id)}"]`);
    const mine = message.sender.id === this.me;
    const fresh = this.messageElement(message);
    if (!node && mine) node = this.log.querySelector(`li.pending[data-client-id="${CSS.escape(message.client_id)}"]`);
    if (node) {
      node.replaceWith(fresh);
    } else {
      const nearEnd = this.nearEnd();
      const after = [...this.log.querySelectorAll("li[data-seq]")].find((li) => Number(li.dataset.seq) > message.seq);
      const firstPending = this.log.querySelector("li.pending");
      this.log.insertBefore(fresh, after ?? firstPending ?? null);
      this.root.querySelector("[data-empty]")?.remove();
      if (!after) this.scrollToEnd(nearEnd || mine);
    }
    if (mine) {
      const status = fresh.querySelector("[data-status]");
      status.dataset.state = "sent";
      status.textContent = "Sent";
    }
  }

  messageElement(message) {
    const mine = message.sender.id === this.me;
    const bubble = el("div", { class: "msg-bubble" });
    const image = message.image;
    if (image) {
      if (image.status === "ready" && image.renditions) {
        const small = image.renditions.small;
        bubble.append(el("picture", { class: "msg-photo" },
          el("source", { type: "image/webp", srcset: small.webp }),
          el("img", { src: small.jpeg, alt: image.alt || "Photo", width: small.width, height: small.height, loading: "lazy" })));
      } else if (image.status === "failed") {
        bubble.append(el("p", { class: "msg-photo-note", text: `The photo could not be processed: ${image.error}` }));
      } else {
        bubble.append(el("p", { class: "msg-photo-note", text: "Photo processing…" }));
      }
    }
    if (message.content) bubble.append(el("p", { class: "msg-text", text: message.content }));
    const node = el(
      "li",
      {
        class: mine ? "msg mine" : "msg",
        id: `m-${message.id}`,
        "data-message-id": message.id,
        "data-seq": String(message.seq),
        "data-client-id": message.client_id,
        "data-sender-id": message.sender.id,
      },
      this.data.kind === "group" && !mine
        ? el("span", { class: "msg-sender", text: message.sender.display_name || message.sender.username })
        : null,
      bubble,
      el("div", { class: "msg-meta" },
        el("time", { datetime: message.created_at, text: clockTime(message.created_at) }),
        el("span", { class: "msg-status", "data-status": true })),
      el("div", { class: "msg-reactions", "data-reactions": true }),
      this.pickerElement(message.id),
    );
    this.fillReactions(node, message.id, message.reactions);
    return node;
  }

  reactUrl(messageId) {
    return `/direct/m/${messageId}/react/`;
  }

  csrfInput() {
    return el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrfToken() });
  }

  pickerElement(messageId) {
    const form = el("form", { method: "post", action: this.reactUrl(messageId), class: "react-choices" }, this.csrfInput());
    for (const emoji of this.reactionChoices) {
      form.append(el("button", { type: "submit", name: "emoji", value: emoji, class: "link-button reaction-choice", text: emoji }));
    }
    return el("details", { class: "react-picker" }, el("summary", { text: "React" }), form);
  }

  fillReactions(node, messageId, reactions) {
    const box = node.querySelector("[data-reactions]");
    box.replaceChildren();
    for (const r of reactions) {
      const form = el("form", { method: "post", action: this.reactUrl(messageId), class: "inline-form" },
        this.csrfInput(),
        el("input", { type: "hidden", name: "emoji", value: r.emoji }),
        r.mine ? el("input", { type: "hidden", name: "remove", value: "on" }) : null,
        el("button", {
          type: "submit",
          class: `link-button reaction${r.mine ? " mine" : ""}`,
          "aria-pressed": r.mine ? "true" : "false",
          "data-emoji": r.emoji,
          "data-count": String(r.count),
          text: `${r.emoji} ${r.count}`,
        }));
      box.append(form);
    }
  }

  shownReactions(messageId) {
    const node = this.log.querySelector(`[data-message-id="${CSS.escape(messageId)}"]`);
    return [...(node?.querySelectorAll("[data-reactions] [data-emoji]") ?? [])].map((button) => ({
      emoji: button.dataset.emoji,
      count: Number(button.dataset.count),
      mine: button.getAttribute("aria-pressed") === "true",
    }));
  }

  renderReactions(messageId, reactions) {
    const node = this.log.querySelector(`[data-message-id="${CSS.escape(messageId)}"]`);
    if (node) this.fillReactions(node, messageId, reactions);
  }

  async onReactionSubmit(event) {
    const form = event.target;
    if (!form.closest("[data-message-id]")) return;
    event.preventDefault();
    const messageId = form.closest("[data-message-id]").dataset.messageId;
    const emoji = event.submitter?.value || form.querySelector("[name=emoji]")?.value;
    const remove = Boolean(form.querySelector("[name=remove]"));
    form.closest("details")?.removeAttribute("open");
    if (!emoji) return;
    if (remove) {
      const response = await api("DELETE", `/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`);
      if (response.ok) {
        const left = this.shownReactions(messageId)
          .map((r) => (r.emoji === emoji && r.mine ? { ...r, count: r.count - 1, mine: false } : r))
          .filter((r) => r.count > 0);
        this.renderReactions(messageId, left);
      }
    } else {
      const response = await api("POST", `/messages/${messageId}/reactions`, { emoji });
      if (response.ok) this.renderReactions(messageId, response.data.reactions);
    }
  }

  seqOf(messageId) {
    const node = this.log.querySelector(`[data-message-id="${CSS.escape(messageId)}"]`);
    return node ? Number(node.dataset.seq) : 0;
  }

  async catchUp() {
    // Everything after the newest seq we have, newest first, page by page.
    if (this.catchingUp) return this.catchingUp;
    const after = this.lastSeq;
    this.catchingUp = (async () => {
      let cursor = null;
      const found = [];
      for (let pages = 0; pages < 20; pages += 1) {
        const query = new URLSearchParams({ after_seq: String(after), limit: "50" });
        if (cursor) query.set("cursor", cursor);
        const response = await api("GET", `/conversations/${this.id}/messages?${query}`);
        if (!response.ok) break;
        found.push(...response.data.items);
        cursor = response.data.next_cursor;
        if (!cursor) break;
      }
      found.sort((a, b) => a.seq - b.seq);
      for (const message of found) this.receive(message);
    })();
    try {
      await this.catchingUp;
    } finally {
      this.catchingUp = null;
    }
  }

  watchOlder() {
    if (!this.olderLink) return;
    this.olderLink.addEventListener("click", (event) => {
      event.preventDefault();
      this.loadOlder();
    });
    if ("IntersectionObserver" in window) {
      this.olderObserver = new IntersectionObserver((entries) => {
        if (entries.some((e) => e.isIntersecting)) this.loadOlder();
      });
      this.olderObserver.observe(this.olderLink);
    }
  }

  async loadOlder() {
    const link = this.olderLink;
    if (!link || this.loadingOlder) return;
    this.loadingOlder = true;
    const query = new URLSearchParams({ cursor: link.dataset.older, limit: String(PAGE) });
    const response = await api("GET", `/conversations/${this.id}/messages?${query}`);
    this.loadingOlder = false;
    if (!response.ok) return;
    const before = document.documentElement.scrollHeight;
    for (const message of response.data.items) this.place(message);
    window.scrollBy(0, document.documentElement.scrollHeight - before); // keep the view still
    if (response.data.next_cursor) {
      link.dataset.older = response.data.next_cursor;
      link.href = `?before=${encodeURIComponent(response.data.next_cursor)}`;
    } else {
      this.olderObserver?.disconnect();
      link.closest("p")?.remove();
      this.olderLink = null;
    }
  }

  // --- typing ---

  onInput() {
    const now = Date.now();
    if (!this.textarea.value.trim() || now - this.lastTypingSent < TYPING_SEND_EVERY_MS) return;
    if (this.rt.send({ type: "typing", conversation_id: this.id })) this.lastTypingSent = now;
  }

  showTyping(user) {
    if (user.id === this.me) return;
    this.names.set(user.id, user.display_name || user.username);
    this.typers.set(user.id, Date.now() + TYPING_SHOWN_MS);
    this.renderTyping();
    setTimeout(() => this.renderTyping(), TYPING_SHOWN_MS + 50);
  }

  renderTyping() {
    const now = Date.now();
    for (const [id, until] of this.typers) if (until <= now) this.typers.delete(id);
    const names = [...this.typers.keys()].map((id) => this.names.get(id) ?? "Someone");
    this.typingLine.hidden = names.length === 0;
    this.typingLine.textContent =
      names.length === 0 ? "" :
      names.length === 1 ? `${names[0]} is typing…` :
      names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : "Several people are typing…";
  }

  // --- read receipts ---

  markRead() {
    if (document.visibilityState !== "visible") return;
    const last = [...this.log.querySelectorAll("li[data-seq]")].at(-1);
    if (!last) return;
    const seq = Number(last.dataset.seq);
    if (seq <= (this.readSeqs.get(this.me) ?? 0)) return;
    this.readSeqs.set(this.me, seq);
    const frame = { type: "read", conversation_id: this.id, message_id: last.dataset.messageId };
    if (!this.rt.send(frame)) {
      api("POST", `/conversations/${this.id}/read`, { message_id: last.dataset.messageId });
    }
  }

  onRead(frame) {
    const seq = this.seqOf(frame.message_id);
    if (seq) this.readSeqs.set(frame.user.id, Math.max(this.readSeqs.get(frame.user.id) ?? 0, seq));
    this.updateSeen();
  }

  updateSeen() {
    const last = [...this.log.querySelectorAll("li[data-seq]")].at(-1);
    if (!last || last.dataset.senderId !== this.me) {
      this.seenLine.hidden = true;
      return;
    }
    const seq = Number(last.dataset.seq);
    const others = [...this.readSeqs.entries()].filter(([id]) => id !== this.me);
    const seen = others.filter(([, readSeq]) => readSeq >= seq).length;
    this.seenLine.hidden = seen === 0;
    if (this.data.kind === "direct") this.seenLine.textContent = "Seen";
    else this.seenLine.textContent = seen === others.length ? "Seen by everyone" : `Seen by ${seen}`;
  }

  // --- scrolling ---

  nearEnd() {
    return window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 150;
  }

  scrollToEnd(force) {
    if (force) window.scrollTo(0, document.documentElement.scrollHeight);
  }
}

// --- the inbox ---------------------------------------------------------------------------

class Inbox {
  constructor(root, realtime) {
    this.root = root;
    this.me = root.dataset.me;
    this.list = root.querySelector("[data-inbox-list]");
    // A photo message arrives again as message.new once its photo is ready: count it once.
    this.counted = new Set();
    realtime
      .on("message.new", (f) => this.onMessage(f.message))
      .on("read", (f) => f.user.id === this.me && this.setUnread(f.conversation_id, 0))
      .on("presence", (f) => setPresence(f.user.id, f.online))
      .onConnected(({ reconnected }) => {
        if (!reconnected) return;
        clearPresence(); // the socket tells who is online again
        this.refresh();
      });
  }

  item(conversationId) {
    return this.list.querySelector(`[data-conversation-id="${CSS.escape(conversationId)}"]`);
  }

  onMessage(message) {
    const item = this.item(message.conversation_id);
    if (!item) {
      this.refresh(); // a conversation this page does not show yet
      return;
    }
    const mine = message.sender.id === this.me;
    item.querySelector("[data-last]").textContent =
      (mine ? "You: " : "") + (message.content ? message.content.slice(0, 80) : "Photo");
    const time = item.querySelector("time");
    if (time) time.textContent = "now";
    item.parentElement.prepend(item);
    if (!mine && !this.counted.has(message.id)) {
      this.counted.add(message.id);
      const badge = item.querySelector("[data-unread]");
      this.setUnread(message.conversation_id, Number(badge.firstChild?.textContent || 0) + 1);
    }
  }

  setUnread(conversationId, count) {
    const item = this.item(conversationId);
    if (!item) return;
    const badge = item.querySelector("[data-unread]");
    badge.hidden = count === 0;
    badge.firstChild.textContent = String(count);
    item.classList.toggle("unread", count > 0);
  }

  async refresh() {
    try {
      const response = await fetch(this.list.dataset.refreshUrl, {
        headers: { "HX-Request": "true" }, credentials: "same-origin",
      });
      if (response.ok) this.list.innerHTML = await response.text(); // our own escaped markup
    } catch {
      // offline: the next reconnect refreshes again
    }
  }
}

const chatRoot = document.querySelector("[data-chat]");
const inboxRoot = document.querySelector("[data-inbox]");
if (chatRoot || inboxRoot) {
  const realtime = sharedRealtime();
  if (chatRoot) new Chat(chatRoot, realtime);
  if (inboxRoot) new Inbox(inboxRoot, realtime);
  realtime.start();
}
