"""Search PPO and DQN settings for return per wall-second of training.

Every setting trains the agent (``PPOAgent`` / ``DQNAgent``: its defaults, overridden by
the setting) on the quick scenario (the shipped artifact, 52 weeks, a posterior draw per
episode) once per training seed, for a fixed wall-clock budget:

1. a probe run measures the setting's env-steps per second (over the second half of
   ``--probe`` seconds, past DQN's ``learning_starts``);
2. every seed then trains for ``budget x that rate`` env-steps -- a step budget, so the
   step-based schedules (DQN's exploration, a learning-rate schedule) run their course as
   in a real run -- stopped early if it overruns the wall budget by half;
3. the agent's learning curve evaluates the greedy policy at checkpoints on fixed
   validation customers (:mod:`journeygym.agents.learning_curves`): the same customers
   for every setting and seed, so settings are compared on common random numbers.

A seed *collapses* when its final policy e-mails nobody (< 0.001 e-mails per
customer-week) or everybody (at least 90% of what ``always_<first arm>`` sends on the
validation customers).  Written to ``--out``: ``runs.csv`` (one row per setting, seed and
checkpoint), ``summary.csv`` and ``summary.md`` (one row per setting), with the
validation customers' never / always / oracle returns as references.

Setting keys: any hyperparameter of the agent (``n_envs``, ``n_epochs``, ``batch_size``,
``learning_rate``, ``train_freq``, ``gradient_steps``, ``buffer_size``...) and

* ``threads`` -- torch threads (default 1, as in the experiments);
* ``width`` -- hidden units of both layers of every network (default 64);
* ``minibatches`` -- PPO: ``batch_size = n_envs x 52 / minibatches``.

(The learning-rate schedule is the agents' own ``learning_rate_schedule``:
``constant`` or ``linear``, falling to 0 at the end of the step budget.)

Run::

    python benchmarks/tune_agents.py --grid small --budget 18 --seeds 0 1 2 --out tune-small   # about 8 minutes
    python benchmarks/tune_agents.py --ppo "n_epochs=2,learning_rate_schedule=constant" --dqn "gradient_steps=2" --out tune-mine
    python benchmarks/tune_agents.py --grid dqn-seeds --algorithms dqn --timesteps 1000000 --budget 60 --seeds 0 1 2 3 4 --out tune-dqn   # about 17 minutes
    python benchmarks/tune_agents.py --summarize --out tune-small   # summarize runs.csv again

The ``small`` grid chose the agents' current defaults (:data:`PPO_CHOSEN`, :data:`DQN_CHOSEN`;
the figures are in the agents' docstrings); ``wide`` varies every knob around them.

Timings are wall seconds of training (the curve's evaluations excluded) on this machine:
compare settings of one run, and read ``cpu/wall`` (CPU seconds per wall second of the
whole fit; below 0.9 with one thread, other work competed for the cores).  Env-steps per
CPU-second (env-steps/s divided by ``cpu/wall``) is steadier on a shared machine.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from stable_baselines3.common.callbacks import BaseCallback

from _common import artifact_argument, header
from journeygym.agents.features import find_population_env
from journeygym.agents.learning_curves import CurveSettings, evaluate_checkpoint
from journeygym.agents.sb3_agents import DQNAgent, PPOAgent, SB3Agent
from journeygym.baselines.registry import make_policy
from journeygym.envs import JourneyVecEnv
from journeygym.envs.actions import arm_names

HORIZON = 52
AGENTS: dict[str, type[SB3Agent]] = {"ppo": PPOAgent, "dqn": DQNAgent}
#: Named grids: algorithm -> setting name -> overrides of the agent's defaults.
#: The earlier defaults (before this search), spelled out so the grids do not move with the defaults.
PPO_BEFORE = {"n_epochs": 10, "learning_rate": 3e-4, "learning_rate_schedule": "constant"}
DQN_BEFORE = {"train_freq": 1, "gradient_steps": 4, "buffer_size": 500_000}
#: The settings the search chose (the agents' defaults since).
PPO_CHOSEN = {"n_epochs": 1, "learning_rate": 5e-3, "learning_rate_schedule": "linear"}
DQN_CHOSEN = {"train_freq": 4, "gradient_steps": 1, "buffer_size": 100_000}
#: Named grids: algorithm -> setting name -> overrides of the agent's defaults.
GRIDS: dict[str, dict[str, dict[str, dict[str, Any]]]] = {
    "small": {
        "ppo": {
            "before": PPO_BEFORE,
            "epochs1-lr3e-3": {"n_epochs": 1, "learning_rate": 3e-3, "learning_rate_schedule": "constant"},
            "epochs2-lr3e-3": {"n_epochs": 2, "learning_rate": 3e-3, "learning_rate_schedule": "constant"},
            "epochs1-lr5e-3-linear": PPO_CHOSEN,
        },
        "dqn": {
            "before": DQN_BEFORE,
            "grad1": {**DQN_BEFORE, "gradient_steps": 1},
            "freq4-grad1-buf100k": DQN_CHOSEN,
        },
    },
    "wide": {
        "ppo": {
            "before": PPO_BEFORE,
            "chosen": PPO_CHOSEN,
            **{f"envs{n}": {**PPO_CHOSEN, "n_envs": n} for n in (256, 1024)},
            **{f"epochs{e}": {**PPO_CHOSEN, "n_epochs": e} for e in (2, 4)},
            **{f"mb{m}": {**PPO_CHOSEN, "minibatches": m} for m in (1, 2, 8)},
            **{f"lr{lr:g}-linear": {**PPO_CHOSEN, "learning_rate": lr} for lr in (2e-3, 1e-2)},
            **{f"lr{lr:g}": {**PPO_CHOSEN, "learning_rate": lr, "learning_rate_schedule": "constant"} for lr in (1e-3, 3e-3)},
            "gae1": {**PPO_CHOSEN, "gae_lambda": 1.0},
            **{f"width{w}": {**PPO_CHOSEN, "width": w} for w in (32, 128)},
            "threads2": {**PPO_CHOSEN, "threads": 2},
        },
        "dqn": {
            "before": DQN_BEFORE,
            "chosen": DQN_CHOSEN,
            **{f"freq{f}": {**DQN_CHOSEN, "train_freq": f} for f in (1, 2, 8)},
            **{f"grad{g}": {**DQN_CHOSEN, "gradient_steps": g} for g in (2, 4)},
            **{f"buf{b // 1000}k": {**DQN_CHOSEN, "buffer_size": b} for b in (50_000, 500_000)},
            **{f"lr{lr:g}": {**DQN_CHOSEN, "learning_rate": lr} for lr in (3e-4, 1e-3)},
            "threads2": {**DQN_CHOSEN, "threads": 2},
        },
    },
    # DQN's seed sensitivity at the presets' budget: run with --timesteps 1000000 --seeds 0 1 2 3 4.
    "dqn-seeds": {
        "ppo": {},
        "dqn": {
            "chosen": DQN_CHOSEN,
            "envs128-freq2": {"n_envs": 128, "train_freq": 2},
            "envs128-freq2-lr2e-4-linear": {"n_envs": 128, "train_freq": 2, "learning_rate": 2e-4, "learning_rate_schedule": "linear"},
            "envs128-freq2-lr3e-4": {"n_envs": 128, "train_freq": 2, "learning_rate": 3e-4},
            "envs128-freq2-lr1e-3": {"n_envs": 128, "train_freq": 2, "learning_rate": 1e-3},
            "envs128-freq1-lr3e-4": {"n_envs": 128, "train_freq": 1, "learning_rate": 3e-4},
            "envs128-freq4-batch512": {"n_envs": 128, "train_freq": 4, "batch_size": 512},
            "envs256-freq2-batch512-lr2e-4": {"n_envs": 256, "train_freq": 2, "batch_size": 512, "learning_rate": 2e-4},
            "envs128-freq2-gamma0.95": {"n_envs": 128, "train_freq": 2, "gamma": 0.95},
            "target5000": {"target_update_interval": 5000},
            "nstep4": {"n_steps": 4},
            "nstep8": {"n_steps": 8},
        },
    },
    "dqn-double": {
        "ppo": {},
        "dqn": {
            "double": {"double_q": True},
            "double-envs128-freq2": {"double_q": True, "n_envs": 128, "train_freq": 2},
        },
    },
    "dqn-explore": {
        "ppo": {},
        "dqn": {
            "explore0.1": {"exploration_fraction": 0.1},
            "explore0.1-final0.05": {"exploration_fraction": 0.1, "exploration_final_eps": 0.05},
            "explore0.6": {"exploration_fraction": 0.6},
        },
    },
    "dqn-dueling": {
        "ppo": {},
        "dqn": {
            "dueling": {"dueling": True},
            "dueling-double": {"dueling": True, "double_q": True},
        },
    },
}
NOBODY = 0.001
EVERYBODY_SHARE = 0.9


def parse_setting(text: str) -> dict[str, Any]:
    """``"n_epochs=2,learning_rate=1e-3,learning_rate_schedule=linear"`` -> overrides (numbers parsed)."""
    setting: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, value = item.partition("=")
        for kind in (int, float):
            try:
                setting[key.strip()] = kind(value)
                break
            except ValueError:
                continue
        else:
            setting[key.strip()] = value.strip()
    return setting


def agent_kwargs(algorithm: str, setting: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The agent's keyword arguments of a setting, and its torch threads."""
    kwargs = {k: v for k, v in setting.items() if k not in ("threads", "width", "minibatches")}
    if "width" in setting:
        width = int(setting["width"])
        arch: Any = {"pi": [width, width], "vf": [width, width]} if algorithm == "ppo" else [width, width]
        kwargs["policy_kwargs"] = {"net_arch": arch}
    if "minibatches" in setting:
        n_envs = int(kwargs.get("n_envs", PPOAgent.default_n_envs))
        kwargs["batch_size"] = n_envs * HORIZON // int(setting["minibatches"])
    return kwargs, int(setting.get("threads", 1))


