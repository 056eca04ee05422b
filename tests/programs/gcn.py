"""A two-layer graph convolutional network (Kipf & Welling) on a synthetic community graph, written for PyTorch.

The normalised adjacency D^-1/2 (A + I) D^-1/2 is a sparse COO tensor multiplied with torch.sparse.mm;
each node also has a learned embedding (nn.Embedding(sparse=True), stepped by SparseAdam) next to its
features. The graph comes from Python's own generator, so both frameworks train on the same one.
"""
import random

import torch
import torch.nn as nn
import torch.nn.functional as F

FACTOR = 2.0      # tapegrad's final loss within 2x of torch's (different initial weights)
SLACK = 0.01      # both fit the training nodes almost exactly: absolute slack for losses near zero


def make_graph(n=90, classes=3, feats=6, p_in=0.15, p_out=0.01, seed=0):
    rng = random.Random(seed)
    labels = [i % classes for i in range(n)]
    edges = set()
    for i in range(n):
        for j in range(i + 1, n):
            if rng.random() < (p_in if labels[i] == labels[j] else p_out):
                edges.add((i, j))
                edges.add((j, i))
    for i in range(n):
        edges.add((i, i))                                  # self loops: A + I
    deg = [0] * n
    for i, _ in edges:
        deg[i] += 1
    rows, cols = zip(*sorted(edges))
    vals = [1.0 / (deg[i] * deg[j]) ** 0.5 for i, j in zip(rows, cols)]
    adj = torch.sparse_coo_tensor([list(rows), list(cols)], vals, (n, n)).coalesce()
    x = torch.tensor([[(1.0 if k == labels[i] else 0.0) + rng.gauss(0.0, 1.0) for k in range(feats)]
                      for i in range(n)])
    train = torch.tensor([i for i in range(n) if i % 5 < 2])       # 40% of the nodes carry labels
    return adj, x, torch.tensor(labels), train


class GraphConv(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.linear = nn.Linear(d_in, d_out)

    def forward(self, adj, h):
        return torch.sparse.mm(adj, self.linear(h))


class GCN(nn.Module):
    def __init__(self, n, d_in, hidden, classes):
        super().__init__()
        self.node = nn.Embedding(n, 4, sparse=True)
        self.conv1 = GraphConv(d_in + 4, hidden)
        self.conv2 = GraphConv(hidden, classes)

    def forward(self, adj, x, ids):
        h = torch.cat([x, self.node(ids)], dim=1)
        h = F.relu(self.conv1(adj, h))
        h = F.dropout(h, 0.2, self.training)
        return self.conv2(adj, h)


def main():
    torch.manual_seed(0)
    adj, x, y, train = make_graph()
    n = x.shape[0]
    ids = torch.arange(n)
    model = GCN(n, x.shape[1], 16, 3)
    dense = [p for name, p in model.named_parameters() if not name.startswith("node")]
    opt = torch.optim.Adam(dense, lr=0.02, weight_decay=5e-4)
    opt_sparse = torch.optim.SparseAdam(model.node.parameters(), lr=0.02)
    losses = []
    for epoch in range(60):
        model.train()
        opt.zero_grad()
        opt_sparse.zero_grad()
        loss = F.cross_entropy(model(adj, x, ids)[train], y[train])
        loss.backward()
        opt.step()
        opt_sparse.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        pred = model(adj, x, ids).argmax(1)
        test = torch.tensor([i for i in range(n) if i % 5 >= 2])
        acc = (pred[test] == y[test]).float().mean().item()
    return {"first_loss": losses[0], "final_loss": losses[-1], "test_accuracy": acc}
