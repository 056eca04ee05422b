"""CUDA tensors round trip with PyTorch's map_location semantics (run under numba's simulator in a child process)."""
import os
import subprocess
import sys

_CHILD = r"""
import sys
import numpy as np
import tapegrad
from tapegrad import nn
path = sys.argv[1]
p = nn.Parameter(tapegrad.randn(2, 3).to("cuda"))
obj = {"p": p, "again": p, "i": tapegrad.arange(4).to("cuda"), "0d": tapegrad.tensor(1.5, device="cuda"),
       "cpu": tapegrad.ones(2)}
tapegrad.save(obj, path)
want = p.detach().cpu().numpy()
for loc, dev in ((None, "cuda"), ("cpu", "cpu"), ({"cuda": "cpu"}, "cpu"), ("cuda", "cuda")):
    out = tapegrad.load(path, map_location=loc)
    assert out["again"] is out["p"] and isinstance(out["p"], nn.Parameter) and out["p"].requires_grad
    assert out["p"].device.type == dev and out["i"].device.type == dev and out["0d"].device.type == dev
    assert out["cpu"].device.type == ("cuda" if loc == "cuda" else "cpu")
    np.testing.assert_array_equal(out["p"].detach().cpu().numpy(), want)
    assert out["i"].cpu().tolist() == [0, 1, 2, 3] and out["0d"].item() == 1.5 and out["0d"].dim() == 0
print("OK")
"""


def test_cuda_tensors_round_trip_with_map_location(tmp_path):
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path / "c.tg")], cwd=root, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip().endswith("OK"), r.stderr[-3000:]
