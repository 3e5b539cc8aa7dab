// Caption page: sends a photo to the server, receives the caption one word
// at a time with where the model looked for each word, and draws the photo
// with the current word's heat layer, the words, the top-k choices and a
// strip of one small heatmap per word. The websocket stream, the HTTP
// fallback and replays share one rendering path.

import { $, h, colour, css, inkFor, pct, drawLegend, renderTopK, drawSlider, progressStatus, dispatch, wirePresenter, exportFile, responseError, errorText, t, GlassPanel, Inspects, TreePanel, topWhere, Baseline, WhatIf, heatCanvas, Classroom, followerFeed, Player, Socket, Status, wireStroke } from "./common.js";

const els = {
  form: $("caption-form"),
  drop: $("drop"),
  file: $("file"),
  camera: $("camera"),
  model: $("model"),
  beam: $("beam"),
  pace: $("pace"),
  view: $("view"),
  opacity: $("opacity"),
  modelNote: $("model-note"),
  status: $("status"),
  stage: $("stage"),
  photo: $("photo"),
  heat: $("heat"),
  outline: $("outline"),
  where: $("where"),
  objectReadout: $("object-readout"),
  cells: $("cells"),
  stageEmpty: $("stage-empty"),
  legendBar: $("legend-bar"),
  target: $("target"),
  readout: $("readout"),
  topk: $("topk"),
  glassBody: $("glass-body"),
  topkTitle: $("topk-title"),
  undo: $("undo"),
  step: $("step"),
  stepReadout: $("step-readout"),
  replay: $("replay"),
  download: $("download"),
  downloadGif: $("download-gif"),
  downloadJson: $("download-json"),
  strip: $("strip"),
  result: $("result"),
};

// The downloads: the strip (PNG), the caption word by word (animated GIF)
// and the whole run (JSON: source, every step with its attention and top-k).
const exports = {
  download: { path: "/api/v1/caption/strip", name: "caption-attention.png" },
  downloadGif: { path: "/api/v1/caption/animation", name: "caption-attention.gif" },
  downloadJson: { path: "/api/v1/caption", name: "caption-run.json" },
};

const TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
const maxMB = Number(els.form.dataset.maxMb) || 10;
const disabled = els.drop.hasAttribute("data-disabled");

const state = {
  seq: 0,
  reqId: null,
  via: null, // "ws" or "http"
  file: null, // the photo being captioned, kept here for the HTTP fallback and the PNG export
  beam: 1,
  model: "",
  source: null, // {rows, cols}
  steps: [], // {step, heat, object}
  done: null,
  hover: null, // index of the word under the pointer or focus
};

const player = new Player(els.pace, show);

let chips = [];
let thumbs = [];
let cells = [];

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
  chips = [];
  thumbs = [];
  els.target.textContent = "";
  els.strip.textContent = "";
  els.topk.textContent = "";
  els.readout.textContent = "";
  els.heat.hidden = true;
  els.heat.removeAttribute("src");
  els.outline.hidden = true;
  els.outline.removeAttribute("src");
  els.objectReadout.hidden = true;
  els.objectReadout.textContent = "";
  for (const which of Object.keys(exports)) els[which].disabled = true;
  paintCells(null);
  updateSlider();
}

// clearPhoto takes the last photo off the stage, for an input that was
// refused: an old photo under a new error would read as its result.
function clearPhoto() {
  els.photo.hidden = true;
  els.photo.removeAttribute("src");
  els.photo.alt = "";
  els.stageEmpty.hidden = false;
}

function buildCells(rows, cols) {
  els.cells.textContent = "";
  els.cells.style.gridTemplateColumns = `repeat(${cols}, 1fr)`;
  els.cells.style.gridTemplateRows = `repeat(${rows}, 1fr)`;
  cells = [];
  mine.clear();
  for (let i = 0; i < rows * cols; i++) {
    const c = h("div", "cell");
    c.dataset.region = String(i);
    els.cells.append(c);
    cells.push(c);
  }
}

// ---------------------------------------------------------------- glass box

// mine holds the regions clicked while the glass box is open: the
// attention set by hand, spread evenly over them.
const mine = new Set();

