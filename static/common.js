// What the translation and caption pages share: the colour map, number
// formatting, the top-k panel, playback pacing and the websocket.

export const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------- language

// The page's language and its message catalogue, which the server puts in
// the page (static/i18n/LANG.json). t(key, params) is a message with its
// {name} placeholders filled; a message with plural forms picks one by
// params.n, as the language's rules say.
export const LANG = document.documentElement.lang || "en";
const MESSAGES = (() => {
  try {
    return JSON.parse(document.getElementById("messages")?.textContent || "{}");
  } catch {
    return {};
  }
})();
const PLURAL = new Intl.PluralRules(LANG);

export function t(key, params = {}) {
  let m = MESSAGES[key];
  if (m === undefined) return key;
  if (typeof m === "object") m = m[PLURAL.select(Number(params.n) || 0)] ?? m.other;
  return m.replace(/\{(\w+)\}/g, (all, k) => (k in params ? String(params[k]) : all));
}

// errorText is what the page says for a server error: the server's own
// words in English; in another language the page's message for the error's
// code, the server's words after it for the details.
export function errorText(payload) {
  const message = (payload && payload.message) || "";
  const code = payload && payload.code;
  if (LANG === "en") return message || t("status.wrong");
  const own = code && MESSAGES[`error.${code}`] ? t(`error.${code}`) : t("status.wrong");
  return message ? `${own} (${message})` : own;
}

export function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---------------------------------------------------------------- colour map

// Viridis sampled at 0, 0.1, ..., 1 (matplotlib), the same map the server's
// heat layers use. Perceptually uniform and readable with the common forms
// of colour blindness; linear interpolation between these anchors is
// visually indistinguishable from the full table.
export const VIRIDIS = [
  "#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c",
  "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725",
].map((x) => [1, 3, 5].map((i) => parseInt(x.slice(i, i + 2), 16)));

export function colour(t) {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  return VIRIDIS[i].map((c, k) => Math.round(c + (VIRIDIS[i + 1][k] - c) * f));
}

export const css = ([r, g, b]) => `rgb(${r}, ${g}, ${b})`;

// Text on a coloured cell must stay readable: pick black or white by the
// WCAG relative luminance of the background.
export function inkFor([r, g, b]) {
  const lin = (c) => {
    c /= 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const L = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return L > 0.179 ? "#111" : "#fff";
}

// The legend is drawn from the same table as the cells so they cannot drift
// apart. CSSOM writes are allowed under the page's style-src policy; style
// attributes in markup are not.
export function drawLegend(bar) {
  const stops = VIRIDIS.map((c, i) => `${css(c)} ${(i * 100) / (VIRIDIS.length - 1)}%`);
  bar.style.backgroundImage = `linear-gradient(to right, ${stops.join(", ")})`;
}

// Whole percents, except below 1% where a rounded "0%" would hide that a
// word still had some chance.
export function pct(p) {
  if (!Number.isFinite(p)) return "–";
  if (p <= 0) return "0%";
  if (p < 0.001) return "<0.1%";
  if (p < 0.0095) return `${(p * 100).toFixed(1)}%`;
  return `${Math.round(p * 100)}%`;
}

// Special tokens are spelled out for students; the raw form stays in a tooltip.
export const SPECIAL = {
  "</s>": t("special.end"),
  "<unk>": t("special.unknown"),
  "<num>": t("special.number"),
  "<s>": t("special.start"),
  "<pad>": t("special.padding"),
};

// ---------------------------------------------------------------- top-k

// wireStroke lets the pointer paint across the items of el, as the glass
// box sets attention by hand: at(node) names the item under the pointer
// (null: none, or not now); a stroke starts with begin(i, seen) on the item
// pressed, calls touch(i, seen) once for each further item it passes over
// (seen: the items touched so far, i included), and done() when the
// pointer is lifted.
export function wireStroke(el, { at, begin, touch, done }) {
  let seen = null;
  el.addEventListener("pointerdown", (e) => {
    const i = at(e.target);
    if (i === null) return;
    e.preventDefault();
    seen = new Set([i]);
    begin(i, seen);
  });
  document.addEventListener("pointermove", (e) => {
    if (!seen) return;
    const i = at(document.elementFromPoint(e.clientX, e.clientY));
    if (i !== null && !seen.has(i)) {
      seen.add(i);
      touch(i, seen);
    }
  });
  const end = () => {
    if (!seen) return;
    seen = null;
    done();
  };
  document.addEventListener("pointerup", end);
  document.addEventListener("pointercancel", end);
}

// vocabularies holds each model's words (GET /api/v1/models/ID/words) as
// word -> id, fetched once when a word is first typed.
const vocabularies = new Map();

// findWord looks word up among the words model can write, as typed or
// with its first letter's case changed ("hund" finds "Hund"); it resolves
// to {id, token}, or to {n} (the vocabulary's size) when it is not there.
export async function findWord(model, word) {
  if (!vocabularies.has(model)) {
    const load = fetch(`/api/v1/models/${encodeURIComponent(model)}/words`)
      .then((res) => (res.ok ? res.json() : Promise.reject(new Error(t("status.answered", { status: res.status })))))
      .then((body) => new Map(body.words.map((w, id) => [w, id])));
    vocabularies.set(model, load);
    load.catch(() => vocabularies.delete(model));
  }
  const ids = await vocabularies.get(model);
  const first = word.charAt(0);
  for (const w of [word, first.toUpperCase() + word.slice(1), first.toLowerCase() + word.slice(1)]) {
    if (ids.has(w) && !SPECIAL[w]) return { id: ids.get(w), token: w };
  }
  return { n: ids.size };
}

// forceBox is the form under the top choices where a word of one's own is
// typed to force it at the step shown.
const forceBox = {
  cur: null,
  wired: false,
  at(cur) {
    const form = document.getElementById("topk-force");
    if (!form) return;
    if (!this.wired) this.wire(form);
    const moved = !cur || !this.cur || cur.i !== this.cur.i;
    this.cur = cur;
    form.hidden = !cur;
    if (moved) document.getElementById("topk-force-msg").textContent = "";
    document.getElementById("topk-force-label").textContent = cur ? t("topk.typeLabelAt", { i: cur.i + 1 }) : t("topk.typeLabel");
  },
  wire(form) {
    this.wired = true;
    const input = document.getElementById("topk-force-word");
    const msg = document.getElementById("topk-force-msg");
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const cur = this.cur;
      const word = input.value.trim();
      if (!cur) return;
      if (!word) {
        msg.textContent = t("topk.typeEmpty");
        input.focus();
        return;
      }
      msg.textContent = t("topk.typeLoading");
      let hit;
      try {
        hit = await findWord(cur.model, word);
      } catch (err) {
        msg.textContent = err.message || String(err);
        return;
      }
      if (!this.cur || this.cur.i !== cur.i) return; // the page moved on meanwhile
      if (hit.token === undefined) {
        msg.textContent = t("topk.typeUnknown", { word, n: hit.n });
        return;
      }
      msg.textContent = "";
      input.value = "";
      cur.onPick(cur.i, hit);
    });
  },
};

