#!/usr/bin/env python3
"""The training peer for scripts/speed: one training step of vqz's tokenizer in JAX/XLA.

The network is built from a weights file and its config with the shapes of
Sources/Models/Tokenizer/TokenizerNetworks.swift (as scripts/onnx_peer.py builds it for inference),
in NHWC with vqz's [k, k, Cin, Cout] weights as they are (XLA's HWIO). The step is the one
`vqz train tokenizer` takes (Sources/Models/Training/TokenizerTrainer.swift): encoder, residual
quantization of `levels` levels (nearest code by distance, straight-through gradient, commitment
loss 0.25 * mean|z - sg(zq)|^2, EMA codebook update with decay 0.99), decoder, MSE, and Adam with
the gradient norm clipped at 1. vqz draws 1..L levels per step (quantizer dropout), so the step is
timed at floor and ceil of the mean draw and the two times averaged.

    jax_peer.py step WEIGHTS --batch 8 --crop 128 --repeat 10    (XLA uses every core)

prints one line: the mean step time over the repeats after a compiled warm-up (the median of each
level count), steps/s, and GFLOP/s counting the convolutions' multiply-adds x 2 for forward, input
gradient (not the stem's) and weight gradient, and the nearest-code distance products, which is
how scripts/speed counts vqz's step too (`flops` prints that count alone).
"""
import argparse
import sys
import time

from peer_weights import load_safetensors


def layers(cfg):
    """The convolutions in order: (name, k, cin, cout, stride, resolution divisor of the output,
    whether its input gradient is computed), for counting FLOPs."""
    c, s = cfg["channels"], cfg.get("pixelShuffle", 1)
    out = [("encoder.stem", 3, 3 * s * s, c[0], 1, s, False)]
    div = s
    for level in range(len(c) - 1):
        for b in range(cfg["blocksPerLevel"]):
            out += [(f"encoder.down{level}.block{b}.conv{i}", 3, c[level], c[level], 1, div, True) for i in (1, 2)]
        div *= 2
        out.append((f"encoder.down{level}.conv", 3, c[level], c[level + 1], 2, div, True))
    bottom = c[-1]
    for b in range(cfg["bottomBlocks"]):
        out += [(f"encoder.bottom.block{b}.conv{i}", 3, bottom, bottom, 1, div, True) for i in (1, 2)]
    out.append(("encoder.out", 1, bottom, cfg["codeDim"], 1, div, True))
    out.append(("decoder.in", 3, cfg["codeDim"], bottom, 1, div, True))
    for b in range(cfg["bottomBlocks"]):
        out += [(f"decoder.bottom.block{b}.conv{i}", 3, bottom, bottom, 1, div, True) for i in (1, 2)]
    for level in range(len(c) - 2, -1, -1):
        div //= 2
        out.append((f"decoder.up{level}.conv", 3, c[level + 1], c[level], 1, div, True))
        for b in range(cfg["blocksPerLevel"]):
            out += [(f"decoder.up{level}.block{b}.conv{i}", 3, c[level], c[level], 1, div, True) for i in (1, 2)]
    out.append(("decoder.out", 3, c[0], 3 * s * s, 1, s, True))
    return out