class WallClock(BaseCallback):
    """Stop training after ``limit`` wall seconds; records the env-steps at half time and at the end."""

    def __init__(self, limit: float) -> None:
        super().__init__()
        self.limit = limit
        self.marks: list[tuple[float, int]] = []

    def _on_training_start(self) -> None:
        self._started = time.perf_counter()

    def _on_step(self) -> bool:
        elapsed = time.perf_counter() - self._started
        if not self.marks and elapsed >= self.limit / 2:
            self.marks.append((elapsed, self.num_timesteps))
        return elapsed < self.limit

    def _on_training_end(self) -> None:
        self.marks.append((time.perf_counter() - self._started, self.num_timesteps))


def factory(artifact: str | None):
    def make(n_envs: int) -> JourneyVecEnv:
        return JourneyVecEnv(n_envs, params="sample", artifact=artifact, horizon=HORIZON)

    return make


def probe_rate(algorithm: str, setting: dict[str, Any], seconds: float, artifact: str | None) -> float:
    """Env-steps per wall second over the second half of a ``seconds`` run (no learning curve)."""
    kwargs, threads = agent_kwargs(algorithm, setting)
    torch.set_num_threads(threads)
    clock = WallClock(seconds)
    agent = AGENTS[algorithm](learning_curve=None, **kwargs)
    agent.fit(factory(artifact), 10**12, seed=10_000, callback=clock)
    (t_half, s_half), (t_end, s_end) = clock.marks[0], clock.marks[-1]
    return (s_end - s_half) / max(t_end - t_half, 1e-9)


