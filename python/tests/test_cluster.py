"""scripts/tokenize-cluster on a local Ray cluster of 2 workers writes the shards a single
`vqz tokens` writes, byte for byte."""

import os
import subprocess
import sys

import pytest

from conftest import REPO

if os.environ.get("VQZ_REQUIRE_RAY") != "1":
    pytest.importorskip("ray", reason="Ray is not installed (.ci/run installs it and sets VQZ_REQUIRE_RAY=1)")


def test_two_ray_workers_write_the_single_run_shards(vqz, run, tmp_path, photos):
    run("tokens", photos, "--shards", "single", "--shard-size", "1", "--levels", "2")
    done = subprocess.run([sys.executable, REPO / "scripts" / "tokenize-cluster", photos, "--shards", tmp_path / "cluster",
                           "--workers", "2", "--tasks", "3", "--vqz", vqz, "--", "--shard-size", "1", "--levels", "2"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "3 images in" in done.stderr
    single = sorted(p.name for p in (tmp_path / "single").iterdir())
    assert single == ["tokens-000000.tar", "tokens-000001.tar", "tokens-000002.tar", "tokens-index.jsonl"]
    assert sorted(p.name for p in (tmp_path / "cluster").iterdir()) == single
    for name in single:
        assert (tmp_path / "cluster" / name).read_bytes() == (tmp_path / "single" / name).read_bytes(), name
