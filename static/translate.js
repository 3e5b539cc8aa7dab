// Translation page: sends a sentence to the server, receives the decode one
// step at a time, and draws the words, the alignment grid and the top-k
// choices. The same rendering path serves the websocket stream, the HTTP
// fallback and replays, so all three look identical.

import { $, h, colour, css, inkFor, pct, drawLegend, renderTopK, drawSlider, progressStatus, dispatch, wirePresenter, exportFile, errorText, t, GlassPanel, Inspects, TreePanel, topWhere, Baseline, WhatIf, miniGrid, Classroom, followerFeed, Player, Socket, Status, wireStroke } from "./common.js";

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
  undo: $("undo"),
  step: $("step"),
  stepReadout: $("step-readout"),
  replay: $("replay"),
  result: $("result"),
  exportPng: $("export-png"),
  exportSvg: $("export-svg"),
  exportJson: $("export-json"),
  glassBody: $("glass-body"),
};

// The downloads: the alignment grid as PNG (with its colour bar) and SVG,
// and the whole run as JSON (source, every step with its attention and
// top-k), each decoded again on the server from the same request.
const exports = {
  exportPng: { path: "/api/v1/translate/alignment?format=png", name: "alignment.png" },
  exportSvg: { path: "/api/v1/translate/alignment?format=svg", name: "alignment.svg" },
  exportJson: { path: "/api/v1/translate", name: "translation-run.json" },
};

const maxChars = Number(els.form.dataset.maxChars) || 300;
const MIN_CELL = 36;
const MAX_CELL = 54;
// Beside the sentence (the wide layout of style.css) the grid is scaled to
// fit the screen, cells first shrinking to MIN_CELL_WIDE; BELOW_GRID is the
// height of the readout and legend under it.
const WIDE = window.matchMedia("(min-width: 1200px)");
const MIN_CELL_WIDE = 20;
const BELOW_GRID = 150;

// ---------------------------------------------------------------- state

const state = {
  seq: 0,
  reqId: null, // id of the request whose replies we render
  pending: null, // its payload, kept to resend over HTTP if the socket drops
  via: null, // "ws" or "http"
  source: null, // {tokens, unknown}
  steps: [],
  done: null,
  hover: null, // {row, col}: what the pointer or focus is on, either may be null
  activeCell: null, // the grid cell that holds the grid's single tab stop
};

const player = new Player(els.pace, show);

// Per-request DOM, rebuilt on each new source.
let srcChips = [];
let colHeads = [];
let tgtChips = [];
let rows = []; // {tr, head, cells[]}
let covCells = []; // the coverage row's cells, one per input word

// ---------------------------------------------------------------- status

function requestInFlight() {
  return state.reqId !== null && state.done === null;
}

const status = new Status(els.status, requestInFlight);
const setStatus = (text, kind) => status.set(text, kind);

// ---------------------------------------------------------------- rendering

function clearResult() {
  player.reset();
  state.source = null;
  state.steps = [];
  state.done = null;
  state.hover = null;
  state.activeCell = null;
  srcChips = [];
  colHeads = [];
  covCells = [];
  tgtChips = [];
  rows = [];
  els.source.textContent = "";
  els.target.textContent = "";
  els.target.classList.remove("is-long");
  els.grid.textContent = "";
  els.topk.textContent = "";
  els.readout.textContent = "";
  els.topkTitle.textContent = t("topk.title");
  for (const which of Object.keys(exports)) els[which].disabled = true;
  updateSlider();
}