// renderTopK fills list with the alternatives at step i (null: none).
// With onPick, every other word the model could have written here is a
// button: onPick(i, alt) asks what the model would write next had it
// chosen that word; and under the list a word can be typed (looked up in
// model's words) to ask the same of it.
export function renderTopK(list, title, steps, i, onPick, model) {
  list.textContent = "";
  forceBox.at(onPick && i !== null && i >= 0 && steps[i] ? { i, onPick, model } : null);
  if (i === null || i < 0 || !steps[i]) {
    title.textContent = t("topk.title");
    return;
  }
  const step = steps[i];
  title.textContent = t("topk.titleAt", { i: i + 1 });
  const alts = step.top_k && step.top_k.length ? step.top_k : [{ token: step.token, prob: step.prob }];
  let chosenMarked = false;
  alts.forEach((alt) => {
    const li = h("li", "topk-item");
    const chosen = !chosenMarked && (alt.token === step.token || (step.copied && (alt.token === "<unk>" || alt.token === "<num>")));
    if (chosen) {
      chosenMarked = true;
      li.classList.add("is-chosen");
    }
    const word = h("span", "topk-word", SPECIAL[alt.token] || alt.token);
    if (SPECIAL[alt.token]) {
      word.classList.add("is-special");
      word.title = alt.token === "</s>" ? t("topk.endTitle") : alt.token;
    }
    const bar = h("span", "topk-bar");
    const fill = h("span", "topk-fill");
    fill.style.width = `${Math.max(0, Math.min(1, alt.prob || 0)) * 100}%`;
    bar.append(fill);
    const p = h("span", "topk-pct", pct(alt.prob));
    li.append(word, bar, p);
    if (chosen) li.append(h("span", "topk-tag", t("topk.chosen")));
    if (onPick && !chosen && Number.isInteger(alt.id) && !SPECIAL[alt.token]) {
      const pick = h("button", "topk-pick", t("topk.whatIf"));
      pick.type = "button";
      pick.title = t("topk.whatIf.title", { word: alt.token });
      pick.setAttribute("aria-label", t("topk.whatIf.label", { i: i + 1, word: alt.token }));
      pick.addEventListener("click", () => onPick(i, alt));
      li.append(pick);
    }
    list.append(li);
  });
}

// ---------------------------------------------------------------- playback

// Fixed gaps between words by pacing: "watch" (the default) is slow enough
// for a class to follow the grid grow, "slow" to talk over each word.
const PACE_MS = { watch: 300, slow: 700 };
const REPLAY_MIN_MS = 150; // live replays still need visible gaps between words

// Player paces the display of steps that arrive from the server, which
// never waits for us. show(k, follow) draws step k (-1: none); the player
// keeps cur, the step on screen.
export class Player {
  constructor(paceSelect, show) {
    this.pace = paceSelect;
    this.draw = show;
    this.onUser = () => {}; // the user moved it (scrubbed, stepped, replayed)
    this.timer = 0;
    this.reset();
  }

  reset() {
    this.stop();
    this.arrivals = []; // arrival times, so a live replay keeps the real rhythm
    this.done = false;
    this.cur = -1;
    this.following = true; // playback advances on its own until the user scrubs
    this.replaying = false;
  }

  get n() {
    return this.arrivals.length;
  }

  arrive() {
    this.arrivals.push(performance.now());
    this.pump();
  }

  finish() {
    this.done = true;
    this.pump();
  }

  stop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = 0;
  }

  show(k, follow = false) {
    k = Math.max(-1, Math.min(this.n - 1, k));
    const grew = k > this.cur;
    this.cur = k;
    this.draw(k, grew, follow);
  }

  gapBefore(i) {
    const fixed = PACE_MS[this.pace.value];
    if (fixed) return fixed;
    const real = this.arrivals[i] - this.arrivals[i - 1];
    return Math.max(REPLAY_MIN_MS, Number.isFinite(real) ? real : 0);
  }

  // Advance toward the newest step at the chosen pacing.
  pump() {
    if (!this.following || this.timer) return;
    const last = this.n - 1;
    if (this.cur >= last) {
      if (this.done) this.replaying = false;
      return;
    }
    if (this.pace.value === "live" && !this.replaying) {
      this.show(last);
      return;
    }
    if (this.pace.value === "step" && !this.replaying) {
      // One word per key press or click: show the first, then wait.
      if (this.cur < 0) this.show(0, true);
      return;
    }
    const next = this.cur + 1;
    const delay = next === 0 ? 0 : this.gapBefore(next);
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.show(next, true);
      this.pump();
    }, delay);
  }

  // The user takes over: show step k and stop following.
  goTo(k) {
    this.onUser();
    this.following = false;
    this.replaying = false;
    this.stop();
    this.show(k, true);
  }

  replay() {
    if (!this.n) return;
    this.onUser();
    this.stop();
    this.following = true;
    this.replaying = true;
    this.show(-1);
    this.pump();
  }
}

