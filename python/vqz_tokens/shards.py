"""WebDataset shards that `vqz tokens --shards DIR` writes: PREFIX-NNNNNN.tar files holding
KEY.json and KEY.tokens.npy per sample, and PREFIX-index.jsonl with one line per sample."""

import io
import json
import os
import tarfile
from dataclasses import dataclass

import numpy as np

from .arrays import _parse_meta


@dataclass
class Sample:
    key: str
    tokens: np.ndarray  # uint16, (levels, rows, cols)
    meta: dict  # the KEY.json: model, digest, width, height, channels, factor, levels, source...


def iter_shard(path):
    """The samples of one shard, in order. Members of a sample are grouped by key, as
    WebDataset groups them (the key is the name up to its first dot)."""
    parts = {}
    current = None
    with tarfile.open(path, mode="r:") as tar:
        for member in tar:
            if not member.isfile():
                continue
            key, _, suffix = member.name.partition(".")
            if current is not None and key != current:
                yield _sample(current, parts)
                parts = {}
            current = key
            parts[suffix] = tar.extractfile(member).read()
    if current is not None:
        yield _sample(current, parts)


def _sample(key, parts):
    if "json" not in parts or "tokens.npy" not in parts:
        raise ValueError(f"sample {key} lacks {key}.json or {key}.tokens.npy")
    meta = _parse_meta(parts["json"])
    tokens = np.load(io.BytesIO(parts["tokens.npy"]), allow_pickle=False)
    if meta.get("key") != key:
        raise ValueError(f"{key}.json names key {meta.get('key')!r}")
    return Sample(key, tokens, meta)


def read_index(path):
    """The index: one dict per sample (its KEY.json and the shard holding it), in key order."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def iter_shards(folder, prefix="tokens"):
    """Every sample of a shard folder, in the index's order; each shard read once."""
    index = read_index(os.path.join(folder, f"{prefix}-index.jsonl"))
    shards = list(dict.fromkeys(entry["shard"] for entry in index))
    for shard in shards:
        yield from iter_shard(os.path.join(folder, shard))