function onSource(payload) {
  const src = payload && payload.source;
  clearResult();
  if (!src || src.kind !== "text") {
    onError({ message: t("translate.textOnly"), local: true });
    return;
  }
  const tokens = src.tokens || [];
  const unknown = src.unknown || [];
  state.source = { tokens, unknown: tokens.map((_, i) => Boolean(unknown[i])) };

  tokens.forEach((tok, j) => {
    const chip = h("span", "tok src-tok", tok);
    chip.dataset.col = String(j);
    chip.tabIndex = 0;
    chip.setAttribute("role", "button"); // focus or hover it: the output words that looked at it light up
    if (state.source.unknown[j]) {
      chip.classList.add("unk");
      chip.title = t("chip.oov");
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
  table.setAttribute("aria-label", t("translate.gridLabel"));
  const thead = h("thead");
  const tr = h("tr");
  const corner = h("th", "corner");
  corner.append(h("span", "corner-out", t("translate.cornerOut")), h("span", "corner-in", t("translate.cornerIn")));
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
  // Coverage: how much attention each input word has received so far.
  const tfoot = h("tfoot");
  const ftr = h("tr", "coverage-row");
  const fth = h("th", "row-head coverage-head", t("translate.soFar"));
  fth.scope = "row";
  fth.title = t("translate.soFar.title");
  ftr.append(fth);
  covCells = tokens.map((tok) => {
    const td = h("td", "coverage-cell");
    ftr.append(td);
    return td;
  });
  tfoot.append(ftr);
  table.append(thead, h("tbody"), tfoot);
  els.grid.append(table);
  sizeCells();
}

// Cells grow for short sentences (easier to read from afar) and shrink to a
// legible minimum for long ones; past that the grid scrolls sideways. On a
// wide screen the grid sits beside the sentence and must fit the screen:
// there the whole table is scaled down to the room it has instead.
function sizeCells() {
  const n = state.source ? state.source.tokens.length : 0;
  if (!n) return;
  const avail = els.grid.clientWidth - 190; // room for the row labels
  const cell = Math.max(MIN_CELL_WIDE, Math.min(MAX_CELL, Math.floor(avail / n) - 3));
  const wanted = `${WIDE.matches ? cell : Math.max(MIN_CELL, cell)}px`;
  if (els.grid.style.getPropertyValue("--cell") !== wanted) els.grid.style.setProperty("--cell", wanted);
  angleLabels();
  fitGrid();
}

// Column labels read across where the word fits its column ("I", "a",
// short words, any script); longer ones are set at 45 degrees, never on
// their side, and the header row grows to hold the longest.
function angleLabels() {
  const cell = parseFloat(els.grid.style.getPropertyValue("--cell")) || MIN_CELL;
  let longest = 0;
  colHeads.forEach((th) => {
    const label = th.firstElementChild;
    label.classList.remove("is-angled");
    const fits = label.scrollWidth <= cell + 2;
    label.classList.toggle("is-angled", !fits);
    if (!fits) longest = Math.max(longest, label.scrollWidth);
  });
  // A label at 45 degrees rises by its length over the square root of two.
  els.grid.style.setProperty("--label-rise", `${Math.ceil(longest * Math.SQRT1_2) + 10}px`);
}

// fitGrid scales the table down (never up) to the width of its panel and
// the height of the screen below the panel's top, in the wide layout.
function fitGrid() {
  const table = els.grid.querySelector("table.align");
  if (!table) return;
  table.style.transform = "";
  els.grid.style.height = "";
  els.grid.classList.remove("is-scaled");
  if (!WIDE.matches) return;
  const top = Math.max(8, els.grid.getBoundingClientRect().top);
  const roomH = window.innerHeight - top - BELOW_GRID;
  const roomW = els.grid.clientWidth - 8;
  // Rows not revealed yet count too, so the scale does not change as
  // playback reveals them.
  const rowH = (parseFloat(els.grid.style.getPropertyValue("--cell")) || MIN_CELL_WIDE) + 3;
  const height = table.offsetHeight + rows.filter((r) => r.tr.hidden).length * rowH;
  const s = Math.min(1, roomW / table.offsetWidth, roomH / height);
  if (s >= 1 || !(s > 0)) return;
  table.style.transform = `scale(${s})`;
  els.grid.style.height = `${Math.ceil(height * s) + 12}px`;
  els.grid.classList.add("is-scaled");
}

function onStep(step) {
  if (!state.source || !step) return;
  const i = state.steps.length;
  state.steps.push(step);

  const chip = h("span", "tok tgt-tok", step.token);
  chip.setAttribute("role", "button"); // focus or hover it: its attention lights up the input
  if (step.forced) {
    chip.classList.add("forced");
    chip.title = t("chip.forced");
  }
  chip.dataset.row = String(i);
  chip.tabIndex = 0;
  chip.hidden = true;
  // Dropped after it runs so a replay can run it again.
  chip.addEventListener("animationend", () => chip.classList.remove("is-new"));
  if (step.copied) {
    chip.classList.add("unk");
    chip.title = step.unknown
      ? t("translate.copiedUnknown")
      : t("translate.copiedNumber");
  }
  els.target.append(chip);
  tgtChips.push(chip);

  const tr = h("tr", "grid-row");
  tr.hidden = true;
  const head = h("th", "row-head", step.token);
  head.scope = "row";
  head.dataset.row = String(i);
  head.title = step.token;
  if (step.copied) {
    head.classList.add("unk");
    head.title = t("translate.copiedHead", { word: step.token });
  }
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
    td.setAttribute("aria-label", t("translate.cell", { out: step.token, in: tok, pct: pct(w) }));
    tr.append(td);
    return td;
  });
  els.grid.querySelector("tbody").append(tr);
  rows.push({ tr, head, cells });

  // Long outputs get smaller chips so the sentence stays on two lines of
  // the projector layout's column (about 75 characters, a chip's padding
  // counted as 3: "Ich sah zwei Kinder mit einem kleinen braunen Hund im
  // Park ." counts 85 and took three lines at full size).
  const chars = state.steps.reduce((n, x) => n + [...x.token].length + 3, 0);
  els.target.classList.toggle("is-long", state.steps.length > 12 || chars > 75);
  if (WIDE.matches) fitGrid(); // a new row: scale down if it no longer fits
  updateSlider();
  player.arrive();
}

function onDone(payload) {
  if (!state.source) return;
  // Steps missing from the stream (none expected) still come with "done".
  const all = payload && Array.isArray(payload.steps) ? payload.steps : [];
  for (let i = state.steps.length; i < all.length; i++) onStep(all[i]);
  state.done = payload || {};
  const n = state.steps.length;
  progressStatus(setStatus, player, state.done, n, t("translate.empty"));
  els.replay.disabled = n === 0;
  els.go.disabled = false;
  for (const which of Object.keys(exports)) els[which].disabled = n === 0;
  player.finish();
  glass.show(state.steps, player.cur, true);
  if (player.cur >= state.steps.length - 1) baseline.reveal(Infinity);
  whatif.show(state.steps);
}

async function download(which) {
  const p = state.pending;
  if (!p || !state.done) return;
  const button = els[which];
  button.disabled = true;
  const body = JSON.stringify({ text: p.text, model: p.model, beam: p.beam, force: p.force, override: p.override });
  const request = () => fetch(exports[which].path, { method: "POST", headers: { "Content-Type": "application/json" }, body });
  const err = await exportFile(request, exports[which].name);
  button.disabled = false;
  if (err) setStatus(err, "error");
}

function onError(payload) {
  player.stop();
  setStatus(payload && payload.local ? payload.message : errorText(payload), "error");
  if (payload && payload.unreachable) status.unreachable = true;
  state.reqId = null;
  state.pending = null;
  els.go.disabled = false;
}

// ---------------------------------------------------------------- playback

// follow: keep the newest row in view, for word-by-word playback and
// stepping; a live decode that appears at once leaves the page where it is.
// paintCoverage colours the coverage row for step k (none: k < 0).
function paintCoverage(k) {
  const cov = k >= 0 && state.steps[k] ? state.steps[k].coverage || [] : [];
  const tok = state.source ? state.source.tokens : [];
  covCells.forEach((td, j) => {
    const v = Number(cov[j]) || 0;
    const c = colour(Math.min(1, v));
    td.style.backgroundColor = css(c);
    td.title = t("translate.soFar.cell", { word: tok[j], v: v.toFixed(2) });
    td.setAttribute("aria-label", td.title);
  });
}

function show(k, grew, follow) {
  paintCoverage(k);
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
  if (state.done) progressStatus(setStatus, player, state.done, state.steps.length, t("translate.empty"));
  glass.show(state.steps, k, state.done !== null);
  baseline.reveal(state.done && k >= state.steps.length - 1 ? Infinity : k);
  classroom.changed();
}

function updateSlider() {
  drawSlider(els, state.steps.length, player.cur, (i) => state.steps[i].token, state.done);
}

// ---------------------------------------------------------------- highlight

// shade colours a word chip by an attention weight (none: null) and
// gives it a name a screen reader says: the word, and its weight.
function shade(el, w) {
  if (w === null || w === undefined) {
    el.style.removeProperty("background-color");
    el.style.removeProperty("border-color");
    el.style.removeProperty("color");
    delete el.dataset.w;
    el.classList.remove("is-shaded");
    el.setAttribute("aria-label", el.textContent);
    return;
  }
  el.setAttribute("aria-label", t("translate.chipWeight", { word: el.textContent, pct: pct(w) }));
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
  if (!hv && player.cur >= 0) row = player.cur;
  if (row !== null && row > player.cur) row = null;

  const att = row !== null ? state.steps[row].attention || [] : null;
  srcChips.forEach((chip, j) => {
    shade(chip, att ? att[j] ?? 0 : null);
    chip.classList.toggle("is-hl", col === j);
  });
  tgtChips.forEach((chip, i) => {
    const w = col !== null && i <= player.cur ? (state.steps[i].attention || [])[col] ?? 0 : null;
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
  renderTopK(els.topk, els.topkTitle, state.steps, row !== null ? row : player.cur, state.done ? forceAt : null, state.pending && state.pending.model);
}

// ---------------------------------------------------------------- what if

// forceAt translates the sentence again with the words before word i as
// they were and alt forced as word i; the model goes on by itself from
// there. The model's own translation stays in the banner, with Undo.
function forceAt(i, alt) {
  const text = state.pending ? state.pending.text : els.text.value;
  const force = state.steps.slice(0, i).map((s) => s.token_id).concat([alt.id]);
  whatif.begin(state.steps, (own) => t("whatif.text", { i: i + 1, word: alt.token, own }));
  translate(text, force);
}

function undoWhatIf() {
  const text = state.pending ? state.pending.text : els.text.value;
  whatif.end();
  translate(text);
}

function renderReadout(row, col, hovering) {
  const tok = state.source ? state.source.tokens : [];
  let text = "";
  if (row !== null && col !== null) {
    const w = (state.steps[row].attention || [])[col];
    text = t("translate.readCell", { out: state.steps[row].token, in: tok[col], pct: pct(w) });
  } else if (row !== null) {
    const att = state.steps[row].attention || [];
    let best = 0;
    att.forEach((w, j) => {
      if (w > att[best]) best = j;
    });
    if (att.length) {
      text = t(hovering ? "translate.readRow" : "translate.readNow", { out: state.steps[row].token, in: tok[best], pct: pct(att[best]) });
      text = text.charAt(0).toUpperCase() + text.slice(1);
      // exp(entropy): how many words the weights amount to
      const h = state.steps[row].entropy;
      if (Number.isFinite(h)) text += " " + t("translate.readSpread", { k: Math.exp(h).toFixed(1), n: att.length, h: h.toFixed(2) });
    }
  } else if (col !== null) {
    text = t("translate.readColumn", { in: tok[col] });
  }
  els.readout.textContent = text;
}

function targetOf(e) {
  const el = e.target instanceof Element ? e.target.closest("[data-row], [data-col]") : null;
  if (!el || !els.result.contains(el)) return null;
  const row = el.dataset.row !== undefined ? Number(el.dataset.row) : null;
  const col = el.dataset.col !== undefined ? Number(el.dataset.col) : null;
  return { row, col };
}

function sameHover(a, b) {
  return a === b || (a && b && a.row === b.row && a.col === b.col);
}

function setHover(hv) {
  if (sameHover(hv, state.hover)) return;
  state.hover = hv;
  applyHighlight();
  classroom.changed();
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
    r = Math.max(0, Math.min(player.cur, r));
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

function handleMessage(type, p) {
  if (classroom.handle(type, p)) return;
  if (inspects.settle(type, p)) return;
  if (type === "tree") {
    if (p.id === state.reqId && state.via === "ws") tree.add(p.level);
    return;
  }
  dispatch(type, p, {
    reqId: state.reqId,
    via: state.via,
    source: (x) => {
      onSource(x);
      setStatus(t("translate.busy"), "busy");
    },
    step: (x) => onStep(x.step),
    done: onDone,
    queued: (x) => status.queued(x),
    error: onError,
  });
}

const sock = new Socket({
  onMessage: handleMessage,
  onOpen: () => classroom.connected(),
  onStatus: (news, seconds) => status.conn(news, seconds),
  // A decode cut off by the drop is finished over HTTP instead.
  onDrop: () => {
    if (requestInFlight() && state.via === "ws" && state.pending) httpTranslate(state.pending);
  },
});

async function httpTranslate(payload) {
  const id = payload.id;
  state.via = "http";
  let res;
  let body = null;
  try {
    res = await fetch("/api/v1/translate", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ text: payload.text, model: payload.model, beam: payload.beam, force: payload.force, override: payload.override }),
    });
    body = await res.json().catch(() => null);
  } catch {
    if (id === state.reqId) onError({ message: t("status.unreachable"), local: true, unreachable: true });
    return;
  }
  if (id !== state.reqId) return;
  if (!res.ok || !body) {
    if (body && body.error) onError(body.error);
    else onError({ message: t("status.answered", { status: `${res.status} ${res.statusText}` }), local: true });
    return;
  }
  onSource({ source: body.source });
  if (!state.source) return;
  (body.tree || []).forEach((l) => tree.add(l));
  for (const s of body.steps || []) onStep(s);
  onDone({ text: body.text, steps: body.steps, elapsed_ms: body.elapsed_ms });
}

function translate(text, force, override) {
  text = text.trim();
  if (!text) {
    setStatus(t("translate.typeFirst"), "error");
    els.text.focus();
    return;
  }
  if (!els.model.value) {
    setStatus(t("translate.noModel"), "error");
    return;
  }
  const n = [...text].length;
  if (n > maxChars) {
    // Refused whole, never cut: a cut sentence would be translated as if complete.
    setStatus(t("translate.tooLong", { n, max: maxChars }), "error");
    els.text.focus();
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
  if (force && force.length) payload.force = force;
  if (override) payload.override = override;
  if (!payload.force && !override) whatif.end();
  state.reqId = payload.id;
  state.pending = payload;
  tree.reset(payload.beam > 1);
  baseline.start([...text.matchAll(/[\p{L}\p{N}]+|[^\p{L}\p{N}\s]/gu)].length);
  setStatus(t("translate.busy"), "busy");
  state.via = "ws";
  if (!sock.send("translate", payload)) httpTranslate(payload);
}

// ---------------------------------------------------------------- glass box

// mine holds the weights typed into the glass box, one per input word
// (null: none yet).
let mine = null;

function weightEditor(i) {
  const wrap = h("span", "glass-edit");
  const input = h("input", "glass-input");
  Object.assign(input, { type: "number", min: "0", max: "1", step: "0.05" });
  input.value = mine ? String(mine[i]) : "";
  input.setAttribute("aria-label", `${t("glass.yours")}: ${state.source.tokens[i]}`);
  input.addEventListener("input", () => {
    mine = mine || state.source.tokens.map(() => 0);
    mine[i] = Math.max(0, Number(input.value) || 0);
    markMine();
  });
  const all = h("button", "btn btn-small glass-all", t("glass.allHere"));
  all.type = "button";
  all.addEventListener("click", () => {
    setMine(new Set([i]));
    glass.tryMine();
  });
  wrap.append(input, all);
  return wrap;
}

// setMine puts the attention on the words at cols, in equal shares, and
// shows it in the weight editors and on the words.
function setMine(cols) {
  mine = state.source.tokens.map((_, j) => (cols.has(j) ? 1 / cols.size : 0));
  els.glassBody.querySelectorAll(".glass-input").forEach((el, j) => (el.value = String(Number(mine[j].toFixed(3)))));
  markMine();
}

// markMine outlines the input words that hold attention set by hand.
function markMine() {
  const on = (j) => Boolean(mine && mine[j] > 0);
  srcChips.forEach((chip, j) => chip.classList.toggle("is-mine", on(j)));
  colHeads.forEach((th, j) => th.classList.toggle("is-mine", on(j)));
}

// wirePaint: while the step's numbers are open, the input words (above the
// grid, and the grid's column heads) take the attention by hand. Press on
// a word and drag across others: every word the stroke touches gets an
// equal share, and the step is recomputed when the stroke ends.
function wirePaint() {
  const glassRoot = $("glass");
  const colAt = (el) => {
    const c = el instanceof Element ? el.closest("[data-col]") : null;
    if (!c || !(els.source.contains(c) || c.classList.contains("col-head"))) return null;
    return Number(c.dataset.col);
  };
  const ready = () => glassRoot.open && state.done && glass.glass && state.source;
  glassRoot.addEventListener("toggle", () => els.result.classList.toggle("is-painting", glassRoot.open));
  wireStroke(els.result, {
    at: (el) => (ready() ? colAt(el) : null),
    begin: (_, seen) => setMine(seen),
    touch: (_, seen) => setMine(seen),
    done: () => glass.tryMine(),
  });
}

const inspects = new Inspects(sock, (req) =>
  fetch("/api/v1/translate/inspect", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ text: state.pending.text, model: state.pending.model, prefix: req.prefix, weights: req.weights }),
  }),
);

