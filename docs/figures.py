"""Draw the figures of ``docs/`` again from the results directories of the runs they show.

Each figure is the one the run's own report draws (``journeygym report DIR``); this script
rebuilds the report of each directory it is given and copies the figure beside these pages::

    journeygym run full --out results/full          # and sensitivity, budgets, offline
    python docs/figures.py --full results/full --sensitivity results/sensitivity \
        --budgets results/budgets --offline results/offline
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from journeygym.experiments import build_report

#: Run -> (the figure in the run's report/, the file it becomes in docs/).
FIGURES: dict[str, tuple[str, str]] = {
    "full": ("returns.png", "full_run_returns.png"),
    "sensitivity": ("sensitivity.png", "sensitivity_returns.png"),
    "budgets": ("budgets.png", "budgets.png"),
    "offline": ("offline.png", "offline_benchmark.png"),
}


def draw(run: str, results_dir: Path, docs_dir: Path = Path(__file__).resolve().parent) -> Path:
    """Rebuild ``results_dir``'s report and copy the figure of ``run`` into ``docs_dir``; returns the copy."""
    if run not in FIGURES:
        raise ValueError(f"run: received {run!r}, expected one of {sorted(FIGURES)}.")
    report = build_report(results_dir).parent
    figure, target = FIGURES[run]
    source = report / figure
    if not source.is_file():
        raise FileNotFoundError(
            f"{str(results_dir)!r}: its report has no {figure}; is it a `journeygym run {run}` results directory?"
        )
    return Path(shutil.copyfile(source, docs_dir / target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for run in FIGURES:
        parser.add_argument(f"--{run}", type=Path, default=None, help=f"results directory of `journeygym run {run}`")
    args = parser.parse_args()
    given = {run: getattr(args, run) for run in FIGURES if getattr(args, run) is not None}
    if not given:
        parser.error("give at least one results directory, e.g. --full results/full")
    for run, directory in given.items():
        print(f"{run}: wrote {draw(run, directory)}")


if __name__ == "__main__":
    main()
