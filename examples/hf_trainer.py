"""A Hugging Face Trainer with the Gram monitor: python examples/hf_trainer.py [--steps N].

A tiny GPT-2 built from a GPT2Config (random weights, nothing downloaded) learns generated
token sequences on CPU; the callback logs gram/* statistics with the loss and writes
gram_history.csv and gram_grams.npz into --out.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch
import transformers

from spectral_edge.validation.integrations.hf import HFGramMonitorCallback

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _shared import parse_args  # noqa: E402


class Tokens(torch.utils.data.Dataset):
    """Sequences that repeat a random 4-token motif: a pattern the model can learn."""

    def __init__(self, n: int = 256, length: int = 32, vocab: int = 64) -> None:
        gen = torch.Generator().manual_seed(0)
        motifs = torch.randint(0, vocab, (n, 4), generator=gen)
        self.ids = motifs.repeat(1, length // 4)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def main(argv: list[str] | None = None) -> HFGramMonitorCallback:
    args = parse_args(__doc__, argv, steps=150)

    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=64, n_positions=32, n_embd=32, n_layer=2,
                                     n_head=2, bos_token_id=0, eos_token_id=0)
    model = transformers.GPT2LMHeadModel(config)
    callback = HFGramMonitorCallback(window=args.window, stride=args.stride)
    training = transformers.TrainingArguments(
        output_dir=args.out or tempfile.mkdtemp(prefix="hf-gram-"), max_steps=args.steps,
        per_device_train_batch_size=16, learning_rate=3e-3, logging_steps=max(args.steps // 5, 1),
        save_strategy="no", report_to="none", use_cpu=True, disable_tqdm=True,
    )
    trainer = transformers.Trainer(model=model, args=training, train_dataset=Tokens(),
                                   callbacks=[callback])
    trainer.train()  # the log lines printed include gram/sigma_1.., gram/kstar, gram/R, ...
    print(f"history and Grams in {training.output_dir}")
    return callback


if __name__ == "__main__":
    main()
