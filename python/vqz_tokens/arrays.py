"""Token arrays: uint16 of shape (levels, rows, cols); an .npz adds `meta`, a JSON string."""

import io
import json

import numpy as np

FORMAT = "vqz-tokens"


def _parse_meta(text):
    meta = json.loads(text)
    if meta.get("format") != FORMAT:
        raise ValueError(f"metadata format is {meta.get('format')!r}, not {FORMAT!r}")
    return meta


def read_tokens(source):
    """(tokens, meta) of an .npy or .npz given as a path, bytes or a file; meta is None for a bare .npy.

    Pickled objects are never loaded (allow_pickle=False), so a hostile file cannot run code.
    """
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    loaded = np.load(source, allow_pickle=False)
    if isinstance(loaded, np.ndarray):
        return loaded, None
    with loaded:
        tokens = loaded["tokens"]
        meta = _parse_meta(loaded["meta"].item()) if "meta" in loaded.files else None
    if meta is not None and tokens.shape[0] != meta["levels"]:
        raise ValueError(f"meta says {meta['levels']} levels, the array has {tokens.shape[0]}")
    return tokens, meta


def write_npz(path, tokens, meta):
    """An .npz that `vqz decompress` reads: tokens (levels, rows, cols) and meta as JSON.

    `meta` is the dict read_tokens returned (or a sample's JSON); edit the tokens, keep the meta.
    """
    tokens = np.ascontiguousarray(tokens)
    if tokens.ndim == 2:
        tokens = tokens[np.newaxis]
    meta = {k: v for k, v in meta.items() if k not in ("key", "source", "shard")}
    meta["levels"] = int(tokens.shape[0])
    np.savez_compressed(path, tokens=tokens, meta=np.array(json.dumps(meta, sort_keys=True)))