def step_flops(cfg, batch, crop, levels):
    """FLOPs of one training step: each convolution's forward multiply-adds x 2, three times
    (forward, input gradient, weight gradient; the stem has no input gradient), plus the distance
    products of the nearest-code search at each level."""
    total = 0
    for _, k, cin, cout, _, div, dx in layers(cfg):
        pixels = batch * (crop // div) ** 2
        fwd = 2 * pixels * k * k * cin * cout
        total += fwd * (3 if dx else 2)
    f = cfg.get("downsampling", 2 ** (len(cfg["channels"]) - 1) * cfg.get("pixelShuffle", 1))
    positions = batch * (crop // f) ** 2
    total += levels * 2 * positions * cfg["codebookSize"] * cfg["codeDim"]
    return total


def build(weights, cfg):
    import jax
    import jax.numpy as jnp

    s = cfg.get("pixelShuffle", 1)
    c = cfg["channels"]

    def conv(p, x, name, stride=1):
        w, b = p[name + ".weight"], p[name + ".bias"]
        k = w.shape[0]
        pad = (k - 1) // 2
        y = jax.lax.conv_general_dilated(x, w, (stride, stride), [(pad, pad), (pad, pad)],
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return y + b

    def block(p, x, name):
        h = conv(p, jax.nn.relu(x), name + ".conv1")
        return x + conv(p, jax.nn.relu(h), name + ".conv2")

    def encoder(p, x):
        n, h, w, _ = x.shape
        if s > 1:   # vqz orders a block's channels by row, column, then colour
            x = x.reshape(n, h // s, s, w // s, s, 3).transpose(0, 1, 3, 2, 4, 5).reshape(n, h // s, w // s, 3 * s * s)
        x = conv(p, x, "encoder.stem")
        for level in range(len(c) - 1):
            for b in range(cfg["blocksPerLevel"]):
                x = block(p, x, f"encoder.down{level}.block{b}")
            x = conv(p, x, f"encoder.down{level}.conv", stride=2)
        for b in range(cfg["bottomBlocks"]):
            x = block(p, x, f"encoder.bottom.block{b}")
        return conv(p, jax.nn.relu(x), "encoder.out")

    def decoder(p, z):
        x = conv(p, z, "decoder.in")
        for b in range(cfg["bottomBlocks"]):
            x = block(p, x, f"decoder.bottom.block{b}")
        for level in range(len(c) - 2, -1, -1):
            x = jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)
            x = conv(p, x, f"decoder.up{level}.conv")
            for b in range(cfg["blocksPerLevel"]):
                x = block(p, x, f"decoder.up{level}.block{b}")
        x = conv(p, jax.nn.relu(x), "decoder.out")
        if s > 1:
            n, h, w, _ = x.shape
            x = x.reshape(n, h, w, s, s, 3).transpose(0, 1, 3, 2, 4, 5).reshape(n, h * s, w * s, 3)
        return x

    def quantize(books, z, levels):
        d = z.shape[-1]
        r = z.reshape(-1, d)
        zq = jnp.zeros_like(r)
        stats = []
        for l in range(levels):
            e = books[l]
            dist = (r * r).sum(1, keepdims=True) - 2 * r @ e.T + (e * e).sum(1)[None]
            idx = jnp.argmin(dist, axis=1)
            q = e[idx]
            stats.append((jax.ops.segment_sum(jnp.ones_like(idx, jnp.float32), idx, e.shape[0]),
                          jax.ops.segment_sum(r, idx, e.shape[0])))
            zq = zq + q
            r = r - q
        return zq.reshape(z.shape), stats

    def loss_fn(p, books, x, levels):
        z = encoder(p, x)
        zq, stats = quantize(books, jax.lax.stop_gradient(z), levels)
        commit = 0.25 * jnp.mean((z - zq) ** 2)
        y = decoder(p, z + jax.lax.stop_gradient(zq - z))
        return jnp.mean((y - x) ** 2) + commit, stats

    def make_step(levels):
        def step(p, m, v, t, books, ema_n, ema_s, x, lr):
            (loss, stats), g = jax.value_and_grad(loss_fn, has_aux=True)(p, books, x, levels)
            norm = jnp.sqrt(sum(jnp.sum(gi * gi) for gi in jax.tree_util.tree_leaves(g)))
            scale = jnp.minimum(1.0, 1.0 / (norm + 1e-6))
            t = t + 1
            m = jax.tree_util.tree_map(lambda mi, gi: 0.9 * mi + 0.1 * gi * scale, m, g)
            v = jax.tree_util.tree_map(lambda vi, gi: 0.999 * vi + 0.001 * (gi * scale) ** 2, v, g)
            p = jax.tree_util.tree_map(
                lambda pi, mi, vi: pi - lr * (mi / (1 - 0.9 ** t)) / (jnp.sqrt(vi / (1 - 0.999 ** t)) + 1e-8), p, m, v)
            books, ema_n, ema_s = list(books), list(ema_n), list(ema_s)
            for l, (counts, sums) in enumerate(stats):
                ema_n[l] = 0.99 * ema_n[l] + 0.01 * counts
                ema_s[l] = 0.99 * ema_s[l] + 0.01 * sums
                books[l] = ema_s[l] / jnp.maximum(ema_n[l], 1e-5)[:, None]
            return p, m, v, t, books, ema_n, ema_s, loss
        return jax.jit(step)

    params = {k: jnp.asarray(v) for k, v in weights.items() if k.startswith(("encoder.", "decoder."))}
    books = [jnp.asarray(weights[f"quantizer.codebook.{l}"]) for l in range(cfg["levels"])]
    return params, books, make_step


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["step", "flops"])
    ap.add_argument("weights")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--levels", type=float, help="mean levels per step (default: vqz's mean draw, (1 + L) / 2)")
    a = ap.parse_args()
    weights, cfg = load_safetensors(a.weights)
    mean_levels = a.levels if a.levels is not None else (1 + cfg["levels"]) / 2
    if a.command == "flops":
        print(step_flops(cfg, a.batch, a.crop, mean_levels))
        return
    import jax
    import jax.numpy as jnp
    import numpy as np

    params, books, make_step = build(weights, cfg)
    zeros = lambda: jax.tree_util.tree_map(jnp.zeros_like, params)
    low, high = int(np.floor(mean_levels)), int(np.ceil(mean_levels))
    rng = np.random.default_rng(1)
    times = {}
    for levels in sorted({low, high}):
        step = make_step(levels)
        state = (params, zeros(), zeros(), jnp.asarray(0.0), books,
                 [jnp.ones(b.shape[0]) for b in books], [b for b in books])
        samples = []
        for i in range(a.repeat + 1):
            x = jnp.asarray(rng.uniform(-0.5, 0.5, (a.batch, a.crop, a.crop, 3)).astype(np.float32))
            t0 = time.perf_counter()
            out = step(*state, x, 1e-4)
            out[-1].block_until_ready()
            if i > 0:   # the first call compiles
                samples.append(time.perf_counter() - t0)
            state = out[:-1]
        times[levels] = float(np.median(samples))
    # The mean draw between the two level counts, weighted to land on mean_levels.
    wt = mean_levels - low if high > low else 0.0
    seconds = (1 - wt) * times[low] + wt * times[high]
    flops = step_flops(cfg, a.batch, a.crop, mean_levels)
    print(f"jax {jax.__version__} step  batch {a.batch}x{a.crop}x{a.crop}  levels {mean_levels:g}  "
          f"{seconds * 1000:.1f} ms  {1 / seconds:.3f} steps/s  {flops / seconds / 1e9:.1f} GFLOP/s  "
          f"(every core, median of {a.repeat})")


if __name__ == "__main__":
    sys.exit(main())
