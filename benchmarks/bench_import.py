"""Time of ``import journeygym``, as ``python -X importtime`` reports it (cumulative, fresh process each time).

Target: at most 0.5 s; torch and Stable-Baselines3 are not imported.
Run: ``python benchmarks/bench_import.py``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

from _common import header

_CODE = "import sys, journeygym; print(','.join(m for m in ('torch', 'stable_baselines3', 'scipy', 'pandas') if m in sys.modules))"


def one_import() -> tuple[float, str]:
    """(cumulative seconds of ``import journeygym``, heavy modules it loaded) in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", _CODE], capture_output=True, text=True, check=True)
    for line in reversed(done.stderr.splitlines()):
        fields = [f.strip() for f in line.split("|")]
        if len(fields) == 3 and fields[2] == "journeygym":
            return int(fields[1]) / 1e6, done.stdout.strip()
    raise RuntimeError(f"no 'journeygym' line in the importtime output:\n{done.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    header("import journeygym (target <= 0.5 s cumulative, no torch)")
    one_import()  # warm the file-system cache and the bytecode
    times, loaded = zip(*(one_import() for _ in range(args.repeats)))
    print(f"cumulative import time: median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
          f"max {max(times):.3f} s over {args.repeats} fresh processes")
    print(f"heavy modules loaded: {loaded[0] or 'none'}")


if __name__ == "__main__":
    main()