function paintMine() {
  cells.forEach((c, i) => c.classList.toggle("is-mine", mine.has(i)));
  els.glassBody.querySelectorAll(".glass-here").forEach((box) => (box.checked = mine.has(Number(box.dataset.region))));
}

// regionEditor is the glass box's way to choose region i from the
// keyboard: a box to tick, kept in step with the regions on the photo.
function regionEditor(i) {
  const label = h("label", "glass-edit");
  const box = h("input", "glass-here");
  box.type = "checkbox";
  box.dataset.region = String(i);
  box.checked = mine.has(i);
  box.setAttribute("aria-label", t("glass.hereLabel", { where: t("glass.regionAt", { r: Math.floor(i / state.source.cols) + 1, c: (i % state.source.cols) + 1 }) }));
  box.addEventListener("change", () => {
    if (box.checked) mine.add(i);
    else mine.delete(i);
    paintMine();
  });
  label.append(box, h("span", "", t("glass.here")));
  return label;
}

const baseline = new Baseline({
  model: els.model,
  request: (id) => {
    const fd = new FormData();
    fd.append("image", state.file);
    fd.append("beam", String(state.beam));
    fd.append("model", id);
    return fetch("/api/v1/caption", { method: "POST", body: fd });
  },
  figure: null,
});

// heatOf draws where step looked on the photo, size pixels square.
const heatOf = (step, size) =>
  state.source ? heatCanvas(els.photo, step.attention || [], state.source.rows, state.source.cols, size, t("mini.heat", { word: wordOf(step) })) : null;

const tree = new TreePanel(
  (att) => topWhere(att, (i) => (state.source ? t("glass.regionAt", { r: Math.floor(i / state.source.cols) + 1, c: (i % state.source.cols) + 1 }) : String(i))),
  (node) => heatOf(node, 160),
);

// A version of a what-if: one small heatmap per word.
const whatif = new WhatIf({
  word: (s) => wordOf(s),
  picture: (steps) => {
    const strip = h("div", "version-strip");
    for (const s of steps) {
      const fig = h("figure", "version-thumb");
      const pic = heatOf(s, 72);
      if (pic) fig.append(pic);
      fig.append(h("figcaption", "", wordOf(s)));
      strip.append(fig);
    }
    return strip;
  },
});

const glass = new GlassPanel({
  gate: true,
  inspect: (prefix, weights) => inspects.ask(state.via === "ws" ? state.reqId : "", prefix, weights),
  label: (i) => t("glass.regionAt", { r: Math.floor(i / state.source.cols) + 1, c: (i % state.source.cols) + 1 }),
  editor: regionEditor,
  mine: () => (mine.size ? cells.map((_, i) => (mine.has(i) ? 1 / mine.size : 0)) : null),
  clearMine: () => {
    mine.clear();
    paintMine();
  },
  onContinue: (step, prefix, weights) => {
    whatif.begin(
      state.steps.map((x) => x.step),
      (own) => t("glass.continued", { i: step + 1, own }),
    );
    caption(state.file, prefix, { step, weights });
  },
});

function onSource(payload) {
  const src = payload && payload.source;
  clearResult();
  if (!src || src.kind !== "image" || !payload.image) {
    onError({ message: t("caption.noPhoto"), local: true });
    return;
  }
  state.source = { rows: src.rows, cols: src.cols };
  els.photo.src = payload.image;
  els.photo.hidden = false;
  els.photo.alt = t("caption.photoAlt");
  els.stageEmpty.hidden = true;
  buildCells(src.rows, src.cols);
  const gridOption = els.view.querySelector('option[value="grid"]');
  if (gridOption) gridOption.textContent = t("view.grid", { rows: src.rows, cols: src.cols });
}

// A word as a person reads it: the model's unknown-word token is shown as
// such, marked, with its meaning on hover and focus.
const UNKNOWN_TITLE = t("caption.unknownTitle");
const wordOf = (step) => (step.unknown ? t("caption.unknownWord") : step.token);

