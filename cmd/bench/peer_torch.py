"""PyTorch peer for cmd/bench: the same model, written the way a PyTorch user
would write it for CPU inference, fed the weights that cmd/bench exported.

Usage: peer_torch.py translate|caption|mobilenet|train|train_caption|serve DIR. DIR holds req.json and raw
little-endian float32 tensors; one JSON object goes to stdout.

Shapes: S source length, E embedding, D = 2H encoder output, K decoder
hidden, A attention, O pre-output, V target vocabulary, B beam.
"""

import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

PAD, UNK, BOS, EOS = 0, 1, 2, 3


def load(d, ref):
    with open(os.path.join(d, ref["file"]), "rb") as f:
        buf = bytearray(f.read())
    return torch.frombuffer(buf, dtype=torch.float32).reshape(ref["shape"])


def timed(fn, seconds, warmup=20):
    """Median wall time of fn in microseconds, over as many calls as fit."""
    for _ in range(warmup):
        fn()
    ts = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(ts) < 5:
        t0 = time.perf_counter_ns()
        fn()
        ts.append(time.perf_counter_ns() - t0)
    ts.sort()
    return {"median": ts[len(ts) // 2] / 1e3, "n": len(ts)}


class Translator:
    def __init__(self, cfg, p, src_ids):
        self.cfg = cfg
        self.K = cfg["dec_hidden"]
        self.encode(p, src_ids)

        self.emb = p["tgt_emb"]  # (V, E)
        self.v = p["att_v"]  # (A)
        # Batch 1 uses addmv on (out, in) matrices; batch B uses addmm on (in, out).
        self.attW = p["att_w"]  # (K, A)
        self.attWt = self.attW.t().contiguous()  # (A, K)
        # LSTM input [emb; c; h] and pre-output input [h; c; emb], stacked.
        self.decW = torch.cat((p["dec_wy"], p["dec_wc"], p["dec_wh"]), 0).contiguous()  # (E+D+K, 4K)
        self.decWt = self.decW.t().contiguous()  # (4K, E+D+K)
        self.decB = p["dec_b"]
        self.preW = torch.cat((p["pre_wh"], p["pre_wc"], p["pre_wy"]), 0).contiguous()  # (K+D+E, O)
        self.preWt = self.preW.t().contiguous()
        self.preB = p["pre_b"]
        self.outW = p["out_w"]  # (O, V)
        self.outWt = self.outW.t().contiguous()  # (V, O)
        self.outB = p["out_b"]

    def encode(self, p, src_ids):
        """Runs the encoder over a sentence: x, its projections and h_0."""
        E, H = self.cfg["emb"], self.cfg["enc_hidden"]
        emb = p["src_emb"][torch.tensor(src_ids)]  # (S, E)
        S = emb.shape[0]
        outs = []
        for d, order in (("fwd", range(S)), ("bwd", range(S - 1, -1, -1))):
            xs = emb @ p[f"enc_{d}_wx"] + p[f"enc_{d}_b"]  # (S, 4H)
            h, c = torch.zeros(H), torch.zeros(H)
            out = torch.zeros(S, H)
            for t in order:
                h, c = lstm(xs[t] + h @ p[f"enc_{d}_wh"], c)
                out[t] = h
            outs.append(out)
        self.x = torch.cat(outs, 1).contiguous()  # (S, D)
        self.xT = self.x.t().contiguous()  # (D, S)
        self.ux = (self.x @ p["att_u"] + p["att_b"]).contiguous()  # (S, A)
        self.h0 = torch.tanh(self.x.mean(0) @ p["init_w"] + p["init_b"])  # (K)

    def step(self, h, c, prev):
        """One decoder step at batch 1: h, c (K); prev an int."""
        wh = torch.mv(self.attWt, h)  # W h_{t-1}                  (A)
        e = torch.mv(torch.tanh(self.ux + wh), self.v)  # e_i = v·tanh(W h + U x_i + b)  (S)
        a = torch.softmax(e, 0)  # a_t                                  (S)
        ctx = torch.mv(self.xT, a)  # c_t = Σ a_i x_i                  (D)
        y = self.emb[prev]  # emb(y_{t-1})                              (E)
        gates = torch.addmv(self.decB, self.decWt, torch.cat((y, ctx, h)))  # (4K)
        h, c = lstm(gates, c)  # (K)
        pre = torch.tanh(torch.addmv(self.preB, self.preWt, torch.cat((h, ctx, y))))  # (O)
        probs = torch.softmax(torch.addmv(self.outB, self.outWt, pre), 0)  # p_t (V)
        return h, c, probs, a

    def step_batch(self, h, c, prev):
        """One decoder step for B hypotheses: h, c (B, K); prev (B) ids."""
        wh = torch.mm(h, self.attW)  # (B, A)
        e = torch.matmul(torch.tanh(self.ux.unsqueeze(0) + wh.unsqueeze(1)), self.v)  # (B, S)
        a = torch.softmax(e, 1)  # (B, S)
        ctx = torch.mm(a, self.x)  # (B, D)
        y = self.emb[prev]  # (B, E)
        gates = torch.addmm(self.decB, torch.cat((y, ctx, h), 1), self.decW)  # (B, 4K)
        h, c = lstm(gates, c)  # (B, K)
        pre = torch.tanh(torch.addmm(self.preB, torch.cat((h, ctx, y), 1), self.preW))  # (B, O)
        probs = torch.softmax(torch.addmm(self.outB, pre, self.outW), 1)  # (B, V)
        return h, c, probs, a


def lstm(gates, c):
    """Gates in the order input, forget, cell, output (as model/nn.LSTMCell)."""
    i, f, g, o = gates.chunk(4, -1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def mask(p, t, no_unk=False):
    """model/search: no padding, no start token, no empty output; and for
    captions (no_unk), which have no source word to copy, no unknown word."""
    p[..., PAD] = 0
    p[..., BOS] = 0
    if t == 0:
        p[..., EOS] = 0
    if no_unk:
        p[..., UNK] = 0


def lp(n):
    return ((5 + n) / 6) ** 0.6


def beam2(m, B):
    """The first two steps of model/search's beam search, with the second
    step's hypotheses as one batch; returns the best hypothesis's steps."""
    h, c, p, a = m.step(m.h0, torch.zeros(m.K), BOS)
    mask(p, 0)
    first = [(math.log(float(p[i]) + 1e-30), int(i)) for i in torch.topk(p, B).indices]
    first.sort(key=lambda x: -x[0])
    beams = [(lg, [(i, p, a)], i) for lg, i in first[:B]]
    hb, cb, pb, ab = m.step_batch(h.expand(len(beams), -1), c.expand(len(beams), -1), torch.tensor([b[2] for b in beams]))
    mask(pb, 1)
    cands = []
    for k, (lg, steps, _) in enumerate(beams):
        for i in torch.topk(pb[k], B).indices:
            i = int(i)
            cands.append((lg + math.log(float(pb[k, i]) + 1e-30), i, steps, pb[k], ab[k]))
    cands.sort(key=lambda x: -x[0])
    done, live = [], []
    for lg, i, steps, pk, ak in cands:
        if len(done) + len(live) >= B:
            break
        if i == EOS:
            done.append((lg, steps))
        else:
            live.append((lg, steps + [(i, pk, ak)]))
    hyps = done + live
    best = hyps[0]
    for hy in hyps[1:]:
        if hy[0] / lp(len(hy[1]) + 1) > best[0] / lp(len(best[1]) + 1):
            best = hy
    return best[1]


def report(steps, checks):
    """Our probabilities at the ids cmd/bench names, and attention."""
    out = []
    for (i, p, a), chk in zip(steps, checks):
        out.append({"id": i, "probs": [float(p[j]) for j in chk["ids"]], "att": a.tolist()})
    return out


def translate(d, req):
    cfg = req["config"]
    p = {r["name"]: load(d, r) for r in req["tensors"]}
    m = Translator(cfg, p, req["src_ids"])
    res = {}

    # Parity: greedy steps fed the words our decoder chose.
    h, c = m.h0, torch.zeros(m.K)
    steps = []
    for t, chk in enumerate(req["greedy"]):
        h, c, pr, a = m.step(h, c, chk["prev"])
        mask(pr, t)
        steps.append((int(torch.argmax(pr)), pr, a))
    res["greedy"] = report(steps, req["greedy"])
    res["beam"] = report(beam2(m, req["beam"]), req["beam_check"])

    # Decode step, batch 1: the step, the search's mask and its top-5.
    res["step_us"] = time_greedy(m, m.h0, torch.zeros(m.K), req["seconds"])

    # Beam step: B hypotheses as one batch, then the search's bookkeeping
    # (mask, log-probabilities, top-B per hypothesis, best B of B*B).
    B = req["beam"]
    h1, c1, p1, _ = m.step(m.h0, torch.zeros(m.K), BOS)
    mask(p1, 0)
    top1 = torch.topk(p1, B)
    hB, cB = h1.expand(B, -1).contiguous(), c1.expand(B, -1).contiguous()
    prevB, scoreB = top1.indices.clone(), torch.log(top1.values + 1e-30).double()

    def beam_step():
        h, c, pr, _ = m.step_batch(hB, cB, prevB)
        mask(pr, 1)
        top = torch.topk(pr, B, 1)  # (B, B)
        cand = scoreB.unsqueeze(1) + torch.log(top.values.double() + 1e-30)  # (B, B)
        best = torch.topk(cand.flatten(), B).indices
        rows = torch.div(best, B, rounding_mode="floor")
        return h[rows], c[rows], top.indices.flatten()[best]

    res["beam_step_us"] = timed(beam_step, req["seconds"])

    if req.get("onnx"):
        try:
            export_step(Step(m), m, torch.zeros(m.K), req["onnx"])
        except Exception as e:  # reported, not fatal: the other rows stand
            res["onnx_error"] = f"{type(e).__name__}: {e}"
    return res


class Step(torch.nn.Module):
    """The batch-1 step as a module, for torch.onnx.export. Row vectors
    times (in, out) matrices: onnxruntime runs a (1, in) x (in, out) MatMul
    as a fast GEMM, while (out, in) x (in) ran ~10x slower here. (The
    exporter of torch 1.13 has no addmv anyway.)"""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, prev, h, c, xT, ux):
        m = self.m
        h, c = h.unsqueeze(0), c.unsqueeze(0)  # (1, K)
        wh = h @ m.attW  # (1, A)
        a = torch.softmax(torch.tanh(ux + wh) @ m.v, 0)  # (S)
        ctx = (xT @ a).unsqueeze(0)  # (1, D)
        y = m.emb[prev].unsqueeze(0)  # (1, E)
        h, c = lstm(torch.cat((y, ctx, h), 1) @ m.decW + m.decB, c)  # (1, K)
        pre = torch.tanh(torch.cat((h, ctx, y), 1) @ m.preW + m.preB)  # (1, O)
        probs = torch.softmax(pre @ m.outW + m.outB, 1)  # (1, V)
        return probs.squeeze(0), a, h.squeeze(0), c.squeeze(0)


def export_step(step, m, c0, d):
    """Exports a step module with inputs (prev, h, c, xT, ux), and the
    encoded source and start state the onnxruntime peer starts from."""
    os.makedirs(d, exist_ok=True)
    args = (torch.tensor(BOS), m.h0, c0, m.xT, m.ux)
    torch.onnx.export(step, args, os.path.join(d, "step.onnx"),
                      input_names=["prev", "h", "c", "xT", "ux"],
                      output_names=["probs", "att", "h_out", "c_out"],
                      dynamic_axes={"xT": [1], "ux": [0], "att": [0]},
                      opset_version=13)
    for name, t in (("xT", m.xT), ("ux", m.ux), ("h0", m.h0), ("c0", c0)):
        with open(os.path.join(d, name + ".f32"), "wb") as f:
            f.write(t.contiguous().numpy().tobytes())


def build_encoder(d, req):
    """MobileNetV2 from the layers and dequantised weights cmd/bench
    exported: returns run(pixels), pixels a flat uint8 tensor of H*W*3,
    giving the region grid as (1, C, H, W)."""
    consts = {int(k): load(d, r) for k, r in req["consts"].items()}
    acts = {"NONE": None, "RELU": (0.0, float("inf")), "RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0)}
    plan = []
    for op in req["ops"]:
        if op["op"] == "ADD":
            plan.append(("add", op["in"], op["out"], acts[op["act"]]))
            continue
        w = consts[op["in"][1]]
        if op["op"] == "CONV_2D":
            w, groups = w.permute(0, 3, 1, 2).contiguous(), 1  # [O KH KW C] -> [O C KH KW]
        else:
            w, groups = w.permute(3, 0, 1, 2).contiguous(), op["groups"]  # [1 KH KW C] -> [C 1 KH KW]
        b = consts[op["in"][2]] if len(op["in"]) > 2 and op["in"][2] >= 0 else None
        # TF SAME padding puts an odd extra pixel after: conv2d cannot, F.pad can.
        t, bt, l, r = op["pad"]
        pad, fpad = (t, l), None
        if t != bt or l != r:
            pad, fpad = 0, (l, r, t, bt)
        plan.append(("conv", [op["in"][0]], op["out"], acts[op["act"]],
                     dict(weight=w, bias=b, stride=op["stride"], padding=pad, dilation=op["dilation"], groups=groups), fpad))
    zero, scale = req["input"]["zero"], req["input"]["scale"]
    Hin, Win = req["input"]["height"], req["input"]["width"]

    def run(pix):
        x = pix.float().sub_(zero).mul_(scale).reshape(1, Hin, Win, 3).permute(0, 3, 1, 2).contiguous()
        vals = {req["input"]["tensor"]: x}
        for kind, ins, out, act, *rest in plan:
            if kind == "add":
                y = vals[ins[0]] + vals[ins[1]]
            else:
                kw, fpad = rest
                xi = vals[ins[0]]
                if fpad is not None:
                    xi = F.pad(xi, fpad)
                y = F.conv2d(xi, **kw)
            if act is not None:
                y = torch.clamp_(y, act[0], act[1])
            vals[out] = y
        return vals[req["feature"]]

    return run


def mobilenet(d, req):
    run = build_encoder(d, req)
    with open(os.path.join(d, req["image"]), "rb") as f:
        pix = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8)
    feat = run(pix).permute(0, 2, 3, 1).contiguous()  # NHWC, as ours
    with open(os.path.join(d, "peer_feat.f32"), "wb") as f:
        f.write(feat.numpy().tobytes())
    return {"encode_us": timed(lambda: run(pix), req["seconds"], warmup=3)}


class Captioner:
    """The Show, Attend and Tell decoder at batch 1, from cmd/bench's
    export of our weights; feat is the (R, F) region grid."""

    def __init__(self, cfg, p, feat):
        self.K, self.attention = cfg["Hidden"], cfg["Attention"]
        x = feat @ p["proj_w"] + p["proj_b"]  # x_i = W_p f_i + b_p  (R, D)
        self.R = x.shape[0]
        self.xT = x.t().contiguous()  # (D, R)
        self.ux = (x @ p["att_u"] + p["att_b"]).contiguous()  # (R, A)
        self.mean = x.mean(0)
        self.h0 = torch.tanh(self.mean @ p["init_h_w"] + p["init_h_b"])  # (K)
        self.c0 = torch.tanh(self.mean @ p["init_c_w"] + p["init_c_b"])  # (K)
        self.attW = p["att_w"]  # (K, A)
        self.attWt = self.attW.t().contiguous()
        self.v = p["att_v"]
        self.gw, self.gb = p["gate_w"].reshape(-1), p["gate_b"]
        self.emb = p["emb"]  # (V, E)
        self.decW = torch.cat((p["dec_wy"], p["dec_wz"], p["dec_wh"]), 0).contiguous()  # (E+D+K, 4K)
        self.decWt = self.decW.t().contiguous()
        self.decB = p["dec_b"]
        self.outL = torch.cat((p["out_lh"], p["out_lz"]), 0).contiguous()  # (K+D, E)
        self.outLt = self.outL.t().contiguous()
        self.outW = p["out_w"]  # (E, V)
        self.outWt = self.outW.t().contiguous()
        self.outB = p["out_b"]

    def step(self, h, c, prev):
        if self.attention:
            wh = torch.mv(self.attWt, h)  # W h_{t-1}  (A)
            a = torch.softmax(torch.mv(torch.tanh(self.ux + wh), self.v), 0)  # α_t  (R)
            beta = torch.sigmoid(torch.dot(self.gw, h) + self.gb)  # β_t
            z = beta * torch.mv(self.xT, a)  # z_t = β_t Σ α_ti x_i  (D)
        else:
            a, z = torch.full((self.R,), 1.0 / self.R), self.mean
        y = self.emb[prev]
        h, c = lstm(torch.addmv(self.decB, self.decWt, torch.cat((y, z, h))), c)  # (K)
        pre = torch.addmv(y, self.outLt, torch.cat((h, z)))  # emb + L_h h + L_z z  (E)
        return h, c, torch.softmax(torch.addmv(self.outB, self.outWt, pre), 0), a


class CaptionStep(torch.nn.Module):
    """The caption step for torch.onnx.export, with the translation step's
    inputs and outputs (xT is the regions, ux their projections)."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, prev, h, c, xT, ux):
        m = self.m
        h, c = h.unsqueeze(0), c.unsqueeze(0)  # (1, K)
        a = torch.softmax(torch.tanh(ux + h @ m.attW) @ m.v, 0)  # (R)
        beta = torch.sigmoid(h @ m.gw + m.gb)  # (1)
        z = (beta * (xT @ a)).unsqueeze(0)  # (1, D)
        y = m.emb[prev].unsqueeze(0)  # (1, E)
        h, c = lstm(torch.cat((y, z, h), 1) @ m.decW + m.decB, c)
        pre = y + torch.cat((h, z), 1) @ m.outL
        probs = torch.softmax(pre @ m.outW + m.outB, 1)
        return probs.squeeze(0), a, h.squeeze(0), c.squeeze(0)


def time_greedy(m, h0, c0, seconds, no_unk=False):
    """Median time of one greedy step with the search's mask and top-5,
    restarting at the end of each output."""
    st = {"h": h0, "c": c0, "prev": BOS, "t": 0}

    def greedy_step():
        h, c, pr, a = m.step(st["h"], st["c"], st["prev"])
        mask(pr, st["t"], no_unk)
        nxt = int(torch.topk(pr, 5).indices[0])
        if nxt == EOS or st["t"] >= 30:
            st.update(h=h0, c=c0, prev=BOS, t=0)
        else:
            st.update(h=h, c=c, prev=nxt, t=st["t"] + 1)

    return timed(greedy_step, seconds)


def caption(d, req):
    cfg = req["config"]
    p = {r["name"]: load(d, r) for r in req["tensors"]}
    m = Captioner(cfg, p, load(d, req["feat"]))
    h, c, steps = m.h0, m.c0, []
    for t, chk in enumerate(req["greedy"]):
        h, c, pr, a = m.step(h, c, chk["prev"])
        mask(pr, t, True)
        steps.append((int(torch.argmax(pr)), pr, a))
    res = {"greedy": report(steps, req["greedy"]), "step_us": time_greedy(m, m.h0, m.c0, req["seconds"], True)}
    if req.get("onnx"):
        try:
            export_step(CaptionStep(m), m, m.c0, req["onnx"])
        except Exception as e:  # reported; the onnxruntime row is then skipped
            res["onnx_error"] = f"{type(e).__name__}: {e}"
    if req.get("pipeline"):
        res.update(pipeline(d, req, p))
    return res


def pipeline(d, req, p):
    """Photo file to caption as a PyTorch user would run it: PIL decode,
    scale the short side to 224 (Lanczos) and crop the centre, MobileNetV2,
    then greedy decoding. First the check: the same decoded, cropped pixels
    as ours through this encoder and decoder, fed our words, for the
    probabilities and attention of every step and the word after our last.
    Then the times to the first word and to the whole caption."""
    from PIL import Image

    pl = req["pipeline"]
    with open(os.path.join(pl["dir"], "req.json")) as f:
        encoder = build_encoder(pl["dir"], json.load(f))
    cfg = req["config"]
    size = pl["size"]

    def captioner(pix):
        feat = encoder(pix)[0].permute(1, 2, 0).reshape(-1, cfg["Feat"])  # (R, F)
        return Captioner(cfg, p, feat)

    with open(os.path.join(d, pl["pixels"]), "rb") as f:
        m = captioner(torch.frombuffer(bytearray(f.read()), dtype=torch.uint8))
    h, c, steps = m.h0, m.c0, []
    for t, chk in enumerate(pl["check"] + [{"prev": pl["last"], "ids": []}]):
        h, c, pr, a = m.step(h, c, chk["prev"])
        mask(pr, t, True)
        steps.append((int(torch.argmax(pr)), pr, a))
    check = report(steps, pl["check"])

    def run():
        t0 = time.perf_counter_ns()
        img = Image.open(pl["image"]).convert("RGB")
        w, h = img.size
        s = size / min(w, h)
        img = img.resize((max(size, round(w * s)), max(size, round(h * s))), Image.LANCZOS)
        left, top = (img.width - size) // 2, (img.height - size) // 2
        img = img.crop((left, top, left + size, top + size))
        m = captioner(torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8))
        h, c, prev, first, words = m.h0, m.c0, BOS, None, []
        for t in range(pl["max_words"]):
            h, c, pr, a = m.step(h, c, prev)
            mask(pr, t, True)
            prev = int(torch.topk(pr, 5).indices[0])
            if prev == EOS:
                break
            words.append(prev)
            if first is None:
                first = time.perf_counter_ns() - t0
        return first or 0, time.perf_counter_ns() - t0, words

    for _ in range(2):
        run()
    firsts, totals, words = [], [], []
    end = time.perf_counter() + pl["seconds"]
    while time.perf_counter() < end or len(totals) < 3:
        f, t, words = run()
        firsts.append(f)
        totals.append(t)
    firsts.sort()
    totals.sort()
    return {"first_word_us": {"median": firsts[len(firsts) // 2] / 1e3, "n": len(firsts)},
            "caption_us": {"median": totals[len(totals) // 2] / 1e3, "n": len(totals)},
            "pipeline_words": words, "pixel_check": check, "pixel_next": steps[-1][0]}


class Seq2Seq(torch.nn.Module):
    """The translation model as a PyTorch user would write it for training:
    nn.LSTM for the bidirectional encoder, an LSTMCell decoder whose step
    attends with h_{t-1} (Bahdanau), a tanh pre-output layer over [h; c; y],
    dropout where ours has it. train() holds the LSTMs' second bias vectors
    at zero, so that it trains the same weights as ours."""

    def __init__(self, c):
        super().__init__()
        E, H, K, A, O = c["emb"], c["enc_hidden"], c["dec_hidden"], c["att"], c["pre_out"]
        D = 2 * H
        self.src_emb = torch.nn.Embedding(c["src_vocab"], E)
        self.tgt_emb = torch.nn.Embedding(c["tgt_vocab"], E)
        self.enc = torch.nn.LSTM(E, H, batch_first=True, bidirectional=True)
        self.init = torch.nn.Linear(D, K)
        self.att_w = torch.nn.Linear(K, A, bias=False)
        self.att_u = torch.nn.Linear(D, A)
        self.att_v = torch.nn.Linear(A, 1, bias=False)
        self.dec = torch.nn.LSTMCell(E + D, K)
        self.pre = torch.nn.Linear(K + D + E, O)
        self.out = torch.nn.Linear(O, c["tgt_vocab"])
        self.drop = torch.nn.Dropout(0.3)

    def forward(self, src, tgt_in):
        x, _ = self.enc(self.drop(self.src_emb(src)))  # (B, S, D)
        h = torch.tanh(self.init(x.mean(1)))
        c = torch.zeros_like(h)
        ux = self.att_u(x)  # (B, S, A)
        y = self.drop(self.tgt_emb(tgt_in))  # (B, T, E)
        hs, cs = [], []
        for t in range(y.shape[1]):
            e = self.att_v(torch.tanh(ux + self.att_w(h).unsqueeze(1))).squeeze(2)  # (B, S)
            a = torch.softmax(e, 1)
            ctx = torch.bmm(a.unsqueeze(1), x).squeeze(1)  # (B, D)
            h, c = self.dec(torch.cat((y[:, t], ctx), 1), (h, c))
            hs.append(h)
            cs.append(ctx)
        pre = torch.tanh(self.pre(torch.cat((torch.stack(hs, 1), torch.stack(cs, 1), y), 2)))
        return self.out(self.drop(pre))  # (B, T, V)


def load_ours(m, p):
    """Set the PyTorch model's weights from ours: nn.Linear and the LSTMs
    hold (out, in) matrices where ours are (in, out); the LSTMs' second
    bias is zero (ours has one)."""
    with torch.no_grad():
        m.src_emb.weight.copy_(p["src_emb"])
        m.tgt_emb.weight.copy_(p["tgt_emb"])
        for d, sfx in (("fwd", ""), ("bwd", "_reverse")):
            getattr(m.enc, "weight_ih_l0" + sfx).copy_(p[f"enc_{d}_wx"].t())
            getattr(m.enc, "weight_hh_l0" + sfx).copy_(p[f"enc_{d}_wh"].t())
            getattr(m.enc, "bias_ih_l0" + sfx).copy_(p[f"enc_{d}_b"])
            getattr(m.enc, "bias_hh_l0" + sfx).zero_().requires_grad_(False)
        m.init.weight.copy_(p["init_w"].t())
        m.init.bias.copy_(p["init_b"])
        m.att_w.weight.copy_(p["att_w"].t())
        m.att_u.weight.copy_(p["att_u"].t())
        m.att_u.bias.copy_(p["att_b"])
        m.att_v.weight.copy_(p["att_v"].reshape(1, -1))
        m.dec.weight_ih.copy_(torch.cat((p["dec_wy"], p["dec_wc"]), 0).t())
        m.dec.weight_hh.copy_(p["dec_wh"].t())
        m.dec.bias_ih.copy_(p["dec_b"])
        m.dec.bias_hh.zero_().requires_grad_(False)
        m.pre.weight.copy_(torch.cat((p["pre_wh"], p["pre_wc"], p["pre_wy"]), 0).t())
        m.pre.bias.copy_(p["pre_b"])
        m.out.weight.copy_(p["out_w"].t())
        m.out.bias.copy_(p["out_b"])


def grads_as_ours(m, c):
    """The gradients in our weights' names and layouts."""
    E, K, D = c["emb"], c["dec_hidden"], 2 * c["enc_hidden"]
    g = {"src_emb": m.src_emb.weight.grad, "tgt_emb": m.tgt_emb.weight.grad}
    for d, sfx in (("fwd", ""), ("bwd", "_reverse")):
        g[f"enc_{d}_wx"] = getattr(m.enc, "weight_ih_l0" + sfx).grad.t()
        g[f"enc_{d}_wh"] = getattr(m.enc, "weight_hh_l0" + sfx).grad.t()
        g[f"enc_{d}_b"] = getattr(m.enc, "bias_ih_l0" + sfx).grad
    g["init_w"], g["init_b"] = m.init.weight.grad.t(), m.init.bias.grad
    g["att_w"], g["att_u"], g["att_b"] = m.att_w.weight.grad.t(), m.att_u.weight.grad.t(), m.att_u.bias.grad
    g["att_v"] = m.att_v.weight.grad.reshape(-1)
    wi = m.dec.weight_ih.grad.t()
    g["dec_wy"], g["dec_wc"], g["dec_wh"], g["dec_b"] = wi[:E], wi[E:], m.dec.weight_hh.grad.t(), m.dec.bias_ih.grad
    wp = m.pre.weight.grad.t()
    g["pre_wh"], g["pre_wc"], g["pre_wy"], g["pre_b"] = wp[:K], wp[K:K + D], wp[K + D:], m.pre.bias.grad
    g["out_w"], g["out_b"] = m.out.weight.grad.t(), m.out.bias.grad
    return g


def check_and_time(d, req, m, params, loss_of, grads, new_batch):
    """Training parity, then throughput, for model m whose trained weights
    are params. With dropout off: loss_of() and every gradient (grads()
    maps them to our names and layouts; written to DIR), then the losses
    of req["adam_steps"] Adam steps on the same batch. Then the time of a
    step, dropout on, on a fresh random batch of the same shape
    (new_batch() makes it and returns the loss function for it)."""
    opt = torch.optim.Adam(params, lr=req["lr"])
    m.eval()  # dropout off for the check
    opt.zero_grad()
    loss = loss_of()
    loss.backward()
    g, files = grads(), []
    for r in req["tensors"]:
        f = r["name"] + ".grad.f32"
        with open(os.path.join(d, f), "wb") as out:
            out.write(g[r["name"]].contiguous().numpy().tobytes())
        files.append(f)
    losses = []
    for _ in range(req["adam_steps"]):
        opt.zero_grad()
        l = loss_of()
        l.backward()
        torch.nn.utils.clip_grad_norm_(params, req["clip"])
        opt.step()
        losses.append(l.item())

    m.train()
    timed_loss = new_batch()

    def step():
        opt.zero_grad()
        timed_loss().backward()
        torch.nn.utils.clip_grad_norm_(params, req["clip"])
        opt.step()

    return {"loss": loss.item(), "grads": files, "losses": losses,
            "step_us": timed(step, req["seconds"], warmup=2), "params": sum(q.numel() for q in params)}


def train(d, req):
    """The translation model's training step: see check_and_time."""
    c = req["config"]
    src, tgt_in, tgt_out = (torch.tensor(req[k]) for k in ("src", "tgt_in", "tgt_out"))
    torch.manual_seed(0)
    m = Seq2Seq(c)
    load_ours(m, {r["name"]: load(d, r) for r in req["tensors"]})

    def xent(src, tgt_in, tgt_out):
        logits = m(src, tgt_in)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))

    def new_batch():
        B, T = tgt_in.shape
        s, t = torch.randint(4, c["src_vocab"], src.shape), torch.randint(4, c["tgt_vocab"], (B, T + 1))
        return lambda: xent(s, t[:, :-1], t[:, 1:])

    params = [q for q in m.parameters() if q.requires_grad]
    return check_and_time(d, req, m, params, lambda: xent(src, tgt_in, tgt_out), lambda: grads_as_ours(m, c), new_batch)


