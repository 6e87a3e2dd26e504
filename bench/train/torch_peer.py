#!/usr/bin/env python3
"""PyTorch peer of bench/train: the same LLaMA decoder shapes, LoRA settings and optimiser as the LoRAM Studio
backends, written directly in torch (no transformers / peft), random fp32 weights, CPU.

    python3 bench/train/torch_peer.py --shape tiny|smollm2-135m [--threads N] [--steps 5] [--warmup 2] [--seed 1]

Prints one JSON object: {shape, backend: "torch", provider: "cpu", threads, loraStepMs, fullStepMs, forwardMs,
tokens, peakRssBytes, ...}. Step = forward + loss + backward + clip_grad_norm_(1.0) + AdamW step (lr 1e-4, no
decay), medians over --steps after --warmup. LoRA: r 8, alpha 16, dropout 0 on q,k,v,o,gate,up,down, base frozen.
Full weight: every weight but the embedding and lm_head trained. Forward: forward + loss under no_grad.
The shape table must match SHAPES in bench/train/types.ts.
"""
import argparse
import json
import math
import resource
import statistics
import sys
import time

SHAPES = {
    "tiny": dict(layers=4, hidden=128, heads=4, kv_heads=4, intermediate=344, vocab=256, tied=False, batch=8, seq=64),
    "smollm2-135m": dict(layers=30, hidden=576, heads=9, kv_heads=3, intermediate=1536, vocab=49152, tied=True, batch=1, seq=128),
}
LORA = dict(r=8, alpha=16, targets=("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"))
LR, WEIGHT_DECAY, MAX_GRAD_NORM, EPS, ROPE_THETA, IGNORE = 1e-4, 0.0, 1.0, 1e-5, 10000.0, -100


def parse_args(argv):
    p = argparse.ArgumentParser(prog="torch_peer.py", description="PyTorch peer of LoRAM Studio's bench/train")

    def positive(min_value):
        def conv(s):
            try:
                v = int(s)
            except ValueError:
                raise argparse.ArgumentTypeError(f"must be an integer >= {min_value} (got {s!r})")
            if v < min_value:
                raise argparse.ArgumentTypeError(f"must be an integer >= {min_value} (got {s!r})")
            return v
        return conv

    p.add_argument("--shape", required=True, choices=list(SHAPES), help="model shape")
    p.add_argument("--threads", type=positive(1), default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--steps", type=positive(1), default=5, help="measured steps (default 5)")
    p.add_argument("--warmup", type=positive(0), default=2, help="unmeasured steps first (default 2)")
    p.add_argument("--seed", type=positive(0), default=1)
    return p.parse_args(argv)


def build(torch):
    nn, F = torch.nn, torch.nn.functional

    class RMSNorm(nn.Module):
        def __init__(self, d):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(d))

        def forward(self, x):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * self.weight

    class LoraLinear(nn.Module):
        """base(x) + (alpha / r) * B(A(x)); A kaiming-uniform, B zeros (PEFT's init); the base frozen."""

        def __init__(self, base, r, alpha):
            super().__init__()
            self.base = base
            self.base.weight.requires_grad_(False)
            self.lora_A = nn.Parameter(torch.empty(r, base.in_features))
            self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))
            nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
            self.scale = alpha / r

        def forward(self, x):
            return self.base(x) + (x @ self.lora_A.t()) @ self.lora_B.t() * self.scale

    class Layer(nn.Module):
        def __init__(self, s):
            super().__init__()
            h, hd = s["hidden"], s["hidden"] // s["heads"]
            self.heads, self.kv_heads, self.hd = s["heads"], s["kv_heads"], hd
            self.input_layernorm, self.post_attention_layernorm = RMSNorm(h), RMSNorm(h)
            self.q_proj = nn.Linear(h, s["heads"] * hd, bias=False)
            self.k_proj = nn.Linear(h, s["kv_heads"] * hd, bias=False)
            self.v_proj = nn.Linear(h, s["kv_heads"] * hd, bias=False)
            self.o_proj = nn.Linear(s["heads"] * hd, h, bias=False)
            self.gate_proj = nn.Linear(h, s["intermediate"], bias=False)
            self.up_proj = nn.Linear(h, s["intermediate"], bias=False)
            self.down_proj = nn.Linear(s["intermediate"], h, bias=False)

        def attention(self, x, cos, sin, mask):
            b, t, _ = x.shape
            q = self.q_proj(x).view(b, t, self.heads, self.hd).transpose(1, 2)
            k = self.k_proj(x).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
            v = self.v_proj(x).view(b, t, self.kv_heads, self.hd).transpose(1, 2)
            q, k = rope(q, cos, sin), rope(k, cos, sin)
            group = self.heads // self.kv_heads
            if group > 1:  # GQA: each KV head serves `group` query heads
                k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd) + mask
            out = F.softmax(scores, dim=-1) @ v
            return self.o_proj(out.transpose(1, 2).reshape(b, t, self.heads * self.hd))

        def forward(self, x, cos, sin, mask):
            x = x + self.attention(self.input_layernorm(x), cos, sin, mask)
            h = self.post_attention_layernorm(x)
            return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))

    def rope(x, cos, sin):
        half = x.shape[-1] // 2
        rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return x * cos + rotated * sin

    class Llama(nn.Module):
        def __init__(self, s):
            super().__init__()
            self.s = s
            self.embed_tokens = nn.Embedding(s["vocab"], s["hidden"])
            self.layers = nn.ModuleList(Layer(s) for _ in range(s["layers"]))
            self.norm = RMSNorm(s["hidden"])
            self.lm_head = None if s["tied"] else nn.Linear(s["hidden"], s["vocab"], bias=False)
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(m.weight, std=0.02)

        def forward(self, ids, labels):
            t, hd = ids.shape[1], self.s["hidden"] // self.s["heads"]
            inv = 1.0 / (ROPE_THETA ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
            freqs = torch.outer(torch.arange(t, dtype=torch.float32), inv)
            emb = torch.cat((freqs, freqs), dim=-1)
            cos, sin = emb.cos(), emb.sin()
            mask = torch.full((t, t), float("-inf")).triu(1)
            x = self.embed_tokens(ids)
            for layer in self.layers:
                x = layer(x, cos, sin, mask)
            x = self.norm(x)
            logits = x @ self.embed_tokens.weight.t() if self.lm_head is None else self.lm_head(x)
            return F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=IGNORE)

        def attach_lora(self):
            for layer in self.layers:
                for name in LORA["targets"]:
                    setattr(layer, name, LoraLinear(getattr(layer, name), LORA["r"], LORA["alpha"]))

    return Llama


