"""``tapegrad.amp.GradScaler``: loss scaling for float16 training, with torch's bookkeeping.

The scale is a float32 number updated as torch's ``_amp_update_scale_``: a step whose gradients hold an inf or
nan is skipped and the scale multiplied by ``backoff_factor``; after ``growth_interval`` clean steps in a row it
is multiplied by ``growth_factor``. ``unscale_`` divides the gradients by the scale (in place, multiplying by
the float32 reciprocal, as torch) and records whether any is not finite.
"""
import warnings

import numpy as np

__all__ = ["GradScaler"]

_READY, _UNSCALED, _STEPPED = 0, 1, 2


class GradScaler:
    """Scale the loss, unscale the gradients, skip steps with inf/nan gradients and adapt the scale.

    Args:
        device: ``"cuda"`` (default) or ``"cpu"``; a CUDA scaler without CUDA disables itself with a warning.
        init_scale: the first scale.
        growth_factor: the scale's factor after ``growth_interval`` clean steps.
        backoff_factor: the scale's factor after a step with inf/nan gradients.
        growth_interval: clean steps between growths.
        enabled: False makes every method a pass-through.

    Example:
        >>> import tapegrad
        >>> w = tapegrad.ones(2, requires_grad=True)
        >>> opt = tapegrad.optim.SGD([w], lr=0.1)
        >>> scaler = tapegrad.amp.GradScaler("cpu", init_scale=4.0)
        >>> scaler.scale((w * 3).sum()).backward(); w.grad
        tensor([12., 12.])
        >>> scaler.step(opt); scaler.update(); w.detach(), scaler.get_scale()
        (tensor([0.7000, 0.7000]), 4.0)
    """

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = str(device)
        if enabled and self._device.startswith("cuda"):
            from .. import backend as B
            try:                               # loads the CUDA backend where there is one, as torch inits CUDA
                B.get("cuda")
                available = True
            except RuntimeError:
                available = False
            if not available:
                warnings.warn("tapegrad.amp.GradScaler is enabled, but CUDA is not available.  Disabling.")
                enabled = False
        self._enabled = enabled
        if not growth_factor > 1.0:
            raise ValueError("GradScaler: the growth factor must be > 1.0.")
        if not backoff_factor < 1.0:
            raise ValueError("GradScaler: the backoff factor must be < 1.0.")
        self._init_scale = float(init_scale)
        self._scale = None                     # float32, made on first use (as torch's lazy init)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._per_optimizer = {}

    # ------------------------------------------------------------------ scaling
    def _lazy_scale(self):
        if self._scale is None:
            self._scale = np.float32(self._init_scale)
        return self._scale

    def scale(self, outputs):
        """``outputs`` (a tensor, or tensors in lists/tuples) multiplied by the current scale.

        Example:
            >>> import tapegrad
            >>> tapegrad.amp.GradScaler("cpu", init_scale=8.0).scale(tapegrad.tensor([1.0, 2.0]))
            tensor([ 8., 16.])
        """
        if not self._enabled:
            return outputs
        from .._tensor import Tensor
        s = float(self._lazy_scale())

        def apply(v):
            if isinstance(v, Tensor):
                return v * s
            if isinstance(v, (list, tuple)):
                return type(v)(apply(x) for x in v)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")
        return apply(outputs)

    def _state(self, optimizer):
        return self._per_optimizer.setdefault(id(optimizer), {"stage": _READY, "found_inf": 0.0})

    def unscale_(self, optimizer):
        """Divide the gradients of ``optimizer``'s parameters by the scale (in place); once per step.

        Example:
            >>> import tapegrad
            >>> w = tapegrad.ones(1, requires_grad=True); opt = tapegrad.optim.SGD([w], lr=1.0)
            >>> scaler = tapegrad.amp.GradScaler("cpu", init_scale=2.0)
            >>> scaler.scale(w * 5).sum().backward(); scaler.unscale_(opt); w.grad
            tensor([5.])
        """
        if not self._enabled:
            return
        state = self._state(optimizer)
        if state["stage"] is _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] is _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        from .. import _dtype as D
        from ..tape import grad_mode
        inv = np.float32(np.float64(1.0) / np.float64(self._lazy_scale()))
        found = False
        with grad_mode.no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    if g.dtype is D.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    g.mul_(float(inv))
                    if not bool(g.isfinite().all()):
                        found = True
        state["found_inf"] = 1.0 if found else 0.0
        state["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscale (unless done), then ``optimizer.step()`` unless a gradient holds inf/nan; returns its result.

        Example:
            >>> import tapegrad
            >>> w = tapegrad.ones(1, requires_grad=True); opt = tapegrad.optim.SGD([w], lr=1.0)
            >>> scaler = tapegrad.amp.GradScaler("cpu")
            >>> w.grad = tapegrad.tensor([float("inf")]); scaler.step(opt); w.detach()
            tensor([1.])
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        state = self._state(optimizer)
        if state["stage"] is _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is _READY:
            self.unscale_(optimizer)
        ret = None
        if not state["found_inf"]:
            ret = optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return ret

    def update(self, new_scale=None):
        """Adapt the scale after the step(s) (or set it to ``new_scale``) and start a new iteration.

        Example:
            >>> import tapegrad
            >>> s = tapegrad.amp.GradScaler("cpu", init_scale=4.0); s.update(2.0); s.get_scale()
            2.0
        """
        if not self._enabled:
            return
        scale = self._lazy_scale()
        if new_scale is not None:
            self._scale = np.float32(float(new_scale))
        else:
            if not self._per_optimizer:
                raise RuntimeError("GradScaler.update: no inf checks were recorded prior to update.")
            found = sum(s["found_inf"] for s in self._per_optimizer.values())
            if found:
                self._scale = np.float32(scale * np.float32(self._backoff_factor))
                self._growth_tracker = 0
            else:
                done = self._growth_tracker + 1
                if done == self._growth_interval:
                    grown = np.float32(scale * np.float32(self._growth_factor))
                    if np.isfinite(grown):
                        self._scale = grown
                    self._growth_tracker = 0
                else:
                    self._growth_tracker = done
        self._per_optimizer = {}

    # ------------------------------------------------------------------ accessors and state
    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled, as torch).

        Example:
            >>> import tapegrad
            >>> tapegrad.amp.GradScaler("cpu").get_scale()
            65536.0
        """
        if not self._enabled:
            return 1.0
        return float(self._init_scale if self._scale is None else self._scale)

    def get_growth_factor(self):
        """The growth factor.

        Example:
            >>> import tapegrad
            >>> tapegrad.amp.GradScaler("cpu").get_growth_factor()
            2.0
        """
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        """Set the growth factor.

        Example:
            >>> import tapegrad
            >>> s = tapegrad.amp.GradScaler("cpu"); s.set_growth_factor(3.0); s.get_growth_factor()
            3.0
        """
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        """The backoff factor.

        Example:
            >>> import tapegrad
            >>> tapegrad.amp.GradScaler("cpu").get_backoff_factor()
            0.5
        """
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        """Set the backoff factor.

        Example:
            >>> import tapegrad
            >>> s = tapegrad.amp.GradScaler("cpu"); s.set_backoff_factor(0.25); s.get_backoff_factor()
            0.25
        """
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        """The number of clean steps between growths.

        Example:
            >>> import tapegrad
            >>> tapegrad.amp.GradScaler("cpu").get_growth_interval()
            2000
        """
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        """Set the growth interval.

        Example:
            >>> import tapegrad
            >>> s = tapegrad.amp.GradScaler("cpu"); s.set_growth_interval(5); s.get_growth_interval()
            5
        """
        self._growth_interval = int(new_interval)

    def is_enabled(self):
        """Whether the scaler is enabled.

        Example:
            >>> import tapegrad
            >>> tapegrad.amp.GradScaler("cpu", enabled=False).is_enabled()
            False
        """
        return self._enabled

    def state_dict(self):
        """``{"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"}`` as torch's
        (empty when disabled).

        Example:
            >>> import tapegrad
            >>> sorted(tapegrad.amp.GradScaler("cpu").state_dict())
            ['_growth_tracker', 'backoff_factor', 'growth_factor', 'growth_interval', 'scale']
        """
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict``.

        Example:
            >>> import tapegrad
            >>> s = tapegrad.amp.GradScaler("cpu"); s.load_state_dict({"scale": 8.0, "growth_factor": 2.0,
            ...     "backoff_factor": 0.5, "growth_interval": 3, "_growth_tracker": 1}); s.get_scale()
            8.0
        """
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        self._scale = np.float32(self._init_scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
