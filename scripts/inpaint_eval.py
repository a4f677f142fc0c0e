"""The body of scripts/inpaint-eval (run through it: it sets up the Python packages)."""
import argparse
import csv
import hashlib
import importlib.machinery
import importlib.util
import os
import shlex
import subprocess
import sys
import tempfile
import time

import cv2
import numpy as np
from PIL import Image
from ssimulacra2 import compute_ssimulacra2

HERE = os.path.dirname(os.path.abspath(__file__))


def load_rd():
    # PSNR and MS-SSIM exactly as scripts/rd (and vqz compare) define them.
    loader = importlib.machinery.SourceFileLoader("rd", os.path.join(HERE, "rd"))
    spec = importlib.util.spec_from_loader("rd", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


rd = load_rd()


# --- Holes ------------------------------------------------------------------------------------

def rng_for(name, kind):
    seed = int.from_bytes(hashlib.sha256(f"{name}/{kind}".encode()).digest()[:8], "little")
    return np.random.default_rng(seed)


def square_hole(name, shape, side):
    """A side x side hole whose centre lies in the middle half of the picture."""
    h, w = shape
    rng = rng_for(name, f"square{side}")
    cx = int(rng.integers(w // 4, 3 * w // 4))
    cy = int(rng.integers(h // 4, 3 * h // 4))
    x0 = min(max(cx - side // 2, 0), w - side)
    y0 = min(max(cy - side // 2, 0), h - side)
    mask = np.zeros((h, w), bool)
    mask[y0:y0 + side, x0:x0 + side] = True
    return mask


def free_hole(name, shape):
    """Three brush strokes 12 pixels wide around one point in the middle half of the picture, each
    a random walk of 6 segments of 10 pixels kept within 40 pixels of that point: about the area
    of a 48x48 square, in the shapes a user draws over one object."""
    h, w = shape
    rng = rng_for(name, "free")
    canvas = np.zeros((h, w), np.uint8)
    cx, cy = int(rng.integers(w // 4, 3 * w // 4)), int(rng.integers(h // 4, 3 * h // 4))
    for _ in range(3):
        x, y = cx + rng.uniform(-20, 20), cy + rng.uniform(-20, 20)
        angle = rng.uniform(0, 2 * np.pi)
        for _ in range(6):
            angle += rng.normal(0, 0.6)
            nx = min(max(x + 10 * np.cos(angle), cx - 40), cx + 40)
            ny = min(max(y + 10 * np.sin(angle), cy - 40), cy + 40)
            cv2.line(canvas, (int(x), int(y)), (int(nx), int(ny)), 255, 12)
            x, y = nx, ny
    return canvas > 0


def crop_box(mask, margin=40, least=128):
    """The hole's bounding box grown by `margin`, at least least x least, inside the picture."""
    h, w = mask.shape
    ys, xs = np.nonzero(mask)
    x0, x1 = xs.min() - margin, xs.max() + 1 + margin
    y0, y1 = ys.min() - margin, ys.max() + 1 + margin
    if x1 - x0 < least:
        x0 -= (least - (x1 - x0)) // 2
        x1 = x0 + least
    if y1 - y0 < least:
        y0 -= (least - (y1 - y0)) // 2
        y1 = y0 + least
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, w), min(y1, h)
    return x0, y0, x1, y1


# --- Fills ------------------------------------------------------------------------------------

def blur_fill(img, mask, iterations=2000):
    """Harmonic fill: Jacobi iterations of the 4-neighbour mean inside the hole, started from the
    mean of the pixels around it: a smooth blur from the border inwards."""
    x0, y0, x1, y1 = crop_box(mask, margin=2, least=0)
    sub = img[y0:y1, x0:x1].astype(np.float64)
    hole = mask[y0:y1, x0:x1]
    ring = cv2.dilate(hole.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~hole
    sub[hole] = sub[ring].mean(axis=0)
    for _ in range(iterations):
        padded = np.pad(sub, ((1, 1), (1, 1), (0, 0)), mode="edge")
        mean = (padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]) / 4
        sub[hole] = mean[hole]
    out = img.copy()
    out[y0:y1, x0:x1] = np.clip(np.rint(sub), 0, 255).astype(np.uint8)
    return out


def opencv_fill(img, mask, flag):
    bgr = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    filled = cv2.inpaint(bgr, mask.astype(np.uint8) * 255, 3, flag)
    return cv2.cvtColor(filled, cv2.COLOR_BGR2RGB)


def vqz_fill(vqz, args, photo, mask, work):
    mask_path = os.path.join(work, "mask.png")
    out_path = os.path.join(work, "fill.png")
    Image.fromarray(mask.astype(np.uint8) * 255).save(mask_path)
    if os.path.exists(out_path):
        os.remove(out_path)
    subprocess.run([vqz, "inpaint", photo, "--mask", mask_path, "-o", out_path] + args,
                   check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return np.array(Image.open(out_path).convert("RGB"))


# --- Figures ----------------------------------------------------------------------------------

def ssimulacra2_around(ref, out, mask, work):
    x0, y0, x1, y1 = crop_box(mask)
    a, b = os.path.join(work, "ref-crop.png"), os.path.join(work, "out-crop.png")
    Image.fromarray(ref[y0:y1, x0:x1]).save(a)
    Image.fromarray(out[y0:y1, x0:x1]).save(b)
    return float(compute_ssimulacra2(a, b))


def contact_sheet(rows, path, side=160, gap=4):
    """One row per photo: the crop around the hole, original first, then each method's fill."""
    if not rows:
        return
    cols = max(len(r) for r in rows)
    sheet = np.full((len(rows) * (side + gap) - gap, cols * (side + gap) - gap, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, tile in enumerate(row):
            t = np.array(Image.fromarray(tile).resize((side, side), Image.LANCZOS))
            sheet[i * (side + gap):i * (side + gap) + side, j * (side + gap):j * (side + gap) + side] = t
    Image.fromarray(sheet).save(path)


def main():
    p = argparse.ArgumentParser(prog="scripts/inpaint-eval")
    p.add_argument("dir", nargs="?", default="data/val")
    p.add_argument("--out", default="data/inpaint-eval")
    p.add_argument("--vqz", default=".build/release/vqz")
    p.add_argument("--holes", default="32,48,96")
    p.add_argument("--no-free", action="store_true", help="leave out the free-form masks")
    p.add_argument("--method", action="append", default=[],
                   help="NAME=ARGS: a vqz row, ARGS given to `vqz inpaint` (repeatable)")
    p.add_argument("--limit", type=int, default=0, help="photos to use at most (0: all)")
    a = p.parse_args()

    methods = [m.split("=", 1) for m in a.method] or [["vqz", ""]]
    if any(len(m) != 2 or not m[0] for m in methods):
        sys.exit("inpaint-eval: --method takes NAME=ARGS")
    if not os.access(a.vqz, os.X_OK):
        sys.exit(f"inpaint-eval: {a.vqz} not found; run 'swift build -c release' first")
    photos = sorted(f for f in os.listdir(a.dir) if f.lower().endswith(".png"))
    if a.limit:
        photos = photos[:a.limit]
    if not photos:
        sys.exit(f"inpaint-eval: no PNG in {a.dir} (scripts/fetch-data makes data/val)")
    kinds = [f"square{int(s)}" for s in a.holes.split(",") if s] + ([] if a.no_free else ["free"])
    names = ["blur", "telea", "ns"] + [m[0] for m in methods]
    os.makedirs(a.out, exist_ok=True)

    rows, sheets = [], {k: [] for k in kinds}
    with tempfile.TemporaryDirectory() as work:
        for photo in photos:
            path = os.path.join(a.dir, photo)
            img = np.array(Image.open(path).convert("RGB"))
            for kind in kinds:
                mask = free_hole(photo, img.shape[:2]) if kind == "free" else \
                    square_hole(photo, img.shape[:2], int(kind[len("square"):]))
                x0, y0, x1, y1 = crop_box(mask)
                tiles = [img[y0:y1, x0:x1]]
                for name in names:
                    t0 = time.perf_counter()
                    if name == "blur":
                        out = blur_fill(img, mask)
                    elif name == "telea":
                        out = opencv_fill(img, mask, cv2.INPAINT_TELEA)
                    elif name == "ns":
                        out = opencv_fill(img, mask, cv2.INPAINT_NS)
                    else:
                        args = shlex.split(dict(methods)[name])
                        out = vqz_fill(a.vqz, args, path, mask, work)
                    seconds = time.perf_counter() - t0
                    row = dict(photo=photo, hole=kind, method=name, seconds=f"{seconds:.3f}",
                               psnr=f"{rd.py_psnr(img, out):.3f}", msssim=f"{rd.py_msssim(img, out):.5f}",
                               ssimulacra2=f"{ssimulacra2_around(img, out, mask, work):.3f}")
                    rows.append(row)
                    tiles.append(out[y0:y1, x0:x1])
                    print(f"{photo:28} {kind:10} {name:12} PSNR {row['psnr']:>7} MS-SSIM {row['msssim']} "
                          f"SSIMULACRA2 {row['ssimulacra2']:>8}  {row['seconds']} s", flush=True)
                sheets[kind].append(tiles)

    with open(os.path.join(a.out, "inpaint.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    lines = [f"Means over {len(photos)} photos of {a.dir}; SSIMULACRA2 over the hole grown by 40 pixels "
             f"(at least 128x128), PSNR and MS-SSIM over the whole picture.", "",
             "| hole | method | SSIMULACRA2 | PSNR (dB) | MS-SSIM | seconds |", "|---|---|---:|---:|---:|---:|"]
    for kind in kinds:
        for name in names:
            sel = [r for r in rows if r["hole"] == kind and r["method"] == name]
            mean = lambda key: sum(float(r[key]) for r in sel) / len(sel)
            lines.append(f"| {kind} | {name} | {mean('ssimulacra2'):.2f} | {mean('psnr'):.2f} | "
                         f"{mean('msssim'):.4f} | {mean('seconds'):.2f} |")
    summary = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "inpaint-summary.md"), "w") as f:
        f.write(summary)
    for kind, tiles in sheets.items():
        contact_sheet(tiles, os.path.join(a.out, f"sheet-{kind}.png"))
    print()
    print("methods, left to right in the sheets: original, " + ", ".join(names))
    print(summary, end="")


if __name__ == "__main__":
    main()
