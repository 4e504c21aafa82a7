"""Record what a generation of the cohort writes: ``tests/generation_digests.json``, the SHA-256 of each file
``python -m synthetic`` writes and the package versions it ran with (read by ``tests/test_synthetic.py``).

    python tests/record_generation.py

Run it after a change of the generator's output, in the environment the project installs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_synthetic import RECORDED, digests, environment  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory() as work:
        out = Path(work) / "cohort"
        subprocess.run([sys.executable, "-m", "synthetic", "--out", str(out)], cwd=ROOT, check=True)
        record = {"environment": environment(), "files": digests(out)}
    RECORDED.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {RECORDED.relative_to(ROOT)}: {len(record['files'])} files, {record['environment']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