class ShowAttendTell(torch.nn.Module):
    """The caption model as a PyTorch user would write it for training: a
    projection of the regions, h_0 and c_0 from their mean (or from biases
    alone with a constant start), soft attention with the gate β, an
    LSTMCell over [emb; z], the deep output emb + L_h h + L_z z, dropout on
    the embeddings and the deep output. forward returns the logits and the
    attention of every step."""

    def __init__(self, c):
        super().__init__()
        F_, D, E, K, A, V = c["Feat"], c["Proj"], c["Emb"], c["Hidden"], c["Att"], c["Vocab"]
        self.const_start = c.get("const_start", False)
        self.proj = torch.nn.Linear(F_, D)
        self.init_h, self.init_c = torch.nn.Linear(D, K), torch.nn.Linear(D, K)
        self.att_w = torch.nn.Linear(K, A, bias=False)
        self.att_u = torch.nn.Linear(D, A)
        self.att_v = torch.nn.Linear(A, 1, bias=False)
        self.gate = torch.nn.Linear(K, 1)
        self.emb = torch.nn.Embedding(V, E)
        self.dec = torch.nn.LSTMCell(E + D, K)
        self.out_h = torch.nn.Linear(K, E, bias=False)
        self.out_z = torch.nn.Linear(D, E, bias=False)
        self.out = torch.nn.Linear(E, V)
        self.drop = torch.nn.Dropout(0.3)

    def forward(self, feat, words_in):
        x = self.proj(feat)  # (B, R, D)
        start = torch.zeros_like(x[:, 0]) if self.const_start else x.mean(1)
        h, c = torch.tanh(self.init_h(start)), torch.tanh(self.init_c(start))
        ux = self.att_u(x)  # (B, R, A)
        y = self.drop(self.emb(words_in))  # (B, T, E)
        hs, zs, alphas = [], [], []
        for t in range(y.shape[1]):
            a = torch.softmax(self.att_v(torch.tanh(ux + self.att_w(h).unsqueeze(1))).squeeze(2), 1)  # (B, R)
            z = torch.sigmoid(self.gate(h)) * torch.bmm(a.unsqueeze(1), x).squeeze(1)  # β_t Σ α_ti x_i  (B, D)
            h, c = self.dec(torch.cat((y[:, t], z), 1), (h, c))
            hs.append(h)
            zs.append(z)
            alphas.append(a)
        pre = self.drop(y + self.out_h(torch.stack(hs, 1)) + self.out_z(torch.stack(zs, 1)))
        return self.out(pre), torch.stack(alphas, 1)  # (B, T, V), (B, T, R)