def batch(torch, s, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, s["vocab"], (s["batch"], s["seq"]), generator=g)
    labels = torch.full_like(ids, IGNORE)
    labels[:, :-1] = ids[:, 1:]
    return ids, labels


def time_steps(fn, n):
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def train_steps(torch, model, params, ids, labels, n):
    opt = torch.optim.AdamW(params, lr=LR, weight_decay=WEIGHT_DECAY)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model(ids, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM)
        opt.step()
        loss.item()

    return time_steps(step, n)


def measure(torch, a):
    s = SHAPES[a.shape]
    Llama = build(torch)
    ids, labels = batch(torch, s, a.seed)
    n = a.warmup + a.steps
    median = lambda xs: statistics.median(xs[a.warmup:])

    torch.manual_seed(a.seed)
    model = Llama(s)
    for p in model.parameters():
        p.requires_grad_(False)

    def forward():
        with torch.no_grad():
            model(ids, labels).item()

    forward_ms = median(time_steps(forward, n))
    model.attach_lora()
    lora_params = [p for name, p in model.named_parameters() if "lora_" in name]
    for p in lora_params:
        p.requires_grad_(True)
    lora_ms = median(train_steps(torch, model, lora_params, ids, labels, n))
    del model

    torch.manual_seed(a.seed)
    model = Llama(s)
    frozen = {id(model.embed_tokens.weight)} | ({id(model.lm_head.weight)} if model.lm_head is not None else set())
    full_params = [p for p in model.parameters() if id(p) not in frozen]
    for p in model.parameters():
        p.requires_grad_(id(p) not in frozen)
    full_ms = median(train_steps(torch, model, full_params, ids, labels, n))
    return forward_ms, lora_ms, full_ms, sum(p.numel() for p in lora_params)


def blas_library():
    """The BLAS this process loaded (from /proc/self/maps) and its kind: Debian's python3-torch calls whatever
    libblas.so.3 resolves to, and the reference (netlib) one is ~20x slower than OpenBLAS."""
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if ".so" in line}
    except OSError:
        return None, "unknown"
    for kind in ("openblas", "mkl", "blis"):
        hit = sorted(l for l in libs if kind in l.rsplit("/", 1)[-1] or f"/{kind}" in l)
        if hit:
            return hit[0], kind
    hit = sorted(l for l in libs if "libblas.so" in l)
    return (hit[0], "reference") if hit else (None, "unknown")


def main(argv):
    a = parse_args(argv)
    import torch

    torch.set_num_threads(a.threads)
    forward_ms, lora_ms, full_ms, lora_count = measure(torch, a)
    s = SHAPES[a.shape]
    blas_path, blas = blas_library()
    print(json.dumps({
        "shape": a.shape, "backend": "torch", "provider": f"cpu ({blas} BLAS)", "threads": a.threads,
        "loraStepMs": lora_ms, "fullStepMs": full_ms, "forwardMs": forward_ms,
        "tokens": s["batch"] * s["seq"],
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # Linux: KiB
        "steps": a.steps, "warmup": a.warmup,
        "torch": torch.__version__, "python": sys.version.split()[0],
        "blas": blas, "blasLibrary": blas_path, "loraParams": lora_count, "config": s,
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
