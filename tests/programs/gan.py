"""A small DCGAN-style GAN with ConvTranspose2d on synthetic 8x8 images (a bright square), written for PyTorch.

The generator upsamples a noise vector with ConvTranspose2d + BatchNorm2d; the discriminator is a strided
Conv2d with LeakyReLU. Both train with Adam (betas 0.5, 0.999) and BCEWithLogitsLoss. The "loss" this
program reports is how far the generated images' mean intensity map is from the data's (lower is better),
which a working GAN drives down.
"""
import torch
import torch.nn as nn

FACTOR = 2.0     # tapegrad's final distance within 2x of torch's
SLACK = 0.02     # both reach a small distance; the factor alone is noisy there


def data(n, generator):
    x = torch.full((n, 1, 8, 8), -1.0)
    r = torch.randint(1, 4, (n,), generator=generator)
    c = torch.randint(1, 4, (n,), generator=generator)
    for i in range(n):
        x[i, 0, r[i].item():r[i].item() + 4, c[i].item():c[i].item() + 4] = 1.0
    return x


def main():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    real = data(256, gen)
    G = nn.Sequential(nn.ConvTranspose2d(8, 16, 4, 1, 0), nn.BatchNorm2d(16), nn.ReLU(),      # 1 -> 4
                      nn.ConvTranspose2d(16, 1, 4, 2, 1), nn.Tanh())                          # 4 -> 8
    D = nn.Sequential(nn.Conv2d(1, 16, 4, 2, 1), nn.LeakyReLU(0.2),                           # 8 -> 4
                      nn.Conv2d(16, 1, 4, 1, 0), nn.Flatten())                                # 4 -> 1
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    target = real.mean(0)
    fixed = torch.randn(256, 8, 1, 1, generator=gen)

    def distance():
        G.eval()
        with torch.no_grad():
            d = (G(fixed).mean(0) - target).abs().mean().item()
        G.train()
        return d

    first = distance()
    for step in range(150):
        xb = real[torch.randint(0, len(real), (32,), generator=gen)]
        z = torch.randn(32, 8, 1, 1, generator=gen)
        fake = G(z)
        d_loss = bce(D(xb), torch.ones(32, 1)) + bce(D(fake.detach()), torch.zeros(32, 1))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = bce(D(fake), torch.ones(32, 1))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    return {"first_loss": first, "final_loss": distance()}
