"""OpSpecs for tapegrad/ops/device.py. On the CPU ``to_device`` to "cpu" is the identity op;
on another device (tests/cuda/test_sim_op_db.py) it is a real transfer, and its output is on the CPU."""
from hypothesis import strategies as st

from tapegrad.ops.device import to_device

from . import OpSpec, add

add(OpSpec(
    name="to_device_cpu",
    fn=lambda x: to_device(x, "cpu"),
    ref=lambda x: x,
    shapes=st.lists(st.integers(0, 3), min_size=0, max_size=3).map(lambda s: (tuple(s),)),
    covers=("to_device",),
    out_device="cpu",
    torch_fn=lambda torch, x: x.to("cpu"),
))
