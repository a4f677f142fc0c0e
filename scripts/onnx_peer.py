#!/usr/bin/env python3
"""The peer for scripts/speed: vqz's tokenizer rebuilt in ONNX Runtime from the same weights file.

The encoder and the decoder are built layer for layer from tokenizer.safetensors and its config
(the same shapes as Sources/Models/Tokenizer/TokenizerNetworks.swift: stem, residual blocks
ReLU-conv-ReLU-conv, stride-2 convs, nearest 2x upsampling, the optional pixel shuffle), in NCHW
as ONNX Runtime's CPU kernels prefer. Two settings: f32, and ONNX Runtime's static int8
quantization (QDQ, u8 activations calibrated on pictures, s8 weights per output channel), its
fastest setting on this CPU.

    onnx_peer.py verify WEIGHTS TOKENS.npy VQZ.ppm ORIGINAL.ppm   decode vqz's tokens, compare
    onnx_peer.py time WEIGHTS IMAGE.ppm --calibrate A.ppm [B.ppm...] --repeat N
    onnx_peer.py tokens WEIGHTS IMAGE.ppm VQZ_TOKENS.npy          encoder: token agreement
    onnx_peer.py psnr ORIGINAL.ppm DECODED.ppm...                  PSNR of each against the original
    onnx_peer.py same-tokens A.npy B.npy                           per level, the share of equal tokens

`verify` prints the PSNR of ONNX Runtime's decode against vqz's (both rounded to 8 bits: the
check that the two run the same network) and of each against the original. `time` prints one
line per setting: the best of N timed runs of session.run per network, model loaded, after one
warm-up run (as vqz bench times its own). Images are read as binary PPM (vqz decompress --format ppm writes them).
"""
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import onnxruntime as ort

from peer_weights import load_safetensors


def read_ppm(path):
    """A binary P6 file as float32 [H, W, 3] in 0..255."""
    with open(path, "rb") as f:
        raw = f.read()
    fields, pos = [], 2
    assert raw[:2] == b"P6", f"{path}: not a binary PPM"
    while len(fields) < 3:
        while raw[pos:pos + 1].isspace():
            pos += 1
        if raw[pos:pos + 1] == b"#":
            pos = raw.index(b"\n", pos)
            continue
        end = pos
        while not raw[end:end + 1].isspace():
            end += 1
        fields.append(int(raw[pos:end]))
        pos = end
    w, h, maxval = fields
    assert maxval == 255, f"{path}: 8-bit PPM expected"
    pix = np.frombuffer(raw[pos + 1:pos + 1 + w * h * 3], dtype=np.uint8)
    return pix.reshape(h, w, 3).astype(np.float32)


def read_npy_tokens(path):
    """vqz tokens -o X.npy: uint16 [levels, gh, gw]."""
    return np.load(path).astype(np.int64)