def train_caption(d, req):
    """The caption model's training step, with the doubly stochastic
    regulariser λ/B Σ_b Σ_i (τ_b - Σ_t α_bti)², τ_b = (words + 1)/R (every
    caption of the batch has the same length): see check_and_time."""
    c = req["config"]
    feat = load(d, req["feat"])
    w_in, w_out = torch.tensor(req["words_in"]), torch.tensor(req["words_out"])
    torch.manual_seed(0)
    m = ShowAttendTell(c)
    p = {r["name"]: load(d, r) for r in req["tensors"]}
    # Each nn.Linear with our names for its weight (transposed) and bias.
    linears = ((m.proj, "proj_w", "proj_b"), (m.init_h, "init_h_w", "init_h_b"), (m.init_c, "init_c_w", "init_c_b"),
               (m.att_u, "att_u", "att_b"), (m.gate, "gate_w", "gate_b"), (m.out, "out_w", "out_b"),
               (m.att_w, "att_w", None), (m.out_h, "out_lh", None), (m.out_z, "out_lz", None))
    with torch.no_grad():
        for lin, w, b in linears:
            lin.weight.copy_(p[w].t())
            if b:
                lin.bias.copy_(p[b])
        m.att_v.weight.copy_(p["att_v"].reshape(1, -1))
        m.emb.weight.copy_(p["emb"])
        m.dec.weight_ih.copy_(torch.cat((p["dec_wy"], p["dec_wz"]), 0).t())
        m.dec.weight_hh.copy_(p["dec_wh"].t())
        m.dec.bias_ih.copy_(p["dec_b"])
        m.dec.bias_hh.zero_().requires_grad_(False)
    lam = req["lambda"]

    def loss_of(feat, w_in, w_out):
        logits, alphas = m(feat, w_in)
        tau = w_in.shape[1] / alphas.shape[2]
        reg = lam / w_in.shape[0] * ((tau - alphas.sum(1)) ** 2).sum()
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w_out.reshape(-1)) + reg

    def grads():
        g = {}
        for lin, w, b in linears:
            g[w] = lin.weight.grad.t()
            if b:
                g[b] = lin.bias.grad
        g["att_v"], g["emb"] = m.att_v.weight.grad.reshape(-1), m.emb.weight.grad
        wi = m.dec.weight_ih.grad.t()
        E = c["Emb"]
        g["dec_wy"], g["dec_wz"], g["dec_wh"], g["dec_b"] = wi[:E], wi[E:], m.dec.weight_hh.grad.t(), m.dec.bias_ih.grad
        return g

    def new_batch():
        f = feat[torch.randperm(feat.shape[0])]
        t = torch.randint(4, c["Vocab"], (w_in.shape[0], w_in.shape[1] + 1))
        return lambda: loss_of(f, t[:, :-1], t[:, 1:])

    params = [q for q in m.parameters() if q.requires_grad]
    return check_and_time(d, req, m, params, lambda: loss_of(feat, w_in, w_out), grads, new_batch)


