"""An MLP regression with weight normalisation, gradient clipping and forward hooks that log activations."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import weight_norm

FACTOR = 2.0      # tapegrad's final loss within 2x of torch's (different initial weights) ...
SLACK = 0.005     # ... plus 0.005: both fit to under 1% of the target's variance (~0.33), where the
                  # initial weights alone move the last digits (measured: 0.0024 vs 0.0008)


def main():
    torch.manual_seed(0)
    x = torch.linspace(-2, 2, 200).unsqueeze(1)
    y = torch.sin(3 * x) * torch.exp(-0.3 * x * x)
    model = nn.Sequential(weight_norm(nn.Linear(1, 32)), nn.Tanh(),
                          weight_norm(nn.Linear(32, 32)), nn.Tanh(), nn.Linear(32, 1))
    activations = {}

    def log_activation(name):
        def hook(module, inputs, output):
            activations[name] = output.detach().abs().mean().item()
        return hook

    handles = [model[i].register_forward_hook(log_activation(f"tanh{i}")) for i in (1, 3)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses, norms = [], []
    for step in range(300):
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0).item())
        opt.step()
        losses.append(loss.item())
    for h in handles:
        h.remove()
    seen = dict(activations)
    model(x)
    if activations != seen:
        raise RuntimeError("a removed forward hook still ran")
    keys = list(model.state_dict())
    if "0.parametrizations.weight.original0" not in keys or "0.weight" in keys:
        raise RuntimeError(f"unexpected state_dict keys {keys}")
    return {"first_loss": losses[0], "final_loss": losses[-1], "max_grad_norm": max(norms),
            "tanh1_mean_abs": seen["tanh1"], "tanh3_mean_abs": seen["tanh3"]}