function onStep(step, heat, object) {
  if (!state.source || !step) return;
  const i = state.steps.length;
  state.steps.push({ step, heat, object: object || null });

  const chip = h("span", "tok tgt-tok", wordOf(step));
  if (step.forced) {
    chip.classList.add("forced");
    chip.title = t("chip.forced");
  }
  if (step.unknown) {
    chip.classList.add("unk");
    chip.title = UNKNOWN_TITLE;
  }
  chip.dataset.row = String(i);
  chip.tabIndex = 0;
  chip.hidden = true;
  chip.addEventListener("animationend", () => chip.classList.remove("is-new"));
  els.target.append(chip);
  chips.push(chip);

  const fig = h("figure", "thumb");
  fig.dataset.row = String(i);
  fig.tabIndex = -1;
  fig.hidden = true;
  const frame = h("div", "thumb-frame");
  const base = h("img", "thumb-photo");
  base.src = els.photo.src;
  frame.append(base);
  if (heat) {
    const layer = h("img", "thumb-heat");
    layer.src = heat;
    layer.alt = "";
    frame.append(layer);
  }
  fig.append(frame, h("figcaption", "thumb-word", wordOf(step)));
  base.alt = t("caption.heatAlt", { word: wordOf(step) });
  els.strip.append(fig);
  thumbs.push(fig);

  updateSlider();
  player.arrive();
}

function onDone(payload) {
  if (!state.source) return;
  state.done = payload || {};
  const n = state.steps.length;
  progressStatus(setStatus, player, state.done, n, t("caption.empty"));
  for (const which of Object.keys(exports)) els[which].disabled = n === 0;
  updateSlider();
  player.finish();
  glass.show(state.steps.map((s) => s.step), player.cur, true);
  if (player.cur >= state.steps.length - 1) baseline.reveal(Infinity);
  whatif.show(state.steps.map((s) => s.step));
}

function onError(payload) {
  player.stop();
  setStatus(payload && payload.local ? payload.message : errorText(payload), "error");
  if (payload && payload.unreachable) status.unreachable = true;
  // A refused photo leaves nothing of the one before on the page.
  if (!state.source) clearPhoto();
  state.reqId = null;
}

// refuse turns a file away before it is sent, clearing what was shown.
function refuse(message) {
  player.stop();
  clearResult();
  clearPhoto();
  state.reqId = null;
  setStatus(message, "error");
}

// The word whose attention is on the photo: the hovered one, else the
// current one.
function shown() {
  if (state.hover !== null && state.hover <= player.cur) return state.hover;
  return player.cur;
}

// follow: keep the newest thumbnail in view during word-by-word playback.
function show(k, grew, follow) {
  chips.forEach((chip, i) => {
    const visible = i <= k;
    if (visible && chip.hidden && grew) chip.classList.add("is-new");
    chip.hidden = !visible;
    chip.classList.toggle("is-current", i === k);
  });
  thumbs.forEach((th, i) => {
    th.hidden = i > k;
    th.classList.toggle("is-current", i === k);
  });
  if (state.hover !== null && state.hover > k) state.hover = null;
  updateSlider();
  paint();
  if (follow && grew && k >= 0) thumbs[k].scrollIntoView({ block: "nearest", inline: "nearest" });
  if (state.done) progressStatus(setStatus, player, state.done, state.steps.length, t("caption.empty"));
  glass.show(state.steps.map((s) => s.step), k, state.done !== null);
  baseline.reveal(state.done && k >= state.steps.length - 1 ? Infinity : k);
  classroom.changed();
}

function paint() {
  const i = shown();
  const s = i >= 0 ? state.steps[i] : null;
  chips.forEach((c, j) => c.classList.toggle("is-hl", state.hover !== null && j === i));
  thumbs.forEach((th, j) => th.classList.toggle("is-hl", state.hover !== null && j === i));
  if (s && s.heat) {
    els.heat.src = s.heat;
    els.heat.hidden = false;
  } else {
    els.heat.hidden = true;
  }
  // The coverage view: the attention each region has received so far,
  // this word included (1 = one whole word's worth).
  paintCells(s ? (els.view.value === "coverage" ? s.step.coverage : s.step.attention) : null, els.view.value === "coverage");
  renderReadout(i);
  paintObject(s);
  renderTopK(els.topk, els.topkTitle, state.steps.map((x) => x.step), i, state.done ? forceAt : null, state.model);
}