def train(
    algorithm: str, name: str, setting: dict[str, Any], seed: int, timesteps: int, budget: float,
    curve: CurveSettings, artifact: str | None,
) -> list[dict[str, Any]]:
    """Rows (one per checkpoint) of one training run."""
    kwargs, threads = agent_kwargs(algorithm, setting)
    torch.set_num_threads(threads)
    agent = AGENTS[algorithm](learning_curve=curve, **kwargs)
    timesteps = max(timesteps, agent.minimum_timesteps(HORIZON))
    wall, cpu = time.perf_counter(), time.process_time()
    agent.fit(factory(artifact), timesteps, seed=seed, callback=WallClock(1.5 * budget))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows = []
    for i, point in enumerate(agent.learning_curve_.points):
        rows.append(
            {
                "algorithm": algorithm, "setting": name, "overrides": describe(setting), "seed": seed, "checkpoint": i,
                "timesteps": point.timesteps, "seconds": point.seconds, "return": point.return_per_customer,
                "contacts": point.contacts_per_customer_week, "step_budget": timesteps, "budget_s": budget,
                "cpu_per_wall": cpu / wall,
            }
        )
    return rows


def describe(setting: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in setting.items()) or "(defaults)"


def references(curve: CurveSettings, artifact: str | None) -> dict[str, tuple[float, float]]:
    """Return and contacts per customer-week of never, always_<first arm> and the oracle on the validation customers."""
    env = find_population_env(factory(artifact)(curve.customers))
    always = f"always_{arm_names(env.action_names)[0]}"
    return {name: evaluate_checkpoint(env, make_policy(name), curve) for name in ("never", always, "oracle")}


