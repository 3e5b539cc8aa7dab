// Translation page: sends a sentence to the server, receives the decode one
// step at a time, and draws the words, the alignment grid and the top-k
// choices. The same rendering path serves the websocket stream, the HTTP
// fallback and replays, so all three look identical.

const $ = (id) => document.getElementById(id);

const els = {
  form: $("translate-form"),
  text: $("text"),
  model: $("model"),
  beam: $("beam"),
  pace: $("pace"),
  go: $("go"),
  modelNote: $("model-note"),
  status: $("status"),
  source: $("source"),
  target: $("target"),
  grid: $("grid"),
  readout: $("readout"),
  legendBar: $("legend-bar"),
  topk: $("topk"),
  topkTitle: $("topk-title"),
  step: $("step"),
  stepReadout: $("step-readout"),
  replay: $("replay"),
  result: $("result"),
};

const SLOW_MS = 700; // one word every 0.7 s: slow enough to talk over
const REPLAY_MIN_MS = 150; // live replays still need visible gaps between words
const MIN_CELL = 36;
const MAX_CELL = 54;

// ---------------------------------------------------------------- colour map

// Viridis sampled at 0, 0.1, ..., 1 (matplotlib). Perceptually uniform and
// readable with the common forms of colour blindness; linear interpolation
// between these anchors is visually indistinguishable from the full table.
const VIRIDIS = [
  "#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c",
  "#22a884", "#44bf70", "#7ad151", "#bddf26", "#fde725",
].map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));

function colour(t) {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  return VIRIDIS[i].map((c, k) => Math.round(c + (VIRIDIS[i + 1][k] - c) * f));
}

const css = ([r, g, b]) => `rgb(${r}, ${g}, ${b})`;