def serve(d, req):
    """A websocket translation server as a PyTorch user would write one
    with asyncio: one process, each session's request decoded greedily one
    step at a time, every word sent as it is chosen (with its probability,
    top 5 and attention) and the loop given back between steps so that the
    sessions take turns. Prints {"port": N} when it listens."""
    import asyncio
    import copy

    import websockets

    cfg = req["config"]
    p = {r["name"]: load(d, r) for r in req["tensors"]}
    base = Translator(cfg, p, [BOS])  # the stacked weights, shared

    async def handler(ws):
        async for raw in ws:
            pl = json.loads(raw)["payload"]
            m = copy.copy(base)  # this request's encoding; the weights stay shared
            m.encode(p, pl["src_ids"])
            h, c, prev = m.h0, torch.zeros(m.K), BOS
            for t in range(80):
                h, c, pr, a = m.step(h, c, prev)
                mask(pr, t)
                top = torch.topk(pr, 5)
                prev = int(top.indices[0])
                if prev == EOS:
                    break
                step = {"index": t, "token_id": prev, "prob": float(pr[prev]), "attention": a.tolist(),
                        "top_k": [{"id": int(i), "prob": float(v)} for v, i in zip(top.values, top.indices)]}
                await ws.send(json.dumps({"type": "step", "v": 1, "payload": {"id": pl["id"], "step": step}}))
                await asyncio.sleep(0)
            await ws.send(json.dumps({"type": "done", "v": 1, "payload": {"id": pl["id"]}}))

    async def run():
        async with websockets.serve(handler, "127.0.0.1", 0, max_queue=None) as server:
            print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
            await asyncio.Future()

    asyncio.run(run())


def main():
    task, d = sys.argv[1], sys.argv[2]
    torch.set_num_threads(int(os.environ.get("BENCH_TORCH_THREADS", "1")))
    with open(os.path.join(d, "req.json")) as f:
        req = json.load(f)
    if task == "train":
        res = train(d, req)
    elif task == "train_caption":
        res = train_caption(d, req)
    elif task == "serve":
        with torch.inference_mode():
            serve(d, req)
        return
    else:
        with torch.inference_mode():
            res = {"translate": translate, "caption": caption, "mobilenet": mobilenet}[task](d, req)
    res["version"] = torch.__version__
    res["threads"] = f"torch {torch.get_num_threads()}, OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '')}"
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    main()
