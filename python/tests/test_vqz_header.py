"""The .vqz header reader agrees with `vqz info` and refuses what the reference reader refuses."""

import json

import pytest

from vqz_tokens import read_vqz_header

from conftest import SAMPLES


def test_header_agrees_with_vqz_info(run, tmp_path):
    run("compress", "--levels", "3", SAMPLES / "kite-rgba-160x120.png", "-o", "kite.vqz")
    header = read_vqz_header(tmp_path / "kite.vqz")
    info = json.loads(run("info", "--json", "kite.vqz").stdout)
    info = info[0] if isinstance(info, list) else info
    assert (header.width, header.height, header.alpha, header.levels) == (160, 120, True, 3)
    assert (header.grid_width, header.grid_height) == (20, 15)
    assert header.chunks[0] == "HEAD" and header.chunks[-1] == "DONE" and "ALPH" in header.chunks
    assert header.codebook_sizes == [1024] * 3
    assert header.packing == info["packing"] == "per-level"
    text = json.dumps(info)
    assert header.fingerprint in text or header.digest in text, (header, info)


def test_damaged_files_are_refused(run, tmp_path):
    run("compress", "--levels", "1", SAMPLES / "leaf-256.jpg", "-o", "leaf.vqz")
    data = (tmp_path / "leaf.vqz").read_bytes()
    with pytest.raises(ValueError, match="CRC-32"):
        read_vqz_header(data[:20] + bytes([data[20] ^ 1]) + data[21:])
    for cut in (0, 9, 12, 40, len(data) - 1):
        with pytest.raises(ValueError):
            read_vqz_header(data[:cut])
    with pytest.raises(ValueError, match="version"):
        read_vqz_header(data[:8] + b"\x02\x00" + data[10:])
