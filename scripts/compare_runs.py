"""Compare two redact output folders: the outputs' bytes (a PDF's random /ID masked) and the audit records without
times, durations, the hash chain, host and working folder. Proves a refactoring changed no behaviour:

    .venv/bin/python scripts/compare_runs.py OUT_BEFORE OUT_AFTER
"""
import hashlib, json, sys
from pathlib import Path

VOLATILE = {"time", "seconds", "prev", "hash", "cwd", "host", "done_at", "reason"}

import re
ID = re.compile(rb"/ID \[<[0-9a-f]{32}> <[0-9a-f]{32}>\]")  # the PDF writer's random document id


def records(p):
    root = str(Path(p).parent)
    out = []
    for line in Path(p).read_text().splitlines():
        r = json.loads(line.replace(root, "OUT"))
        if str(r.get("output", "")).endswith(".pdf"):
            r.pop("output_sha256", None)  # random /ID inside; the bytes are compared with it masked
        out.append({k: v for k, v in r.items() if k not in VOLATILE})
    return out

def files(root):
    root = Path(root)
    return {p.relative_to(root).as_posix(): hashlib.sha256(ID.sub(b"/ID []", p.read_bytes())).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".") and p.suffix not in (".jsonl", ".html")}

a, b = sys.argv[1], sys.argv[2]
fa, fb = files(a), files(b)
ra, rb = records(Path(a) / "audit.jsonl"), records(Path(b) / "audit.jsonl")
print(f"{len(fa)} vs {len(fb)} output files; identical bytes: {fa == fb}")
for k in sorted(set(fa) | set(fb)):
    if fa.get(k) != fb.get(k):
        print("  differs:", k)
print(f"{len(ra)} vs {len(rb)} audit records; identical (minus time/seconds/chain/cwd/host): {ra == rb}")
for x, y in zip(ra, rb):
    if x != y:
        print("  A:", json.dumps(x)[:300]); print("  B:", json.dumps(y)[:300])
