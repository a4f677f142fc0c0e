#!/usr/bin/env python3
"""Reference PSNR and MS-SSIM values for Tests/VQZTests/QualityTests.swift.

An independent implementation of the definition documented in Sources/VQZ/Quality/MSSSIM.swift,
written with numpy/scipy and whole 2-D correlation (the Swift code filters separably), run once
to get numbers that the Swift tests hard-code. Needs numpy and scipy:

    python3 scripts/msssim_reference.py

The test pictures are made from integer formulas that the Swift test repeats exactly.
"""
import numpy as np
from scipy.signal import correlate2d

WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
C1 = (0.01 * 255) ** 2
C2 = (0.03 * 255) ** 2


def gaussian_window():
    r = np.arange(11) - 5
    g = np.exp(-(r ** 2) / (2 * 1.5 ** 2))
    g /= g.sum()
    return np.outer(g, g)


def luma(img):
    if img.ndim == 2:
        return img.astype(np.float64)
    rgb = img[..., :3].astype(np.float64)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def ssim_and_cs(x, y):
    win = gaussian_window()
    f = lambda a: correlate2d(a, win, mode="valid")
    mx, my = f(x), f(y)
    vx, vy, cxy = f(x * x) - mx * mx, f(y * y) - my * my, f(x * y) - mx * my
    cs = (2 * cxy + C2) / (vx + vy + C2)
    lum = (2 * mx * my + C1) / (mx * mx + my * my + C1)
    return (lum * cs).mean(), cs.mean()


def global_ssim(x, y):
    mx, my = x.mean(), y.mean()
    vx, vy, cxy = x.var(), y.var(), ((x - mx) * (y - my)).mean()
    return (2 * mx * my + C1) / (mx * mx + my * my + C1) * (2 * cxy + C2) / (vx + vy + C2)


def downsample(a):
    h, w = a.shape[0] // 2 * 2, a.shape[1] // 2 * 2
    a = a[:h, :w]
    return (a[0::2, 0::2] + a[1::2, 0::2] + a[0::2, 1::2] + a[1::2, 1::2]) / 4


def msssim(a, b):
    x, y = luma(a), luma(b)
    scales, side = 0, min(x.shape)
    while scales < 5 and side >= 11:
        scales += 1
        side //= 2
    if scales == 0:
        return global_ssim(x, y)
    weights = np.array(WEIGHTS[:scales])
    if scales < 5:
        weights = weights / weights.sum()
    result = 1.0
    for s in range(scales):
        ssim, cs = ssim_and_cs(x, y)
        if s == scales - 1:
            result *= max(ssim, 0.0) ** weights[s]
        else:
            result *= max(cs, 0.0) ** weights[s]
            x, y = downsample(x), downsample(y)
    return result


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def test_pair(w, h):
    """The picture pair of QualityTests.swift's testPattern(width:height:)."""
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(3), indexing="ij")
    base = (x + 2 * y + 60 * c) % 200 + 28 * ((x // 16 + y // 16) % 2)
    noise = ((x * 37 + y * 91 + c * 13) * (x * 11 + y * 5 + 7)) % 41 - 20
    return base.astype(np.uint8), np.clip(base + noise, 0, 255).astype(np.uint8)


if __name__ == "__main__":
    for w, h in [(200, 180), (64, 48), (9, 7)]:
        a, b = test_pair(w, h)
        print(f"{w}x{h}: PSNR {psnr(a, b):.10f}  MS-SSIM {msssim(a, b):.10f}")
