import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"


@pytest.fixture(scope="session")
def vqz():
    """The vqz binary: $VQZ, else the release build of this checkout. Missing is a failure:
    these tests check what the binary writes."""
    path = Path(os.environ.get("VQZ", REPO / ".build" / "release" / "vqz"))
    if not path.is_file():
        pytest.fail(f"{path} not found: build with `swift build -c release` or set VQZ")
    return str(path)


@pytest.fixture
def run(vqz, tmp_path):
    def run(*args, ok=True):
        done = subprocess.run([vqz, *map(str, args)], cwd=tmp_path, capture_output=True)
        if ok:
            assert done.returncode == 0, done.stderr.decode()
        return done
    return run


@pytest.fixture
def photos(tmp_path):
    """A small collection in nested folders."""
    folder = tmp_path / "photos"
    for sample, name in [("kite-rgba-160x120.png", "b/kite.png"), ("leaf-256.jpg", "a/leaf.jpg"),
                         ("kite-rgba-160x120.png", "a/c/kite2.png")]:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLES / sample, folder / name)
    return folder
