"""Token arrays vqz writes load in NumPy, and arrays NumPy writes decode in vqz."""

import numpy as np

from vqz_tokens import read_tokens, write_npz

from conftest import SAMPLES


def test_npz_carries_model_size_and_factor(run, tmp_path):
    run("tokens", "--levels", "2", SAMPLES / "kite-rgba-160x120.png", "-o", "kite.npz")
    tokens, meta = read_tokens(tmp_path / "kite.npz")
    assert tokens.dtype == np.uint16 and tokens.shape == (2, 15, 20)
    assert (meta["width"], meta["height"], meta["channels"], meta["factor"], meta["levels"]) == (160, 120, 3, 8, 2)
    assert len(meta["digest"]) == 32 and meta["model"]
    with np.load(tmp_path / "kite.npz", allow_pickle=False) as z:
        assert sorted(z.files) == ["meta", "tokens"]


def test_edit_one_token_with_numpy_and_decode(run, tmp_path):
    run("compress", "--levels", "4", "--no-tint", SAMPLES / "leaf-256.jpg", "-o", "leaf.vqz")
    run("decompress", "leaf.vqz", "--format", "ppm", "-o", "vqz.ppm")
    run("tokens", "leaf.vqz", "-o", "leaf.npz")
    tokens, meta = read_tokens(tmp_path / "leaf.npz")

    write_npz(tmp_path / "same.npz", tokens, meta)
    run("decompress", "same.npz", "--format", "ppm", "-o", "same.ppm")
    assert (tmp_path / "same.ppm").read_bytes() == (tmp_path / "vqz.ppm").read_bytes()

    edited = tokens.copy()
    edited[0, 10, 10] = (edited[0, 10, 10] + 500) % meta["codebook_size"]
    write_npz(tmp_path / "edited.npz", edited, meta)
    # f32: the int16 decoder scales each activation tensor by its maximum, so one token can
    # move every pixel by a level; the reference arithmetic is local.
    run("decompress", "same.npz", "--decoder-precision", "f32", "--format", "ppm", "-o", "same-f32.ppm")
    run("decompress", "edited.npz", "--decoder-precision", "f32", "--format", "ppm", "-o", "edited.ppm")
    before = _ppm(tmp_path / "same-f32.ppm")
    after = _ppm(tmp_path / "edited.ppm")
    changed = np.argwhere((before != after).any(axis=2))
    assert len(changed) > 0
    y0, x0 = changed.min(axis=0)
    y1, x1 = changed.max(axis=0)
    # Token (10, 10) covers pixels 80...87; the decoder reaches a few tokens around it, no further.
    assert y0 <= 87 and y1 >= 80 and x0 <= 87 and x1 >= 80, (y0, x0, y1, x1)
    assert y1 < 180 and x1 < 180, (y1, x1)


def test_int64_array_from_a_model_decodes(run, tmp_path):
    """A sampler's int64 (rows, cols) grid: a bare .npy, decoded at the grid's size."""
    rng = np.random.default_rng(1)
    np.save(tmp_path / "sample.npy", rng.integers(0, 1024, size=(6, 5), dtype=np.int64))
    run("decompress", "sample.npy", "--format", "ppm", "-o", "sample.ppm")
    assert _ppm(tmp_path / "sample.ppm").shape == (48, 40, 3)
    np.save(tmp_path / "fortran.npy", np.asfortranarray(rng.integers(0, 1024, size=(6, 5))))
    done = run("decompress", "fortran.npy", "-o", "f.png", ok=False)
    assert done.returncode == 2 and b"Fortran order" in done.stderr
    assert not (tmp_path / "f.png").exists()


def _ppm(path):
    data = path.read_bytes()
    magic, width, height, maxval = data.split(maxsplit=4)[:4]
    assert magic == b"P6" and maxval == b"255"
    width, height = int(width), int(height)
    return np.frombuffer(data[-width * height * 3:], dtype=np.uint8).reshape(height, width, 3)