const baseline = new Baseline({
  model: els.model,
  request: (id) =>
    fetch("/api/v1/translate", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: state.pending.text, model: id, beam: state.pending.beam }),
    }),
  figure: (model, n) => `/api/v1/figures/length/${encodeURIComponent(model)}?mark=${n}`,
});

const sourceWords = () => (state.source ? state.source.tokens : []);

const tree = new TreePanel(
  (att) => topWhere(att, (i) => `“${sourceWords()[i] ?? i}”`),
  (node) => miniGrid(sourceWords(), [node]),
);

const whatif = new WhatIf({ word: (s) => s.token, picture: (steps) => miniGrid(sourceWords(), steps) });

const glass = new GlassPanel({
  inspect: (prefix, weights) => inspects.ask(state.via === "ws" ? state.pending.id : "", prefix, weights),
  label: (i) => (state.source ? state.source.tokens[i] : String(i)),
  editor: weightEditor,
  mine: () => {
    const sum = mine ? mine.reduce((a, b) => a + b, 0) : 0;
    return sum > 0 ? mine.map((v) => v / sum) : null;
  },
  clearMine: () => {
    mine = null;
    markMine();
  },
  onContinue: (step, prefix, weights) => {
    const text = state.pending ? state.pending.text : els.text.value;
    whatif.begin(state.steps, (own) => t("glass.continued", { i: step + 1, own }));
    translate(text, prefix, { step, weights });
  },
});

