// nnlab playground page. One state object (`state`) holds every setting; controls read and
// write only it; it is mirrored into the URL hash and sent whole to the server, which trains
// nnlab.scratch and streams frames back over Server-Sent Events. The hash also carries the
// custom points (`points=`) and the teaching flags (`hide=`); see the package docstring
// (src/nnlab/playground/__init__.py) for every key.
"use strict";

const DATASETS = [
  ["circle", "circle"], ["xor", "xor"], ["gaussians", "two Gaussians"], ["spiral", "spiral"],
  ["moons", "moons"], ["blobs", "blobs"], ["plane", "plane (regression)"],
  ["multigauss", "multi-Gaussian (regression)"], ["custom", "your points"],
];
const MULTICLASS = ["spiral", "blobs", "custom"];
const REGRESSION = ["plane", "multigauss"];
const INPUTS = [
  ["x1", "x\u2081"], ["x2", "x\u2082"], ["x1^2", "x\u2081\u00b2"], ["x2^2", "x\u2082\u00b2"],
  ["x1*x2", "x\u2081x\u2082"], ["sin_x1", "sin x\u2081"], ["sin_x2", "sin x\u2082"],
];
const ACTIVATIONS = ["tanh", "relu", "leaky_relu", "sigmoid", "linear", "softplus"];
const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5];
const MAX_LAYERS = 8, MAX_NEURONS = 32, EXTENT = 6, MAX_POINTS = 2000, MAX_CSV_CHARS = 200000;
// control groups a teaching link can hide: `#...&hide=dataset,noise,optimizer`. A hidden group
// is not rendered (and cannot be changed on the page); names not listed here are ignored.
const HIDEABLE = {
  dataset: "data set buttons", classes: "number of classes", n_points: "number of points",
  noise: "noise", train_share: "training share", regenerate: "regenerate button",
  own_points: "your own points (click, CSV, clear)", inputs: "unused input features",
  layers: "adding and removing layers and neurons", activation: "activation of each layer",
  loss: "loss", optimizer: "optimizer", learning_rate: "learning rate", batch_size: "batch size",
  regularization: "regularisation and its rate", dropout: "dropout", init: "initialisation",
  stop_loss: "stop condition", show_test: "show test data", discretize: "discretize output",
  curves: "loss and accuracy curves", confusion: "confusion matrix", warp: "hidden-layer warp view",
  export: "export and copy link", teaching: "this teaching-link box",
};
// class colours; for two classes (and values) negative is orange, positive blue
const CLASS_RGB = [[235, 130, 30], [20, 110, 190], [40, 160, 70], [190, 50, 150], [120, 90, 50]];
const NEG = CLASS_RGB[0], POS = CLASS_RGB[1], MID = [245, 245, 245];

const DEFAULTS = {
  dataset: "circle", classes: 2, custom_target: "label", n_points: 500, noise: 0, train_share: 50,
  seed: 0,
  inputs: ["x1", "x2"], hidden: [4, 4], activations: ["tanh", "tanh"],
  loss: "squared_error", optimizer: "sgd", learning_rate: 0.03, batch_size: 10,
  regularization: "none", reg_rate: 0, dropout: 0, init: "xavier", stop_loss: null,
  // display only (not sent to the server)
  show_test: false, discretize: false, paint: 1,
  hide: [], // teaching flags: names from HIDEABLE
  warp: 0, // the warp view shows hidden layer `warp` (1 = the first); 0 = off
};
const DISPLAY_KEYS = ["show_test", "discretize", "paint", "hide", "warp"];
const LIST_KEYS = ["inputs", "hidden", "activations", "hide"];

let state = structuredClone(DEFAULTS);
let sessionId = null, source = null, frame = null, points = [], linkPoints = [];
let warp = null, warpBusy = false, warpAgain = false;
let history = [];
let putVersion = 0, putsInFlight = 0, putPending = false;
// counters the browser test and the benchmark read
window.playground = {
  frames: 0, firstFrameAfterPlay: null, playPressedAt: null, state: () => state,
  points: () => points, warp: () => warp,
};

const $ = (id) => document.getElementById(id);
const isRegression = (s) => REGRESSION.includes(s.dataset) ||
  (s.dataset === "custom" && s.custom_target === "value");
const hides = (group) => state.hide.includes(group);

// ------------------------------------------------------------------ URL hash <-> state
function encodeHash(s) {
  const parts = [];
  for (const key of Object.keys(DEFAULTS)) {
    const v = s[key];
    if (v === null || v === undefined) continue;
    parts.push(`${key}=${encodeURIComponent(Array.isArray(v) ? v.join(",") : String(v))}`);
  }
  return "#" + parts.join("&");
}

