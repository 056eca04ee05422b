"""A character-level GPT (causal self-attention, LayerNorm, AdamW) trained on a short text, written for PyTorch.

Two pre-norm blocks of ``nn.MultiheadAttention`` (batch_first, the causal mask from
``nn.Transformer.generate_square_subsequent_mask`` with the ``is_causal`` hint) and a GELU MLP,
token and position embeddings, a final LayerNorm and a head; the loss is the next character's
cross-entropy, measured on fixed evaluation windows before and after training.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

FACTOR = 1.25      # tapegrad's final loss within 25% of torch's (the two start from different weights)

TEXT = """\
It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in
want of a wife. However little known the feelings or views of such a man may be on his first entering
a neighbourhood, this truth is so well fixed in the minds of the surrounding families, that he is
considered the rightful property of some one or other of their daughters. My dear Mr. Bennet, said his
lady to him one day, have you heard that Netherfield Park is let at last? Mr. Bennet replied that he
had not. But it is, returned she; for Mrs. Long has just been here, and she told me all about it.
Mr. Bennet made no answer. Do you not want to know who has taken it? cried his wife impatiently.
You want to tell me, and I have no objection to hearing it. This was invitation enough.
"""

CONTEXT, BATCH, D_MODEL, HEADS, LAYERS, STEPS = 32, 16, 48, 4, 2, 150


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(D_MODEL)
        self.attn = nn.MultiheadAttention(D_MODEL, HEADS, batch_first=True)
        self.ln2 = nn.LayerNorm(D_MODEL)
        self.mlp = nn.Sequential(nn.Linear(D_MODEL, 4 * D_MODEL), nn.GELU(), nn.Linear(4 * D_MODEL, D_MODEL))

    def forward(self, x, mask):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, is_causal=True, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.tok = nn.Embedding(vocab, D_MODEL)
        self.pos = nn.Embedding(CONTEXT, D_MODEL)
        self.blocks = nn.ModuleList([Block() for _ in range(LAYERS)])
        self.ln_f = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, vocab)

    def forward(self, idx):
        T = idx.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(T)
        x = self.tok(idx) + self.pos(torch.arange(T))
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.ln_f(x))


def windows(data, starts):
    x = torch.stack([data[i:i + CONTEXT] for i in starts])
    y = torch.stack([data[i + 1:i + 1 + CONTEXT] for i in starts])
    return x, y


def loss_of(model, x, y):
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def main():
    torch.manual_seed(0)
    chars = sorted(set(TEXT))
    data = torch.tensor([chars.index(c) for c in TEXT])
    model = TinyGPT(len(chars))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    eval_x, eval_y = windows(data, list(range(0, len(data) - CONTEXT - 1, 23)))
    with torch.no_grad():
        first = loss_of(model.eval(), eval_x, eval_y).item()
    model.train()
    for _ in range(STEPS):
        starts = torch.randint(0, len(data) - CONTEXT - 1, (BATCH,)).tolist()
        x, y = windows(data, starts)
        opt.zero_grad()
        loss = loss_of(model, x, y)
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = loss_of(model.eval(), eval_x, eval_y).item()
    return {"first_loss": first, "final_loss": final}