// ---------------------------------------------------------------- controls

// The line under the model picker: what the model learned from (a model
// knows the kind of text or photos it was trained on, and little else),
// and a warning for a model without attention.
function updateModelNote() {
  const opt = els.model.selectedOptions[0];
  const lines = [];
  if (opt && opt.dataset.trainedOn) lines.push(t("model.trainedOn", { what: opt.dataset.trainedOn }));
  if (opt && opt.dataset.attention === "false") lines.push(t("model.flatWarning"));
  els.modelNote.hidden = lines.length === 0;
  els.modelNote.textContent = lines.join(" ");
}

function wireControls() {
  for (const which of Object.keys(exports)) els[which].addEventListener("click", () => download(which));
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
  els.step.addEventListener("input", () => player.goTo(Number(els.step.value)));
  els.replay.addEventListener("click", () => {
    state.hover = null;
    player.replay();
  });
  els.undo.addEventListener("click", undoWhatIf);
  // Left/Right step through the decode from anywhere except places where
  // those keys already mean something (typing, menus, the slider, the grid).
  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const delta = { ArrowLeft: -1, ArrowRight: 1 }[e.key];
    if (!delta || els.step.disabled) return;
    const target = e.target;
    if (target instanceof Element && target.closest("input, select, textarea, [contenteditable], #grid")) return;
    e.preventDefault();
    player.goTo(Math.max(0, player.cur + delta));
  });
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(sizeCells, 100);
  });
}

// ---------------------------------------------------------------- class

const classroom = new Classroom(sock, {
  page: "translate",
  feed: followerFeed({ adopt: (id) => Object.assign(state, { reqId: id, via: "ws", pending: null }), handle: handleMessage, whatif, tree, player }),
  view: () => ({ step: player.cur, hover: state.hover }),
  apply: (v) => {
    const k = Math.min(Number(v.step), state.steps.length - 1);
    if (Number.isInteger(k) && k !== player.cur) player.show(k, true);
    const hv = v.hover;
    setHover(hv && (Number.isInteger(hv.row) || Number.isInteger(hv.col)) ? { row: hv.row ?? null, col: hv.col ?? null } : null);
  },
});
player.onUser = () => classroom.lookAround();
classroom.watch(els.result);

drawLegend(els.legendBar);
wirePresenter(() => sizeCells());
wireControls();
wireHover();
wireGridKeys();
wirePaint();
updateModelNote();
sock.connect();
