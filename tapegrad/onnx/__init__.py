"""``tapegrad.onnx.export``: write a model's forward pass as an ONNX file.

The model runs once on the example arguments with every input and parameter
requiring grad (Note [export trace] in _trace.py); the tape it leaves is walked
from the outputs and each recorded op becomes ONNX operators (``_ops.TABLE``).
Parameters and buffers become initializers named by their ``state_dict`` keys.
Fused LSTM layers (``LSTMScan``) become one ONNX ``LSTM`` each. The ``onnx``
package (the ``onnx`` extra) is imported only inside ``export``.
"""
from ._graph import UnsupportedOpError

__all__ = ["export", "UnsupportedOpError"]


def _dyn_spec(spec):
    """``{axis: symbol}`` from a dynamic_axes entry (a dict, or a list of axes)."""
    if isinstance(spec, dict):
        return {int(a): str(s) for a, s in spec.items()}
    return {int(a): f"dim_{a}" for a in spec}


def export(model, args, f, input_names=None, output_names=None, dynamic_axes=None, opset_version=17,
           do_constant_folding=True, export_params=True, verbose=False, kwargs=None):
    """Export ``model``'s forward on ``args`` to an ONNX file, as ``torch.onnx.export``.

    Args:
        model: an ``nn.Module`` (or a callable) taking ``*args, **kwargs``.
        args: a tensor or a tuple of example input tensors.
        f: a file path or a writable binary file object.
        input_names, output_names: names for the graph's inputs and outputs (default
            ``input_0, ...`` and the keyword for tensor keyword arguments; ``output_0, ...``).
        dynamic_axes: ``{name: {axis: symbol}}`` or ``{name: [axes]}`` (symbol ``dim_<axis>``): dims
            that may vary. Dims named by one symbol are one size.
        opset_version: the ONNX opset (17 or later: ``LayerNormalization``).
        do_constant_folding: accepted for compatibility (the trace records no foldable ops).
        export_params: store parameters as initializers (else they become graph inputs).
        verbose: print the graph.
        kwargs: keyword arguments for the forward call; tensors among them are graph inputs
            (after the positional ones).

    Returns:
        None. The training mode and ``requires_grad`` of the parameters are left as they were.

    Example:
        >>> import io, tapegrad, onnx
        >>> model = tapegrad.nn.Sequential(tapegrad.nn.Linear(3, 2), tapegrad.nn.Tanh())
        >>> buf = io.BytesIO()
        >>> tapegrad.onnx.export(model, (tapegrad.randn(4, 3),), buf, input_names=["x"], output_names=["y"])
        >>> [n.op_type for n in onnx.load_from_string(buf.getvalue()).graph.node]
        ['Gemm', 'Tanh', 'Identity']
    """
    import warnings

    import numpy as np
    import onnx
    import onnx.printer

    from .._tensor import Tensor
    from ..tape.node import walk
    from ._graph import Graph
    from ._trace import trace

    if opset_version < 17:
        raise ValueError(f"tapegrad.onnx.export: opset_version={opset_version} is not supported (17 or later)")
    args = (args,) if isinstance(args, Tensor) else tuple(args)
    tensors = [a for a in args if isinstance(a, Tensor)]
    tensors += list(model.parameters()) + list(model.buffers()) if hasattr(model, "parameters") else []
    off = sorted({str(t.device) for t in tensors if t.device.type != "cpu"})
    if off:
        raise ValueError(f"tapegrad.onnx.export: the model or its inputs are on {', '.join(off)}; export traces "
                         "on the CPU (move them with .cpu() first)")
    inputs, keys, outs, calls, by_out = trace(model, args, kwargs)
    n_pos = len(inputs) - len(keys)
    defaults = [f"input_{i}" for i in range(n_pos)] + keys
    input_names = list(input_names or []) + defaults[len(input_names or []):]
    output_names = list(output_names or []) + [f"output_{i}" for i in range(len(output_names or []), len(outs))]
    if len(input_names) > len(inputs) or len(output_names) > len(outs) or len(set(input_names)) < len(inputs):
        raise ValueError(f"tapegrad.onnx.export: input_names {input_names} for {len(inputs)} inputs, "
                         f"output_names {output_names} for {len(outs)} outputs (one distinct name each)")
    dynamic_axes = {k: _dyn_spec(v) for k, v in (dynamic_axes or {}).items()}

    names, leaves = {}, []
    for t, name in zip(inputs, input_names):
        if isinstance(t, Tensor):
            names[id(t)] = name
    module_params = []
    if hasattr(model, "named_parameters"):
        for name, p in model.named_parameters():
            names[id(p)] = name
            module_params.append((name, p))
        for name, b in model.named_buffers():
            if b is not None:
                leaves.append((name, b))

    nodes2, calls2, dyn_dims = {}, {}, []
    in_dyn = {n: d for n, d in dynamic_axes.items() if n in input_names}
    if in_dyn:
        from .. import _creation as C
        inputs2, grow = [], {}
        for t, name in zip(inputs, input_names):
            if name in in_dyn and isinstance(t, Tensor):
                shape = list(t.shape)
                for a, sym in in_dyn[name].items():
                    # one step per symbol, so two symbols never share both sizes (Note [dynamic shapes])
                    step = grow.setdefault(sym, len(grow) + 1)
                    dyn_dims.append((name, a, shape[a], shape[a] + step, sym))
                    shape[a] += step
                inputs2.append(C.randn(*shape, dtype=t.dtype) if t.dtype.is_floating_point
                               else C.zeros(*shape, dtype=t.dtype))
            else:
                inputs2.append(t)
        kwargs2 = dict(kwargs or {}, **dict(zip(keys, inputs2[n_pos:])))
        _, _, outs2, calls2, _ = trace(model, inputs2[:n_pos], kwargs2)
        first, second = walk([t._grad_fn for t in outs]), walk([t._grad_fn for t in outs2])
        if [n.op.name for n in first] != [n.op.name for n in second]:
            raise RuntimeError("tapegrad.onnx.export: the model records different ops when the dynamic axes "
                               "change size; it cannot be exported with these dynamic_axes")
        nodes2 = {id(a): b for a, b in zip(first, second)}

    g = Graph(onnx, opset_version, calls, by_out, names, dyn_dims, nodes2)
    g.calls2 = calls2
    for t, name in zip(inputs, input_names):
        if isinstance(t, Tensor):
            g.arrays[id(t._data)] = name
    for name, p in module_params + leaves:
        g.arrays[id(p._data)] = name
    h = onnx.helper

    def vinfo(name, shape, dtype):
        dims = list(shape)
        for a, sym in dynamic_axes.get(name, {}).items():
            dims[a] = sym
        return h.make_tensor_value_info(name, h.np_dtype_to_tensor_dtype(np.dtype(dtype)), dims)

    graph_inputs = []
    for t, name in zip(inputs, input_names):
        if isinstance(t, Tensor):
            g.info[name] = (tuple(t.shape), np.dtype(t._data.dtype))
            graph_inputs.append(vinfo(name, t.shape, t._data.dtype))
    for name, p in module_params + leaves:
        arr = np.asarray(p.detach().numpy())
        if export_params:
            g.const(arr, name=name)
        else:
            g.info[name] = (arr.shape, arr.dtype)
            graph_inputs.append(vinfo(name, arr.shape, arr.dtype))
    g.build(outs)

    graph_outputs = []
    for t, name in zip(outs, output_names):
        if id(t) in names:
            src = names[id(t)]              # an input or parameter returned as it is
        elif t._grad_fn is None:
            raise RuntimeError(f"tapegrad.onnx.export: output '{name}' does not depend on the inputs or parameters")
        else:
            src = g.outs[id(t._grad_fn)][t._output_nr]
        g.nodes.append(h.make_node("Identity", [src], [name]))
        graph_outputs.append(vinfo(name, t.shape, t._data.dtype))

    used = {i for n in g.nodes for i in n.input}
    unused = [n for t, n in zip(inputs, input_names) if isinstance(t, Tensor) and n not in used]
    if unused:
        # Note [export trace]: what the model read outside recorded ops was frozen into constants
        warnings.warn(f"tapegrad.onnx.export: input(s) {', '.join(map(repr, unused))} are not used by the "
                      "exported graph; if the model reads them outside tapegrad ops (e.g. through .numpy() or "
                      "backend calls on their data), their example values were frozen as constants", UserWarning,
                      stacklevel=2)
    inits = [i for i in g.inits if i.name in used]
    if not export_params:
        graph_inputs = [v for v in graph_inputs if v.name in used or v.name in input_names]
    graph = h.make_graph(g.nodes, type(model).__name__, graph_inputs, graph_outputs, inits)
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", opset_version)], producer_name="tapegrad")
    m.ir_version = 8
    onnx.checker.check_model(m)
    if verbose:
        print(onnx.printer.to_text(m.graph))
    if isinstance(f, (str, bytes)) or hasattr(f, "__fspath__"):
        onnx.save(m, f)
    else:
        f.write(m.SerializeToString())
