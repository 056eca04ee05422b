"""The part of a fused kernel the CPU (kernels.py) and CUDA (cuda_kernels.py) classes share."""
import numpy as np


class Published:
    """What the CPU and CUDA fused kernels share: handing their results on as views of their buffer
    (Note [memory plan] in plan.py) and their line in ``program()``."""
    LABEL = "fused"

    def _publish(self, vals, buf):
        if self.fixed_views is not None:
            for s, v in self.fixed_views:
                vals[s] = v
        else:
            shape = self.shape
            for s, r in self.views:
                vals[s] = buf[r].reshape(shape)

    def describe(self):
        """One line for ``program()``: what the kernel reads and writes."""
        ins = ", ".join(f"%{s}" for s in self.inputs)
        outs = ", ".join(f"%{s}" for s in self.rows)
        return f"{outs or '_'} = {self.LABEL}[{self.nsteps} steps, {self.shape} {np.dtype(self.dtype).name}]({ins})"