// The region grid: each cell coloured by its weight relative to the word's
// largest, labelled with the weight itself.
function paintCells(att, coverage) {
  const peak = att && att.length ? Math.max(...att) : 0;
  cells.forEach((c, j) => {
    if (!att || !(peak > 0)) {
      c.style.removeProperty("background-color");
      c.style.removeProperty("color");
      c.textContent = "";
      return;
    }
    const w = att[j] || 0;
    const col = colour(w / peak);
    c.style.backgroundColor = css(col);
    c.style.color = inkFor(col);
    c.textContent = coverage ? (w >= 0.05 ? w.toFixed(1) : "") : w >= 0.005 ? pct(w) : "";
  });
}

function renderReadout(i) {
  if (i < 0 || !state.steps[i]) {
    els.readout.textContent = "";
    return;
  }
  const { step } = state.steps[i];
  const att = step.attention || [];
  const cols = state.source.cols;
  let best = 0;
  att.forEach((w, j) => {
    if (w > att[best]) best = j;
  });
  const even = pct(1 / (att.length || 1));
  // exp(entropy): how many regions the weights amount to
  const spread = Number.isFinite(step.entropy) ? " " + t("caption.spread", { k: Math.exp(step.entropy).toFixed(1), n: att.length, h: step.entropy.toFixed(2) }) : "";
  els.readout.textContent = att.length
    ? t("caption.readout", {
        word: wordOf(step),
        r: Math.floor(best / cols) + 1,
        c: (best % cols) + 1,
        rows: state.source.rows,
        cols,
        pct: pct(att[best]),
        even,
      }) + spread
    : "";
}

// The "where is the object?" check: the outline of the object the word
// names, and how much of the word's attention fell on it against its area.
function paintObject(s) {
  const on = els.where.checked && !els.where.disabled;
  const obj = on && s ? s.object : null;
  if (obj && obj.outline) {
    els.outline.src = obj.outline;
    els.outline.hidden = false;
  } else {
    els.outline.hidden = true;
  }
  if (!on || !s) {
    els.objectReadout.hidden = true;
    return;
  }
  els.objectReadout.hidden = false;
  if (!obj) {
    els.objectReadout.textContent = t("caption.noObject", { word: wordOf(s.step) });
    return;
  }
  const times = obj.area > 0 ? obj.mass / obj.area : 0;
  els.objectReadout.textContent = t("caption.object", {
    class: obj.class,
    mass: pct(obj.mass),
    word: wordOf(s.step),
    area: pct(obj.area),
    times: times.toFixed(1),
  });
}

function updateSlider() {
  drawSlider(els, state.steps.length, player.cur, (i) => wordOf(state.steps[i].step), state.done);
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
      setStatus(t("caption.writing"), "busy");
    },
    step: (x) => onStep(x.step, x.heat, x.object),
    done: onDone,
    queued: (x) => status.queued(x),
    error: onError,
  });
}

const sock = new Socket({
  onMessage: handleMessage,
  onOpen: () => classroom.connected(),
  onStatus: (news, seconds) => status.conn(news, seconds),
  onDrop: () => {
    if (requestInFlight() && state.via === "ws" && state.file) httpCaption(state.reqId);
  },
});

// Steps are opened over the websocket, where the server keeps the photo's
// encoding; a caption made over HTTP cannot be opened without sending the
// photo again.
const inspects = new Inspects(sock, null);

function form(path) {
  const fd = new FormData();
  fd.append("image", state.file);
  fd.append("beam", String(state.beam));
  if (state.model) fd.append("model", state.model);
  if (state.force && state.force.length) fd.append("force", state.force.join(","));
  if (state.override) fd.append("override", JSON.stringify(state.override));
  return fetch(path, { method: "POST", body: fd });
}

