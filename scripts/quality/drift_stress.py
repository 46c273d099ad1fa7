"""Writes a drift stress set: many unshifted pairs and many 10 % shifts.

The project's drift.jsonl has one pair per kind and fraction; this set has
enough pairs to measure the false-alarm rate and the power at 10 % shifts:

    python3 scripts/quality/drift_stress.py 1 /tmp/drift-stress
    cargo run --release -p quality --example eval -- /tmp/drift-stress

The exchanges come from build_eval.py's generator, drawn from the given seed.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build_eval  # noqa: E402


def main():
    seed, out = int(sys.argv[1]), sys.argv[2]
    build_eval.R.seed(seed)
    rows = [{"id": f"null-{i}", "baseline": build_eval.window(), "current": build_eval.window(), "label": 0} for i in range(48)]
    for kind in ["topic", "length", "language", "format"]:
        for i in range(12):
            rows.append({"id": f"{kind}-10-{i}", "baseline": build_eval.window(), "current": build_eval.window(kind, 0.1), "label": 1})
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "drift.jsonl"), "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"drift: {len(rows)} pairs in {out}")


if __name__ == "__main__":
    main()
