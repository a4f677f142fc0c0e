"""Read what vqz writes for ML pipelines: token arrays (.npy, .npz), WebDataset shards of token
arrays with their index, and the headers of .vqz files. NumPy and the standard library only.

docs/TOKENS.md describes the layouts; docs/FORMAT.md the .vqz container.
"""

from .arrays import read_tokens, write_npz
from .shards import Sample, iter_shard, iter_shards, read_index
from .vqz_header import VQZHeader, read_vqz_header

__all__ = [
    "read_tokens", "write_npz",
    "Sample", "iter_shard", "iter_shards", "read_index",
    "VQZHeader", "read_vqz_header",
]
