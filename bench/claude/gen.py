#!/usr/bin/env python3
"""Generate a realistic Claude Code `projects/` tree for benchmarks.

Usage: gen.py OUT [--size 1G] [--files 4600] [--seed 1]

OUT becomes a config dir (OUT/projects/...), so point CLAUDE_CONFIG_DIR at it.
Deterministic for a given seed. File sizes are skewed like real trees: most
files are small, two are hundreds of MB (at 1G). Lines mix like real
transcripts: most are user prompts, tool results, progress and snapshots
without usage; assistant responses are written one line per content block
sharing message.id + requestId, early copies carrying placeholder usage
(output 1-2). Subagents live in <session>/subagents/agent-<id>.jsonl (some in
the flat CC 2.0 agent-<id>.jsonl layout), are mirrored into the parent as
nested progress entries, and the parent's Task results carry a `usage` object
that must not be counted. Some sessions are resumed: they start by repeating
earlier assistant lines verbatim (same ids), which dedupe must drop.
"""
import argparse
import json
import os
import random
import time

MODELS = [("claude-sonnet-4-5-20250929", 0.6), ("claude-opus-4-6", 0.25),
          ("claude-haiku-4-5-20251001", 0.15)]
START = 1767225600  # 2026-01-01T00:00:00Z
WORDS = ("the build fails because cargo test cannot find fixture module path return value "
         "error handler request token cache stream parse line file json struct impl fn let "
         "match option result async await config setting user agent session project").split()


def parse_size(text):
    text = text.strip().upper().rstrip("B").rstrip("I")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    return int(float(text.rstrip("KMG")) * mult)


def iso(t):
    ms = int(round((t - int(t)) * 1000))
    return "%s.%03dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t))), min(ms, 999))


class Gen:
    def __init__(self, rng):
        self.rng = rng
        self.text = " ".join(rng.choice(WORDS) for _ in range(200_000))
        self.n = 0

    def filler(self, size):
        start = self.rng.randrange(0, len(self.text) - size - 1) if size < len(self.text) - 2 else 0
        return self.text[start:start + size]

    def hexid(self, k=24):
        return "%0*x" % (k, self.rng.getrandbits(4 * k))

    def uuid(self):
        h = self.hexid(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:]}"

    def model(self, sub):
        if sub and self.rng.random() < 0.6:
            return MODELS[2][0]
        r, acc = self.rng.random(), 0.0
        for name, w in MODELS:
            acc += w
            if r < acc:
                return name
        return MODELS[0][0]


def base(s, t, kind, sidechain=False, agent=None):
    line = {"parentUuid": s["last"], "isSidechain": sidechain, "userType": "external", "cwd": s["cwd"],
            "sessionId": s["session"], "version": "2.1.%d" % s["minor"], "gitBranch": "main"}
    if agent:
        line["agentId"] = agent
    line["type"] = kind
    return line


def assistant_lines(g, s, t, sidechain, agent):
    """One response: a line per content block, placeholders first."""
    rng = g.rng
    mid, rid = "msg_01" + g.hexid(22), "req_011" + g.hexid(21)
    model = g.model(sidechain)
    inp = rng.choice([1, 2, 3, 4, 6, 8, 10, 12, 40, 300])
    read = rng.randrange(5_000, 180_000)
    write = rng.randrange(0, 4_000)
    one_hour = rng.random() < 0.8
    out = rng.randrange(20, 3_000)
    fast = model == "claude-opus-4-6" and rng.random() < 0.1
    blocks = rng.choices([1, 2, 3, 4], weights=[35, 35, 20, 10])[0]
    lines = []
    for b in range(blocks):
        final = b == blocks - 1
        usage = {"input_tokens": inp, "cache_creation_input_tokens": write, "cache_read_input_tokens": read,
                 "cache_creation": {"ephemeral_5m_input_tokens": 0 if one_hour else write,
                                    "ephemeral_1h_input_tokens": write if one_hour else 0},
                 "output_tokens": out if final else rng.choice([1, 2]), "service_tier": "standard"}
        if fast:
            usage["speed"] = "fast"
        kind = rng.choice(["text", "tool_use", "thinking"]) if not final else rng.choice(["text", "tool_use"])
        size = int(rng.lognormvariate(6.5, 1.0))
        if kind == "text":
            content = {"type": "text", "text": g.filler(min(size, 40_000))}
        elif kind == "thinking":
            content = {"type": "thinking", "thinking": g.filler(min(size, 40_000)), "signature": g.hexid(64)}
        else:
            content = {"type": "tool_use", "id": "toolu_01" + g.hexid(22), "name": rng.choice(["Read", "Bash", "Edit", "Grep"]),
                       "input": {"command": g.filler(min(size, 8_000))}}
        line = base(s, t, "assistant", sidechain, agent)
        line["message"] = {"model": model, "id": mid, "type": "message", "role": "assistant", "content": [content],
                           "stop_reason": (rng.choice(["end_turn", "tool_use"]) if final else None),
                           "stop_sequence": None, "usage": usage}
        line["requestId"] = rid
        line["uuid"] = g.uuid()
        line["timestamp"] = iso(t + b * 0.4)
        s["last"] = line["uuid"]
        lines.append(line)
    return lines