async function httpCaption(id) {
  state.via = "http";
  let res;
  let body = null;
  try {
    res = await form("/api/v1/caption");
    if (res.ok) body = await res.json().catch(() => null);
  } catch {
    if (id === state.reqId) onError({ message: t("status.unreachable"), local: true, unreachable: true });
    return;
  }
  if (id !== state.reqId) return;
  if (!res.ok || !body) {
    onError({ message: res.ok ? t("caption.unreadable") : await responseError(res), local: true });
    return;
  }
  onSource({ source: body.source, image: body.image });
  if (!state.source) return;
  (body.tree || []).forEach((l) => tree.add(l));
  (body.steps || []).forEach((s, i) => onStep(s, (body.heat || [])[i], (body.objects || [])[i]));
  onDone({ elapsed_ms: body.elapsed_ms });
}

function readAsDataURL(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

// forceAt captions the photo again with the words before word i as they
// were and alt forced as word i; the model goes on by itself from there.
function forceAt(i, alt) {
  const steps = state.steps.map((x) => x.step);
  const force = steps.slice(0, i).map((s) => s.token_id).concat([alt.id]);
  whatif.begin(steps, (own) => t("whatif.text", { i: i + 1, word: alt.token, own }));
  caption(state.file, force);
}

function undoWhatIf() {
  whatif.end();
  caption(state.file);
}

async function caption(file, force, override) {
  if (disabled) return;
  if (!file) return;
  if (file.type && !TYPES.includes(file.type)) {
    refuse(t("caption.notImage"));
    return;
  }
  if (file.size > maxMB * 1024 * 1024) {
    refuse(t("caption.tooBig", { size: (file.size / 1048576).toFixed(1), max: maxMB }));
    return;
  }
  clearResult();
  state.seq += 1;
  const id = `c${state.seq}`;
  Object.assign(state, { reqId: id, file, beam: Number(els.beam.value) || 1, model: els.model.value || "", force: force && force.length ? force : null, override: override || null });
  tree.reset(state.beam > 1);
  baseline.start(0);
  if (!force && !override) whatif.end();
  setStatus(t("caption.sending"), "busy");
  let image;
  try {
    image = await readAsDataURL(file);
  } catch {
    onError({ message: t("caption.unreadableFile"), local: true });
    return;
  }
  if (id !== state.reqId) return;
  state.via = "ws";
  const msg = { id, model: state.model, beam: state.beam };
  if (state.force) msg.force = state.force;
  if (state.override) msg.override = state.override;
  msg.image = image; // last: the server checks the other fields before reading the photo
  if (!sock.send("caption", msg)) httpCaption(id);
}

async function download(which) {
  if (!state.file || !state.done) return;
  const button = els[which];
  button.disabled = true;
  const err = await exportFile(() => form(exports[which].path), exports[which].name);
  button.disabled = false;
  if (err) setStatus(err, "error");
}

// ---------------------------------------------------------------- controls

function rowOf(e) {
  const el = e.target instanceof Element ? e.target.closest("[data-row]") : null;
  return el && els.result.contains(el) ? Number(el.dataset.row) : null;
}

function setHover(i) {
  if (i === state.hover) return;
  state.hover = i;
  paint();
  classroom.changed();
}

function wire() {
  // While the glass box is open, the photo's regions take the attention
  // by hand: press and drag across them. A stroke that starts on a chosen
  // region takes regions away; any other adds them.
  const glassRoot = $("glass");
  glassRoot.addEventListener("toggle", () => els.stage.classList.toggle("is-painting", glassRoot.open));
  let adding = false; // during a stroke: whether it adds regions
  const regionAt = (el) => {
    const c = el instanceof Element ? el.closest("[data-region]") : null;
    return c && els.cells.contains(c) ? Number(c.dataset.region) : null;
  };
  const touch = (i) => {
    if (adding) mine.add(i);
    else mine.delete(i);
    paintMine();
  };
  wireStroke(els.cells, {
    at: (el) => (glassRoot.open ? regionAt(el) : null),
    begin: (i) => {
      adding = !mine.has(i);
      touch(i);
    },
    touch,
    done: () => {
      if (glass.glass) glass.tryMine();
    },
  });
  els.camera.addEventListener("change", () => {
    caption(els.camera.files[0]);
    els.camera.value = "";
  });
  els.file.addEventListener("change", () => {
    caption(els.file.files[0]);
    els.file.value = "";
  });
  ["dragenter", "dragover"].forEach((type) =>
    els.drop.addEventListener(type, (e) => {
      e.preventDefault();
      els.drop.classList.add("is-over");
    }),
  );
  ["dragleave", "drop"].forEach((type) => els.drop.addEventListener(type, () => els.drop.classList.remove("is-over")));
  els.drop.addEventListener("drop", (e) => {
    e.preventDefault();
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f) caption(f);
  });
  // A photo dropped anywhere else must not navigate away from the page.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());
  document.addEventListener("paste", (e) => {
    const items = e.clipboardData ? [...e.clipboardData.files] : [];
    const f = items.find((x) => TYPES.includes(x.type));
    if (f) {
      e.preventDefault();
      caption(f);
    }
  });
  document.querySelectorAll(".example-photo[data-src]").forEach((btn) => {
    btn.addEventListener("click", async () => {
      try {
        const res = await fetch(btn.dataset.src);
        const blob = await res.blob();
        caption(new File([blob], btn.dataset.src.split("/").pop(), { type: blob.type || "image/jpeg" }));
      } catch {
        setStatus(t("caption.exampleFailed"), "error");
      }
    });
  });
  els.opacity.addEventListener("input", () => {
    els.stage.style.setProperty("--heat-opacity", String(Number(els.opacity.value) / 100));
  });
  els.where.addEventListener("change", paint);
  els.view.addEventListener("change", () => {
    els.stage.dataset.view = els.view.value;
    paint();
    classroom.lookAround();
    classroom.changed();
  });
  els.model.addEventListener("change", updateModelNote);
  els.step.addEventListener("input", () => player.goTo(Number(els.step.value)));
  els.replay.addEventListener("click", () => {
    state.hover = null;
    player.replay();
  });
  for (const which of Object.keys(exports)) els[which].addEventListener("click", () => download(which));
  els.undo.addEventListener("click", undoWhatIf);
  els.result.addEventListener("mouseover", (e) => setHover(rowOf(e)));
  els.result.addEventListener("mouseleave", () => setHover(null));
  els.result.addEventListener("focusin", (e) => setHover(rowOf(e)));
  els.result.addEventListener("focusout", () => setHover(null));
  // Left/Right step through the words from anywhere except inputs and menus.
  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const delta = { ArrowLeft: -1, ArrowRight: 1 }[e.key];
    if (!delta || els.step.disabled) return;
    const target = e.target;
    if (target instanceof Element && target.closest("input, select, textarea, [contenteditable]")) return;
    e.preventDefault();
    state.hover = null;
    player.goTo(Math.max(0, player.cur + delta));
  });
}