def summarize(runs: pd.DataFrame, everybody: float) -> pd.DataFrame:
    """One row per setting: speed, final return over seeds, collapses."""
    final = runs.sort_values("checkpoint", kind="stable").groupby(["algorithm", "setting", "seed"], sort=False).tail(1)
    order = list(dict.fromkeys(zip(runs["algorithm"], runs["setting"])))
    rows = []
    for algorithm, name in order:
        part = final[(final["algorithm"] == algorithm) & (final["setting"] == name)]
        collapsed = int(((part["contacts"] < NOBODY) | (part["contacts"] >= everybody)).sum())
        rows.append(
            {
                "algorithm": algorithm,
                "setting": name,
                "overrides": part["overrides"].iloc[0],
                "seeds": len(part),
                "env_steps": int(part["timesteps"].mean()),
                "train_s": float(part["seconds"].mean()),
                "steps_per_s": float((part["timesteps"] / part["seconds"]).mean()),
                "steps_per_cpu_s": float((part["timesteps"] / (part["seconds"] * part["cpu_per_wall"])).mean()),
                "cpu_per_wall": float(part["cpu_per_wall"].mean()),
                "return_mean": float(part["return"].mean()),
                "return_min": float(part["return"].min()),
                "return_max": float(part["return"].max()),
                "contacts_min": float(part["contacts"].min()),
                "contacts_max": float(part["contacts"].max()),
                "collapsed_seeds": collapsed,
            }
        )
    return pd.DataFrame(rows)


