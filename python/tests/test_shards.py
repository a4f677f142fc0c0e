"""Shards vqz writes read with Python's tarfile, GNU tar and this package, and equal the arrays
`vqz tokens` exports one by one."""

import json
import subprocess
import tarfile

import numpy as np

from vqz_tokens import iter_shard, iter_shards, read_index, read_tokens


def test_shards_read_as_webdataset_samples(run, tmp_path, photos):
    run("tokens", photos, "--shards", "out", "--shard-size", "2")
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["tokens-000000.tar", "tokens-000001.tar", "tokens-index.jsonl"]

    index = read_index(out / "tokens-index.jsonl")
    assert [e["source"] for e in index] == ["a/c/kite2.png", "a/leaf.jpg", "b/kite.png"]
    assert [e["shard"] for e in index] == ["tokens-000000.tar"] * 2 + ["tokens-000001.tar"]

    samples = list(iter_shards(out))
    assert [s.key for s in samples] == ["000000000", "000000001", "000000002"]
    for sample, entry in zip(samples, index):
        assert sample.meta == {k: v for k, v in entry.items() if k != "shard"}
        run("tokens", photos / entry["source"], "-f", "-o", "one.npy")
        alone, _ = read_tokens(tmp_path / "one.npy")
        assert np.array_equal(sample.tokens, alone)
        f = sample.meta["factor"]
        assert sample.tokens.shape == (sample.meta["levels"], -(-sample.meta["height"] // f), -(-sample.meta["width"] // f))


def test_tar_headers_are_fixed_and_gnu_tar_reads_them(run, tmp_path, photos):
    run("tokens", photos, "--shards", "out", "--shard-size", "5")
    shard = tmp_path / "out" / "tokens-000000.tar"
    with tarfile.open(shard) as tar:
        members = tar.getmembers()
        assert [m.name for m in members][:2] == ["000000000.json", "000000000.tokens.npy"]
        for m in members:
            assert (m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode, m.type) == (0, 0, 0, "", "", 0o644, tarfile.REGTYPE)
        assert json.loads(tar.extractfile(members[0]).read())["key"] == "000000000"
    listing = subprocess.run(["tar", "-tvf", shard], capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(listing) == 6 and all(line.startswith("-rw-r--r-- 0/0") for line in listing), listing
    extracted = tmp_path / "x"
    extracted.mkdir()
    subprocess.run(["tar", "-xf", shard, "-C", extracted], check=True)
    assert np.array_equal(np.load(extracted / "000000001.tokens.npy"), next(iter(list(iter_shard(shard))[1:])).tokens)


def test_a_second_run_writes_the_same_bytes(run, tmp_path, photos):
    run("tokens", photos, "--shards", "a", "--shard-size", "2")
    run("tokens", photos, "--shards", "b", "--shard-size", "2", "--worker", "1/2")
    run("tokens", photos, "--shards", "b", "--shard-size", "2", "--worker", "0/2")
    for name in ["tokens-000000.tar", "tokens-000001.tar", "tokens-index.jsonl"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
