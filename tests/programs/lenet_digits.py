"""A small CNN classifying synthetic digit-like 12x12 images (bars, crosses, boxes, diagonals), written for PyTorch.

The images are drawn with NumPy (the same for both frameworks): each class is a
stroke pattern at a random shift, plus noise. Conv2d with reflect padding, a
strided Conv2d, a linear head, SGD with momentum; the held-out accuracy is reported too.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FACTOR = 2.0      # tapegrad's final loss within 2x of torch's (different initial weights)
SLACK = 0.05      # both reach near-zero losses; differences there are noise


def make_digits(n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 0.3, (n, 1, 12, 12)).astype(np.float32)
    y = rng.integers(0, 4, n)
    for i, c in enumerate(y):
        r, s = rng.integers(2, 10, 2)
        img = x[i, 0]
        if c == 0:
            img[r, 1:11] += 2.0                      # horizontal bar
        elif c == 1:
            img[1:11, s] += 2.0                      # vertical bar
        elif c == 2:
            img[np.arange(12), np.arange(12)] += 2.0  # diagonal
        else:
            img[max(r - 2, 0):r + 2, max(s - 2, 0):s + 2] += 1.5   # blob
    return torch.from_numpy(x), torch.from_numpy(y)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, padding_mode="reflect")
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2)
        self.fc = nn.Linear(16 * 5 * 5, 4)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.fc(x.flatten(1))


def main():
    torch.manual_seed(0)
    x, y = make_digits(512)
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for epoch in range(6):
        for i in range(0, len(x), 32):
            opt.zero_grad()
            loss = F.cross_entropy(model(x[i:i + 32]), y[i:i + 32])
            loss.backward()
            opt.step()
        with torch.no_grad():
            losses.append(F.cross_entropy(model(x), y).item())
    with torch.no_grad():
        xt, yt = make_digits(256, seed=1)
        accuracy = (model(xt).argmax(1) == yt).float().mean().item()
    return {"first_loss": losses[0], "final_loss": losses[-1], "accuracy": accuracy}
