"""The public view of a recorded node (``tensor.grad_fn``)."""


def node_view(node):
    return node      # Nodes are already safe to expose: their API is name(), next_functions, ...
