"""A GRU encoder-decoder that learns to reverse short digit sequences, written for PyTorch.

The encoder's final hidden state starts the decoder, which is trained with teacher
forcing (cross-entropy per output digit) and evaluated by greedy decoding.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

FACTOR = 2.0      # tapegrad's final loss within 2x of torch's (different initial weights)

LENGTH, DIGITS, BATCH, STEPS = 5, 10, 64, 150
SOS = DIGITS                                   # the decoder's start token


class Seq2Seq(nn.Module):
    def __init__(self, emb=16, hidden=48):
        super().__init__()
        self.src_embed = nn.Embedding(DIGITS, emb)
        self.tgt_embed = nn.Embedding(DIGITS + 1, emb)
        self.encoder = nn.GRU(emb, hidden, batch_first=True)
        self.decoder = nn.GRU(emb, hidden, batch_first=True)
        self.head = nn.Linear(hidden, DIGITS)

    def forward(self, src, tgt_in):
        _, h = self.encoder(self.src_embed(src))
        out, _ = self.decoder(self.tgt_embed(tgt_in), h)
        return self.head(out)

    def greedy(self, src):
        _, h = self.encoder(self.src_embed(src))
        tok = torch.full((src.shape[0], 1), SOS, dtype=torch.long)
        outs = []
        for _ in range(LENGTH):
            out, h = self.decoder(self.tgt_embed(tok), h)
            tok = self.head(out).argmax(dim=-1)
            outs.append(tok)
        return torch.cat(outs, dim=1)


def batch(n):
    src = torch.randint(0, DIGITS, (n, LENGTH))
    tgt = src.flip(1)
    tgt_in = torch.cat([torch.full((n, 1), SOS, dtype=torch.long), tgt[:, :-1]], dim=1)
    return src, tgt_in, tgt


def main():
    torch.manual_seed(0)
    model = Seq2Seq()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    test_src, test_in, test_tgt = batch(256)

    def eval_loss():
        with torch.no_grad():
            return F.cross_entropy(model(test_src, test_in).reshape(-1, DIGITS), test_tgt.reshape(-1)).item()

    first = eval_loss()
    for step in range(STEPS):
        src, tgt_in, tgt = batch(BATCH)
        loss = F.cross_entropy(model(src, tgt_in).reshape(-1, DIGITS), tgt.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    final = eval_loss()
    with torch.no_grad():
        accuracy = (model.greedy(test_src) == test_tgt).float().mean().item()
    return {"first_loss": first, "final_loss": final, "accuracy": accuracy}
