"""OpSpecs for tapegrad/ops/device.py. On the CPU ``to_device`` to "cpu" is the identity op;
the CUDA suite checks real transfers."""
from hypothesis import strategies as st

from tapegrad.ops.device import to_device

from . import OpSpec, add

add(OpSpec(
    name="to_device_cpu",
    fn=lambda x: to_device(x, "cpu"),
    ref=lambda x: x,
    shapes=st.lists(st.integers(0, 3), min_size=0, max_size=3).map(lambda s: (tuple(s),)),
    covers=("to_device",),
    torch_fn=lambda torch, x: x.to("cpu"),
))