// The line under the model picker: what the model learned from (a model
// knows the kind of text or photos it was trained on, and little else),
// and a warning for a model without attention.
function updateModelNote() {
  const opt = els.model.selectedOptions[0];
  const lines = [];
  if (opt && opt.dataset.trainedOn) lines.push(t("model.trainedOn", { what: opt.dataset.trainedOn }));
  if (opt && opt.dataset.attention === "false") lines.push(t("model.flatWarningCaption"));
  els.modelNote.hidden = lines.length === 0;
  els.modelNote.textContent = lines.join(" ");
}

// ---------------------------------------------------------------- class

const classroom = new Classroom(sock, {
  page: "caption",
  feed: followerFeed({ adopt: (id) => Object.assign(state, { reqId: id, via: "ws", file: null }), handle: handleMessage, whatif, tree, player }),
  view: () => ({ step: player.cur, hover: state.hover, mode: els.view.value }),
  apply: (v) => {
    const k = Math.min(Number(v.step), state.steps.length - 1);
    if (Number.isInteger(k) && k !== player.cur) player.show(k, true);
    setHover(Number.isInteger(v.hover) ? v.hover : null);
    if (v.mode && v.mode !== els.view.value && els.view.querySelector(`option[value="${CSS.escape(v.mode)}"]`)) {
      els.view.value = v.mode;
      els.view.dispatchEvent(new Event("change"));
    }
  },
});
player.onUser = () => classroom.lookAround();
classroom.watch(els.result);

drawLegend(els.legendBar);
wire();
wirePresenter();
updateModelNote();
if (!disabled) sock.connect();