// Text on a coloured cell must stay readable: pick black or white by the
// WCAG relative luminance of the background.
function inkFor([r, g, b]) {
  const lin = (c) => {
    c /= 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const L = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  return L > 0.179 ? "#111" : "#fff";
}

// Whole percents, except below 1% where a rounded "0%" would hide that a
// word still had some chance.
function pct(p) {
  if (!Number.isFinite(p)) return "–";
  if (p <= 0) return "0%";
  if (p < 0.001) return "<0.1%";
  if (p < 0.0095) return `${(p * 100).toFixed(1)}%`;
  return `${Math.round(p * 100)}%`;
}

// Special tokens are spelled out for students; the raw form stays in a tooltip.
const SPECIAL = { "</s>": "(end)", "<unk>": "(unknown)", "<s>": "(start)", "<pad>": "(padding)" };

// The legend is drawn from the same table as the cells so they cannot drift
// apart. CSSOM writes are allowed under the page's style-src policy; style
// attributes in markup are not.
function drawLegend() {
  const stops = VIRIDIS.map((c, i) => `${css(c)} ${(i * 100) / (VIRIDIS.length - 1)}%`);
  els.legendBar.style.backgroundImage = `linear-gradient(to right, ${stops.join(", ")})`;
}

// ---------------------------------------------------------------- state

const state = {
  seq: 0,
  reqId: null, // id of the request whose replies we render
  pending: null, // its payload, kept to resend over HTTP if the socket drops
  via: null, // "ws" or "http"
  source: null, // {tokens, unknown}
  steps: [],
  arrivals: [], // arrival times, so a live replay keeps the real rhythm
  done: null,
  cur: -1, // index of the step on screen; -1 = none yet
  following: true, // playback advances on its own until the user scrubs
  replaying: false,
  timer: 0,
  hover: null, // {row, col}: what the pointer or focus is on, either may be null
  activeCell: null, // the grid cell that holds the grid's single tab stop
};

// Per-request DOM, rebuilt on each new source.
let srcChips = [];
let colHeads = [];
let tgtChips = [];
let rows = []; // {tr, head, cells[]}

function h(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---------------------------------------------------------------- status

let statusTopic = ""; // "req" while a request owns the line, "conn" for socket news

function setStatus(text, kind = "", topic = "req") {
  statusTopic = text ? topic : "";
  els.status.textContent = text;
  els.status.classList.toggle("is-error", kind === "error");
  els.status.classList.toggle("is-busy", kind === "busy");
  els.status.classList.toggle("is-ok", kind === "ok");
}

function requestInFlight() {
  return state.reqId !== null && state.done === null;
}

// Socket news must not hide an error or a running request's progress.
function setConnStatus(text) {
  if (requestInFlight() || els.status.classList.contains("is-error")) return;
  if (statusTopic === "req" && els.status.textContent && !text.startsWith("Connection lost")) return;
  setStatus(text, text.startsWith("Connection lost") ? "busy" : "", "conn");
}

// ---------------------------------------------------------------- rendering

function clearResult() {
  stopTimer();
  state.source = null;
  state.steps = [];
  state.arrivals = [];
  state.done = null;
  state.cur = -1;
  state.following = true;
  state.replaying = false;
  state.hover = null;
  state.activeCell = null;
  srcChips = [];
  colHeads = [];
  tgtChips = [];
  rows = [];
  els.source.textContent = "";
  els.target.textContent = "";
  els.target.classList.remove("is-long");
  els.grid.textContent = "";
  els.topk.textContent = "";
  els.readout.textContent = "";
  els.topkTitle.textContent = "Top choices for this word";
  updateSlider();
}

function onSource(payload) {
  const src = payload && payload.source;
  clearResult();
  if (!src || src.kind !== "text") {
    onError({ message: "This page shows text models only; pick a translation model." });
    return;
  }
  const tokens = src.tokens || [];
  const unknown = src.unknown || [];
  state.source = { tokens, unknown: tokens.map((_, i) => Boolean(unknown[i])) };

  tokens.forEach((tok, j) => {
    const chip = h("span", "tok src-tok", tok);
    chip.dataset.col = String(j);
    chip.tabIndex = 0;
    if (state.source.unknown[j]) {
      chip.classList.add("unk");
      chip.title = "not in the model's vocabulary";
    }
    els.source.append(chip);
    srcChips.push(chip);
  });
  buildGrid();
}

function buildGrid() {
  const tokens = state.source.tokens;
  const table = h("table", "align");
  table.setAttribute("role", "grid");
  table.setAttribute("aria-label", "Attention: one row per output word, one column per input word");
  const thead = h("thead");
  const tr = h("tr");
  const corner = h("th", "corner");
  corner.append(h("span", "corner-out", "output ↓"), h("span", "corner-in", "input →"));
  tr.append(corner);
  tokens.forEach((tok, j) => {
    const th = h("th", "col-head");
    th.scope = "col";
    th.dataset.col = String(j);
    th.title = tok;
    const label = h("div", "col-label", tok);
    if (state.source.unknown[j]) th.classList.add("unk");
    th.append(label);
    tr.append(th);
    colHeads.push(th);
  });
  thead.append(tr);
  table.append(thead, h("tbody"));
  els.grid.append(table);
  sizeCells();
}

// Cells grow for short sentences (easier to read from afar) and shrink to a
// legible minimum for long ones; past that the grid scrolls sideways.
function sizeCells() {
  const n = state.source ? state.source.tokens.length : 0;
  if (!n) return;
  const avail = els.grid.clientWidth - 190; // room for the row labels
  const cell = Math.max(MIN_CELL, Math.min(MAX_CELL, Math.floor(avail / n) - 3));
  els.grid.style.setProperty("--cell", `${cell}px`);
}

function onStep(step) {
  if (!state.source || !step) return;
  const i = state.steps.length;
  state.steps.push(step);
  state.arrivals.push(performance.now());

  const chip = h("span", "tok tgt-tok", step.token);
  chip.dataset.row = String(i);
  chip.tabIndex = 0;
  chip.hidden = true;
  // Dropped after it runs so a replay can run it again.
  chip.addEventListener("animationend", () => chip.classList.remove("is-new"));
  if (step.unknown) {
    chip.classList.add("unk");
    chip.title = "unknown word: the model copied the input word it looked at most";
  }
  els.target.append(chip);
  tgtChips.push(chip);

  const tr = h("tr", "grid-row");
  tr.hidden = true;
  const head = h("th", "row-head", step.token);
  head.scope = "row";
  head.dataset.row = String(i);
  head.title = step.token;
  if (step.unknown) head.classList.add("unk");
  tr.append(head);
  const att = step.attention || [];
  const cells = state.source.tokens.map((tok, j) => {
    const w = att[j];
    const td = h("td", "grid-cell");
    td.dataset.row = String(i);
    td.dataset.col = String(j);
    td.tabIndex = -1;
    td.setAttribute("role", "gridcell");
    const c = colour(w);
    td.style.backgroundColor = css(c);
    td.style.color = inkFor(c);
    td.title = `${step.token} ← ${tok}: ${Number.isFinite(w) ? w.toFixed(2) : "–"}`;
    td.setAttribute("aria-label", `${step.token} looked at ${tok}: ${pct(w)}`);
    tr.append(td);
    return td;
  });
  els.grid.querySelector("tbody").append(tr);
  rows.push({ tr, head, cells });

  // Long outputs get smaller chips so the sentence stays on a few lines.
  els.target.classList.toggle("is-long", state.steps.length > 14);
  updateSlider();
  pump();
}

function onDone(payload) {
  if (!state.source) return;
  // Steps missing from the stream (none expected) still come with "done".
  const all = payload && Array.isArray(payload.steps) ? payload.steps : [];
  for (let i = state.steps.length; i < all.length; i++) onStep(all[i]);
  state.done = payload || {};
  const n = state.steps.length;
  const ms = Number.isFinite(state.done.elapsed_ms) ? `${state.done.elapsed_ms} ms` : "";
  if (n === 0) {
    setStatus(`Done${ms ? ` in ${ms}` : ""}: the model ended the sentence without writing a word.`, "ok");
  } else {
    setStatus(`Done${ms ? ` in ${ms}` : ""} · ${n} word${n === 1 ? "" : "s"}.`, "ok");
  }
  els.replay.disabled = n === 0;
  els.go.disabled = false;
  pump();
}

function onError(payload) {
  stopTimer();
  const msg = (payload && payload.message) || "Something went wrong.";
  setStatus(msg, "error");
  state.reqId = null;
  state.pending = null;
  els.go.disabled = false;
}

function onQueued(payload) {
  const ahead = payload && Number(payload.ahead);
  if (Number.isFinite(ahead) && ahead > 0) {
    setStatus(`Queued: ${ahead} ahead of you…`, "busy");
  } else {
    setStatus("Queued: you are next…", "busy");
  }
}

// ---------------------------------------------------------------- playback

function stopTimer() {
  if (state.timer) clearTimeout(state.timer);
  state.timer = 0;
}

function gapBefore(i) {
  if (els.pace.value === "slow") return SLOW_MS;
  const real = state.arrivals[i] - state.arrivals[i - 1];
  return Math.max(REPLAY_MIN_MS, Number.isFinite(real) ? real : 0);
}

// Advance the display toward the newest step, at the chosen pacing. The
// server never waits for us, so steps queue here.
function pump() {
  if (!state.following || state.timer) return;
  const last = state.steps.length - 1;
  if (state.cur >= last) {
    if (state.done) state.replaying = false;
    return;
  }
  if (els.pace.value === "live" && !state.replaying) {
    show(last);
    return;
  }
  const next = state.cur + 1;
  const delay = next === 0 ? 0 : gapBefore(next);
  state.timer = setTimeout(() => {
    state.timer = 0;
    show(next, true);
    pump();
  }, delay);
}

// follow: keep the newest row in view, for word-by-word playback and
// stepping; a live decode that appears at once leaves the page where it is.
function show(k, follow = false) {
  const n = state.steps.length;
  k = Math.max(-1, Math.min(n - 1, k));
  const grew = k > state.cur;
  state.cur = k;
  tgtChips.forEach((chip, i) => {
    const visible = i <= k;
    if (visible && chip.hidden && grew) chip.classList.add("is-new");
    chip.hidden = !visible;
    chip.classList.toggle("is-current", i === k);
  });
  rows.forEach((r, i) => {
    r.tr.hidden = i > k;
    r.tr.classList.toggle("is-current", i === k);
  });
  // Keep the grid's tab stop on a visible row.
  if (state.activeCell && Number(state.activeCell.dataset.row) > k) {
    setActiveCell(k >= 0 ? rows[k].cells[Number(state.activeCell.dataset.col)] : null);
  } else if (!state.activeCell && k >= 0 && rows[0].cells.length) {
    setActiveCell(rows[0].cells[0]);
  }
  if (state.hover && state.hover.row !== null && state.hover.row > k) state.hover = null;
  updateSlider();
  applyHighlight();
  if (follow && grew && k >= 0) rows[k].tr.scrollIntoView({ block: "nearest", inline: "nearest" });
}

function updateSlider() {
  const n = state.steps.length;
  els.step.max = String(Math.max(0, n - 1));
  els.step.disabled = n === 0;
  els.step.value = String(Math.max(0, state.cur));
  const word = state.cur >= 0 ? state.steps[state.cur].token : "";
  const text = state.cur >= 0 ? `word ${state.cur + 1} of ${n}` : n ? `0 of ${n}` : "–";
  els.stepReadout.textContent = text;
  els.step.setAttribute("aria-valuetext", word ? `${text}: ${word}` : text);
  els.replay.disabled = !(state.done && n > 0);
}

// ---------------------------------------------------------------- highlight

function shade(el, w) {
  if (w === null || w === undefined) {
    el.style.removeProperty("background-color");
    el.style.removeProperty("border-color");
    el.style.removeProperty("color");
    delete el.dataset.w;
    el.classList.remove("is-shaded");
    return;
  }
  const c = colour(w);
  el.style.backgroundColor = css(c);
  el.style.borderColor = css(c);
  el.style.color = inkFor(c);
  // Labels under every chip would drown the few that matter.
  if (w >= 0.01) el.dataset.w = pct(w);
  else delete el.dataset.w;
  el.classList.add("is-shaded");
}

// One function decides every highlight from (row, col), so hovering a chip,
// a header or a cell all read the same way. With nothing hovered, the
// current step is shown: where the model is looking right now.
function applyHighlight() {
  const hv = state.hover;
  let row = hv ? hv.row : null;
  const col = hv ? hv.col : null;
  if (!hv && state.cur >= 0) row = state.cur;
  if (row !== null && row > state.cur) row = null;

  const att = row !== null ? state.steps[row].attention || [] : null;
  srcChips.forEach((chip, j) => {
    shade(chip, att ? att[j] ?? 0 : null);
    chip.classList.toggle("is-hl", col === j);
  });
  tgtChips.forEach((chip, i) => {
    const w = col !== null && i <= state.cur ? (state.steps[i].attention || [])[col] ?? 0 : null;
    shade(chip, w);
    chip.classList.toggle("is-hl", hv !== null && row === i);
  });
  colHeads.forEach((th, j) => th.classList.toggle("is-hl", col === j));
  rows.forEach((r, i) => {
    r.tr.classList.toggle("is-hl", hv !== null && row === i);
  });
  els.grid.querySelectorAll(".grid-cell.is-hl").forEach((c) => c.classList.remove("is-hl"));
  if (row !== null && col !== null && rows[row]) rows[row].cells[col].classList.add("is-hl");
  els.grid.classList.toggle("has-col", col !== null);

  renderReadout(row, col, hv !== null);
  renderTopK(row !== null ? row : state.cur);
}

function renderReadout(row, col, hovering) {
  const tok = state.source ? state.source.tokens : [];
  let text = "";
  if (row !== null && col !== null) {
    const w = (state.steps[row].attention || [])[col];
    text = `Writing “${state.steps[row].token}”, the model gave “${tok[col]}” ${pct(w)} of its attention.`;
  } else if (row !== null) {
    const att = state.steps[row].attention || [];
    let best = 0;
    att.forEach((w, j) => {
      if (w > att[best]) best = j;
    });
    if (att.length) {
      text = `${hovering ? "" : "Now: "}writing “${state.steps[row].token}”, the model looked most at “${tok[best]}” (${pct(att[best])}).`;
      text = text.charAt(0).toUpperCase() + text.slice(1);
    }
  } else if (col !== null) {
    text = `Shading the output by how much each word looked at “${tok[col]}”.`;
  }
  els.readout.textContent = text;
}

function renderTopK(i) {
  els.topk.textContent = "";
  if (i === null || i < 0 || !state.steps[i]) {
    els.topkTitle.textContent = "Top choices for this word";
    return;
  }
  const step = state.steps[i];
  els.topkTitle.textContent = `Top choices for word ${i + 1}`;
  const alts = step.top_k && step.top_k.length ? step.top_k : [{ token: step.token, prob: step.prob }];
  let chosenMarked = false;
  alts.forEach((alt) => {
    const li = h("li", "topk-item");
    const chosen = !chosenMarked && (alt.token === step.token || (step.unknown && alt.token === "<unk>"));
    if (chosen) {
      chosenMarked = true;
      li.classList.add("is-chosen");
    }
    const word = h("span", "topk-word", SPECIAL[alt.token] || alt.token);
    if (SPECIAL[alt.token]) {
      word.classList.add("is-special");
      word.title = alt.token === "</s>" ? "end of sentence (</s>)" : alt.token;
    }
    const bar = h("span", "topk-bar");
    const fill = h("span", "topk-fill");
    fill.style.width = `${Math.max(0, Math.min(1, alt.prob || 0)) * 100}%`;
    bar.append(fill);
    const p = h("span", "topk-pct", pct(alt.prob));
    li.append(word, bar, p);
    if (chosen) li.append(h("span", "topk-tag", "chosen"));
    els.topk.append(li);
  });
}

function targetOf(e) {
  const t = e.target instanceof Element ? e.target.closest("[data-row], [data-col]") : null;
  if (!t || !els.result.contains(t)) return null;
  const row = t.dataset.row !== undefined ? Number(t.dataset.row) : null;
  const col = t.dataset.col !== undefined ? Number(t.dataset.col) : null;
  return { row, col };
}

function sameHover(a, b) {
  return a === b || (a && b && a.row === b.row && a.col === b.col);
}

function setHover(hv) {
  if (sameHover(hv, state.hover)) return;
  state.hover = hv;
  applyHighlight();
}

// The focused element wins when the pointer leaves, so keyboard users keep
// their place.
function hoverFromFocus() {
  const a = document.activeElement;
  return a ? targetOf({ target: a }) : null;
}

function wireHover() {
  const result = els.result;
  result.addEventListener("mouseover", (e) => setHover(targetOf(e) || hoverFromFocus()));
  result.addEventListener("mouseleave", () => setHover(hoverFromFocus()));
  result.addEventListener("focusin", (e) => setHover(targetOf(e)));
  result.addEventListener("focusout", (e) => {
    const next = e.relatedTarget ? targetOf({ target: e.relatedTarget }) : null;
    setHover(next);
  });
}

// ---------------------------------------------------------------- grid keys

function setActiveCell(cell) {
  if (state.activeCell) state.activeCell.tabIndex = -1;
  state.activeCell = cell || null;
  if (cell) cell.tabIndex = 0;
}

function wireGridKeys() {
  els.grid.addEventListener("keydown", (e) => {
    const cell = e.target instanceof Element ? e.target.closest(".grid-cell") : null;
    if (!cell) return;
    let r = Number(cell.dataset.row);
    let c = Number(cell.dataset.col);
    const ncol = state.source.tokens.length;
    switch (e.key) {
      case "ArrowUp": r -= 1; break;
      case "ArrowDown": r += 1; break;
      case "ArrowLeft": c -= 1; break;
      case "ArrowRight": c += 1; break;
      case "Home": c = 0; break;
      case "End": c = ncol - 1; break;
      default: return;
    }
    e.preventDefault();
    r = Math.max(0, Math.min(state.cur, r));
    c = Math.max(0, Math.min(ncol - 1, c));
    const next = rows[r] && rows[r].cells[c];
    if (next) {
      setActiveCell(next);
      next.focus();
    }
  });
  els.grid.addEventListener("click", (e) => {
    const cell = e.target instanceof Element ? e.target.closest(".grid-cell") : null;
    if (cell) setActiveCell(cell);
  });
}

// ---------------------------------------------------------------- transport

const sock = { ws: null, open: false, everOpen: false, attempts: 0, timer: 0 };

function wsURL() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${location.host}/ws`;
}

function connect() {
  sock.timer = 0;
  let ws;
  try {
    ws = new WebSocket(wsURL());
  } catch {
    scheduleReconnect();
    return;
  }
  sock.ws = ws;
  ws.addEventListener("open", () => {
    const wasLost = sock.everOpen || sock.attempts > 0;
    sock.open = true;
    sock.everOpen = true;
    sock.attempts = 0;
    if (wasLost) setConnStatus("Connected again.");
  });
  ws.addEventListener("message", (e) => {
    if (ws === sock.ws) handleMessage(e.data);
  });
  ws.addEventListener("close", () => {
    if (ws !== sock.ws) return;
    sock.ws = null;
    sock.open = false;
    // A decode cut off by the drop is finished over HTTP instead.
    if (requestInFlight() && state.via === "ws" && state.pending) httpTranslate(state.pending);
    scheduleReconnect();
  });
}

function scheduleReconnect() {
  if (sock.timer) return;
  const delay = Math.min(10000, 500 * 2 ** sock.attempts);
  sock.attempts += 1;
  if (sock.everOpen) {
    setConnStatus(`Connection lost — reconnecting in ${Math.max(1, Math.round(delay / 1000))} s…`);
  }
  sock.timer = setTimeout(connect, delay);
}

function send(type, payload) {
  sock.ws.send(JSON.stringify({ type, v: 1, payload }));
}

function handleMessage(data) {
  let msg;
  try {
    msg = JSON.parse(data);
  } catch {
    return;
  }
  if (!msg || typeof msg !== "object") return;
  const p = msg.payload || {};
  // Replies to an earlier request (replaced by a newer one) are dropped.
  if (p.id && p.id !== state.reqId) return;
  if (!p.id && msg.type !== "error") return;
  switch (msg.type) {
    case "source":
      if (state.via !== "ws") return;
      onSource(p);
      setStatus("Translating…", "busy");
      break;
    case "step":
      if (state.via === "ws") onStep(p.step);
      break;
    case "done":
      if (state.via === "ws") onDone(p);
      break;
    case "queued":
      onQueued(p);
      break;
    case "error":
      onError(p);
      break;
    default:
      break;
  }
}

async function httpTranslate(payload) {
  const id = payload.id;
  state.via = "http";
  let res;
  let body = null;
  try {
    res = await fetch("/api/v1/translate", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ text: payload.text, model: payload.model, beam: payload.beam }),
    });
    body = await res.json().catch(() => null);
  } catch {
    if (id === state.reqId) onError({ message: "Could not reach the server. Check the connection and try again." });
    return;
  }
  if (id !== state.reqId) return;
  if (!res.ok || !body) {
    const message = body && body.error && body.error.message;
    onError({ message: message || `The server answered ${res.status} ${res.statusText}.` });
    return;
  }
  onSource({ source: body.source });
  if (!state.source) return;
  for (const s of body.steps || []) onStep(s);
  onDone({ text: body.text, steps: body.steps, elapsed_ms: body.elapsed_ms });
}

function translate(text) {
  text = text.trim();
  if (!text) {
    setStatus("Type a sentence first.", "error");
    els.text.focus();
    return;
  }
  if (!els.model.value) {
    setStatus("No model is loaded on the server.", "error");
    return;
  }
  clearResult();
  state.seq += 1;
  const payload = {
    id: `r${state.seq}`,
    text,
    model: els.model.value,
    beam: Number(els.beam.value) || 1,
  };
  state.reqId = payload.id;
  state.pending = payload;
  setStatus("Translating…", "busy");
  if (sock.open && sock.ws) {
    state.via = "ws";
    try {
      send("translate", payload);
      return;
    } catch {
      // fall through to HTTP
    }
  }
  httpTranslate(payload);
}

// ---------------------------------------------------------------- controls

function updateModelNote() {
  const opt = els.model.selectedOptions[0];
  const flat = opt && opt.dataset.attention === "false";
  els.modelNote.hidden = !flat;
  els.modelNote.textContent = flat
    ? "This model has no attention: it reads one fixed summary of the sentence, so expect a flat grid."
    : "";
}

function wireControls() {
  els.form.addEventListener("submit", (e) => {
    e.preventDefault();
    translate(els.text.value);
  });
  document.querySelectorAll(".example[data-text]").forEach((btn) => {
    btn.addEventListener("click", () => {
      els.text.value = btn.dataset.text;
      translate(els.text.value);
    });
  });
  els.model.addEventListener("change", updateModelNote);
  els.step.addEventListener("input", () => {
    state.following = false;
    state.replaying = false;
    stopTimer();
    show(Number(els.step.value));
  });
  els.replay.addEventListener("click", () => {
    if (!state.steps.length) return;
    stopTimer();
    state.following = true;
    state.replaying = true;
    state.hover = null;
    show(-1);
    pump();
  });
  // Left/Right step through the decode from anywhere except places where
  // those keys already mean something (typing, menus, the slider, the grid).
  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const delta = { ArrowLeft: -1, ArrowRight: 1 }[e.key];
    if (!delta || els.step.disabled) return;
    const t = e.target;
    if (t instanceof Element && t.closest("input, select, textarea, [contenteditable], #grid")) return;
    e.preventDefault();
    state.following = false;
    state.replaying = false;
    stopTimer();
    show(Math.max(0, state.cur + delta), true);
  });
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(sizeCells, 100);
  });
}

drawLegend();
wireControls();
wireHover();
wireGridKeys();
updateModelNote();
connect();
