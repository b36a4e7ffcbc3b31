#!/usr/bin/env python3
"""Regenerate tokenledger's embedded price snapshot from a LiteLLM price file.

Usage:
    scripts/update-prices.py PATH/model_prices_and_context_window.json \
        [--version 1.109.1] [--generated YYYY-MM-DD] [--out crates/tokenledger-core/data/prices.json]

The LiteLLM file ships in the `litellm` wheel on PyPI as
`litellm/model_prices_and_context_window_backup.json`; the version is taken
from `--version` or detected from a `litellm-X.Y.Z*` wheel/dist-info next to it.

Output: USD per 1M tokens, one model per line, sorted, so refreshes diff well.
Only the model creators' own chat/responses entries are kept; Bedrock and
Vertex entries are used only for Anthropic/Google models the creator's own
provider no longer lists (LiteLLM dropped e.g. claude-opus-4-1 from `anthropic`).
The Rust side (crates/tokenledger-core/src/pricing/) mirrors the rules below.
"""

import argparse
import datetime
import json
import os
import re
import sys

PRIMARY = ["anthropic", "openai", "gemini", "zai", "deepseek", "xai", "mistral", "moonshot"]
# Hosts whose entries stand in for a creator's model the creator's provider lacks,
# best first. Regional Bedrock ids (us./eu./...) carry surcharges and are skipped.
FALLBACKS = {
    "anthropic": ["bedrock_converse", "bedrock", "vertex_ai-anthropic_models"],
    "gemini": ["vertex_ai-language-models", "vertex_ai"],
}
CREATORS = [
    (r"^claude", "anthropic"),
    (r"^(gpt-|o\d|chatgpt|codex|computer-use)", "openai"),
    (r"^(gemini|gemma|learnlm)", "gemini"),
    (r"^(glm-|zai-)", "zai"),
    (r"^deepseek", "deepseek"),
    (r"^grok", "xai"),
    (r"^(kimi|moonshot)", "moonshot"),
    (r"^(mistral|codestral|devstral|ministral|magistral|pixtral|voxtral|open-mistral|labs-)", "mistral"),
]
MODES = {"chat", "responses"}
REGION = re.compile(r"^(us|eu|apac|global|jp|au|ca|us-gov)\.")
# Only one long-context tier is modelled; the lowest threshold LiteLLM lists wins.
TIERS = ["100k", "128k", "200k", "272k"]


def creator_of(name, provider):
    for pattern, creator in CREATORS:
        if re.match(pattern, name):
            return creator
    return provider if provider in PRIMARY else None


def split_name(key):
    """(undated name, date suffix or None), mirroring model_name.rs."""
    n = key.lower().rsplit("/", 1)[-1]
    n = re.sub(r"^(?:(?:us|eu|apac|global|jp|au|ca|us-gov)\.)?anthropic\.", "", n)
    m = re.match(r"^(.*\d)-v\d+(?::\d+)?$", n)
    if m:
        n = m.group(1)
    n = re.sub(r"@default$", "", n)
    if n.startswith("claude"):
        n = n.replace(".", "-")
    m = re.match(r"^(.+?)[-@](20\d{6}|20\d\d-\d\d-\d\d)$", n)
    if m:
        return m.group(1), m.group(2)
    return n, None


def per_million(x):
    v = float(f"{float(x) * 1e6:.10g}")
    return int(v) if v.is_integer() else v


def price_record(name, v):
    """Normalised USD/1M record, or None when LiteLLM has no usable token price."""
    i, o = v.get("input_cost_per_token"), v.get("output_cost_per_token")
    if not isinstance(i, (int, float)) or not isinstance(o, (int, float)):
        return None
    if i == 0 and o == 0:  # LiteLLM's 0.0 means "unknown", never "free"
        return None
    claude = name.startswith("claude")
    num = lambda k: v.get(k) if isinstance(v.get(k), (int, float)) else None

    rec = {"input": per_million(i), "output": per_million(o)}
    cr, cw = num("cache_read_input_token_cost"), num("cache_creation_input_token_cost")
    rec["cache_read"] = per_million(cr) if cr is not None else (per_million(i * 0.1) if claude else rec["input"])
    rec["cache_write_5m"] = per_million(cw) if cw is not None else (per_million(i * 1.25) if claude else rec["input"])
    rec["cache_write_1h"] = one_hour(claude, i, num("cache_creation_input_token_cost_above_1hr"), rec["cache_write_5m"])

    for tier in TIERS:
        ti = num(f"input_cost_per_token_above_{tier}_tokens")
        to = num(f"output_cost_per_token_above_{tier}_tokens")
        if ti is None and to is None:
            continue
        ti = ti if ti is not None else i
        lc = {"threshold": int(tier[:-1]) * 1000, "input": per_million(ti),
              "output": per_million(to if to is not None else o)}
        tcr = num(f"cache_read_input_token_cost_above_{tier}_tokens")
        lc["cache_read"] = per_million(tcr) if tcr is not None else (per_million(ti * 0.1) if claude else rec["cache_read"])
        # A tiered write price without a base write price (Gemini's storage-style
        # keys) is not a per-token write rate, so it is only trusted alongside one.
        tcw = num(f"cache_creation_input_token_cost_above_{tier}_tokens") if cw is not None else None
        lc["cache_write_5m"] = per_million(tcw) if tcw is not None else (per_million(ti * 1.25) if claude else rec["cache_write_5m"])
        lc["cache_write_1h"] = one_hour(claude, ti, num(f"cache_creation_input_token_cost_above_1hr_above_{tier}_tokens"), lc["cache_write_5m"])
        rec["long_context"] = lc
        break

    fast = (v.get("provider_specific_entry") or {}).get("fast")
    if isinstance(fast, (int, float)) and fast > 0:
        rec["fast"] = fast
    return rec


