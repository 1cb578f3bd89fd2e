#!/usr/bin/env python3
"""PyTorch peer of the GPU run (bench/gpu-run.sh): the same weights LeadEngine's e2e bench scores (a model
directory in Hugging Face layout, e.g. weights/random/qwen2.5-0.5b, which the bench writes) through
transformers' Qwen2 on CUDA, fp32 and bf16, eager and scaled_dot_product_attention:
- scoring as LeadEngine scores: the final hidden state at each sequence's last token into two score heads
  and the LM head's Yes/No rows; tokens/s at batch x seq, and peak GPU memory;
- one training step as LeadEngine trains: LoRA r=8 (alpha 16) on every projection (peft) plus the heads,
  BCE + pairwise + LM loss on the last token, backward, AdamW; tokens/s and peak memory.
Prints one markdown table; a case that fails prints its error in its row and the others go on."""
import argparse
import time

import torch
from transformers import AutoModelForCausalLM

PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def timed(step, seconds):
    """Mean seconds per call after one warm-up call, over at least three calls and `seconds`."""
    step()
    torch.cuda.synchronize()
    calls, start = 0, time.perf_counter()
    while True:
        step()
        calls += 1
        torch.cuda.synchronize()
        elapsed = time.perf_counter() - start
        if calls >= 3 and elapsed >= seconds:
            return elapsed / calls


def peak_gib():
    return torch.cuda.max_memory_allocated() / 2**30


def last_token_outputs(backbone, lm_head, heads, ids):
    hidden = backbone(input_ids=ids).last_hidden_state[:, -1]
    return heads(hidden), lm_head(hidden)[:, :2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--seq", default="256,2000")
    parser.add_argument("--batch", default="8")
    parser.add_argument("--train-batch", type=int, default=2)
    parser.add_argument("--train-seq", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    seqs = [int(s) for s in args.seq.split(",")]
    batches = [int(b) for b in args.batch.split(",")]
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}; model {args.model}")
    print("| dtype | attention | what | batch x seq | ms per call | tokens/s | peak GPU GiB |")
    print("|---|---|---|---:|---:|---:|---:|")
    for dtype in (torch.float32, torch.bfloat16):
        for attention in ("eager", "sdpa"):
            name = str(dtype).replace("torch.", "")
            try:
                model = AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype, attn_implementation=attention).cuda().eval()
            except Exception as error:  # one failing case must not stop the run
                print(f"| {name} | {attention} | load failed: {type(error).__name__}: {error} | | | | |")
                continue
            heads = torch.nn.Linear(model.config.hidden_size, 2).cuda().to(dtype)
            vocab = model.config.vocab_size
            for seq in seqs:
                for batch in batches:
                    ids = torch.randint(0, vocab, (batch, seq), device="cuda")
                    torch.cuda.reset_peak_memory_stats()
                    try:
                        with torch.no_grad():
                            seconds = timed(lambda: last_token_outputs(model.model, model.lm_head, heads, ids), args.seconds)
                        print(f"| {name} | {attention} | scoring | {batch} x {seq} | {seconds * 1e3:.2f} | {batch * seq / seconds:,.0f} | {peak_gib():.2f} |")
                    except Exception as error:
                        print(f"| {name} | {attention} | scoring | {batch} x {seq} | {type(error).__name__}: {str(error)[:120]} | | |")
                    del ids
                    torch.cuda.empty_cache()
            try:
                from peft import LoraConfig, get_peft_model
                tuned = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=PROJECTIONS))
                tuned.train()
                trainable = [p for p in tuned.parameters() if p.requires_grad] + list(heads.parameters())
                optimizer = torch.optim.AdamW([{"params": list(heads.parameters()), "lr": 1e-3},
                                               {"params": [p for p in tuned.parameters() if p.requires_grad], "lr": 5e-5}])
                batch, seq = args.train_batch, args.train_seq
                ids = torch.randint(0, vocab, (batch, seq), device="cuda")
                labels = torch.randint(0, 2, (batch,), device="cuda").to(dtype)
                answers = torch.randint(0, 2, (batch,), device="cuda")

                def train_step():
                    optimizer.zero_grad(set_to_none=True)
                    scores, yes_no = last_token_outputs(tuned.base_model.model.model, tuned.base_model.model.lm_head, heads, ids)
                    bce = torch.nn.functional.binary_cross_entropy_with_logits(scores[:, 0], labels)
                    pairwise = -torch.nn.functional.logsigmoid(scores[0, 1] - scores[-1, 1] - 0.5)
                    lm = torch.nn.functional.cross_entropy(yes_no.float(), answers)
                    (bce + pairwise + lm).backward()
                    torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                    optimizer.step()

                torch.cuda.reset_peak_memory_stats()
                seconds = timed(train_step, args.seconds)
                print(f"| {name} | {attention} | LoRA r8 + heads training step | {batch} x {seq} | {seconds * 1e3:.2f} | {batch * seq / seconds:,.0f} | {peak_gib():.2f} |")
            except Exception as error:
                print(f"| {name} | {attention} | training step | {args.train_batch} x {args.train_seq} | {type(error).__name__}: {str(error)[:120]} | | |")
            del model, heads
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
