"""Write examples/01_data_splits-example.ipynb: the student notebook, filled in by a plausible student.

The example is partly right, partly wrong, so the main job's score table shows both kinds of
feedback: ``split_data`` shuffles and pairs correctly but rounds the sizes with ``round()``, and
``standardize`` computes its statistics on all the data (leakage). Run from the repository root:

    python tools/make_example.py          # (re)write the example
    python tools/make_example.py --check  # fail if the committed example is out of date
"""

from __future__ import annotations

import json
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(REPO, "assignments", "01_data_splits", "01_data_splits.ipynb")
TARGET = os.path.join(REPO, "examples", "01_data_splits-example.ipynb")
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"

ANSWERS = {
    "split_data": """    n = len(x)
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    n_train, n_val = round(n * ratios[0]), round(n * ratios[1])
    parts = {"train": perm[:n_train], "val": perm[n_train:n_train + n_val], "test": perm[n_train + n_val:]}
    return {name: (x[idx], y[idx]) for name, idx in parts.items()}""",
    "standardize": """    everything = torch.cat([train_x, *others])
    mean = everything.mean(dim=0)
    std = everything.std(dim=0, correction=0)
    std = torch.where(std == 0, torch.ones_like(std), std)
    return tuple((t - mean) / std for t in (train_x, *others))""",
}


def build() -> str:
    with open(SOURCE, encoding="utf-8") as fh:
        nb = json.load(fh)
    for cell in nb["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in ANSWERS:
            src = "".join(cell["source"])
            assert STUB in src, grade_id
            cell["source"] = src.replace(STUB, ANSWERS[grade_id]).splitlines(True)
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = build()
    if "--check" in argv:
        with open(TARGET, encoding="utf-8") as fh:
            if fh.read() != text:
                print(f"{TARGET} is out of date: run python tools/make_example.py", file=sys.stderr)
                return 1
        return 0
    os.makedirs(os.path.dirname(TARGET), exist_ok=True)
    with open(TARGET, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"wrote {os.path.relpath(TARGET, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