def other_line(g, s, t, sidechain, agent):
    rng = g.rng
    r = rng.random()
    if r < 0.55:  # tool result: the bulk of the bytes
        size = int(min(rng.lognormvariate(7.5, 1.6), 400_000))
        line = base(s, t, "user", sidechain, agent)
        line["message"] = {"role": "user", "content": [{"tool_use_id": "toolu_01" + g.hexid(22), "type": "tool_result",
                                                        "content": g.filler(size)}]}
        line["toolUseResult"] = {"stdout": g.filler(min(size, 2_000)), "stderr": "", "interrupted": False}
    elif r < 0.75:
        line = base(s, t, "user", sidechain, agent)
        line["message"] = {"role": "user", "content": g.filler(rng.randrange(20, 1_500))}
    elif r < 0.92:
        line = base(s, t, "progress", sidechain, agent)
        line["data"] = {"type": "hook_progress", "hookEvent": "PostToolUse", "hookName": "PostToolUse:Bash",
                        "command": "true"}
        line["toolUseID"] = "toolu_01" + g.hexid(22)
    else:
        return {"type": "file-history-snapshot", "messageId": g.uuid(),
                "snapshot": {"messageId": g.uuid(), "trackedFileBackups": {g.filler(30): {"version": 1}},
                             "timestamp": iso(t)}, "isSnapshotUpdate": False}
    line["uuid"] = g.uuid()
    line["timestamp"] = iso(t)
    s["last"] = line["uuid"]
    return line


def write_file(g, path, target, s, sidechain=False, agent=None, mirrors=None, replay=None, tasks=0):
    """Writes lines until `target` bytes; returns final assistant lines (for mirrors)."""
    rng = g.rng
    os.makedirs(os.path.dirname(path), exist_ok=True)
    written, t, finals = 0, s["t"], []
    with open(path, "w") as f:
        def put(obj):
            nonlocal written
            text = json.dumps(obj, separators=(",", ":")) + "\n"
            f.write(text)
            written += len(text)
        for line in replay or []:
            put(line)
        pending = list(mirrors or [])
        while written < target:
            t += rng.uniform(1, 40)
            if rng.random() < 0.22:
                lines = assistant_lines(g, s, t, sidechain, agent)
                for line in lines:
                    put(line)
                finals.append(lines[-1])
            else:
                put(other_line(g, s, t, sidechain, agent))
            if pending and rng.random() < 0.2:
                inner = pending.pop()
                prog = base(s, t, "progress")
                prog["data"] = {"type": "agent_progress", "agentId": inner.get("agentId"), "prompt": "",
                                "message": {"type": "assistant", "timestamp": inner["timestamp"],
                                            "requestId": inner["requestId"], "isSidechain": True,
                                            "message": inner["message"]}}
                prog["uuid"] = g.uuid()
                prog["timestamp"] = iso(t)
                put(prog)
            if tasks and rng.random() < 0.02:
                line = base(s, t, "user")
                line["message"] = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01" + g.hexid(22),
                                                                "content": "Task finished"}]}
                line["toolUseResult"] = {"status": "completed", "agentId": g.hexid(8), "totalTokens": rng.randrange(1000, 90000),
                                         "usage": {"input_tokens": 9, "output_tokens": 900, "cache_creation_input_tokens": 0,
                                                   "cache_read_input_tokens": 50000}}
                line["uuid"] = g.uuid()
                line["timestamp"] = iso(t)
                put(line)
    s["t"] = t
    return finals, written


def sizes(rng, total, files):
    giants = max(1, files // 2000) if total >= (256 << 20) else 0
    shares = [0.18, 0.12, 0.08, 0.05][:giants]
    rest = total - int(total * sum(shares))
    weights = [rng.lognormvariate(0, 1.9) for _ in range(files - giants)]
    scale = rest / sum(weights)
    out = [max(2_000, int(w * scale)) for w in weights] + [int(total * s) for s in shares]
    rng.shuffle(out)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--size", default="1G")
    ap.add_argument("--files", type=int, default=4600)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    g = Gen(rng)
    total, nfiles = parse_size(args.size), args.files
    plan = sizes(rng, total, nfiles)
    projects = ["-home-dev-src-" + "-".join(rng.sample(WORDS, 2)) + "-%d" % i
                for i in range(max(1, nfiles // 40))]
    # ~62% main sessions, ~33% subagent files, ~5% flat agent files.
    mains, subs = [], []
    for size in plan:
        r = rng.random()
        if r < 0.62 or not mains:
            project = rng.choice(projects)
            session = {"session": g.uuid(), "cwd": "/" + project[1:].replace("-", "/"), "project": project,
                       "minor": rng.randrange(100, 240), "t": START + rng.uniform(0, 30 * 86400), "last": None}
            mains.append((size, session))
        else:
            subs.append((size, r < 0.95))
    mirrors = {}
    written_total = 0
    for size, nested in subs:
        _, parent = rng.choice(mains)
        agent = g.hexid(8)
        s = dict(parent, last=None)
        proj_dir = os.path.join(args.out, "projects", parent["project"])
        path = (os.path.join(proj_dir, parent["session"], "subagents", f"agent-{agent}.jsonl") if nested
                else os.path.join(proj_dir, f"agent-{agent}.jsonl"))
        finals, n = write_file(g, path, size, s, sidechain=True, agent=agent)
        written_total += n
        for line in finals[: rng.randrange(0, 4)]:
            mirrors.setdefault(parent["session"], []).append(line)
    history = []
    for size, s in mains:
        replay = rng.sample(history, min(len(history), rng.randrange(3, 30))) if history and rng.random() < 0.05 else None
        path = os.path.join(args.out, "projects", s["project"], s["session"] + ".jsonl")
        finals, n = write_file(g, path, size, s, mirrors=mirrors.get(s["session"]), replay=replay, tasks=1)
        written_total += n
        history.extend(finals[:5])
        if len(history) > 2_000:
            del history[: len(history) - 2_000]
    print(f"wrote {written_total / (1 << 20):.1f} MiB in {len(plan)} files under {args.out}/projects")


if __name__ == "__main__":
    main()
