"""``tapegrad.func``: torch.func's composable function transforms on tapegrad's tape.

``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian`` and
``functional_call`` are built on reverse mode (``autograd.grad`` with
``create_graph``), so they compose: ``grad(grad(f))``, ``jacrev(jacrev(f))``,
``vmap(grad(f))``. ``vmap`` runs ``func`` once on the whole batch through each op's
batching rule, and falls back to one call per batch element where only that is right
(Note [vmap by batching rules] in _vmap.py). Forward derivatives use the double-vjp trick.

Example:
    >>> import tapegrad
    >>> from tapegrad.func import grad, vmap
    >>> vmap(grad(lambda x: (x ** 2).sum()))(tapegrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([[2., 4.],
            [6., 8.]])
"""
from ._eager import grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian
from ._vmap import vmap
from ._functional_call import functional_call

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "vmap", "functional_call"]