// progressStatus keeps the status line on what is on screen, not on what
// the server has finished: "Done" only once the last word is shown.
// done is the server's done payload (null while it works), n the words
// received, cur the word shown; empty is said when the model wrote nothing.
export function progressStatus(setStatus, player, done, n, empty) {
  if (!done) return;
  const ms = Number.isFinite(done.elapsed_ms) ? done.elapsed_ms : "?";
  const cur = player.cur;
  if (n === 0) {
    setStatus(t("status.doneEmpty", { ms, empty }), "ok");
  } else if (cur >= n - 1) {
    setStatus(t("status.done", { ms, words: t("status.words", { n }) }), "ok");
  } else if (!player.following) {
    setStatus(t("status.wordOf", { i: cur + 1, n }), "");
  } else if (player.pace.value === "step") {
    setStatus(t("status.stepHint", { i: cur + 1, n }), "");
  } else {
    setStatus(t("status.showing", { i: cur + 1, n }), "busy");
  }
}

// drawSlider shows the step slider, its readout and the replay button for
// n steps with step cur (-1: none) on screen; word(i) is step i's word.
export function drawSlider({ step, stepReadout, replay }, n, cur, word, done) {
  step.max = String(Math.max(0, n - 1));
  step.disabled = n === 0;
  step.value = String(Math.max(0, cur));
  const w = cur >= 0 ? word(cur) : "";
  const text = cur >= 0 ? t("scrub.of", { i: cur + 1, n }) : n ? t("scrub.none", { n }) : "–";
  stepReadout.textContent = text;
  step.setAttribute("aria-valuetext", w ? `${text}: ${w}` : text);
  replay.disabled = !(done && n > 0);
}

// ---------------------------------------------------------------- transport