// custom points as `x1,x2,label` rows joined by ";" (coordinates to 2 decimals, values to 3); a
// fourth field 0 marks a test point. No escaping is needed: digits, "-", ".", "," and ";" only.
const rounded = (v, digits) => String(Number(v.toFixed(digits)));
function encodePoints(pts, values) {
  return pts.map(([x1, x2, v, train]) => {
    const row = [rounded(x1, 2), rounded(x2, 2), values ? rounded(v, 3) : String(v)];
    if (!train) row.push("0");
    return row.join(",");
  }).join(";");
}

function decodePoints(text) {
  const out = [];
  for (const item of text.split(";")) {
    const f = item.split(",").map(Number);
    if (f.length < 3 || f.length > 4 || f.some((v) => !Number.isFinite(v))) continue; // malformed
    out.push([f[0], f[1], f[2], f.length === 3 || f[3] !== 0]);
    if (out.length >= MAX_POINTS) break;
  }
  return out;
}

let pointsText = "", pointsOf = null, pointsTarget = null;
function hashOf(s) {
  let hash = encodeHash(s);
  if (s.dataset === "custom" && points.length) {
    if (pointsOf !== points || pointsTarget !== s.custom_target) {
      pointsText = encodePoints(points, isRegression(s));
      pointsOf = points;
      pointsTarget = s.custom_target;
    }
    hash += `&points=${pointsText}`;
  }
  return hash;
}

