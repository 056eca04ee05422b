"""Fit a small curve with L-BFGS and its strong-Wolfe line search (a closure re-evaluates the loss), then
refine with a ReduceLROnPlateau-driven Adam phase, written for PyTorch."""
import math

import torch
import torch.nn as nn

FACTOR = 1.5      # the start is deterministic (no random weights), so both frameworks follow one path


class Curve(nn.Module):
    """y = a * tanh(b * x + c) + d * x + e * sin(3 x)"""

    def __init__(self):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor([0.5, 0.5, 0.0, 0.0, 0.0]))

    def forward(self, x):
        a, b, c, d, e = self.theta
        return a * torch.tanh(b * x + c) + d * x + e * torch.sin(3 * x)


def main():
    x = torch.linspace(-3, 3, 200)
    y = 1.5 * torch.tanh(2.0 * x - 0.5) + 0.3 * x + 0.2 * torch.sin(3 * x)
    y = y + 0.01 * torch.cos(17 * x)                   # a little structured "noise" the model cannot fit
    model = Curve()
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=20, history_size=10,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    with torch.no_grad():
        first = ((model(x) - y) ** 2).mean().item()
    losses = []
    for _ in range(8):
        losses.append(opt.step(closure).item())
    fine = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(fine, factor=0.5, patience=2)
    for _ in range(20):
        fine.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        fine.step()
        sched.step(loss.item())
    with torch.no_grad():
        final = ((model(x) - y) ** 2).mean().item()
    assert math.isfinite(final)
    return {"first_loss": first, "final_loss": final, "lbfgs_loss": losses[-1], "a": model.theta[0].item()}