// Socket keeps one websocket open, reconnecting with backoff. onStatus
// gets connection news for the status line; onDrop runs when an open
// socket closes, so a page can finish its request another way.
export class Socket {
  constructor({ onMessage, onStatus, onDrop, onOpen }) {
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.onDrop = onDrop;
    this.onOpen = onOpen || (() => {});
    this.ws = null;
    this.open = false;
    this.everOpen = false;
    this.attempts = 0;
    this.timer = 0;
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}/ws`;
  }

  connect() {
    this.timer = 0;
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      const wasLost = this.everOpen || this.attempts > 0;
      this.open = true;
      this.everOpen = true;
      this.attempts = 0;
      if (wasLost) this.onStatus("connected");
      this.onOpen();
    });
    ws.addEventListener("message", (e) => {
      if (ws !== this.ws) return;
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      if (msg && typeof msg === "object") this.onMessage(msg.type, msg.payload || {});
    });
    ws.addEventListener("close", () => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.open = false;
      this.onDrop();
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    if (this.timer) return;
    const delay = Math.min(10000, 500 * 2 ** this.attempts);
    this.attempts += 1;
    if (this.everOpen) {
      this.onStatus("lost", Math.max(1, Math.round(delay / 1000)));
    }
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // send returns false when the message could not be sent.
  send(type, payload) {
    if (!this.open || !this.ws) return false;
    try {
      this.ws.send(JSON.stringify({ type, v: 1, payload }));
      return true;
    } catch {
      return false;
    }
  }
}

// dispatch routes one server message to the page's handlers. Replies to
// an earlier request (replaced by a newer one) are dropped, and stream
// messages only count while the request goes over the socket.
export function dispatch(type, p, page) {
  if (p.id && p.id !== page.reqId) return;
  if (!p.id && type !== "error") return;
  const live = page.via === "ws";
  switch (type) {
    case "source":
      if (live) page.source(p);
      break;
    case "step":
      if (live) page.step(p);
      break;
    case "done":
      if (live) page.done(p);
      break;
    case "queued":
      page.queued(p);
      break;
    case "error":
      page.error(p);
      break;
    default:
      break;
  }
}

// ---------------------------------------------------------------- status

// Status owns the page's one status line. Socket news must not hide an
// error or a running request's progress.
export class Status {
  constructor(el, busy) {
    this.el = el;
    this.busy = busy; // () => true while a request is in flight
    this.topic = ""; // "req" while a request owns the line, "conn" for socket news
  }

  set(text, kind = "", topic = "req") {
    this.topic = text ? topic : "";
    this.unreachable = false;
    this.el.textContent = text;
    this.el.classList.toggle("is-error", kind === "error");
    this.el.classList.toggle("is-busy", kind === "busy");
    this.el.classList.toggle("is-ok", kind === "ok");
  }

  // conn shows socket news: "lost" (reconnecting in seconds) or
  // "connected".
  conn(news, seconds) {
    // The server is back: an error that only said it was unreachable is
    // no longer true.
    const gone = this.unreachable;
    if (news === "connected" && gone && !this.busy()) {
      this.set(t("status.back"), "ok", "conn");
      return;
    }
    if (this.busy() || this.el.classList.contains("is-error")) return;
    if (this.topic === "req" && this.el.textContent && news !== "lost") return;
    if (news === "lost") {
      this.set(t("status.lost", { n: seconds }), "busy", "conn");
      this.unreachable = true;
    } else {
      this.set(t("status.connected"), "", "conn");
    }
  }

  // unreachableError says the server could not be reached; a reconnect
  // clears it.
  unreachableError() {
    this.set(t("status.unreachable"), "error");
    this.unreachable = true;
  }

  queued(payload) {
    const ahead = payload && Number(payload.ahead);
    if (Number.isFinite(ahead) && ahead > 0) {
      this.set(t("status.queued", { n: ahead }), "busy");
    } else {
      this.set(t("status.next"), "busy");
    }
  }
}

// ---------------------------------------------------------------- presenter

// wirePresenter turns presenter view on and off with the header's button or
// the P key (anywhere but a text box or menu): the controls, notes and
// explanations step aside and what the class watches grows. onChange runs
// after each switch (the grid re-fits its new room). The choice is kept in
// the URL (?present=1), so a reload or a shared link keeps it.
export function wirePresenter(onChange) {
  const btn = document.getElementById("presenter");
  if (!btn) return;
  const set = (on) => {
    document.body.classList.toggle("presenter", on);
    btn.setAttribute("aria-pressed", String(on));
    const url = new URL(window.location.href);
    if (on) url.searchParams.set("present", "1");
    else url.searchParams.delete("present");
    window.history.replaceState(null, "", url);
    if (onChange) onChange(on);
  };
  btn.addEventListener("click", () => set(!document.body.classList.contains("presenter")));
  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || (e.key !== "p" && e.key !== "P")) return;
    const target = e.target;
    if (target instanceof Element && target.closest("input, select, textarea, [contenteditable]")) return;
    e.preventDefault();
    set(!document.body.classList.contains("presenter"));
  });
  if (new URL(window.location.href).searchParams.get("present") === "1") set(true);
}

// exportFile asks the server for a download (the request decodes the same
// input again, so the file is the model's own output) and saves it as
// name. It returns an error message for the status line, or "".
export async function exportFile(request, name) {
  let res;
  try {
    res = await request();
  } catch {
    return t("status.exportUnreachable");
  }
  if (!res.ok) {
    return responseError(res);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = h("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return "";
}

// responseError is what the page says for a failed HTTP answer.
export async function responseError(res) {
  const body = await res.json().catch(() => null);
  if (body && body.error) return errorText(body.error);
  return t("status.answered", { status: `${res.status} ${res.statusText}` });
}

// ---------------------------------------------------------------- glass box

const fmt = (v, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : "–");

// GlassPanel opens the current step of a decode: its numbers (the state,
// each source position's score and weight, the context vector, the gate,
// the largest logits), and the attention set by hand. The page gives:
//   inspect(prefix, weights) -> Promise<glass>, prefix the ids of the
//     words before the step, weights null for the model's own;
//   label(i) -> the name of source position i;
//   mine() -> the weights the person set (null: none), and clearMine();
//   onContinue(step, prefix, weights): decode the rest from there.
export class GlassPanel {
  constructor(opts) {
    Object.assign(this, opts);
    this.root = document.getElementById("glass");
    this.status = document.getElementById("glass-status");
    this.body = document.getElementById("glass-body");
    this.recompute = document.getElementById("glass-recompute");
    this.cont = document.getElementById("glass-continue");
    this.reset = document.getElementById("glass-reset");
    this.steps = [];
    this.cur = -1;
    this.glass = null;
    this.seq = 0;
    this.root.addEventListener("toggle", () => this.refresh());
    this.recompute.addEventListener("click", () => this.tryMine());
    this.cont.addEventListener("click", () => {
      const w = this.mine();
      if (w && this.cur >= 0) this.onContinue(this.cur, this.prefix(), w);
    });
    this.reset.addEventListener("click", () => {
      this.clearMine();
      this.refresh();
    });
  }

  // show opens step cur of steps (-1: none), when the panel is open.
  show(steps, cur, done) {
    const next = done ? cur : -1;
    const moved = next !== this.cur || steps.length !== this.steps.length || (steps[0] && steps[0] !== this.steps[0]);
    this.steps = steps;
    this.cur = next;
    if (moved) {
      this.clearMine();
      this.refresh();
    }
  }

  prefix() {
    return this.steps.slice(0, this.cur).map((s) => s.token_id);
  }

  clear(text) {
    this.glass = null;
    this.body.textContent = "";
    this.status.textContent = text || "";
    this.recompute.disabled = this.cont.disabled = this.reset.disabled = true;
  }

  async refresh() {
    if (!this.root.open || this.cur < 0 || !this.steps[this.cur]) {
      this.clear();
      return;
    }
    const seq = ++this.seq;
    this.clear(t("glass.loading", { i: this.cur + 1 }));
    let g;
    try {
      g = await this.inspect(this.prefix(), null);
    } catch (err) {
      if (seq === this.seq) this.clear(err.message || String(err));
      return;
    }
    if (seq !== this.seq) return;
    this.glass = g;
    this.status.textContent = "";
    this.render(null);
    this.recompute.disabled = this.cont.disabled = this.reset.disabled = false;
  }

  async tryMine() {
    const w = this.mine();
    if (!w) {
      this.status.textContent = t("glass.noWeights");
      return;
    }
    const seq = ++this.seq;
    this.status.textContent = t("glass.loading", { i: this.cur + 1 });
    try {
      const g = await this.inspect(this.prefix(), w);
      if (seq !== this.seq) return;
      this.status.textContent = "";
      this.render(g);
    } catch (err) {
      if (seq === this.seq) this.status.textContent = err.message || String(err);
    }
  }

  render(with_) {
    const g = this.glass;
    const b = this.body;
    b.textContent = "";
    b.append(h("p", "glass-step", t("glass.step", { i: g.step + 1, word: this.steps[this.cur].token })));
    const eqs = h("ul", "glass-eqs");
    for (const k of ["glass.eqScores", "glass.eqWeights", "glass.eqContext"].concat(this.gate ? ["glass.eqGate"] : [], ["glass.eqOutput"])) {
      eqs.append(h("li", "", t(k)));
    }
    b.append(eqs, h("p", "", t("glass.state", { v: fmt(g.h_norm) })));
    // Source positions: all of a sentence; a photo's heaviest regions.
    let order = g.weights.map((_, i) => i);
    if (order.length > 12) {
      order.sort((x, y) => g.weights[y] - g.weights[x]);
      order = order.slice(0, 8);
      b.append(h("p", "", t("glass.topRegions", { n: order.length, total: g.weights.length })));
    }
    const table = h("table", "glass-table");
    const head = h("tr");
    for (const k of [this.gate ? "glass.region" : "glass.source", "glass.score", "glass.weight", "glass.yours"]) head.append(h("th", "", t(k)));
    table.append(h("thead"), h("tbody"));
    table.tHead.append(head);
    for (const i of order) {
      const tr = h("tr");
      tr.append(h("td", "glass-label", this.label(i)), h("td", "num", fmt(g.scores[i])), h("td", "num", fmt(g.weights[i])));
      const td = h("td", "glass-mine");
      if (this.editor) td.append(this.editor(i));
      if (with_) td.append(h("span", "glass-used", fmt(with_.used[i])));
      tr.append(td);
      table.tBodies[0].append(tr);
    }
    b.append(table);
    b.append(h("p", "", t("glass.context", { size: g.ctx_size, norm: fmt(g.ctx_norm), head: g.ctx_head.map((v) => fmt(v, 2)).join(", ") + "…" })));
    if (this.gate) b.append(h("p", "", t("glass.gate", { v: fmt(g.beta), pct: pct(g.beta) })));
    const lt = h("table", "glass-table");
    lt.append(h("caption", "", t("glass.logits", { lse: fmt(g.log_sum_exp) })));
    const lh = h("tr");
    for (const k of ["glass.word", "glass.logit", "glass.prob"]) lh.append(h("th", "", t(k)));
    lt.append(lh);
    g.logits.forEach((l) => {
      const tr = h("tr");
      tr.append(h("td", "", SPECIAL[l.token] || l.token), h("td", "num", fmt(l.prob)), h("td", "num", pct(Math.exp(l.prob - g.log_sum_exp))));
      lt.append(tr);
    });
    b.append(lt);
    if (with_) {
      const cmp = h("div", "glass-compare");
      cmp.append(h("p", "glass-compare-title", t("glass.compare")));
      for (const [k, gl] of [["glass.model", g], ["glass.mine", with_]]) {
        const col = h("ol", "glass-dist");
        col.dataset.which = k === "glass.model" ? "model" : "mine";
        col.append(h("li", "glass-dist-title", t(k)));
        gl.top_k.slice(0, 5).forEach((a) => col.append(h("li", "", `${SPECIAL[a.token] || a.token} ${pct(a.prob)}`)));
        cmp.append(col);
      }
      b.append(cmp);
    }
  }
}

// Inspects asks the server to open steps: over the websocket for a request
// made on it (the server keeps its source), else over HTTP with http(req)
// when the page can (null: it cannot). settle routes the answers.
export class Inspects {
  constructor(sock, http) {
    this.sock = sock;
    this.http = http;
    this.seq = 0;
    this.waiting = new Map();
  }

  ask(of, prefix, weights) {
    if (of && this.sock.open) {
      const id = `g${++this.seq}`;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => this.fail(id, t("glass.needsLive")), 15000);
        this.waiting.set(id, { resolve, reject, timer });
        const msg = { id, of, prefix };
        if (weights) msg.weights = weights;
        if (!this.sock.send("inspect", msg)) this.fail(id, t("glass.needsLive"));
      });
    }
    if (!this.http) return Promise.reject(new Error(t("glass.needsLive")));
    return this.http({ prefix, weights }).then(async (res) => {
      if (!res.ok) throw new Error(await responseError(res));
      return (await res.json()).glass;
    });
  }

  fail(id, message) {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    clearTimeout(w.timer);
    w.reject(new Error(message));
  }

  // settle takes a server message that answers an inspect; it returns
  // false for any other.
  settle(type, p) {
    const w = p && p.id ? this.waiting.get(p.id) : null;
    if (!w || (type !== "glass" && type !== "error")) return false;
    this.waiting.delete(p.id);
    clearTimeout(w.timer);
    if (type === "glass") w.resolve(p.glass);
    else w.reject(new Error(errorText(p)));
    return true;
  }
}

// ---------------------------------------------------------------- search tree

const SVG = "http://www.w3.org/2000/svg";
const svg = (tag, attrs) => {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
};

// topWhere names the three source positions att weighs most, with label(i)
// the name of position i.
export function topWhere(att, label) {
  return att
    .map((w, i) => [w, i])
    .sort((a, b) => b[0] - a[0])
    .slice(0, 3)
    .map(([w, i]) => `${label(i)} ${pct(w)}`)
    .join(", ");
}

// TreePanel draws a beam search as it grows: one column per step, the
// hypotheses kept at that step stacked in it, a line to each from the one
// it grew from. where(attention) names where a hypothesis looked and
// picture(node) draws it (a grid row or a heatmap).
export class TreePanel {
  constructor(where, picture) {
    this.where = where;
    this.picture = picture;
    this.root = document.getElementById("tree");
    this.view = document.getElementById("tree-view");
    this.detail = document.getElementById("tree-node");
    this.reset(false);
  }

  // reset empties the tree; shown: the request searches with a beam.
  reset(shown) {
    this.levels = [];
    this.nodes = new Map();
    this.winner = -1;
    this.root.hidden = !shown;
    this.view.textContent = "";
    this.detail.textContent = "";
  }

  add(level) {
    if (level.winner >= 0 || !level.nodes) {
      this.winner = level.winner;
    } else {
      this.levels.push(level);
      level.nodes.forEach((n, rank) => this.nodes.set(n.id, { ...n, rank }));
    }
    this.draw();
  }

  draw() {
    const W = 128;
    const H = 34;
    const rows = Math.max(1, ...this.levels.map((l) => l.nodes.length));
    const s = svg("svg", { width: this.levels.length * W + 16, height: rows * H + 8, role: "group", "aria-label": t("tree.title") });
    const onPath = new Set();
    for (let id = this.winner; id >= 0; id = this.nodes.get(id).parent) onPath.add(id);
    const hasChild = new Set([...this.nodes.values()].map((n) => n.parent));
    const last = this.levels.length - 1;
    const at = (n) => [8 + n.step * W, 4 + n.rank * H + H / 2];
    for (const n of this.nodes.values()) {
      if (n.parent < 0) continue;
      const [x1, y1] = at(this.nodes.get(n.parent));
      const [x2, y2] = at(n);
      s.append(svg("line", { x1: x1 + W - 12, y1, x2, y2, class: onPath.has(n.id) ? "tree-edge is-winner" : "tree-edge" }));
    }
    for (const n of this.nodes.values()) {
      const [x, y] = at(n);
      const dead = !hasChild.has(n.id) && !n.final && n.step < last && !onPath.has(n.id);
      const g = svg("g", { class: `tree-node-g${onPath.has(n.id) ? " is-winner" : ""}${dead || (this.winner >= 0 && !onPath.has(n.id)) ? " is-pruned" : ""}`, tabindex: 0, role: "button" });
      const word = SPECIAL[n.token] || n.token;
      const shown = word.length > 11 ? word.slice(0, 10) + "…" : word;
      // The accessible name starts with what is drawn: the word and the score.
      g.setAttribute("aria-label", `${shown} ${n.score.toFixed(1)}, ${t("tree.nodeLabel", { word, i: n.step + 1, score: n.score.toFixed(2) })}`);
      g.dataset.node = String(n.id);
      g.append(svg("rect", { x, y: y - 13, width: W - 14, height: 26, rx: 6 }));
      const text = svg("text", { x: x + 5, y: y + 1 });
      text.textContent = shown;
      const score = svg("text", { x: x + W - 18, y: y + 1, class: "tree-score", "text-anchor": "end" });
      score.textContent = " " + n.score.toFixed(1);
      g.append(text, score);
      const open = () => this.open(n.id);
      g.addEventListener("click", open);
      g.addEventListener("keydown", (e) => {
        if (e.key === "Enter" || e.key === " ") {
          e.preventDefault();
          open();
        }
      });
      s.append(g);
    }
    this.view.textContent = "";
    this.view.append(s);
  }

  open(id) {
    const n = this.nodes.get(id);
    this.view.querySelectorAll(".tree-node-g.is-open").forEach((g) => g.classList.remove("is-open"));
    this.view.querySelector(`[data-node="${id}"]`)?.classList.add("is-open");
    const d = this.detail;
    d.textContent = "";
    const word = SPECIAL[n.token] || n.token;
    d.append(h("p", "tree-node-title", t("tree.node", { i: n.step + 1, word, logp: n.log_prob.toFixed(2), score: n.score.toFixed(2) }) + (n.final ? " " + t("tree.final") : "")));
    if (n.attention && n.attention.length) {
      d.append(h("p", "", t("tree.looked", { where: this.where(n.attention) })));
      const pic = this.picture(n);
      if (pic) d.append(pic);
    }
    if (n.top_k && n.top_k.length) {
      d.append(h("p", "", t("tree.choices", { choices: n.top_k.map((a) => `${SPECIAL[a.token] || a.token} ${pct(a.prob)}`).join(", ") })));
    }
  }
}

// ---------------------------------------------------------------- baseline

// Baseline shows the same input decoded by the same model trained without
// attention, beside the attention model: its words revealed in step with
// the main decode's, a note saying why it has no picture, and, for a
// translation, the by-length figure. The page gives:
//   model: its model picker, whose options name their baseline;
//   request(id): Promise<Response> decoding the input with model id;
//   figure(model, n): the figure's URL for a sentence of n words, or null.
export class Baseline {
  constructor(opts) {
    Object.assign(this, opts);
    this.toggle = document.getElementById("compare");
    this.panel = document.getElementById("baseline");
    this.words = document.getElementById("baseline-words");
    this.fig = document.getElementById("baseline-figure");
    this.img = document.getElementById("baseline-img");
    this.seq = 0;
    this.shown = -1;
    this.img.addEventListener("error", () => (this.fig.hidden = true));
    this.model.addEventListener("change", () => this.update());
    this.toggle.addEventListener("change", () => {
      if (!this.toggle.checked) this.panel.hidden = true;
    });
    this.update();
  }

  id() {
    const o = this.model.selectedOptions[0];
    return (o && o.dataset.baseline) || "";
  }

  update() {
    const id = this.id();
    this.toggle.disabled = !id;
    // Offered only where there is a baseline to show.
    this.toggle.closest("label").hidden = !id;
    if (!id) {
      this.toggle.checked = false;
      this.panel.hidden = true;
    }
  }

  // start decodes the input with the baseline, when asked for; n is the
  // source's length in words (for the figure's mark).
  async start(n) {
    const id = this.id();
    const seq = ++this.seq;
    this.words.textContent = "";
    this.shown = -1;
    if (!this.toggle.checked || !id) {
      this.panel.hidden = true;
      return;
    }
    this.panel.hidden = false;
    const url = this.figure ? this.figure(this.model.value, n) : null;
    this.fig.hidden = !url;
    if (url) this.img.src = url;
    let res = null;
    let body = null;
    try {
      res = await this.request(id);
      if (res.ok) body = await res.json();
    } catch {
      body = null;
    }
    if (seq !== this.seq) return;
    if (!body) {
      const why = res ? await responseError(res) : t("status.unreachable");
      this.words.textContent = t("compare.failed", { why });
      return;
    }
    for (const s of body.steps || []) {
      const chip = h("span", "tok tgt-tok", SPECIAL[s.token] || s.token);
      chip.hidden = true;
      this.words.append(chip);
    }
    this.reveal(this.shown);
  }

  // reveal shows the words up to k, in step with the main decode.
  reveal(k) {
    this.shown = k;
    [...this.words.children].forEach((c, i) => {
      if (c.classList.contains("tgt-tok")) c.hidden = i > k;
    });
  }
}

// ---------------------------------------------------------------- small pictures

// miniGrid draws an alignment grid small, for a search tree's node or a
// what-if's version: a column per input word (source), a row per output
// step ({token, attention}), each cell coloured by its weight.
export function miniGrid(source, steps) {
  const table = h("table", "mini-grid");
  table.setAttribute("aria-label", t("mini.grid"));
  const head = h("tr");
  head.append(h("td"));
  for (const w of source) {
    const th = h("th", "mini-src", w);
    th.scope = "col";
    head.append(th);
  }
  const thead = h("thead");
  thead.append(head);
  const body = h("tbody");
  for (const s of steps) {
    const word = SPECIAL[s.token] || s.token;
    const tr = h("tr");
    const th = h("th", "mini-out", word);
    th.scope = "row";
    tr.append(th);
    source.forEach((w, j) => {
      const a = (s.attention || [])[j];
      const td = h("td", "mini-cell");
      td.style.backgroundColor = css(colour(a));
      td.title = `${word} ← ${w}: ${pct(a)}`;
      td.append(h("span", "visually-hidden", pct(a)));
      tr.append(td);
    });
    body.append(tr);
  }
  table.append(thead, body);
  return table;
}

// heatCanvas draws the photo img, size pixels square, with the attention
// att over its rows x cols regions: each region tinted by its weight
// relative to the largest, the colour map's top for the most attended.
export function heatCanvas(img, att, rows, cols, size, label) {
  const c = h("canvas", "mini-heat");
  c.width = size;
  c.height = size;
  c.setAttribute("role", "img");
  c.setAttribute("aria-label", label);
  const max = Math.max(1e-9, ...att);
  const draw = () => {
    const g = c.getContext("2d");
    if (img && img.naturalWidth) g.drawImage(img, 0, 0, size, size);
    for (let i = 0; i < rows * cols; i++) {
      const w = (att[i] || 0) / max;
      const [r, gr, b] = colour(w);
      g.fillStyle = `rgba(${r}, ${gr}, ${b}, ${(0.15 + 0.6 * w).toFixed(3)})`;
      const x0 = Math.round(((i % cols) * size) / cols);
      const y0 = Math.round((Math.floor(i / cols) * size) / rows);
      g.fillRect(x0, y0, Math.round((((i % cols) + 1) * size) / cols) - x0, Math.round(((Math.floor(i / cols) + 1) * size) / rows) - y0);
    }
  };
  if (img && !img.complete) img.addEventListener("load", draw, { once: true });
  draw();
  return c;
}

// ---------------------------------------------------------------- what if

// WhatIf keeps the model's own decode while the page shows a changed one
// (a word forced, or the attention set by hand at a step) and, once the
// changed one is done, shows the two side by side: each version's words,
// its picture (picture(steps): a grid or heatmaps) and its log-probability
// (the sum over its words of log p(word | the words before, the input)).
// word(step) is a step's word as the page shows it.
export class WhatIf {
  constructor({ word, picture }) {
    this.word = word;
    this.picture = picture;
    this.root = $("whatif");
    this.text = $("whatif-text");
    this.versions = $("whatif-versions");
    this.own = null;
  }

  get active() {
    return this.own !== null;
  }

  // begin is called before a changed decode replaces steps, the decode on
  // screen: the model's own, unless a what-if is on already.
  // message(own) is the banner's text, given the model's own words.
  begin(steps, message) {
    if (!this.own) this.own = steps.slice();
    this.text.textContent = message(this.own.map(this.word).join(" "));
    this.versions.textContent = "";
    this.root.hidden = false;
  }

  end() {
    this.own = null;
    this.root.hidden = true;
    this.versions.textContent = "";
  }

  // show puts the finished changed decode beside the model's own.
  show(steps) {
    if (!this.own) return;
    this.versions.textContent = "";
    this.versions.append(h("p", "versions-help", t("whatif.versionsHelp")), this.version("own", this.own), this.version("changed", steps));
  }

  version(which, steps) {
    const fig = h("figure", "version");
    fig.dataset.which = which;
    const logp = steps.reduce((s, x) => s + Math.log(Math.max(x.prob, 1e-30)), 0);
    const title = h("figcaption", "version-title");
    title.append(h("strong", "", which === "own" ? t("whatif.own") : t("whatif.changed")), " ", h("span", "version-logp", t("whatif.logp", { v: logp.toFixed(2) })));
    title.querySelector(".version-logp").dataset.logp = String(logp);
    fig.append(title, h("p", "version-words", steps.map(this.word).join(" ")), this.picture(steps));
    return fig;
  }
}

// ---------------------------------------------------------------- classroom

// followerFeed is a class follower's Classroom feed for a page: the
// teacher's source is adopted as the page's own request (adopt(id)),
// clearing its what-if and tree; every message then goes through the
// page's handler (handle), and the teacher's view, not the page's pacing,
// moves playback on.
export function followerFeed({ adopt, handle, whatif, tree, player }) {
  return (kind, data) => {
    if (kind === "source") {
      adopt(data.id);
      whatif.end();
      tree.reset(false);
    }
    if (kind === "tree") tree.root.hidden = false;
    handle(kind, data);
    player.following = false;
  };
}

const CLASS_KEY = "attn-class"; // sessionStorage: the teacher's {code, secret}
const VIEW_EVERY_MS = 100; // a teacher's view goes out at most this often

// Classroom runs the page's part in a class over its socket. A teacher
// starts a class (its code and QR code go on screen) and the page's view
// (the step on screen, the hover) goes to the class as it changes; the
// decodes themselves reach the class from the server. A page opened with
// ?class=CODE follows: the teacher's inputs, words and view arrive through
// the page's own rendering, until the student looks around (lookAround)
// or leaves. The page gives:
//   page: "translate" or "caption";
//   feed(kind, data): render one of the teacher's decode messages
//     (source, step, tree, done, error) as if it were its own;
//   view(): where this page is looking now ({step, ...});
//   apply(view): look where the teacher is looking.
export class Classroom {
  constructor(sock, page) {
    this.sock = sock;
    this.p = page;
    this.el = (id) => document.getElementById(`class-${id}`);
    this.role = null; // "teacher" or "student"
    this.code = "";
    this.asked = ""; // the class message awaiting its answer
    this.last = null; // the teacher's last view, for a follower
    this.tracking = true; // a follower follows the teacher's view
    this.applying = false;
    this.sent = 0;
    this.timer = 0;
    const code = new URLSearchParams(location.search).get("class");
    let saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(CLASS_KEY) || "null");
    } catch {
      saved = null;
    }
    if (code) {
      this.role = "student";
      this.code = code;
      this.status(t("class.joining", { code }));
      this.keepInLinks();
    } else if (saved && saved.code && saved.secret) {
      this.role = "teacher";
      this.saved = saved;
    }
    this.el("open").addEventListener("click", () => this.open());
    this.el("close").addEventListener("click", () => this.close());
    this.el("follow").addEventListener("click", () => this.follow());
    this.el("leave").addEventListener("click", () => this.leave());
    this.show();
  }

  // connected: the socket is (back) up; join or take the class back.
  connected() {
    if (this.role === "student") {
      this.ask("class_join", { code: this.code });
    } else if (this.role === "teacher" && this.saved) {
      this.ask("class_resume", { code: this.saved.code, secret: this.saved.secret, page: this.p.page, lang: LANG });
    }
  }

  ask(type, payload) {
    this.asked = type;
    if (!this.sock.send(type, payload)) this.status(t("status.unreachable"));
  }

  open() {
    this.role = "teacher";
    this.ask("class_open", { page: this.p.page, lang: LANG });
  }

  close() {
    this.sock.send("class_close", {});
    this.endTeaching();
  }

  endTeaching() {
    sessionStorage.removeItem(CLASS_KEY);
    this.role = null;
    this.saved = null;
    this.code = "";
    this.show();
  }

  leave() {
    this.sock.send("class_leave", {});
    const url = new URL(location.href);
    url.searchParams.delete("class");
    location.assign(url.toString());
  }

  // handle takes the class's messages; it reports whether msg was one.
  handle(type, p) {
    switch (type) {
      case "class_opened":
        this.opened(p);
        return true;
      case "class_followers":
        this.el("count").textContent = t("class.count", { n: p.n });
        return true;
      case "class_state":
        this.joined(p);
        return true;
      case "class_event":
        this.event(p);
        return true;
      case "class_closed":
        this.endTeaching();
        this.status(t(p.reason === "expired" ? "class.expiredIdle" : "class.closed"));
        return true;
      case "error":
        // An answer to a class message has no request id.
        if (!p.id && this.asked) {
          const asked = this.asked;
          this.asked = "";
          this.status(t("class.failed", { why: errorText(p) }));
          if (asked === "class_resume") this.endTeaching();
          return true;
        }
        return false;
      default:
        return false;
    }
  }

  opened(p) {
    this.asked = "";
    this.code = p.code;
    if (p.secret) this.saved = { code: p.code, secret: p.secret };
    sessionStorage.setItem(CLASS_KEY, JSON.stringify(this.saved));
    this.el("code").textContent = `${p.code.slice(0, 3)} ${p.code.slice(3)}`;
    this.el("code").setAttribute("aria-label", [...p.code].join(" "));
    const url = p.join_url.replace(/\?code=.*$/, "");
    this.el("url").textContent = t("class.codeLabel", { url });
    this.el("loopback").hidden = !p.loopback;
    this.el("qr").src = p.qr;
    this.el("qr").alt = t("class.qrAlt", { code: p.code });
    this.el("count").textContent = t("class.count", { n: p.followers || 0 });
    this.status("");
    this.show();
    this.sendView();
  }

  joined(st) {
    this.asked = "";
    if (this.elsewhere(st.page, st.lang)) return;
    this.status(st.source ? "" : t("class.waiting", { code: st.code }));
    this.code = st.code;
    if (st.source) {
      this.p.feed("source", JSON.parse(JSON.stringify(st.source)));
      for (const tr of st.trees || []) this.p.feed("tree", tr);
      for (const s of st.steps || []) this.p.feed("step", s);
      if (st.done) this.p.feed(st.done.code ? "error" : "done", st.done);
    }
    this.last = st.view || null;
    this.tracking = true;
    this.show();
    this.track();
  }

  // elsewhere sends a follower to the teacher's page and language, if
  // this is not it; it reports whether it did.
  elsewhere(page, lang) {
    if (page === this.p.page && lang === LANG) return false;
    const url = new URL(page === "caption" ? "/caption" : "/", location.href);
    url.searchParams.set("class", this.code);
    url.searchParams.set("lang", lang);
    location.replace(url.toString());
    return true;
  }

  event(ev) {
    if (this.role !== "student") return;
    switch (ev.kind) {
      case "view":
        this.last = ev.data;
        this.track();
        break;
      case "page":
        this.elsewhere(ev.data.page, ev.data.lang);
        break;
      case "closed":
        this.status(ev.data && ev.data.reason === "expired" ? t("class.expired") : t("class.closed"));
        this.role = null;
        this.show();
        break;
      default:
        if (ev.kind === "source") {
          // A new input: where the teacher looked in the last one is moot.
          this.status("");
          this.last = null;
        }
        this.p.feed(ev.kind, ev.data);
        if (ev.kind === "source" || ev.kind === "step") this.track();
    }
  }

  // track shows where the teacher is looking, unless the student is
  // looking around.
  track() {
    this.show();
    if (!this.tracking || !this.last) return;
    this.applying = true;
    try {
      this.p.apply(this.last);
    } finally {
      this.applying = false;
    }
  }

  // watch makes moving the pointer onto el, or focusing in it, count as
  // the student looking around; the page moving under a still pointer
  // (new words, a new row) does not.
  watch(el) {
    let moved = 0;
    el.addEventListener("pointermove", () => (moved = performance.now()));
    el.addEventListener("mouseover", () => {
      if (performance.now() - moved < 300) this.lookAround();
    });
    el.addEventListener("focusin", () => this.lookAround());
  }

  // lookAround: the student moved on their own; the page stops tracking
  // the teacher until "follow the teacher".
  lookAround() {
    if (this.role !== "student" || this.applying || !this.tracking) return;
    this.tracking = false;
    this.show();
  }

  follow() {
    this.tracking = true;
    this.track();
  }

  // changed: the page's view moved; a teacher's class sees it (at most
  // every VIEW_EVERY_MS, the last one always).
  changed() {
    if (this.role !== "teacher" || !this.code) return;
    if (this.timer) return;
    const wait = Math.max(0, this.sent + VIEW_EVERY_MS - performance.now());
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.sendView();
    }, wait);
  }

  sendView() {
    this.sent = performance.now();
    this.sock.send("class_view", { view: this.p.view() });
  }

  status(text) {
    this.el("status").textContent = text;
  }

  show() {
    const teaching = this.role === "teacher" && !!this.code;
    this.el("open").hidden = this.role !== null;
    this.el("teacher").hidden = !teaching;
    this.el("student").hidden = this.role !== "student";
    document.body.classList.toggle("is-teaching", teaching);
    // A follower's page shows the teacher's inputs, not its own.
    document.body.classList.toggle("is-following", this.role === "student");
    if (this.role === "student") {
      const step = this.last && Number.isInteger(this.last.step) ? this.last.step : -1;
      this.el("following").textContent = this.tracking
        ? t("class.following", { code: this.code })
        : t("class.lookingAround", { i: step + 1 });
      this.el("follow").hidden = this.tracking;
    }
  }

  // keepInLinks keeps the class in the header's links to the other page
  // and language, so moving there keeps following.
  keepInLinks() {
    document.querySelectorAll(".site-header a.lang-link, .site-header a.nav-link").forEach((a) => {
      const url = new URL(a.href, location.href);
      if (url.pathname === "/join") return;
      url.searchParams.set("class", this.code);
      a.href = url.toString();
    });
  }
}
