"""Writing a benchmark's figures: the previous figures of the output file, if any, printed beside the new
ones, then the file replaced. Shared by the benchmark scripts of this folder."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path


def machine() -> dict:
    return {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def write_and_compare(out: Path, result: dict) -> None:
    """Print ``result["figures"]`` beside the figures now in ``out`` (a figure may be a number or a dict
    with ``median_seconds``), then write ``result`` (with the machine and the time added) to ``out``."""
    result = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M:%S"), **result}
    previous = json.loads(out.read_text()).get("figures", {}) if out.exists() else {}

    def show(v):
        return v["median_seconds"] if isinstance(v, dict) else v

    print(f"{'figure':24} {'previous':>10} {'now':>10}")
    for name, value in result["figures"].items():
        old = previous.get(name)
        print(f"{name:24} {str(show(old)) if old is not None else '-':>10} {str(show(value)):>10}")
    out.write_text(json.dumps(result, indent=2) + "\n")