class Graph:
    """Collects ONNX nodes and initializers with unique names."""

    def __init__(self, weights):
        self.w, self.nodes, self.inits, self.n = weights, [], [], 0

    def name(self, stem):
        self.n += 1
        return f"{stem}_{self.n}"

    def conv(self, x, prefix, stride=1, pad=None):
        w = self.w[prefix + ".weight"]            # vqz: [k, k, Cin, Cout]
        k = w.shape[0]
        p = (k - 1) // 2 if pad is None else pad
        wn, bn = prefix + ".weight", prefix + ".bias"
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(w.transpose(3, 2, 0, 1)), wn))
        self.inits.append(numpy_helper.from_array(self.w[prefix + ".bias"], bn))
        y = self.name(prefix)
        self.nodes.append(helper.make_node("Conv", [x, wn, bn], [y], kernel_shape=[k, k],
                                           strides=[stride, stride], pads=[p, p, p, p]))
        return y

    def op(self, kind, inputs, **attrs):
        y = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [y], **attrs))
        return y

    def relu(self, x):
        return self.op("Relu", [x])

    def block(self, x, prefix):
        h = self.conv(self.relu(x), prefix + ".conv1")
        h = self.conv(self.relu(h), prefix + ".conv2")
        return self.op("Add", [x, h])

    def upsample(self, x):
        scales = self.name("scales")
        self.inits.append(numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), scales))
        return self.op("Resize", [x, "", scales], mode="nearest")

    def model(self, inp, out, in_shape, out_shape):
        g = helper.make_graph(self.nodes, "vqz", [helper.make_tensor_value_info(inp, TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, out_shape)], self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def encoder(weights, cfg):
    """[1, 3, H, W] in [-0.5, 0.5] -> [1, D, H/f, W/f]."""
    c, g, s = cfg["channels"], Graph(weights), cfg.get("pixelShuffle", 1)
    x = "image"
    if s > 1:
        # vqz orders a block's channels by row, column, then colour: ONNX's SpaceToDepth order.
        x = g.op("SpaceToDepth", [x], blocksize=s)
    x = g.conv(x, "encoder.stem")
    for level in range(len(c) - 1):
        for b in range(cfg["blocksPerLevel"]):
            x = g.block(x, f"encoder.down{level}.block{b}")
        x = g.conv(x, f"encoder.down{level}.conv", stride=2, pad=1)
    for b in range(cfg["bottomBlocks"]):
        x = g.block(x, f"encoder.bottom.block{b}")
    x = g.conv(g.relu(x), "encoder.out")
    return g.model("image", x, [1, 3, "H", "W"], [1, cfg["codeDim"], "h", "w"])


def decoder(weights, cfg):
    """[1, D, h, w] -> [1, 3, h*f, w*f]."""
    c, g, s = cfg["channels"], Graph(weights), cfg.get("pixelShuffle", 1)
    x = g.conv("latent", "decoder.in")
    for b in range(cfg["bottomBlocks"]):
        x = g.block(x, f"decoder.bottom.block{b}")
    for level in range(len(c) - 2, -1, -1):
        x = g.conv(g.upsample(x), f"decoder.up{level}.conv")
        for b in range(cfg["blocksPerLevel"]):
            x = g.block(x, f"decoder.up{level}.block{b}")
    x = g.conv(g.relu(x), "decoder.out")
    if s > 1:
        x = g.op("DepthToSpace", [x], blocksize=s, mode="DCR")
    return g.model("latent", x, [1, cfg["codeDim"], "h", "w"], [1, 3, "H", "W"])


def session(model, threads):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def to_nchw_image(pix):
    return np.ascontiguousarray((pix / 255.0 - 0.5).astype(np.float32).transpose(2, 0, 1)[None])


def to_bytes(y):
    """[1, 3, H, W] in [-0.5, 0.5] -> uint8 [H, W, 3], rounded as vqz's toByte does."""
    return np.clip(np.round((y[0].transpose(1, 2, 0) + 0.5) * 255), 0, 255).astype(np.uint8)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def latent_from_tokens(weights, tokens):
    levels, gh, gw = tokens.shape
    z = np.zeros((gh, gw, weights["quantizer.codebook.0"].shape[1]), np.float32)
    for l in range(levels):
        z += weights[f"quantizer.codebook.{l}"][tokens[l]]
    return np.ascontiguousarray(z.transpose(2, 0, 1)[None])


def nearest_tokens(weights, z, levels):
    """vqz's residual nearest-code search, in float64 (the argmin is what is compared)."""
    d = z.shape[1]
    r = z[0].transpose(1, 2, 0).reshape(-1, d).astype(np.float64)
    out = []
    for l in range(levels):
        e = weights[f"quantizer.codebook.{l}"].astype(np.float64)
        dist = (r ** 2).sum(1, keepdims=True) - 2 * r @ e.T + (e ** 2).sum(1)[None]
        idx = dist.argmin(1)
        out.append(idx)
        r = r - e[idx]
    return np.stack(out)


def quantized(model, input_name, arrays):
    """ONNX Runtime's static int8: QDQ, u8 activations, s8 weights per output channel."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    import tempfile, os

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{input_name: a} for a in arrays])

        def get_next(self):
            return next(self.items, None)

    with tempfile.TemporaryDirectory() as d:
        src, dst = os.path.join(d, "f32.onnx"), os.path.join(d, "int8.onnx")
        onnx.save(model, src)
        quantize_static(src, dst, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        return onnx.load(dst)


def timed(sess, feed, repeat):
    """Best of `repeat` runs after a warm-up, as vqz bench times its own."""
    sess.run(None, feed)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        sess.run(None, feed)
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv):
    cmd, path = argv[1], argv[2]
    if cmd == "psnr":
        # psnr ORIGINAL.ppm A.ppm [B.ppm...]: each against the original, on one line.
        original = read_ppm(path)
        print(" ".join(f"{psnr(read_ppm(p)[:original.shape[0], :original.shape[1]], original):.4f}" for p in argv[3:]))
        return
    if cmd == "same-tokens":
        # same-tokens A.npy B.npy: the share of positions, per level, where the two agree.
        a, b = read_npy_tokens(path), read_npy_tokens(argv[3])
        print(" ".join(f"{(a[l] == b[l]).mean():.6f}" for l in range(a.shape[0])))
        return
    weights, cfg = load_safetensors(path)
    threads = 2
    f = cfg.get("pixelShuffle", 1) << (len(cfg["channels"]) - 1)
    if cmd == "verify":
        tokens, vqz_pix, original = read_npy_tokens(argv[3]), read_ppm(argv[4]), read_ppm(argv[5])
        z = latent_from_tokens(weights, tokens)
        y = session(decoder(weights, cfg), threads).run(None, {"latent": z})[0]
        h, w = vqz_pix.shape[:2]
        peer = to_bytes(y)[:h, :w]
        print(f"verify  decoder  onnxruntime f32 vs vqz: {psnr(peer, vqz_pix):.2f} dB   "
              f"vqz vs original {psnr(vqz_pix, original):.3f} dB   onnxruntime vs original {psnr(peer, original):.3f} dB")
    elif cmd == "tokens":
        pix, ref = read_ppm(argv[3]), read_npy_tokens(argv[4])
        for label, model in [("f32", None), ("int8", "int8")]:
            enc = encoder(weights, cfg)
            if model:
                enc = quantized(enc, "image", [to_nchw_image(pix)])
            z = session(enc, threads).run(None, {"image": to_nchw_image(pix)})[0]
            t = nearest_tokens(weights, z, ref.shape[0])
            same = (t.reshape(ref.shape) == ref).mean(axis=(1, 2))
            print(f"tokens  encoder  onnxruntime {label}: agreement with vqz per level " +
                  " ".join(f"{100 * s:.2f}%" for s in same))
    elif cmd == "time":
        image = read_ppm(argv[3])
        rest = argv[4:]
        repeat = int(rest[rest.index("--repeat") + 1]) if "--repeat" in rest else 5
        calib = []
        if "--calibrate" in rest:
            i = rest.index("--calibrate") + 1
            while i < len(rest) and not rest[i].startswith("--"):
                calib.append(read_ppm(rest[i]))
                i += 1
        x = to_nchw_image(image)
        h, w = x.shape[2] // f * f, x.shape[3] // f * f
        x = np.ascontiguousarray(x[:, :, :h, :w])
        enc, dec = encoder(weights, cfg), decoder(weights, cfg)
        enc_s = session(enc, threads)
        # The decoder's input as vqz decodes it: the encoder's latent through every quantizer level.
        z = latent_from_tokens(weights, nearest_tokens(weights, enc_s.run(None, {"image": x})[0], cfg["levels"])
                               .reshape(cfg["levels"], h // f, w // f))
        # Calibration: the pictures given (never the one timed or measured), cropped to whole grids.
        cal_images = [to_nchw_image(c)[:, :, :c.shape[0] // f * f, :c.shape[1] // f * f] for c in calib] or [x]
        cal_latents = [enc_s.run(None, {"image": np.ascontiguousarray(c)})[0] for c in cal_images]
        settings = [("f32", enc, dec),
                    ("int8", quantized(enc, "image", cal_images), quantized(dec, "latent", cal_latents))]
        for label, e, d in settings:
            es, ds = session(e, threads), session(d, threads)
            te = timed(es, {"image": x}, repeat)
            td = timed(ds, {"latent": z}, repeat)
            y = ds.run(None, {"latent": z})[0]
            q = psnr(to_bytes(y), (image[:h, :w]).astype(np.uint8))
            print(f"onnxruntime {label:4s}  {w}x{h}  encoder {1000 * te:.1f} ms  decoder {1000 * td:.1f} ms  "
                  f"decode PSNR vs original {q:.3f} dB  ({threads} threads, best of {repeat})")
    else:
        sys.exit(f"onnx_peer: unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
