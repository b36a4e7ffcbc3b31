#!/usr/bin/env python3
"""Generate a realistic register of N entries in the seed's byte format.

Usage: gen_register.py N OUT [--days 60] [--seed 1]
Entries span the last --days days (so `report daily` and rotation have work),
spread over 40 agents and the models people actually run, a few with cache
tokens, tasks and projects, and about 1 in 500 lines a comment.
"""
import argparse
import random
import time

MODELS = [
    "anthropic/claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-opus-4-5",
    "claude-haiku-4-5", "glm-4.7", "gpt-5", "gpt-5-codex", "gemini-2.5-pro",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    now = int(time.time())
    start = now - args.days * 86400
    step = (now - start) / max(args.n, 1)
    with open(args.out, "w") as f:
        f.write("# Token Usage Register (JSONL)\n")
        for i in range(args.n):
            ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(start + i * step)))
            agent = f"agent-{rng.randrange(40)}"
            model = rng.choice(MODELS)
            inp = rng.randrange(100, 200_000)
            out = rng.randrange(10, 20_000)
            line = (f'{{"timestamp":"{ts}","session_key":"session-{i:08d}-{rng.getrandbits(32):08x}",'
                    f'"agent_id":"{agent}","model":"{model}","tokens_input":{inp},"tokens_output":{out}')
            if rng.random() < 0.7:
                line += f',"cost":{round((inp * 3 + out * 15) / 1e6, 6)}'
            if rng.random() < 0.3:
                line += f',"tokens_cache_read":{rng.randrange(0, 500_000)},"task_id":"T{rng.randrange(1000, 9999)}"'
            f.write(line + "}\n")
            if i % 500 == 499:
                f.write("# hand-written note\n")


if __name__ == "__main__":
    main()