function decodeHash(hash) {
  const s = structuredClone(DEFAULTS);
  let pts = [];
  for (const part of hash.replace(/^#/, "").split("&")) {
    if (!part.includes("=")) continue;
    const [key, raw] = part.split("=");
    if (key === "points") pts = decodePoints(decodeURIComponent(raw));
    if (!(key in DEFAULTS)) continue;
    const text = decodeURIComponent(raw);
    const def = DEFAULTS[key];
    if (LIST_KEYS.includes(key)) {
      const items = text === "" ? [] : text.split(",");
      s[key] = key === "hidden" ? items.map(Number) : items;
    } else if (typeof def === "boolean") s[key] = text === "true";
    else if (typeof def === "number" || key === "stop_loss") s[key] = Number(text);
    else s[key] = text;
  }
  // unknown teaching flags are ignored (a link from a newer page still opens)
  s.hide = [...new Set(s.hide)].filter((name) => name in HIDEABLE);
  s.warp = Number.isInteger(s.warp) && s.warp >= 0 && s.warp <= MAX_LAYERS ? s.warp : 0;
  return { state: s, points: s.dataset === "custom" ? pts : [] };
}

function serverSettings(s) {
  const out = {};
  for (const key of Object.keys(DEFAULTS)) if (!DISPLAY_KEYS.includes(key)) out[key] = s[key];
  return out;
}

function writeHash() {
  history_replace(hashOf(state));
  if ($("teaching").open) updateTeachingLink();
}
function history_replace(hash) {
  window.history.replaceState(null, "", hash);
}

// ------------------------------------------------------------------ server
async function api(method, path, body) {
  const res = await fetch(`/api/sessions${path}`, {
    method, headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const detail = Array.isArray(data.detail)
      ? data.detail.map((d) => `${d.loc.slice(1).join(".")}: ${d.msg}`).join("; ")
      : data.detail || res.statusText;
    throw new Error(detail);
  }
  return data;
}

async function start() {
  let created;
  try {
    created = await api("POST", "", serverSettings(state));
  } catch (err) {
    showMessage(`link settings rejected (${err.message}); using the defaults`);
    state = structuredClone(DEFAULTS);
    created = await api("POST", "", serverSettings(state));
  }
  sessionId = created.id;
  if (state.dataset === "custom" && linkPoints.length) {
    try {
      await api("PUT", `/${sessionId}/points`, { target: state.custom_target, points: linkPoints });
    } catch (err) {
      showMessage(`the link's points were rejected (${err.message})`);
      points = [];
    }
  }
  $("export-json").href = `/api/sessions/${sessionId}/export.json`;
  $("export-py").href = `/api/sessions/${sessionId}/export.py`;
  writeHash();
  renderControls();
  source = new EventSource(`/api/sessions/${sessionId}/stream`);
  source.onmessage = (ev) => onFrame(JSON.parse(ev.data));
  source.onerror = () => showMessage("connection to the server lost; retrying");
  window.addEventListener("pagehide", () =>
    navigator.sendBeacon(`/api/sessions/${sessionId}/close`));
}

let putTimer = null;
function changed({ immediate = false } = {}) {
  putPending = true;
  writeHash();
  renderControls();
  clearTimeout(putTimer);
  putTimer = setTimeout(pushSettings, immediate ? 0 : 120);
}

async function pushSettings() {
  putPending = false;
  putsInFlight += 1;
  try {
    const res = await api("PUT", `/${sessionId}/settings`, serverSettings(state));
    putVersion = Math.max(putVersion, res.version);
    showMessage("");
  } catch (err) {
    showMessage(err.message);
  } finally {
    putsInFlight -= 1;
  }
}

async function control(action) {
  try {
    await api("POST", `/${sessionId}/control`, { action });
  } catch (err) {
    showMessage(err.message);
  }
}

function showMessage(text) {
  $("message").textContent = text;
}

// ------------------------------------------------------------------ frames
function onFrame(f) {
  window.playground.frames += 1;
  if (f.playing && window.playground.playPressedAt !== null &&
      window.playground.firstFrameAfterPlay === null) {
    window.playground.firstFrameAfterPlay = performance.now() - window.playground.playPressedAt;
  }
  // the server changes settings itself after an upload, a click or "regenerate"
  if (!putPending && putsInFlight === 0 && f.version >= putVersion) {
    const server = f.settings, mine = serverSettings(state);
    if (JSON.stringify(server) !== JSON.stringify(mine)) {
      Object.assign(state, server);
      writeHash();
      renderControls();
    }
  }
  const rebuild = !frame || JSON.stringify(f.weights.map((w) => [w.length, w[0].length])) !==
    JSON.stringify(frame.weights.map((w) => [w.length, w[0].length]));
  frame = f;
  if (f.points) {
    points = f.points;
    if (state.dataset === "custom") writeHash(); // the link carries the points
  }
  history = f.history_from === 0 ? f.history : history.concat(f.history);
  $("epoch").textContent = f.epoch.toLocaleString("en");
  $("play").innerHTML = f.playing ? "&#x275A;&#x275A;" : "&#x25B6;";
  $("play").classList.toggle("playing", f.playing);
  if (f.message) showMessage(f.message);
  const fmt = (v, acc) => (v === null || v === undefined ? "\u2013" :
    acc ? `${(100 * v).toFixed(1)}%` : v.toFixed(3));
  $("test-loss").textContent = fmt(f.latest.test_loss);
  $("train-loss").textContent = fmt(f.latest.train_loss);
  $("test-acc").textContent = fmt(f.latest.test_acc, true);
  $("train-acc").textContent = fmt(f.latest.train_acc, true);
  if (rebuild) buildNetwork();
  drawNetwork();
  drawHeatmap();
  drawCharts();
  drawConfusion();
  updateWarp();
}

function decode(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function mix(a, b, t) {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

// byte 0..255 stands for a value in [-1, 1]
function valueColour(byte, discretize, strength = 1) {
  let v = byte / 127.5 - 1;
  if (discretize) v = v > 0 ? 1 : -1;
  return v < 0 ? mix(MID, NEG, -v * strength) : mix(MID, POS, v * strength);
}
const BACKGROUND = 0.7; // the output picture is paler than the points drawn on it

const offscreen = new Map();
function paint(canvas, n, colourAt) {
  let off = offscreen.get(n);
  if (!off) {
    off = document.createElement("canvas");
    off.width = off.height = n;
    offscreen.set(n, off);
  }
  const ctx = off.getContext("2d");
  const img = ctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const c = colourAt(i);
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  const target = canvas.getContext("2d");
  target.imageSmoothingEnabled = true;
  target.drawImage(off, 0, 0, canvas.width, canvas.height);
}

function drawHeatmap() {
  const canvas = $("heatmap"), n = frame.grid, out = frame.output;
  if (out.class) {
    const cls = decode(out.class), conf = decode(out.confidence);
    paint(canvas, n, (i) => {
      const t = state.discretize ? 1 : 0.25 + 0.75 * (conf[i] / 255);
      return mix(MID, CLASS_RGB[cls[i]], t * BACKGROUND);
    });
  } else {
    const val = decode(out.value);
    paint(canvas, n, (i) => valueColour(val[i], state.discretize, BACKGROUND));
  }
  const ctx = canvas.getContext("2d"), w = canvas.width;
  ctx.strokeStyle = "rgba(0,0,0,0.15)";
  ctx.beginPath();
  ctx.moveTo(w / 2, 0); ctx.lineTo(w / 2, w); ctx.moveTo(0, w / 2); ctx.lineTo(w, w / 2);
  ctx.stroke();
  const regression = isRegression(state);
  for (const [x1, x2, label, train] of points) {
    if (!train && !state.show_test) continue;
    const px = ((x1 + EXTENT) / (2 * EXTENT)) * w, py = ((EXTENT - x2) / (2 * EXTENT)) * w;
    const rgb = regression ? valueColour((label + 1) * 127.5, false) : CLASS_RGB[label];
    ctx.beginPath();
    ctx.arc(px, py, 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${rgb.map(Math.round).join(",")})`;
    ctx.fill();
    ctx.lineWidth = train ? 1 : 1.6;
    ctx.strokeStyle = train ? "#fff" : "#111";
    ctx.stroke();
  }
  ctx.fillStyle = "#555";
  ctx.font = "10px sans-serif";
  ctx.fillText("-6", 2, w - 3); ctx.fillText("6", w - 9, w - 3); ctx.fillText("6", 2, 10);
}

function drawCurve(canvas, keys, colours, maxValue) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "#ddd";
  ctx.strokeRect(0.5, 0.5, w - 1, h - 1);
  if (history.length < 2) return;
  let top = maxValue;
  if (top === undefined) {
    top = 0;
    for (const r of history) for (const k of keys) if (r[k] !== null) top = Math.max(top, r[k]);
    top = top || 1;
  }
  const last = history[history.length - 1].epoch || 1;
  keys.forEach((key, j) => {
    ctx.beginPath();
    ctx.strokeStyle = colours[j];
    ctx.lineWidth = 1.5;
    let started = false;
    for (const r of history) {
      if (r[key] === null) continue;
      const x = (r.epoch / last) * (w - 2) + 1, y = h - 2 - (Math.min(r[key], top) / top) * (h - 4);
      if (started) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      started = true;
    }
    ctx.stroke();
  });
  ctx.fillStyle = "#777";
  ctx.font = "10px sans-serif";
  ctx.fillText(top.toPrecision(2), 3, 11);
}

function drawCharts() {
  drawCurve($("loss-chart"), ["test_loss", "train_loss"], ["#222", "#999"]);
  drawCurve($("acc-chart"), ["test_acc", "train_acc"], ["#222", "#999"], 1);
}

function drawConfusion() {
  const table = $("confusion");
  const m = frame.confusion;
  if (!m) {
    table.innerHTML = "<tr><td>(classification only)</td></tr>";
    return;
  }
  const total = m.flat().reduce((a, b) => a + b, 0) || 1;
  let html = "<tr><th>true \\ predicted</th>" + m.map((_, j) => `<th>${j}</th>`).join("") + "</tr>";
  m.forEach((row, i) => {
    html += `<tr><th>${i}</th>` + row.map((c, j) => {
      const alpha = Math.min(1, (3 * c) / total);
      const rgb = i === j ? "40,140,70" : "200,60,40";
      return `<td style="background:rgba(${rgb},${alpha.toFixed(2)})">${c}</td>`;
    }).join("") + "</tr>";
  });
  table.innerHTML = html;
}

// ------------------------------------------------------------------ warp view
// The server maps a grid of input lines x1 = -6..6 and x2 = -6..6 and the data points to a
// hidden layer's first two neurons; this draws that picture on one scale for both axes.
async function updateWarp() {
  const layer = state.warp - 1;
  if (!state.warp || hides("warp") || !sessionId) return;
  if (layer >= state.hidden.length || state.hidden[layer] < 2) {
    warp = null;
    drawWarp(layer >= state.hidden.length ? `the network has no hidden layer ${state.warp}`
      : `hidden layer ${state.warp} has one neuron: add one to see the plane it makes`);
    return;
  }
  if (warpBusy) { warpAgain = true; return; }
  warpBusy = true;
  let problem = "";
  try {
    warp = await api("GET", `/${sessionId}/warp?layer=${layer}`);
  } catch (err) {
    warp = null;
    problem = err.message;
  } finally {
    warpBusy = false;
  }
  drawWarp(problem);
  if (warpAgain) { warpAgain = false; updateWarp(); }
}

function drawWarp(problem = "") {
  const canvas = $("warp-canvas"), ctx = canvas.getContext("2d"), size = canvas.width;
  ctx.clearRect(0, 0, size, size);
  $("warp-view").hidden = !state.warp;
  if (!warp) { $("warp-caption").textContent = problem; return; }
  const lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
  const ok = (p) => p[0] !== null && p[1] !== null;
  const visit = (p) => {
    if (!ok(p)) return;
    for (const k of [0, 1]) { lo[k] = Math.min(lo[k], p[k]); hi[k] = Math.max(hi[k], p[k]); }
  };
  warp.lines.forEach((line) => line.forEach(visit));
  warp.points.forEach(visit);
  if (!Number.isFinite(lo[0])) { $("warp-caption").textContent = "the activations are not finite"; return; }
  const span = 1.1 * Math.max(hi[0] - lo[0], hi[1] - lo[1], 1e-6);
  const cx = (lo[0] + hi[0]) / 2, cy = (lo[1] + hi[1]) / 2;
  const pad = 14, inner = size - 2 * pad; // the axis labels sit in the margin
  const X = (a) => pad + ((a - cx) / span + 0.5) * inner;
  const Y = (b) => pad + (0.5 - (b - cy) / span) * inner;
  const half = (warp.lines.length / 2 - 1) / 2; // the index of the line x = 0 in each family
  warp.lines.forEach((line, i) => {
    const axis = i % (warp.lines.length / 2) === half;
    ctx.strokeStyle = axis ? "rgba(30,30,30,0.9)" : "rgba(80,80,80,0.5)";
    ctx.lineWidth = axis ? 1.5 : 1;
    ctx.beginPath();
    let pen = false;
    for (const p of line) {
      if (!ok(p)) { pen = false; continue; }
      if (pen) ctx.lineTo(X(p[0]), Y(p[1])); else ctx.moveTo(X(p[0]), Y(p[1]));
      pen = true;
    }
    ctx.stroke();
  });
  if (frame && warp.data_version === frame.data_version && warp.points.length === points.length) {
    const regression = isRegression(state);
    warp.points.forEach((p, k) => {
      const [, , label, train] = points[k];
      if (!ok(p) || (!train && !state.show_test)) return;
      const rgb = regression ? valueColour((label + 1) * 127.5, false) : CLASS_RGB[label];
      ctx.beginPath();
      ctx.arc(X(p[0]), Y(p[1]), 2.4, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${rgb.map(Math.round).join(",")})`;
      ctx.fill();
    });
  }
  ctx.fillStyle = "#555";
  ctx.font = "10px sans-serif";
  ctx.fillText(`neuron 1: ${lo[0].toPrecision(2)} .. ${hi[0].toPrecision(2)}`, pad, size - 3);
  ctx.save();
  ctx.translate(10, size - pad);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(`neuron 2: ${lo[1].toPrecision(2)} .. ${hi[1].toPrecision(2)}`, 0, 0);
  ctx.restore();
  const of = warp.neurons > 2 ? ` (2 of its ${warp.neurons}: a projection, the others not shown)` : "";
  $("warp-caption").textContent = `The input grid (x\u2081 = \u22126..6 and x\u2082 = \u22126..6 ` +
    `in steps of 1, darker through 0) and the points mapped to hidden layer ${warp.layer + 1}'s ` +
    `${warp.activation} neurons 1 (across) and 2 (up)${of}.`;
}

// ------------------------------------------------------------------ network picture
let neuronCanvases = []; // [column][neuron] -> canvas; column 0 = inputs in use

function neuronSize() {
  const most = Math.max(state.inputs.length, ...state.hidden, 1);
  return Math.max(14, Math.min(40, Math.floor(420 / most) - 6));
}

function buildNetwork() {
  const columns = $("columns");
  columns.innerHTML = "";
  neuronCanvases = [];
  const size = neuronSize();
  // inputs: every feature is shown; the unused ones are dimmed and toggle on click
  const inputCol = document.createElement("div");
  inputCol.className = "column inputs";
  const used = [];
  for (const [key, label] of INPUTS) {
    const on = state.inputs.includes(key);
    const row = document.createElement("div");
    row.className = "feature" + (on ? " on" : "");
    if (!on) row.dataset.hide = "inputs";
    row.title = on ? "click to remove this input" : "click to use this input";
    const name = document.createElement("span");
    name.textContent = label;
    const c = document.createElement("canvas");
    c.width = c.height = 32;
    c.style.width = c.style.height = `${Math.min(size, 32)}px`;
    c.dataset.input = key;
    row.append(name, c);
    row.onclick = () => toggleInput(key);
    inputCol.append(row);
    if (on) used[state.inputs.indexOf(key)] = c;
  }
  columns.append(inputCol);
  neuronCanvases.push(used);
  state.hidden.forEach((n, layer) => {
    const col = document.createElement("div");
    col.className = "column hidden";
    const head = document.createElement("div");
    head.className = "layer-head";
    head.dataset.hide = "layers";
    head.innerHTML = `<button title="add a neuron">+</button><button title="remove a neuron">&minus;</button>`;
    const [plus, minus] = head.querySelectorAll("button");
    plus.onclick = () => setNeurons(layer, n + 1);
    minus.onclick = () => setNeurons(layer, n - 1);
    const count = document.createElement("div");
    count.className = "count";
    count.textContent = `${n} neuron${n === 1 ? "" : "s"}`;
    const act = document.createElement("select");
    act.className = "activation";
    act.id = `activation-${layer}`;
    act.dataset.hide = "activation";
    act.innerHTML = ACTIVATIONS.map((a) => `<option value="${a}">${a.replace("_", " ")}</option>`).join("");
    act.value = state.activations[layer];
    act.onchange = () => {
      state.activations[layer] = act.value;
      changed();
    };
    col.append(head, count, act);
    const cells = [];
    for (let j = 0; j < n; j++) {
      const c = document.createElement("canvas");
      c.width = c.height = 32;
      c.style.width = c.style.height = `${size}px`;
      c.className = "neuron";
      col.append(c);
      cells.push(c);
    }
    columns.append(col);
    neuronCanvases.push(cells);
  });
  // one output node per output unit: one for squared error, one logit per class otherwise
  const outCol = document.createElement("div");
  outCol.className = "column out";
  const nOut = state.loss === "cross_entropy" ? state.classes : 1;
  const outCells = [];
  for (let k = 0; k < nOut; k++) {
    const cell = document.createElement("div");
    cell.className = "out-node";
    cell.textContent = nOut === 1 ? "output" : `class ${k}`;
    if (nOut > 1) cell.style.background = `rgb(${CLASS_RGB[k].join(",")})`;
    outCol.append(cell);
    outCells.push(cell);
  }
  columns.append(outCol);
  neuronCanvases.push(outCells);
  $("layer-count").textContent = `${state.hidden.length} hidden layer${state.hidden.length === 1 ? "" : "s"}`;
  applyHide();
  buildLinks();
}

let linkPaths = []; // [layer][i][j] -> path
function buildLinks() {
  const svg = $("links"), net = $("net");
  svg.innerHTML = "";
  linkPaths = [];
  const box = net.getBoundingClientRect();
  svg.setAttribute("width", net.scrollWidth);
  svg.setAttribute("height", net.scrollHeight);
  const anchor = (el, side) => {
    const r = el.getBoundingClientRect();
    return [(side === "right" ? r.right : r.left) - box.left + net.scrollLeft,
      r.top + r.height / 2 - box.top + net.scrollTop];
  };
  for (let layer = 0; layer + 1 < neuronCanvases.length; layer++) {
    const from = neuronCanvases[layer], to = neuronCanvases[layer + 1];
    const rows = [];
    from.forEach((a, i) => {
      const row = [];
      to.forEach((b, j) => {
        const [x1, y1] = anchor(a, "right"), [x2, y2] = anchor(b, "left");
        const mx = (x1 + x2) / 2;
        const p = document.createElementNS("http://www.w3.org/2000/svg", "path");
        p.setAttribute("d", `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`);
        p.addEventListener("click", () => editWeight(layer, i, j));
        svg.append(p);
        row.push(p);
      });
      rows.push(row);
    });
    linkPaths.push(rows);
  }
}

function drawNetwork() {
  const n = frame.thumb;
  for (const c of document.querySelectorAll("canvas[data-input]")) {
    const v = decode(frame.inputs[c.dataset.input]);
    paint(c, n, (i) => valueColour(v[i], false));
  }
  frame.neurons.forEach((layer, l) => layer.forEach((b64, j) => {
    const c = neuronCanvases[l + 1] && neuronCanvases[l + 1][j];
    if (c) {
      const v = decode(b64);
      paint(c, n, (i) => valueColour(v[i], false));
    }
  }));
  frame.weights.forEach((W, l) => W.forEach((row, i) => row.forEach((w, j) => {
    const p = linkPaths[l] && linkPaths[l][i] && linkPaths[l][i][j];
    if (!p) return;
    const rgb = w < 0 ? NEG : POS;
    p.setAttribute("stroke", `rgb(${rgb.join(",")})`);
    p.setAttribute("stroke-width", Math.min(6, 0.3 + Math.abs(w) * 1.5).toFixed(2));
    p.setAttribute("stroke-opacity", Math.min(1, 0.25 + Math.abs(w)).toFixed(2));
    p.dataset.weight = w;
    p.innerHTML = `<title>weight ${w.toFixed(3)} (click to set)</title>`;
  })));
}

async function editWeight(layer, source, target) {
  const current = frame.weights[layer][source][target];
  const text = window.prompt(`weight from neuron ${source} to ${target} of layer ${layer + 1}`, current);
  if (text === null) return;
  try {
    await api("POST", `/${sessionId}/weight`, { layer, source, target, value: Number(text) });
  } catch (err) {
    showMessage(err.message);
  }
}

// ------------------------------------------------------------------ controls
function toggleInput(key) {
  if (hides("inputs")) return;
  const on = state.inputs.includes(key);
  if (on && state.inputs.length === 1) return showMessage("the network needs at least one input");
  state.inputs = on ? state.inputs.filter((k) => k !== key) : INPUTS.map(([k]) => k)
    .filter((k) => k === key || state.inputs.includes(k));
  frame = null; // rebuild the picture
  changed();
}

function setNeurons(layer, n) {
  if (n < 1 || n > MAX_NEURONS || hides("layers")) return;
  state.hidden[layer] = n;
  changed();
}

function fillSelect(id, values, label = (v) => String(v)) {
  $(id).innerHTML = values.map((v) => `<option value="${v}">${label(v)}</option>`).join("");
}

// a teaching link's hidden groups are not rendered: every element of group G has data-hide="G"
function applyHide() {
  for (const el of document.querySelectorAll("[data-hide]")) el.hidden = hides(el.dataset.hide);
  // and the classes only where the data set has a choice of them
  $("classes-row").hidden ||= !MULTICLASS.includes(state.dataset) || isRegression(state);
}

function updateTeachingLink() {
  const chosen = [...document.querySelectorAll("#hide-boxes input:checked")].map((b) => b.value);
  const url = new URL(window.location.href);
  url.hash = hashOf({ ...state, hide: chosen });
  $("teaching-link").value = url.href;
}

function renderControls() {
  applyHide();
  $("heatmap").title = hides("own_points") ? "" : "click to add a point";
  $("heatmap").style.cursor = hides("own_points") ? "default" : "";
  for (const key of ["optimizer", "loss", "regularization", "init"]) $(key).value = state[key];
  $("learning_rate").value = String(state.learning_rate);
  $("reg_rate").value = String(state.reg_rate);
  $("dropout").value = String(state.dropout);
  $("batch_size").value = state.batch_size;
  $("classes").value = String(state.classes);
  for (const key of ["n_points", "noise", "train_share"]) {
    $(key).value = state[key];
    $(`${key}-out`).textContent = state[key];
  }
  $("show_test").checked = state.show_test;
  $("discretize").checked = state.discretize;
  $("stop_loss").value = state.stop_loss === null ? "" : state.stop_loss;
  for (const b of document.querySelectorAll("#datasets button")) {
    b.classList.toggle("selected", b.dataset.name === state.dataset);
  }
  const classes = isRegression(state) ? 0 : state.classes;
  if (state.paint >= classes) state.paint = classes - 1;
  $("paint").innerHTML = Array.from({ length: classes }, (_, k) =>
    `<button class="swatch${k === state.paint ? " selected" : ""}" data-k="${k}" ` +
    `style="background:rgb(${CLASS_RGB[k].join(",")})" title="class ${k}">${k}</button>`).join("") ||
    "(classification data only)";
  for (const b of document.querySelectorAll("#paint button")) {
    b.onclick = () => { state.paint = Number(b.dataset.k); writeHash(); renderControls(); };
  }
  // a changed architecture or inputs rebuilds the picture on the next frame
  if (frame) {
    const shape = [state.inputs.length, ...state.hidden].join(",");
    const drawn = neuronCanvases.slice(0, -1).map((c) => c.length).join(",");
    const acts = [...document.querySelectorAll(".activation")].map((s) => s.value).join(",");
    if (shape !== drawn || acts !== state.activations.join(",")) buildNetwork();
  }
  const layers = ["off", ...state.hidden.map((n, l) => `layer ${l + 1} (${n})`)];
  if (state.warp > state.hidden.length) layers.push(`layer ${state.warp} (none)`);
  const options = layers.map((label, l) => `<option value="${l}">${label}</option>`).join("");
  if ($("warp").innerHTML !== options) $("warp").innerHTML = options;
  $("warp").value = String(state.warp);
  $("warp-view").hidden = !state.warp;
}

function bind() {
  $("datasets").innerHTML = DATASETS.map(([name, label]) =>
    `<button data-name="${name}" title="${label}">${label}</button>`).join("");
  for (const b of document.querySelectorAll("#datasets button")) {
    b.onclick = () => {
      const from = state.dataset;
      state.dataset = b.dataset.name;
      // "your points" keeps the points on the screen, values (regression) or labels
      if (state.dataset !== "custom") state.custom_target = "label";
      else if (from !== "custom") state.custom_target = REGRESSION.includes(from) ? "value" : "label";
      if (!MULTICLASS.includes(state.dataset) || isRegression(state)) state.classes = 2;
      if (isRegression(state)) state.loss = "squared_error";
      if (state.classes > 2) state.loss = "cross_entropy";
      changed({ immediate: true });
    };
  }
  fillSelect("learning_rate", LEARNING_RATES);
  fillSelect("reg_rate", REG_RATES);
  fillSelect("dropout", DROPOUTS);
  for (const key of ["optimizer", "loss", "regularization", "init"]) {
    $(key).onchange = () => { state[key] = $(key).value; changed(); };
  }
  for (const key of ["learning_rate", "reg_rate", "dropout"]) {
    $(key).onchange = () => { state[key] = Number($(key).value); changed(); };
  }
  $("classes").onchange = () => {
    state.classes = Number($("classes").value);
    if (state.classes > 2) state.loss = "cross_entropy";
    changed();
  };
  $("batch_size").onchange = () => {
    state.batch_size = Math.max(1, Math.min(2000, Math.round(Number($("batch_size").value)) || 1));
    changed();
  };
  for (const key of ["n_points", "noise", "train_share"]) {
    $(key).oninput = () => { $(`${key}-out`).textContent = $(key).value; };
    $(key).onchange = () => { state[key] = Number($(key).value); changed(); };
  }
  $("show_test").onchange = () => {
    state.show_test = $("show_test").checked;
    writeHash();
    if (frame) { drawHeatmap(); drawWarp(); }
  };
  $("discretize").onchange = () => { state.discretize = $("discretize").checked; writeHash(); if (frame) drawHeatmap(); };
  $("stop_loss").onchange = () => {
    const v = $("stop_loss").value;
    state.stop_loss = v === "" ? null : Number(v);
    changed();
  };
  $("add-layer").onclick = () => {
    if (state.hidden.length >= MAX_LAYERS) return;
    state.hidden.push(state.hidden.length ? state.hidden[state.hidden.length - 1] : 4);
    state.activations.push(state.activations.length ? state.activations[state.activations.length - 1] : "tanh");
    changed();
  };
  $("remove-layer").onclick = () => {
    state.hidden.pop();
    state.activations.pop();
    changed();
  };
  $("play").onclick = async () => {
    const playing = frame && frame.playing;
    if (!playing) {
      window.playground.playPressedAt = performance.now();
      window.playground.firstFrameAfterPlay = null;
    }
    clearTimeout(putTimer);
    if (putPending) await pushSettings(); // train what is on the screen

    control(playing ? "pause" : "play");
  };
  $("step").onclick = () => control("step");
  $("reset").onclick = () => control("reset");
  $("regenerate").onclick = () => control("regenerate");
  $("clear").onclick = () => control("clear");
  $("csv").onchange = async () => {
    const file = $("csv").files[0];
    if (!file) return;
    if (file.size > MAX_CSV_CHARS) {
      $("csv").value = "";
      return showMessage(`csv: the file has ${file.size} bytes; at most ${MAX_CSV_CHARS} (${MAX_POINTS} points)`);
    }
    try {
      const res = await api("POST", `/${sessionId}/csv`, { csv: await file.text() });
      showMessage(`${res.points} points loaded`);
    } catch (err) {
      showMessage(err.message);
    }
    $("csv").value = "";
  };
  $("heatmap").onclick = async (ev) => {
    if (hides("own_points")) return;
    if (isRegression(state)) return showMessage("points can be added to classification data only");
    const r = $("heatmap").getBoundingClientRect();
    const x1 = ((ev.clientX - r.left) / r.width) * 2 * EXTENT - EXTENT;
    const x2 = EXTENT - ((ev.clientY - r.top) / r.height) * 2 * EXTENT;
    try {
      await api("POST", `/${sessionId}/points`, { x1, x2, label: state.paint, train: true });
    } catch (err) {
      showMessage(err.message);
    }
  };
  $("copy-link").onclick = async () => {
    writeHash();
    try {
      await navigator.clipboard.writeText(window.location.href);
      showMessage("link copied: it restores every setting and your points");
    } catch {
      showMessage(window.location.href);
    }
  };
  $("warp").onchange = () => {
    state.warp = Number($("warp").value);
    warp = null;
    writeHash();
    renderControls();
    drawWarp();
    updateWarp();
  };
  $("hide-boxes").innerHTML = Object.entries(HIDEABLE).map(([name, label]) =>
    `<label><input type="checkbox" value="${name}"${hides(name) ? " checked" : ""}> ${label}</label>`,
  ).join("");
  $("hide-boxes").onchange = updateTeachingLink;
  $("teaching").ontoggle = updateTeachingLink;
  window.addEventListener("resize", () => { if (frame) { buildNetwork(); drawNetwork(); } });
}

({ state, points: linkPoints } = decodeHash(window.location.hash));
points = linkPoints;
bind();
renderControls();
start();
