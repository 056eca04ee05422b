"""A variational autoencoder on synthetic 8x8 images (two bars at random positions), written for PyTorch.

Encoder Linear -> (mu, logvar), the reparameterisation trick with torch.randn_like, a Bernoulli decoder
(binary_cross_entropy_with_logits) and the analytic KL term; Adam.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

FACTOR = 1.25     # tapegrad's final ELBO loss within 1.25x of torch's (different initial weights)


def images(n, generator):
    x = torch.zeros(n, 8, 8)
    rows = torch.randint(0, 8, (n,), generator=generator)
    cols = torch.randint(0, 8, (n,), generator=generator)
    for i in range(n):
        x[i, rows[i].item(), :] = 1.0
        x[i, :, cols[i].item()] = 1.0
    return x.reshape(n, 64)


class VAE(nn.Module):
    def __init__(self, latent=4):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
        self.mu = nn.Linear(64, latent)
        self.logvar = nn.Linear(64, latent)
        self.dec = nn.Sequential(nn.Linear(latent, 64), nn.ReLU(), nn.Linear(64, 64))

    def forward(self, x):
        h = self.enc(x)
        mu, logvar = self.mu(h), self.logvar(h)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        return self.dec(z), mu, logvar


def loss_fn(logits, x, mu, logvar):
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return (rec + kl) / x.shape[0]


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    data = images(512, gen)
    model = VAE()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for epoch in range(25):
        perm = torch.randperm(len(data), generator=gen)
        total = 0.0
        for i in range(0, len(data), 64):
            xb = data[perm[i:i + 64]]
            logits, mu, logvar = model(xb)
            loss = loss_fn(logits, xb, mu, logvar)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        losses.append(total / len(data))
    return {"first_loss": losses[0], "final_loss": losses[-1]}
