"""REINFORCE with a Categorical policy on a small contextual bandit, written for PyTorch.

Each round draws a batch of contexts (one of 8 feature vectors), the policy (a small MLP giving logits
over 4 arms) samples an arm per context, and each arm pays 1 with a probability fixed per context. The
"loss" is the negative average reward of a round, so it falls (more negative) as the policy learns.
"""
import torch
import torch.nn as nn
from torch.distributions import Categorical

# The loss is negative: tapegrad's final loss must be at most 0.85 x torch's, i.e. tapegrad must earn at
# least 85% of torch's final average reward (different initial weights and random streams).
FACTOR = 0.85

N_CONTEXTS, N_ARMS, DIM = 8, 4, 6


def main():
    torch.manual_seed(0)
    features = torch.randn(N_CONTEXTS, DIM)
    # the paying probability of each arm in each context: the best arm depends on the context
    best = torch.arange(N_CONTEXTS) % N_ARMS
    pay = torch.full((N_CONTEXTS, N_ARMS), 0.2)
    pay[torch.arange(N_CONTEXTS), best] = 0.9
    policy = nn.Sequential(nn.Linear(DIM, 32), nn.Tanh(), nn.Linear(32, N_ARMS))
    opt = torch.optim.Adam(policy.parameters(), lr=2e-2)
    baseline = 0.0
    losses = []
    for step in range(150):
        ctx = torch.randint(0, N_CONTEXTS, (64,))
        dist = Categorical(logits=policy(features[ctx]))
        arm = dist.sample()
        reward = (torch.rand(64) < pay[ctx, arm]).float()
        advantage = reward - baseline
        loss = -(dist.log_prob(arm) * advantage).mean() - 0.01 * dist.entropy().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        baseline = 0.9 * baseline + 0.1 * reward.mean().item()
        losses.append(-reward.mean().item())
    return {"first_loss": sum(losses[:10]) / 10, "final_loss": sum(losses[-10:]) / 10}
