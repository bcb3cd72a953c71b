"""PPO and DQN over five training seeds at the quick preset's budgets: does any seed fall behind?

Runs the quick preset with ``never``, the best seed baseline of the quick table
(``expected_ltv``), PPO and DQN, for training seeds 0-4 (each seed: its own training,
its own evaluation customers and posterior draws, as in any run), then prints each
seed's return per customer for every policy, and checks the issue's floor: no agent seed
below the seed baseline's mean over the seeds minus the half-width of its 95% interval
(the interval ``journeygym run`` reports, over seeds and draws).

Run: ``python benchmarks/agent_robustness.py [--out DIR] [--seeds 0 1 2 3 4] [--dqn key=value,...] [--ppo key=value,...]``
(about 3 minutes on 2 cores).  ``--dqn`` / ``--ppo`` override the agent's hyperparameters in the quick
preset, with the keys of ``benchmarks/tune_agents.py`` (``width`` sets both hidden layers).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import yaml
from _common import header

from journeygym.experiments import load_config, run_experiment
from journeygym.experiments.config import preset_path
from journeygym.experiments.summary import summarize
from tune_agents import agent_kwargs, parse_setting

BASELINE = "expected_ltv"
AGENTS = ("ppo", "dqn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None, help="results directory (default: a temporary one)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    for agent in AGENTS:
        parser.add_argument(f"--{agent}", default="", help=f"{agent} hyperparameters over the preset's: key=value,...")
    args = parser.parse_args()
    header(f"agents over training seeds {args.seeds} at the quick preset's budgets")
    raw = yaml.safe_load(preset_path("quick").read_text())
    raw["policies"] = [p for p in raw["policies"] if (p if isinstance(p, str) else p["name"]) in ("never", BASELINE, *AGENTS)]
    for entry in raw["policies"]:
        overrides = parse_setting(getattr(args, entry["name"], "")) if isinstance(entry, dict) else {}
        if overrides:
            if "threads" in overrides:
                parser.error("threads: the experiments train with one torch thread per worker")
            entry["hyperparameters"] = {**entry.get("hyperparameters", {}), **agent_kwargs(entry["name"], overrides)[0]}
            print(f"{entry['name']}: hyperparameters {entry['hyperparameters']}")
    raw.update(seeds=list(args.seeds), name="agent-robustness")
    out = args.out or Path(tempfile.mkdtemp(prefix="agent-robustness-"))
    result = run_experiment(load_config(raw), out, progress=False, report=False)
    per_seed = result.table.groupby(["policy", "seed"])["mean_return"].mean().unstack("seed")
    print(per_seed.round(3).to_string())
    baseline = summarize(result.table, reference=BASELINE)[0].row(BASELINE).mean_return
    floor = baseline.mean - (baseline.high - baseline.low) / 2
    print(f"\n{BASELINE}: {baseline}; floor {floor:.3f}")
    for agent in AGENTS:
        below = [int(s) for s, value in per_seed.loc[agent].items() if value < floor]
        verdict = "every seed above the floor" if not below else f"seeds {below} below the floor"
        print(f"{agent}: {verdict} (lowest {per_seed.loc[agent].min():.3f})")

if __name__ == "__main__":
    main()
