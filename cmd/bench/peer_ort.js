// onnxruntime peer for cmd/bench: runs the decode step that peer_torch.py
// exported to ONNX. Usage: node peer_ort.js ONNXRUNTIME_NODE_DIR DIR, with
// DIR holding req.json, step.onnx and the encoded source (xT, ux, h0 and
// c0 as raw little-endian float32). One JSON object goes to stdout.
"use strict";

const fs = require("fs");
const path = require("path");
const ort = require(process.argv[2]);

const dir = process.argv[3];
const req = JSON.parse(fs.readFileSync(path.join(dir, "req.json"), "utf8"));
const PAD = 0, BOS = 2, EOS = 3;

function f32(name) {
  const b = fs.readFileSync(path.join(dir, name));
  // Copy: a Buffer's offset into its pool need not be 4-byte aligned.
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

// mask and topK follow model/search and model/nn.TopK.
function mask(p, t) {
  p[PAD] = 0;
  p[BOS] = 0;
  if (t === 0) p[EOS] = 0;
}

function topK(p, k) {
  const idx = [];
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    if (idx.length < k) idx.push(i);
    else if (v > p[idx[k - 1]]) idx[k - 1] = i;
    else continue;
    for (let j = idx.length - 1; j > 0 && p[idx[j]] > p[idx[j - 1]]; j--) {
      [idx[j], idx[j - 1]] = [idx[j - 1], idx[j]];
    }
  }
  return idx;
}

async function main() {
  const { S, D, A, K } = req;
  const sess = await ort.InferenceSession.create(path.join(dir, "step.onnx"), {
    intraOpNumThreads: req.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const xT = new ort.Tensor("float32", f32("xT.f32"), [D, S]);
  const ux = new ort.Tensor("float32", f32("ux.f32"), [S, A]);
  const h0 = new ort.Tensor("float32", f32("h0.f32"), [K]);
  // The caption decoder starts from a computed cell state; translation from zeros.
  const c0 = new ort.Tensor("float32", fs.existsSync(path.join(dir, "c0.f32")) ? f32("c0.f32") : new Float32Array(K), [K]);
  const run = (prev, h, c) =>
    sess.run({ prev: new ort.Tensor("int64", BigInt64Array.from([BigInt(prev)]), []), h, c, xT, ux });

  // Parity: the steps our decoder took, fed the words it chose.
  const greedy = [];
  let h = h0, c = c0;
  for (let t = 0; t < req.greedy.length; t++) {
    const chk = req.greedy[t];
    const r = await run(chk.prev, h, c);
    const p = r.probs.data;
    mask(p, t);
    greedy.push({ id: topK(p, 1)[0], probs: chk.ids.map((i) => p[i]), att: Array.from(r.att.data) });
    h = r.h_out;
    c = r.c_out;
  }

  // Timing: the step, the search's mask and its top-5, as ours does.
  let st = { h: h0, c: c0, prev: BOS, t: 0 };
  const step = async () => {
    const r = await run(st.prev, st.h, st.c);
    const p = r.probs.data;
    mask(p, st.t);
    const next = topK(p, 5)[0];
    st = next === EOS || st.t >= 30 ? { h: h0, c: c0, prev: BOS, t: 0 } : { h: r.h_out, c: r.c_out, prev: next, t: st.t + 1 };
  };
  for (let i = 0; i < 20; i++) await step();
  const ts = [];
  const end = process.hrtime.bigint() + BigInt(Math.round(req.seconds * 1e9));
  while (process.hrtime.bigint() < end || ts.length < 5) {
    const t0 = process.hrtime.bigint();
    await step();
    ts.push(Number(process.hrtime.bigint() - t0));
  }
  ts.sort((a, b) => a - b);
  const out = {
    greedy,
    step_us: { median: ts[ts.length >> 1] / 1e3, n: ts.length },
    version: ort.env.versions.node,
    threads: `intra-op ${req.threads}`,
  };
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + "\n");
  process.exit(1);
});
