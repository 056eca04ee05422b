"""A small MLP regression with Adam and a DataLoader, written for PyTorch."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

FACTOR = 2.0      # tapegrad's final loss within 2x of torch's (different initial weights)


def main():
    torch.manual_seed(0)
    x = torch.linspace(-2, 2, 256).unsqueeze(1)
    y = torch.sin(2 * x) + 0.5 * x
    model = nn.Sequential(nn.Linear(1, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True)
    losses = []
    for epoch in range(30):
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
        with torch.no_grad():
            losses.append(F.mse_loss(model(x), y).item())
    return {"first_loss": losses[0], "final_loss": losses[-1]}