def markdown(summary: pd.DataFrame, refs: dict[str, tuple[float, float]], runs: pd.DataFrame, args: argparse.Namespace) -> str:
    budget = float(runs["budget_s"].iloc[0]) if "budget_s" in runs.columns else args.budget
    seeds = sorted(int(s) for s in runs["seed"].unique())
    lines = [
        f"Budget {budget:g} wall-s of training per seed, seeds {seeds}; validation: "
        f"{args.validation_customers} customers x {args.validation_episodes} seasons (fixed seeds).",
        "References on the same customers: "
        + "; ".join(f"{name} {value:.3f} $/customer, {contacts:.3f} e-mails/customer-week" for name, (value, contacts) in refs.items()),
        "",
        "| algorithm | setting | overrides | env-steps | train s | env-steps/s | env-steps/CPU-s | cpu/wall | return mean [min, max] over seeds | e-mails/customer-week [min, max] | collapsed seeds |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in summary.itertuples():
        lines.append(
            f"| {r.algorithm} | {r.setting} | {r.overrides} | {r.env_steps:,} | {r.train_s:.1f} | {r.steps_per_s:,.0f} | {r.steps_per_cpu_s:,.0f} | "
            f"{r.cpu_per_wall:.2f} | {r.return_mean:.3f} [{r.return_min:.3f}, {r.return_max:.3f}] | "
            f"[{r.contacts_min:.3f}, {r.contacts_max:.3f}] | {r.collapsed_seeds}/{r.seeds} |"
        )
    return "\n".join(lines) + "\n"


def write_summary(
    runs: pd.DataFrame, everybody: float, refs: dict[str, tuple[float, float]], args: argparse.Namespace
) -> None:
    """``summary.csv`` and ``summary.md`` in ``--out``."""
    summary = summarize(runs, everybody)
    summary.to_csv(args.out / "summary.csv", index=False)
    (args.out / "summary.md").write_text(markdown(summary, refs, runs, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grid", choices=sorted(GRIDS), help="a named grid of settings")
    parser.add_argument("--ppo", action="append", default=[], help="a PPO setting: key=value,... (repeatable)")
    parser.add_argument("--dqn", action="append", default=[], help="a DQN setting: key=value,... (repeatable)")
    parser.add_argument("--algorithms", nargs="+", default=["ppo", "dqn"], choices=sorted(AGENTS))
    parser.add_argument("--budget", type=float, default=15.0, help="wall seconds of training per seed")
    parser.add_argument(
        "--timesteps", type=int, default=None,
        help="a fixed step budget per seed instead of budget x the probe's rate (the wall budget then only stops overruns)",
    )
    parser.add_argument("--probe", type=float, default=4.0, help="wall seconds of the speed probe per setting")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--checkpoints", type=int, default=4, help="learning-curve checkpoints per run")
    parser.add_argument("--validation-customers", type=int, default=2000)
    parser.add_argument("--validation-episodes", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--summarize", action="store_true", help="only summarize the runs.csv in --out again (e.g. after a change of this script)"
    )
    artifact_argument(parser)
    args = parser.parse_args()
    grid: dict[str, dict[str, dict[str, Any]]] = {a: dict(GRIDS[args.grid][a]) if args.grid else {} for a in AGENTS}
    for algorithm in AGENTS:
        for text in getattr(args, algorithm):
            grid[algorithm][text] = parse_setting(text)
    curve = CurveSettings(args.checkpoints, args.validation_customers, args.validation_episodes)
    args.out.mkdir(parents=True, exist_ok=True)
    refs = references(curve, args.artifact)
    everybody = EVERYBODY_SHARE * next(contacts for name, (_, contacts) in refs.items() if name.startswith("always_"))
    if args.summarize:
        write_summary(pd.read_csv(args.out / "runs.csv"), everybody, refs, args)
        print((args.out / "summary.md").read_text())
        return
    header(f"tune_agents: {args.budget:g} wall-s per seed, seeds {args.seeds}, {torch.get_num_threads()} torch threads available")
    rows: list[dict[str, Any]] = []
    for algorithm in args.algorithms:
        for name, setting in grid[algorithm].items():
            rate = probe_rate(algorithm, setting, args.probe, args.artifact)
            timesteps = args.timesteps if args.timesteps else int(rate * args.budget)
            print(f"{algorithm} {name} ({describe(setting)}): probe {rate:,.0f} env-steps/s -> {timesteps:,} steps", flush=True)
            for seed in args.seeds:
                run = train(algorithm, name, setting, seed, timesteps, args.budget, curve, args.artifact)
                last = run[-1]
                print(
                    f"  seed {seed}: {last['timesteps']:,} steps in {last['seconds']:.1f} s, return {last['return']:.3f}, "
                    f"{last['contacts']:.3f} e-mails/customer-week", flush=True,
                )
                rows.extend(run)
            runs = pd.DataFrame(rows)
            runs.to_csv(args.out / "runs.csv", index=False)
            write_summary(runs, everybody, refs, args)
    print((args.out / "summary.md").read_text())


if __name__ == "__main__":
    main()