def one_hour(claude, base_input, listed, write_5m):
    # Anthropic defines the 1h write as 2x base input, and older LiteLLM entries
    # carry stale `_above_1hr` values (claude-3-opus: 6e-06), so for Claude the
    # rule wins whatever the key says (ccusage ignores the key too).
    if claude:
        return per_million(base_input * 2)
    return per_million(listed) if listed is not None else write_5m


def candidates(data):
    for key, v in data.items():
        if key == "sample_spec" or not isinstance(v, dict) or v.get("mode") not in MODES:
            continue
        provider = v.get("litellm_provider")
        if key.startswith("ft:") or REGION.match(key) or (provider not in PRIMARY and "/" in key and not key.startswith("vertex_ai/")):
            continue
        name, date = split_name(key)
        creator = creator_of(name, provider)
        if creator is None:
            continue
        if provider == creator:
            rank = 0
        elif provider in FALLBACKS.get(creator, []):
            rank = 1 + FALLBACKS[creator].index(provider)
        else:
            continue  # resellers (mistral/zai-glm-5, ...): the creator's price is the reference
        rec = price_record(name, v)
        if rec is None:
            continue
        rec["provider"] = creator
        if isinstance(v.get("max_input_tokens"), int):
            rec["max_input_tokens"] = v["max_input_tokens"]
        # Prefer the creator, then the bare key over prefixed spellings, then newest date.
        decorated = key.lower() not in (name, f"{name}-{date}")
        order = (rank, decorated, key)
        yield name, date, order, key, rec


PRICE_FIELDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h", "long_context", "fast")


def same_price(a, b):
    return all(a.get(f) == b.get(f) for f in PRICE_FIELDS)


def build(data):
    groups = {}
    for name, date, order, key, rec in candidates(data):
        groups.setdefault(name, []).append((date, order, key, rec))
    models = {}
    for name, cands in groups.items():
        best_rank = min(c[1][0] for c in cands)
        top = [c for c in cands if c[1][0] == best_rank]
        # Undated entry first; otherwise the newest dated one.
        undated = sorted(c for c in top if c[0] is None)
        rep = undated[0] if undated else sorted(top, key=lambda c: (-int(c[0].replace("-", "")), c[1]))[0]
        models[name] = with_key(name, rep[2], rep[3])
        dated = {}
        for c in sorted(cands, key=lambda c: c[1]):
            if c[0] is not None:
                dated.setdefault(f"{name}-{c[0]}", c)
        for dkey, c in dated.items():
            if not same_price(c[3], rep[3]):
                models[dkey] = with_key(dkey, c[2], c[3])
    return models


def with_key(stored, key, rec):
    rec = dict(rec)
    if key != stored:
        rec["litellm_key"] = key
    return rec


def detect_version(path):
    d = os.path.dirname(os.path.abspath(path))
    for _ in range(3):
        for entry in sorted(os.listdir(d)):
            m = re.match(r"^litellm-(\d+\.\d+\.\d+[^-]*?)(?:\.dist-info|-py|-cp|\.tar|$)", entry)
            if m:
                return m.group(1)
        d = os.path.dirname(d)
    return None


def dump(header, models):
    lines = ["{"]
    for k in sorted(header):
        lines.append(f"{json.dumps(k)}: {json.dumps(header[k])},")
    lines.append('"models": {')
    rows = [f"{json.dumps(k)}: {json.dumps(models[k], sort_keys=True, separators=(',', ':'))}" for k in sorted(models)]
    lines.append(",\n".join(rows))
    lines.append("}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("litellm_json")
    ap.add_argument("--version", help="LiteLLM version the file comes from (detected if omitted)")
    ap.add_argument("--generated", default=datetime.datetime.now(datetime.timezone.utc).date().isoformat())
    ap.add_argument("--out", default=os.path.join(here, "..", "crates", "tokenledger-core", "data", "prices.json"))
    args = ap.parse_args()

    try:
        with open(args.litellm_json, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"{args.litellm_json}: {e}")
    if not isinstance(data, dict):
        sys.exit(f"{args.litellm_json}: expected a JSON object keyed by model")
    version = args.version or detect_version(args.litellm_json)
    if not version:
        sys.exit("cannot detect the LiteLLM version; pass --version")

    models = build(data)
    header = {"source": "litellm", "version": version, "generated": args.generated, "unit": "USD per 1M tokens"}
    text = dump(header, models)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, args.out)
    print(f"wrote {os.path.normpath(args.out)}: {len(models)} models, {len(text)} bytes, litellm {version}")


if __name__ == "__main__":
    main()
