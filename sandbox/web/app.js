// The Tripdesk sandbox page: every pane is one person (or one group) talking to the bot through the emulator.
//
// It talks only to the emulator's HTTP test API (/sandbox/api/..., see docs/sandbox.md) and reads who sits in
// which pane from /sandbox/web/cast. Bot text is never parsed as HTML: messages are built from DOM nodes, with
// bold, italic, code and links taken from the message's `entities`.
"use strict";

const API = "/sandbox/api";
const CAST_URL = "/sandbox/web/cast";
const POLL_TIMEOUT_S = 25;
const RECONNECT_MS = 250; // after an error the page asks again this soon (a restarted emulator is back at once)
const RECONNECT_MAX_MS = 1000;
const PRESS_PENDING_MS = 8000;
const TOAST_MS = 3000;

const app = {
  version: 0,
  bot: null,
  users: new Map(), // String(id) -> user
  panes: [],
  paneByChat: new Map(), // String(chat_id) -> Pane
  liveText: "Live",
  instance: null, // the emulator's instance: a restarted emulator has another one, and the page reloads
};

// The payment widget speaks the user's language, as Telegram's own does.
const INVOICE_WORDS = {
  en: { pay: "Pay {amount}", paid: "✓ Paid" },
  ru: { pay: "Оплатить {amount}", paid: "✓ Оплачено" },
  de: { pay: "{amount} bezahlen", paid: "✓ Bezahlt" },
  et: { pay: "Maksa {amount}", paid: "✓ Makstud" },
};

// ---- the test API ----------------------------------------------------------------------------------------------

class ApiError extends Error {}

async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(API + path, init);
  let data = null;
  try {
    data = await response.json();
  } catch {
    // an empty or non-JSON body: judged by the status below
  }
  if (!response.ok || (data && data.ok === false)) {
    const reason = data && (data.error || data.description);
    throw new ApiError(reason || `${response.status} ${response.statusText}`);
  }
  return data;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- small DOM helpers -----------------------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function userName(id) {
  const user = app.users.get(String(id));
  if (!user) return `user ${id}`;
  return [user.first_name, user.last_name].filter(Boolean).join(" ") || user.username || `user ${id}`;
}

function senderName(from) {
  if (!from) return "";
  if (from.is_bot) return from.first_name || "Bot";
  return app.users.has(String(from.id)) ? userName(from.id) : from.first_name || `user ${from.id}`;
}

const languageNames = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "language" }) : null;

function languageName(code) {
  if (!code) return "";
  try {
    return (languageNames && languageNames.of(code)) || code;
  } catch {
    return code;
  }
}

