"""What the peers of scripts/speed share: a vqz weights file (safetensors) read with numpy."""
import json
import struct

import numpy as np


def load_safetensors(path):
    """The tensors of a vqz weights file as float32 arrays, and the model's config."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": np.float32, "F16": np.float16}
    tensors = {}
    for name, info in header.items():
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
        tensors[name] = arr.astype(np.float32)
    return tensors, json.loads(meta["config"])
