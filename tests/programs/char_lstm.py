"""A character-level LSTM language model (Embedding -> LSTM -> Linear) on a short text, written for PyTorch.

Trains on random windows with Adam, carries the LSTM state (h, c) while sampling
greedily, and reports the loss on fixed windows of the text before and after training.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

FACTOR = 1.5      # tapegrad's final loss within 1.5x of torch's (different initial weights)

TEXT = (
    "the quick brown fox jumps over the lazy dog. the lazy dog sleeps in the sun while the fox runs "
    "to the river. the river is cold and the fox is quick, so the fox swims across and shakes off "
    "the water. then the quick brown fox jumps over the lazy dog again, and the dog does not wake up. "
    "a bird sings in the tree above the dog, and the fox listens to the bird before it runs home."
)
SEQ, BATCH, STEPS = 24, 16, 120


class CharLM(nn.Module):
    def __init__(self, vocab, emb=16, hidden=64):
        super().__init__()
        self.embed = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def windows(data, starts):
    x = torch.stack([data[s:s + SEQ] for s in starts])
    y = torch.stack([data[s + 1:s + SEQ + 1] for s in starts])
    return x, y


def main():
    torch.manual_seed(0)
    chars = sorted(set(TEXT))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in TEXT])
    vocab = len(chars)
    model = CharLM(vocab)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    eval_x, eval_y = windows(data, list(range(0, len(TEXT) - SEQ - 1, SEQ)))

    def eval_loss():
        with torch.no_grad():
            logits, _ = model(eval_x)
            return F.cross_entropy(logits.reshape(-1, vocab), eval_y.reshape(-1)).item()

    first = eval_loss()
    for step in range(STEPS):
        starts = torch.randint(0, len(TEXT) - SEQ - 1, (BATCH,)).tolist()
        x, y = windows(data, starts)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    final = eval_loss()
    with torch.no_grad():                  # greedy sampling, one character at a time, carrying (h, c)
        x, state, text = data[:1].reshape(1, 1), None, TEXT[0]
        for _ in range(40):
            logits, state = model(x, state)
            nxt = int(logits[0, -1].argmax())
            text += chars[nxt]
            x = torch.tensor([[nxt]])
    return {"first_loss": first, "final_loss": final, "sample_chars": len(text)}