function timeOf(unixSeconds) {
  if (!unixSeconds) return "";
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function formatMoney(minor, currency, locale = "en") {
  try {
    const format = new Intl.NumberFormat(locale || "en", { style: "currency", currency });
    const digits = format.resolvedOptions().maximumFractionDigits;
    return format.format(minor / 10 ** digits);
  } catch {
    return `${minor} ${currency}`;
  }
}

function safeHref(url, allowed = ["http:", "https:", "tg:", "mailto:", "tel:"]) {
  try {
    const parsed = new URL(url, window.location.href);
    return allowed.includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

function snippet(message, limit = 70) {
  if (!message) return "a message";
  const text = message.text ?? message.caption ?? "";
  if (text) return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
  if (message.invoice) return `Invoice: ${message.invoice.title}`;
  if (message.contact) return "Contact";
  if (message.photo) return "Photo";
  if (message.document) return "Document";
  if (message.venue) return `📍 ${message.venue.title}`;
  return "a message";
}

// A photo the bot uploaded is shown from the emulator's copy of its bytes; one sent by URL or file_id only
// (no bytes kept) stays a placeholder.
function photoNode(sizes) {
  const largest = Array.isArray(sizes) && sizes.length ? sizes[sizes.length - 1] : null;
  const placeholder = () => h("div", { class: "attachment" }, "🖼 Photo");
  if (!largest || !largest.file_id || !largest.file_size) return placeholder();
  const image = h("img", {
    class: "photo",
    alt: "Photo",
    loading: "lazy",
    src: `${API}/file?file_id=${encodeURIComponent(largest.file_id)}`,
  });
  image.addEventListener("error", () => image.replaceWith(placeholder()));
  return h("div", { class: "photo-frame" }, image);
}

// ---- text with entities ----------------------------------------------------------------------------------------

// Telegram's offsets count UTF-16 code units, which is exactly how JavaScript strings index.
function renderText(text, entities, onCommand) {
  const fragment = document.createDocumentFragment();
  const valid = (entities || [])
    .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0 && e.offset < text.length)
    .slice()
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  build(fragment, text, 0, text.length, valid, onCommand);
  return fragment;
}

function build(parent, text, start, end, entities, onCommand) {
  let position = start;
  let i = 0;
  while (i < entities.length) {
    const entity = entities[i];
    const from = Math.max(entity.offset, position);
    const to = Math.min(entity.offset + entity.length, end);
    const inner = [];
    let j = i + 1;
    while (j < entities.length && entities[j].offset < to) inner.push(entities[j++]);
    i = j;
    if (to <= from) continue;
    if (from > position) parent.append(text.slice(position, from));
    const node = entityNode(entity, text.slice(from, to), onCommand);
    build(node, text, from, to, inner, onCommand);
    parent.append(node);
    position = to;
  }
  if (position < end) parent.append(text.slice(position, end));
}

function entityNode(entity, slice, onCommand) {
  switch (entity.type) {
    case "bold":
      return h("strong");
    case "italic":
      return h("em");
    case "underline":
      return h("u");
    case "strikethrough":
      return h("s");
    case "code":
      return h("code");
    case "pre":
      return h("code", { class: "pre", "data-language": entity.language });
    case "blockquote":
    case "expandable_blockquote":
      return h("span", { class: "quote-block" });
    case "spoiler": {
      const node = h("span", { class: "spoiler", tabindex: "0", role: "button", "aria-label": "Hidden text; press to show" });
      const reveal = () => {
        node.classList.add("revealed");
        node.removeAttribute("role");
        node.removeAttribute("aria-label");
      };
      node.addEventListener("click", reveal);
      node.addEventListener("keydown", (event) => (event.key === "Enter" || event.key === " ") && reveal());
      return node;
    }
    case "text_link":
    case "url":
    case "email":
    case "phone_number": {
      let href = entity.url;
      if (entity.type === "url") href = /^[a-z][a-z0-9+.-]*:/i.test(slice) ? slice : `http://${slice}`;
      if (entity.type === "email") href = `mailto:${slice}`;
      if (entity.type === "phone_number") href = `tel:${slice.replace(/[^+\d]/g, "")}`;
      const safe = href && safeHref(href);
      if (!safe) return h("span", { class: "link-like" });
      return h("a", { href: safe, target: "_blank", rel: "noopener noreferrer" });
    }
    case "bot_command":
      return h("a", {
        href: "#",
        class: "command",
        title: `Send ${slice}`,
        onclick: (event) => {
          event.preventDefault();
          onCommand?.(slice);
        },
      });
    case "mention":
    case "text_mention":
    case "hashtag":
    case "cashtag":
      return h("span", { class: "mention" });
    default:
      return h("span");
  }
}

// ---- notifications -----------------------------------------------------------------------------------------------

const alertQueue = [];

function showDialog(title, text) {
  alertQueue.push({ title, text });
  const dialog = document.getElementById("alert-dialog");
  if (!dialog.open) nextDialog();
}

function nextDialog() {
  const dialog = document.getElementById("alert-dialog");
  const next = alertQueue.shift();
  if (!next) return;
  document.getElementById("alert-title").textContent = next.title;
  document.getElementById("alert-text").textContent = next.text;
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
}

function toast(pane, text, kind = "info") {
  const host = pane ? pane.toasts : document.body;
  const node = h("div", { class: `toast toast-${kind}`, role: kind === "error" ? "alert" : "status" }, text);
  host.append(node);
  setTimeout(() => node.classList.add("leaving"), TOAST_MS);
  setTimeout(() => node.remove(), TOAST_MS + 400);
}

function setStatus(state, text) {
  const node = document.getElementById("status");
  node.dataset.state = state;
  node.querySelector(".status-text").textContent = text;
}

// ---- one pane: a chat seen by one person -------------------------------------------------------------------------

class Pane {
  constructor(spec, index) {
    this.spec = spec;
    this.index = index;
    this.chatId = spec.chat_id;
    this.isGroup = spec.chat_id < 0;
    this.speakers = spec.speakers && spec.speakers.length ? spec.speakers : [spec.chat_id];
    this.speaker = this.speakers[0];
    this.messages = new Map(); // message_id -> {data, el, sig}
    this.paidInvoices = new Set(); // invoice message ids paid (by us, or seen followed by a payment)
    this.pressed = new Map(); // callback query id -> clears the pressed button's waiting state
    this.topics = new Map(); // forum topic id -> name
    this.replyTo = null;
    this.usedOneTimeKeyboard = null;
    this.refreshing = null;
    this.dirty = false;
    this.el = this.build();
  }

  // the language of the person in this pane (a group's: the chrome's English)
  get language() {
    if (this.isGroup) return "en";
    return app.users.get(String(this.speakers[0]))?.language_code || "en";
  }

  invoiceWords() {
    const code = (this.language || "en").slice(0, 2).toLowerCase();
    return INVOICE_WORDS[code] || INVOICE_WORDS.en;
  }

  get roleLabel() {
    return this.spec.title || (this.isGroup ? "Group" : "Chat");
  }

  build() {
    const id = `pane-${this.index}`;
    const who = this.isGroup ? this.spec.name || "Operators" : userName(this.speaker);
    const language = this.isGroup ? "" : languageName(app.users.get(String(this.speaker))?.language_code);
    const subtitle = [this.roleLabel, language, this.spec.note].filter(Boolean).join(" · ");

    this.transcript = h("ol", {
      class: "transcript",
      role: "log",
      "aria-live": "polite",
      "aria-label": `Messages in ${who}'s chat`,
      tabindex: "0",
    });
    const suggestions = (this.spec.suggest || []).map((text) =>
      h("button", { type: "button", class: "suggestion", title: `Send ${text}`, onclick: () => this.sendCommand(text) }, text),
    );
    this.empty = h(
      "li",
      { class: "empty" },
      h("p", {}, this.spec.hint || "No messages yet."),
      suggestions.length ? h("p", { class: "suggestions" }, suggestions) : null,
    );
    this.transcript.append(this.empty);

    this.replyBar = h(
      "div",
      { class: "reply-bar", hidden: true },
      h("span", { class: "reply-bar-icon", "aria-hidden": "true" }, "↩"),
      (this.replyText = h("span", { class: "reply-bar-text" })),
      h("button", { type: "button", class: "icon", "aria-label": "Cancel the reply", onclick: () => this.setReply(null) }, "✕"),
    );
    this.replyKeyboard = h("div", { class: "reply-kb", hidden: true, role: "group", "aria-label": "The bot's keyboard" });
    this.input = h("input", {
      type: "text",
      class: "composer-input",
      placeholder: this.isGroup ? "Message the group" : "Message",
      "aria-label": `Message from ${who}`,
      autocomplete: "off",
      enterkeyhint: "send",
      maxlength: "4096",
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.replyTo !== null) {
        event.preventDefault();
        this.setReply(null);
      }
    });
    const composer = h(
      "form",
      { class: "composer", onsubmit: (event) => (event.preventDefault(), this.sendInput()) },
      this.input,
      h("button", { type: "submit", class: "send" }, "Send"),
    );

    const head = h(
      "header",
      { class: "pane-head" },
      h("div", { class: `avatar avatar-${this.spec.role || "chat"}`, "aria-hidden": "true" }, (who || "?").slice(0, 1)),
      h("div", { class: "pane-title" }, h("h2", { id: `${id}-title` }, who), h("p", { class: "pane-sub" }, subtitle)),
    );
    if (this.isGroup && this.speakers.length > 1) {
      this.speakerSelect = h(
        "select",
        {
          class: "speaker",
          id: `${id}-speaker`,
          onchange: (event) => {
            this.speaker = Number(event.target.value);
            this.input.setAttribute("aria-label", `Message from ${userName(this.speaker)}`);
            this.rerender(); // the speaker's own messages move to the right
          },
        },
        this.speakers.map((uid) => h("option", { value: uid }, userName(uid))),
      );
      head.append(h("label", { class: "speaker-label", for: `${id}-speaker` }, "Speaking as"), this.speakerSelect);
    }

    this.toasts = h("div", { class: "pane-toasts", "aria-live": "polite" });
    // the bot's answer to an inline query typed here (@bot words) or started by a Share button
    this.inlineResults = h("div", { class: "inline-results", hidden: true, role: "group", "aria-label": "Inline results" });
    // Shown when a message arrives while the person has scrolled up to read older ones.
    this.newBelow = h(
      "button",
      { type: "button", class: "new-below", hidden: true, onclick: () => this.scrollToEnd() },
      "New message below ↓",
    );
    this.transcript.addEventListener("scroll", () => {
      if (this.nearBottom()) this.newBelow.hidden = true;
    });
    return h(
      "section",
      {
        class: `pane pane-${this.spec.role || "chat"}`,
        "aria-labelledby": `${id}-title`,
        dataset: { role: this.spec.key || this.spec.role || "chat", chatId: this.chatId },
      },
      head,
      this.toasts,
      this.transcript,
      this.newBelow,
      this.inlineResults,
      this.replyBar,
      this.replyKeyboard,
      composer,
    );
  }

  // who acts in this pane right now
  actor() {
    return this.isGroup ? this.speaker : this.speakers[0];
  }

  chatBody(extra) {
    return this.isGroup ? { user_id: this.actor(), chat_id: this.chatId, ...extra } : { user_id: this.actor(), ...extra };
  }

  async sendText(text) {
    const body = this.chatBody({ text });
    if (this.replyTo !== null) body.reply_to_message_id = this.replyTo;
    await api("POST", "/send", body);
    this.setReply(null);
    this.scheduleRefresh();
  }

  async sendInput() {
    const text = this.input.value;
    if (!text.trim()) return;
    const mention = app.bot?.username ? text.match(/^@(\w+)(?:\s+([\s\S]*))?$/) : null;
    if (mention && mention[1].toLowerCase() === app.bot.username.toLowerCase()) {
      this.input.value = "";
      await this.inlineQuery(mention[2] || "");
      return;
    }
    this.input.disabled = true;
    try {
      await this.sendText(text);
      this.input.value = "";
    } catch (error) {
      toast(this, `Not sent: ${error.message}`, "error");
    } finally {
      this.input.disabled = false;
      this.input.focus();
    }
  }

  // Inline mode: the person types "@bot words" here (or presses Share): an inline query, the bot's results listed
  // above the composer; picking one sends it into this chat "via @bot".
  async inlineQuery(query) {
    try {
      const { inline_query_id: id } = await api("POST", "/inline", { user_id: this.actor(), query, chat_id: this.chatId });
      let answer = null;
      for (let i = 0; i < 25 && !answer; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        answer = (await api("GET", `/inline?id=${encodeURIComponent(id)}`)).answer;
      }
      if (!answer) return toast(this, "The bot did not answer the inline query", "error");
      this.showInlineResults(id, query, answer);
    } catch (error) {
      toast(this, `Inline query failed: ${error.message}`, "error");
    }
  }

  showInlineResults(id, query, answer) {
    const close = h("button", { type: "button", class: "icon", "aria-label": "Close the results", onclick: () => (this.inlineResults.hidden = true) }, "✕");
    const head = h("div", { class: "inline-head" }, h("span", {}, `@${app.bot?.username || "bot"} ${query}`.trim()), close);
    const items = (answer.results || []).map((result) =>
      h(
        "button",
        {
          type: "button",
          class: "inline-result",
          onclick: async () => {
            this.inlineResults.hidden = true;
            try {
              await api("POST", "/inline/choose", { inline_query_id: id, result_id: result.id, chat_id: this.chatId });
              this.scheduleRefresh();
            } catch (error) {
              toast(this, `Not sent: ${error.message}`, "error");
            }
          },
        },
        h("strong", {}, result.title || result.id),
        result.description ? h("span", { class: "inline-desc" }, result.description) : null,
      ),
    );
    if (!items.length) items.push(h("p", { class: "inline-none" }, answer.button?.text || "No results"));
    this.inlineResults.replaceChildren(head, ...items);
    this.inlineResults.hidden = false;
  }

  async sendCommand(command) {
    try {
      await this.sendText(command);
    } catch (error) {
      toast(this, `Not sent: ${error.message}`, "error");
    }
  }

  // A pressed button shows it is waiting until the bot answers the callback query (or PRESS_PENDING_MS pass).
  async press(message, button, node) {
    const done = () => {
      node.classList.remove("pending");
      node.removeAttribute("aria-busy");
    };
    node.classList.add("pending");
    node.setAttribute("aria-busy", "true");
    setTimeout(done, PRESS_PENDING_MS);
    try {
      const answer = await api("POST", "/press", {
        user_id: this.actor(),
        chat_id: this.chatId,
        message_id: message.message_id,
        callback_data: button.callback_data,
      });
      if (answer && answer.callback_query_id) this.pressed.set(String(answer.callback_query_id), done);
    } catch (error) {
      done();
      toast(this, `Button not pressed: ${error.message}`, "error");
    }
  }

  answered(queryId) {
    const done = this.pressed.get(String(queryId));
    this.pressed.delete(String(queryId));
    if (done) done();
  }

  async pay(message, node) {
    node.disabled = true;
    node.setAttribute("aria-busy", "true");
    try {
      await api("POST", "/pay", { user_id: this.actor(), chat_id: this.chatId, message_id: message.message_id });
      this.paidInvoices.add(message.message_id);
      this.scheduleRefresh();
    } catch (error) {
      toast(this, `Payment refused: ${error.message}`, "error");
      node.disabled = false;
    } finally {
      node.removeAttribute("aria-busy");
    }
  }

  async shareContact(node) {
    node.disabled = true;
    try {
      await api("POST", "/contact", { user_id: this.actor() });
      this.scheduleRefresh();
    } catch (error) {
      toast(this, `Contact not shared: ${error.message}`, "error");
    } finally {
      node.disabled = false;
    }
  }

  setReply(messageId) {
    this.replyTo = messageId;
    if (messageId === null) {
      this.replyBar.hidden = true;
      return;
    }
    const target = this.messages.get(messageId)?.data;
    this.replyText.replaceChildren(h("strong", {}, senderName(target?.from)), " ", snippet(target, 60));
    this.replyBar.hidden = false;
    this.input.focus();
  }

  scheduleRefresh() {
    if (this.refreshing) {
      this.dirty = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      try {
        do {
          this.dirty = false;
          await this.refresh();
        } while (this.dirty);
      } catch (error) {
        toast(this, `Could not load the chat: ${error.message}`, "error");
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  async refresh() {
    let answer;
    try {
      answer = await api("GET", `/transcript?chat_id=${encodeURIComponent(this.chatId)}`);
    } catch (error) {
      if (/^no chat /i.test(error.message)) answer = { messages: [] };
      else throw error;
    }
    this.last = { messages: answer.messages || [], chat: answer.chat };
    this.render(this.last.messages, this.last.chat);
  }

  rerender() {
    for (const entry of this.messages.values()) entry.sig = "";
    if (this.last) this.render(this.last.messages, this.last.chat);
  }

  nearBottom() {
    return this.transcript.scrollHeight - this.transcript.scrollTop - this.transcript.clientHeight < 80;
  }

  scrollToEnd() {
    this.transcript.scrollTop = this.transcript.scrollHeight;
    this.newBelow.hidden = true;
  }

  render(messages, chat) {
    for (const topic of (chat && chat.topics) || []) this.topics.set(topic.message_thread_id, topic.name);
    const nearBottom = this.nearBottom();
    const firstRender = this.messages.size === 0;
    let appendedTheirs = false;
    const live = messages.filter((m) => !m.deleted);
    this.notePayments(live);
    const seen = new Set();
    let previous = this.empty;
    let appendedMine = false;
    for (const message of live) {
      const id = message.message_id;
      seen.add(id);
      const sig = JSON.stringify(message) + (this.paidInvoices.has(id) ? "paid" : "");
      let entry = this.messages.get(id);
      if (!entry) {
        entry = { data: message, el: h("li"), sig: "" };
        this.messages.set(id, entry);
        if (this.isMine(message)) appendedMine = true;
        else appendedTheirs = true;
      }
      entry.data = message;
      if (entry.sig !== sig) {
        entry.sig = sig;
        this.fillMessage(entry.el, message); // in place: the same element, new content
      }
      if (previous.nextSibling !== entry.el) previous.after(entry.el);
      previous = entry.el;
    }
    for (const [id, entry] of this.messages) {
      if (!seen.has(id)) {
        entry.el.remove();
        this.messages.delete(id);
        if (this.replyTo === id) this.setReply(null);
      }
    }
    this.empty.hidden = live.length > 0;
    this.renderReplyKeyboard(live, chat);
    if (nearBottom || appendedMine || firstRender) this.scrollToEnd();
    else if (appendedTheirs) this.newBelow.hidden = false;
  }

  // An invoice followed by a payment of the same amount counts as paid (the emulator refuses a second payment).
  notePayments(messages) {
    const open = [];
    for (const message of messages) {
      if (message.invoice) open.push(message);
      const payment = message.successful_payment;
      if (!payment) continue;
      for (let i = open.length - 1; i >= 0; i--) {
        const invoice = open[i].invoice;
        if (invoice.total_amount === payment.total_amount && invoice.currency === payment.currency) {
          this.paidInvoices.add(open.splice(i, 1)[0].message_id);
          break;
        }
      }
    }
  }

  // Right-hand side: what the person in this pane wrote (in a group: the operator speaking now).
  isMine(message) {
    if (!message.from || message.from.is_bot) return false;
    return this.isGroup ? message.from.id === this.actor() : true;
  }

  fillMessage(li, message) {
    const fromBot = Boolean(message.from?.is_bot);
    const service = serviceText(message);
    li.className = `msg ${service ? "service" : this.isMine(message) ? "mine" : "theirs"}${fromBot ? " from-bot" : ""}`;
    li.dataset.messageId = message.message_id;
    li.id = `msg-${this.index}-${message.message_id}`;
    if (service) {
      li.replaceChildren(h("span", { class: "service-text" }, service));
      return;
    }
    const parts = [];
    if (this.isGroup && message.from) {
      const tone = fromBot ? "sender-bot" : `sender-${Math.abs(Number(message.from.id)) % 6}`;
      parts.push(h("span", { class: `sender ${tone}` }, senderName(message.from)));
    }
    if (message.message_thread_id && this.topics.has(message.message_thread_id)) {
      parts.push(h("span", { class: "topic" }, `# ${this.topics.get(message.message_thread_id)}`));
    }
    if (message.forward_origin) parts.push(h("span", { class: "forwarded" }, `Forwarded from ${originName(message.forward_origin)}`));
    if (message.reply_to_message_id) {
      const target = this.messages.get(message.reply_to_message_id)?.data;
      const who = senderName(target?.from);
      parts.push(
        h(
          "button",
          {
            type: "button",
            class: "reply-quote",
            title: "Show the message this replies to",
            onclick: () => this.focusMessage(message.reply_to_message_id),
          },
          who ? h("strong", {}, who) : null,
          h("span", {}, snippet(target, 80)),
        ),
      );
    }
    parts.push(...this.content(message));
    const edited = (message.edits || []).length;
    parts.push(
      h(
        "span",
        { class: "meta" },
        edited ? h("span", { class: "edited", title: `edited ${edited} time${edited > 1 ? "s" : ""}` }, "edited") : null,
        h("time", { datetime: new Date((message.date || 0) * 1000).toISOString() }, timeOf(message.date)),
      ),
    );
    const bubble = h("div", { class: "bubble" }, parts);
    const replyButton = h(
      "button",
      {
        type: "button",
        class: "reply-button",
        title: "Reply to this message",
        "aria-label": `Reply to: ${snippet(message, 40)}`,
        onclick: () => this.setReply(message.message_id),
      },
      "↩",
    );
    const children = [h("div", { class: "bubble-row" }, bubble, replyButton)];
    const keyboard = message.reply_markup?.inline_keyboard;
    if (Array.isArray(keyboard) && keyboard.length) children.push(this.inlineKeyboard(message, keyboard));
    li.replaceChildren(...children);
  }

  content(message) {
    const parts = [];
    const command = (text) => this.sendCommand(text);
    if (message.text !== undefined && message.text !== null) {
      parts.push(h("div", { class: "text" }, renderText(message.text, message.entities, command)));
    }
    if (message.photo) parts.push(photoNode(message.photo));
    if (message.document) parts.push(h("div", { class: "attachment" }, `📄 ${message.document.file_name || "Document"}`));
    if (message.sticker) parts.push(h("div", { class: "attachment sticker" }, message.sticker.emoji || "Sticker"));
    if (message.venue) {
      // a map pin (sendVenue): its name, address and the point, with a link to the map
      const { title, address, location } = message.venue;
      const map = `https://www.openstreetmap.org/?mlat=${location.latitude}&mlon=${location.longitude}#map=16/${location.latitude}/${location.longitude}`;
      parts.push(
        h(
          "div",
          { class: "attachment venue" },
          h("div", {}, `📍 ${title}`),
          h("div", {}, address),
          h("a", { href: map, target: "_blank", rel: "noopener" }, `${location.latitude}, ${location.longitude}`),
        ),
      );
    } else if (message.location) {
      parts.push(h("div", { class: "attachment" }, `📍 ${message.location.latitude}, ${message.location.longitude}`));
    }
    if (message.contact) {
      const contact = message.contact;
      parts.push(
        h(
          "div",
          { class: "contact-card" },
          h("span", { class: "contact-icon", "aria-hidden": "true" }, "👤"),
          h("span", {}, h("strong", {}, [contact.first_name, contact.last_name].filter(Boolean).join(" ") || "Contact"), h("br"), contact.phone_number || ""),
        ),
      );
    }
    if (message.invoice) parts.push(this.invoiceCard(message));
    if (message.caption !== undefined && message.caption !== null) {
      parts.push(h("div", { class: "text" }, renderText(message.caption, message.caption_entities, command)));
    }
    if (!parts.length) parts.push(h("div", { class: "text unsupported" }, "(a message the sandbox page cannot show)"));
    return parts;
  }

  invoiceCard(message) {
    const invoice = message.invoice;
    const words = this.invoiceWords();
    const amount = formatMoney(invoice.total_amount, invoice.currency, this.language);
    const keyboardPays = (message.reply_markup?.inline_keyboard || []).flat().some((b) => b.pay);
    let payButton = null;
    if (this.paidInvoices.has(message.message_id)) {
      payButton = h("p", { class: "paid" }, words.paid);
    } else if (!keyboardPays) {
      payButton = h("button", { type: "button", class: "pay" }, words.pay.replace("{amount}", amount));
      payButton.addEventListener("click", () => this.pay(message, payButton));
    }
    return h(
      "div",
      { class: "invoice", lang: this.language },
      h("div", { class: "invoice-title" }, invoice.title || "Invoice"),
      invoice.description ? h("div", { class: "invoice-description" }, invoice.description) : null,
      h("div", { class: "invoice-amount" }, amount),
      payButton,
    );
  }

  inlineKeyboard(message, rows) {
    const keyboard = h("div", { class: "inline-kb", role: "group", "aria-label": "Buttons" });
    for (const row of rows) {
      const rowNode = h("div", { class: "kb-row" });
      for (const button of row) rowNode.append(this.inlineButton(message, button));
      keyboard.append(rowNode);
    }
    return keyboard;
  }

  inlineButton(message, button) {
    const label = button.text || "";
    if (button.url !== undefined) {
      const href = safeHref(button.url);
      if (href) return h("a", { class: "kb-btn kb-link", href, target: "_blank", rel: "noopener noreferrer" }, label, h("span", { class: "kb-corner", "aria-hidden": "true" }, "↗"));
    }
    if (button.callback_data !== undefined) {
      const node = h("button", { type: "button", class: "kb-btn" }, label);
      node.addEventListener("click", () => this.press(message, button, node));
      return node;
    }
    if (button.pay) {
      const node = h("button", { type: "button", class: "kb-btn kb-pay" }, label);
      node.addEventListener("click", () => this.pay(message, node));
      return node;
    }
    if (button.switch_inline_query_chosen_chat) {
      const node = h("button", { type: "button", class: "kb-btn" }, label);
      node.addEventListener("click", () => this.inlineQuery(button.switch_inline_query_chosen_chat.query || ""));
      return node;
    }
    if (button.copy_text) {
      const node = h("button", { type: "button", class: "kb-btn" }, label);
      node.addEventListener("click", async () => {
        try {
          await navigator.clipboard.writeText(button.copy_text.text);
          toast(this, "Copied");
        } catch {
          toast(this, button.copy_text.text);
        }
      });
      return node;
    }
    return h("button", { type: "button", class: "kb-btn", disabled: true, title: "This kind of button does not work in the sandbox" }, label);
  }

  // The reply keyboard the bot shows now: the chat's (from the emulator), else the latest one a message carried.
  renderReplyKeyboard(messages, chat) {
    let source = null;
    for (const message of messages) {
      const markup = message.reply_keyboard || (message.reply_markup && !message.reply_markup.inline_keyboard ? message.reply_markup : null);
      if (!message.from?.is_bot || !markup) continue;
      if (Array.isArray(markup.keyboard)) source = { id: message.message_id, markup };
      else if (markup.remove_keyboard) source = null;
    }
    if (chat && "reply_keyboard" in chat) {
      source = chat.reply_keyboard && Array.isArray(chat.reply_keyboard.keyboard)
        ? { id: source ? source.id : 0, markup: chat.reply_keyboard }
        : null;
    }
    const lastBot = [...messages].reverse().find((m) => m.from?.is_bot);
    const force = lastBot && (lastBot.reply_keyboard || lastBot.reply_markup);
    if (force?.force_reply && this.replyTo === null && this.forcedReplyFor !== lastBot.message_id) {
      this.forcedReplyFor = lastBot.message_id;
      this.setReply(lastBot.message_id);
    }
    if (!source || this.usedOneTimeKeyboard === source.id) {
      this.replyKeyboard.hidden = true;
      this.replyKeyboard.replaceChildren();
      this.replyKeyboardSig = null;
      this.input.placeholder = this.isGroup ? "Message the group" : "Message";
      return;
    }
    const { markup } = source;
    const sig = `${source.id}:${JSON.stringify(markup)}`;
    if (sig === this.replyKeyboardSig) return;
    this.replyKeyboardSig = sig;
    this.input.placeholder = markup.input_field_placeholder || "Message";
    const rows = markup.keyboard.map((row) =>
      h(
        "div",
        { class: "kb-row" },
        row.map((raw) => {
          const button = typeof raw === "string" ? { text: raw } : raw;
          const node = h("button", { type: "button", class: `kb-btn reply-kb-btn${button.request_contact ? " kb-contact" : ""}` }, button.text);
          if (button.request_contact) {
            // Telegram marks a contact button itself; a bot that already put 📱 in the text gets only one.
            if (!/📱/u.test(button.text || "")) node.prepend(h("span", { "aria-hidden": "true" }, "📱 "));
            node.addEventListener("click", async () => {
              await this.shareContact(node);
              if (markup.one_time_keyboard) this.hideOneTime(source.id);
            });
          } else if (button.request_location || button.request_poll || button.request_users || button.request_chat || button.web_app) {
            node.disabled = true;
            node.title = "This kind of button does not work in the sandbox";
          } else {
            node.addEventListener("click", async () => {
              await this.sendCommand(button.text);
              if (markup.one_time_keyboard) this.hideOneTime(source.id);
            });
          }
          return node;
        }),
      ),
    );
    this.replyKeyboard.replaceChildren(...rows);
    this.replyKeyboard.hidden = false;
  }

  hideOneTime(messageId) {
    this.usedOneTimeKeyboard = messageId;
    this.replyKeyboard.hidden = true;
    this.replyKeyboardSig = null;
  }

  focusMessage(messageId) {
    const entry = this.messages.get(messageId);
    if (!entry) return;
    entry.el.scrollIntoView({ block: "center", behavior: "smooth" });
    entry.el.classList.add("flash");
    setTimeout(() => entry.el.classList.remove("flash"), 1200);
  }
}

function originName(origin) {
  if (origin.sender_user) return [origin.sender_user.first_name, origin.sender_user.last_name].filter(Boolean).join(" ");
  if (origin.chat) return origin.chat.title || origin.chat.first_name || "a chat";
  return origin.sender_user_name || origin.author_signature || "someone";
}

function serviceText(message) {
  if (message.forum_topic_created) return `Topic “${message.forum_topic_created.name}” created`;
  if (message.successful_payment) {
    const payment = message.successful_payment;
    return `✅ Payment of ${formatMoney(payment.total_amount, payment.currency)} received`;
  }
  if (message.new_chat_members) return `${message.new_chat_members.map((u) => u.first_name).join(", ")} joined the group`;
  if (message.left_chat_member) return `${message.left_chat_member.first_name} left the group`;
  if (message.new_chat_title) return `The group is now called “${message.new_chat_title}”`;
  if (message.pinned_message) return "A message was pinned";
  if (message.group_chat_created || message.supergroup_chat_created) return "The group was created";
  return "";
}

// ---- who sits where ----------------------------------------------------------------------------------------------

async function loadCast(state) {
  try {
    const response = await fetch(CAST_URL, { headers: { Accept: "application/json" } });
    if (response.ok) {
      const cast = await response.json();
      if (Array.isArray(cast.panes) && cast.panes.length) return cast.panes;
    }
  } catch {
    // no cast configured: guess from the world
  }
  return guessCast(state);
}

// Without a configured cast: the first two people in private chats are tourists, the third is the organiser, and
// the first group is the operators' group.
function guessCast(state) {
  const groups = (state.chats || []).filter((c) => c.type === "group" || c.type === "supergroup");
  const memberIds = (chat) => (chat.members || []).map((m) => (typeof m === "object" ? m.user_id : m));
  const inGroups = new Set(groups.flatMap(memberIds).map(String));
  const people = (state.users || []).filter((u) => !u.is_bot && !inGroups.has(String(u.id)));
  const panes = [];
  people.slice(0, 2).forEach((user, i) =>
    panes.push({ key: `tourist${i + 1}`, role: "tourist", title: `Tourist ${i + 1}`, chat_id: user.id, speakers: [user.id] }),
  );
  if (people[2]) panes.push({ key: "organiser", role: "organiser", title: "Organiser", chat_id: people[2].id, speakers: [people[2].id] });
  if (groups[0]) {
    const members = memberIds(groups[0]).map(Number).filter((id) => !app.users.get(String(id))?.is_bot);
    panes.push({ key: "operators", role: "operators", title: "Operator group", name: groups[0].title, chat_id: groups[0].id, speakers: members });
  }
  return panes;
}

// ---- start and stay up to date -----------------------------------------------------------------------------------

async function start() {
  let state;
  for (let attempt = 0; ; attempt++) {
    try {
      state = await api("GET", "/state");
      break;
    } catch (error) {
      setStatus("offline", `Emulator not reachable (${error.message}); retrying…`);
      await sleep(Math.min(RECONNECT_MS * 2 ** attempt, RECONNECT_MAX_MS));
    }
  }
  app.bot = state.bot || null;
  app.version = state.version || 0;
  app.instance = state.instance || null;
  for (const user of state.users || []) app.users.set(String(user.id), user);
  if (app.bot && app.bot.id !== undefined) app.users.set(String(app.bot.id), app.bot);

  const specs = await loadCast(state);
  const host = document.getElementById("panes");
  host.replaceChildren();
  if (!specs.length) {
    host.append(h("p", { class: "loading" }, "Nobody is in the sandbox yet: add users through the test API, then reload."));
  }
  app.panes = specs.map((spec, index) => new Pane(spec, index));
  for (const pane of app.panes) {
    host.append(pane.el);
    app.paneByChat.set(String(pane.chatId), pane);
  }
  const botName = app.bot ? (app.bot.username ? `@${app.bot.username}` : app.bot.first_name) : "the bot";
  document.title = `Tripdesk sandbox — ${botName}`;
  await Promise.all(app.panes.map((pane) => pane.scheduleRefresh()));
  document.body.dataset.ready = "true";
  app.liveText = `Live · ${botName}`;
  setStatus("live", app.liveText);
  poll();
}

async function poll() {
  let delay = RECONNECT_MS;
  for (;;) {
    try {
      const known = app.instance ? `&instance=${encodeURIComponent(app.instance)}` : "";
      const events = await api("GET", `/events?since=${app.version}&timeout=${POLL_TIMEOUT_S}${known}`);
      if (events.instance && app.instance && events.instance !== app.instance) {
        // another emulator (the demo was restarted): other people, other chats; start afresh
        setStatus("connecting", "The sandbox restarted; reloading…");
        window.location.reload();
        return;
      }
      if (typeof events.version === "number") {
        if (events.version < app.version) {
          // the emulator restarted: everything we hold is stale
          app.version = events.version;
          app.panes.forEach((pane) => pane.scheduleRefresh());
        }
        app.version = events.version;
      }
      setStatus("live", app.liveText);
      delay = RECONNECT_MS;
      for (const chatId of events.chats || []) app.paneByChat.get(String(chatId))?.scheduleRefresh();
      for (const alert of events.alerts || []) showCallbackAlert(alert);
    } catch (error) {
      setStatus("offline", `Reconnecting… (${error.message})`);
      await sleep(delay);
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    }
  }
}

function showCallbackAlert(alert) {
  const pane =
    app.panes.find((p) => String(p.chatId) === String(alert.chat_id)) ||
    app.panes.find((p) => p.speakers.map(String).includes(String(alert.user_id)));
  if (pane && alert.callback_query_id) pane.answered(alert.callback_query_id);
  if (!alert.text) return;
  if (alert.show_alert) {
    showDialog(pane ? `${pane.el.querySelector("h2").textContent} — ${app.bot?.first_name || "bot"} says` : "The bot says", alert.text);
  } else {
    toast(pane, alert.text);
  }
}

document.getElementById("alert-dialog").addEventListener("close", () => setTimeout(nextDialog, 0));
start();
