"""The topic files behind ``tapegrad.nn.functional`` (convolution, pooling, normalization, ...).

Each file defines its ``F.`` functions with an ``__all__``; ``nn/functional.py``
re-exports them, so user code keeps PyTorch's one ``torch.nn.functional`` namespace.
"""
