"""Which estimator to trust on a log: a rule table from its overlap diagnostics and the benchmark's measurements.

The simulator measured the estimators against the truth (``journeygym run
offline``, ``docs/results/offline.md``: ten uniform logs of 20,000 customers x
52 weeks, the candidates never, random, always_mens, the seed baselines, PPO,
fqi and cql).  Its findings, at that overlap:

* ``dm`` and ``magic`` rank the candidates best (Spearman 0.605 [0.517, 0.693]
  and 0.598 [0.509, 0.687]) with a small relative error (8-9%), but their
  intervals almost never cover the truth and their Student-t lower bounds are
  unsafe (below the truth in 83.3% and 84.4% of the policy-log pairs, short of 95%);
* ``dr``'s Student-t lower bound is safe (below the truth in 100% of the 90
  pairs) but it ranks poorly (Spearman 0.183 [-0.118, 0.485]); ``is`` and
  ``pdis`` have safe bounds too (100%, t and concentration) and rank worse still;
* no estimator met the targets (Spearman >= 0.9, regret@1 <= 5% of the oracle).

Those logs are the only overlap measured, so the rules below say what to trust
where a log's overlap is like theirs, and refuse (``no estimator can be
trusted``) where it is weaker: there the benchmark says nothing, and every
importance-weighted correction rests on a handful of customers.  The overlap
of a deterministic candidate with the benchmark's uniform logs: a per-decision
effective sample share of 0.0096-0.011 (never, always_mens, always_womens,
lookalike, expected_ltv, ltv_uplift on a 2,000-customer uniform log of the
shipped artifact, as ``journeygym ope`` prints them; the share depends on the
two policies, hardly on the log's size), so about 190-220 effective customers per week at 20,000 customers; no
logged propensity below 0.01; no support violation.  The ``offline-realistic``
preset measures the estimators on epsilon-greedy logs; its results are where
these thresholds should be revisited.

The rule table (:data:`RULES`), first match wins, per target policy:

=============  ==================================================================  ==========  ===========
overlap        condition                                                           ranking     lower bound
=============  ==================================================================  ==========  ===========
unsupported    support violations > :data:`MAX_SUPPORT_VIOLATION_SHARE`           none        none
weak           per-decision ESS share < :data:`MIN_ESS_SHARE`, or fewer            none        none
               effective customers per week than :data:`MIN_EFFECTIVE_CUSTOMERS`
heavy_tailed   low-propensity share > :data:`MAX_LOW_PROPENSITY_SHARE`             ``dm``      none
adequate       otherwise                                                           ``dm``      ``dr`` (t)
=============  ==================================================================  ==========  ===========

Ranking is a statement about several policies: :func:`advise` recommends the
ranking estimator for the policies whose overlap allows it, when there are at
least two.  Estimated propensities (a log without propensity columns) keep the
recommendation but mark the lower bound approximate: the benchmark's logs had
their true propensities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from journeygym.ope.behavior import LOW_PROPENSITY
from journeygym.ope.episodes import OPEInputError

__all__ = [
    "LOWER_BOUND_ALTERNATIVES",
    "LOWER_BOUND_ESTIMATOR",
    "LOWER_BOUND_FIELD",
    "MAX_LOW_PROPENSITY_SHARE",
    "MAX_SUPPORT_VIOLATION_SHARE",
    "MIN_EFFECTIVE_CUSTOMERS",
    "MIN_ESS_SHARE",
    "OVERLAP_LEVELS",
    "RANKING_ALTERNATIVES",
    "RANKING_ESTIMATOR",
    "RANKS_WELL_SPEARMAN",
    "RULES",
    "SAFE_BOUND_SHARE",
    "Advice",
    "PolicyAdvice",
    "Rule",
    "advise",
    "overlap_level",
]

#: Largest share of decisions where the target takes an action the behavior never takes.  The benchmark's logs
#: had none; where there are some, no log row speaks for those decisions: every importance-weighted estimator
#: leaves them out (biased by an unknown amount) and the direct method extrapolates its Q-hat to them.
MAX_SUPPORT_VIOLATION_SHARE = 0.0
#: Smallest per-decision effective sample share (``ess_per_decision_share`` of
#: :class:`~journeygym.ope.behavior.OverlapDiagnostics`): half the lowest share measured for a candidate on the
#: benchmark's uniform logs (0.0096, never).  Below it a log overlaps the target less than any measured one.
MIN_ESS_SHARE = 0.005
#: Smallest per-decision effective sample size in customers (``ess_per_decision``, the weekly mean): half the
#: benchmark's (about 190 at 20,000 customers and a share of 0.0096).  The Student-t bound assumes a nearly
#: normal mean of the per-customer terms, which a hundred effective customers with heavy-tailed weights do not
#: give; fewer also leave dm's Q-hat few rows where the target goes.
MIN_EFFECTIVE_CUSTOMERS = 100.0
#: Largest share of decisions logged with a propensity below
#: :data:`~journeygym.ope.behavior.LOW_PROPENSITY` (0.01).  The benchmark's logs had none (every propensity 1/3);
#: a ratio above 100 per decision gives the weights tails that the t bound was not measured under.  1% allows a
#: few stray rows.
MAX_LOW_PROPENSITY_SHARE = 0.01
#: The estimator recommended for ranking, and those that ranked alike (Spearman 0.605 and 0.598 on the benchmark).
RANKING_ESTIMATOR = "dm"
RANKING_ALTERNATIVES: tuple[str, ...] = ("magic",)
#: The estimator recommended for a safe lower bound, its bound, and those also safe on the benchmark (looser).
LOWER_BOUND_ESTIMATOR = "dr"
LOWER_BOUND_FIELD = "lower_bound_t"
LOWER_BOUND_ALTERNATIVES: tuple[str, ...] = ("pdis", "is")
#: What "ranks" means in a benchmark's assessment: a mean Spearman correlation of at least this over logs
#: (dm and magic, 0.60, pass on the uniform benchmark; dr, 0.18, does not).
RANKS_WELL_SPEARMAN = 0.5
#: What "a safe lower bound" means in a benchmark's assessment: at least this share of (policy, log) pairs
#: below the truth (the bounds' own level; dm's 83% is unsafe, dr's 100% safe).
SAFE_BOUND_SHARE = 0.95

#: The overlap levels, from none to enough, in the order the rules test them.
OVERLAP_LEVELS: tuple[str, ...] = ("unsupported", "weak", "heavy_tailed", "adequate")

_EVIDENCE_RANKING = (
    "dm ranked best on the benchmark's uniform logs (Spearman 0.605 [0.517, 0.693]; magic 0.598), but its "
    "t lower bound was below the truth in only 83.3% of the pairs: use it to rank, not to bound"
)
_EVIDENCE_BOUND = (
    "dr's Student-t lower bound was below the truth in 100% of the benchmark's 90 policy-log pairs, but dr ranks "
    "poorly (Spearman 0.183): use it to bound, not to rank"
)


@dataclass(frozen=True)
class Rule:
    """One row of the rule table: an overlap level and what can be trusted at it.

    Attributes
    ----------
    overlap
        One of :data:`OVERLAP_LEVELS`.
    condition
        The condition, in words.
    ranking, lower_bound
        The estimator to trust for ranking and for a safe lower bound, or None (no estimator can be trusted).
    evidence
        The measurement behind the row.
    """

    overlap: str
    condition: str
    ranking: str | None
    lower_bound: str | None
    evidence: str


#: The rule table (see the module docstring), first match wins.
RULES: tuple[Rule, ...] = (
    Rule(
        "unsupported",
        f"support violations in more than {MAX_SUPPORT_VIOLATION_SHARE:.0%} of the decisions",
        None,
        None,
        "the benchmark's logs had none; the log has no row for those decisions",
    ),
    Rule(
        "weak",
        f"per-decision effective sample share below {MIN_ESS_SHARE:g} or fewer than {MIN_EFFECTIVE_CUSTOMERS:.0f} "
        "effective customers per week",
        None,
        None,
        "weaker overlap than any the benchmark measured (share 0.0096-0.011, about 200 effective customers per week)",
    ),
    Rule(
        "heavy_tailed",
        f"more than {MAX_LOW_PROPENSITY_SHARE:.0%} of the decisions logged with a propensity below {LOW_PROPENSITY:g}",
        RANKING_ESTIMATOR,
        None,
        "the benchmark's logs had no such propensity: the t bound was not measured under such weights; dm uses none",
    ),
    Rule("adequate", "overlap like the benchmark's or better", RANKING_ESTIMATOR, LOWER_BOUND_ESTIMATOR,
         f"{_EVIDENCE_RANKING}; {_EVIDENCE_BOUND}"),
)
_RULE_OF = {rule.overlap: rule for rule in RULES}

#: The diagnostics the rules read (fields of :class:`~journeygym.ope.behavior.OverlapDiagnostics`).
_READ = ("n_decisions", "ess_per_decision", "ess_per_decision_share", "low_propensity_share", "support_violation_share")


def _diagnostics_dict(policy: str, diagnostics: Any) -> dict[str, Any]:
    values = diagnostics.as_dict() if callable(getattr(diagnostics, "as_dict", None)) else diagnostics
    if not isinstance(values, Mapping):
        raise OPEInputError(
            f"advice: policy {policy!r} has diagnostics of type {type(diagnostics).__name__}; expected an "
            "OverlapDiagnostics (journeygym.ope.overlap_diagnostics) or a mapping of its fields."
        )
    missing = [key for key in _READ if key not in values]
    if missing:
        raise OPEInputError(
            f"advice: the diagnostics of policy {policy!r} lack {missing} (received keys {sorted(values)}); expected "
            f"the fields of journeygym.ope.OverlapDiagnostics, at least {list(_READ)}."
        )
    return dict(values)


def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def overlap_level(diagnostics: Any) -> tuple[str, str]:
    """The overlap level of one target policy (:data:`OVERLAP_LEVELS`) and why, with the numbers.

    Parameters
    ----------
    diagnostics
        An :class:`~journeygym.ope.behavior.OverlapDiagnostics`, or a mapping of its fields.

    Raises
    ------
    OPEInputError
        If the diagnostics lack a field the rules read.
    """
    values = _diagnostics_dict("?", diagnostics)
    violations = _number(values["support_violation_share"])
    share, effective = _number(values["ess_per_decision_share"]), _number(values["ess_per_decision"])
    low = _number(values["low_propensity_share"])
    threshold = _number(values.get("low_propensity", LOW_PROPENSITY))
    if int(values["n_decisions"]) == 0:
        return "weak", "the log has no decision of a subscribed customer"
    if violations > MAX_SUPPORT_VIOLATION_SHARE:
        return "unsupported", (
            f"it takes actions the logging policy never takes in {violations:.2%} of the decisions (at most "
            f"{MAX_SUPPORT_VIOLATION_SHARE:.0%}): the log has no row for them"
        )
    short = [
        text
        for failed, text in (
            (not share >= MIN_ESS_SHARE, f"its per-decision effective sample share is {share:.4f} (needs >= {MIN_ESS_SHARE:g})"),
            (not effective >= MIN_EFFECTIVE_CUSTOMERS,
             f"it has {effective:.0f} effective customers per week (needs >= {MIN_EFFECTIVE_CUSTOMERS:.0f})"),
        )
        if failed
    ]
    if short:
        return "weak", f"{' and '.join(short)}: weaker overlap than any the benchmark measured"
    if not low <= MAX_LOW_PROPENSITY_SHARE:
        return "heavy_tailed", (
            f"{low:.2%} of its decisions were logged with a propensity below {threshold:g} (at most {MAX_LOW_PROPENSITY_SHARE:.0%}): "
            "weights with tails the benchmark's t bounds were not measured under"
        )
    return "adequate", (
        f"per-decision effective sample share {share:.4f}, {effective:.0f} effective customers per week, "
        f"{low:.2%} low propensities, no support violation"
    )


@dataclass(frozen=True)
class PolicyAdvice:
    """What to trust for one target policy.

    Attributes
    ----------
    policy
        The policy's name.
    overlap
        Its overlap level (:data:`OVERLAP_LEVELS`).
    reason
        Why, with the diagnostics' numbers.
    ranking, lower_bound
        The estimator to trust for ranking it among the others and for a safe lower bound on its value, or
        None where no estimator can be trusted.
    """

    policy: str
    overlap: str
    reason: str
    ranking: str | None
    lower_bound: str | None


_POLICY_FIELDS = ("policy", "overlap", "reason", "ranking", "lower_bound")


@dataclass(frozen=True)
class Advice:
    """The recommendation for a log: which estimator to trust for ranking and which for a safe lower bound.

    Attributes
    ----------
    policies
        One :class:`PolicyAdvice` per policy, in the order given.
    ranking
        The estimator to rank :attr:`ranked` by; None when fewer than two policies allow ranking.
    ranked
        The policies whose overlap allows ranking.
    lower_bound
        The estimator whose lower bound (:attr:`lower_bound_field`) to trust for the policies of :attr:`bounded`.
    bounded
        The policies whose overlap allows a safe lower bound.
    lower_bound_field
        The estimate's field holding that bound.
    not_run
        Recommended estimators that were not among those run (add them to ``--estimators``).
    caveats
        Conditions that weaken the recommendation (estimated propensities).
    """

    policies: tuple[PolicyAdvice, ...]
    ranking: str | None
    ranked: tuple[str, ...]
    lower_bound: str | None
    bounded: tuple[str, ...]
    lower_bound_field: str = LOWER_BOUND_FIELD
    not_run: tuple[str, ...] = ()
    caveats: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready record, with the recommendation in words (``summary``) and the thresholds the rules used."""
        return {
            **asdict(self),
            "summary": self.lines(),
            "ranking_alternatives": list(RANKING_ALTERNATIVES),
            "lower_bound_alternatives": list(LOWER_BOUND_ALTERNATIVES),
            "evidence": {"ranking": _EVIDENCE_RANKING, "lower_bound": _EVIDENCE_BOUND},
            "thresholds": {
                "max_support_violation_share": MAX_SUPPORT_VIOLATION_SHARE,
                "min_ess_share": MIN_ESS_SHARE,
                "min_effective_customers": MIN_EFFECTIVE_CUSTOMERS,
                "max_low_propensity_share": MAX_LOW_PROPENSITY_SHARE,
            },
        }

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Advice:
        """The advice of a record written by :meth:`as_dict` (e.g. read back from ``journeygym ope --json``)."""
        return cls(
            policies=tuple(PolicyAdvice(**{key: entry[key] for key in _POLICY_FIELDS}) for entry in record["policies"]),
            ranking=record["ranking"],
            ranked=tuple(record["ranked"]),
            lower_bound=record["lower_bound"],
            bounded=tuple(record["bounded"]),
            lower_bound_field=record.get("lower_bound_field", LOWER_BOUND_FIELD),
            not_run=tuple(record.get("not_run", ())),
            caveats=tuple(record.get("caveats", ())),
        )

    def lines(self) -> list[str]:
        """The recommendation in words, one line each."""
        out = []
        if self.ranking is not None:
            missing = f" (not run: add {self.ranking} to --estimators)" if self.ranking in self.not_run else ""
            out.append(
                f"For ranking {', '.join(self.ranked)}: trust {self.ranking}{missing} ({' and '.join(RANKING_ALTERNATIVES)} "
                f"ranks alike). Evidence: {_EVIDENCE_RANKING}."
            )
        elif len(self.ranked) == 1:
            out.append(f"Ranking needs two policies whose overlap allows it; only {self.ranked[0]} does.")
        if self.lower_bound is not None:
            missing = f" (not run: add {self.lower_bound} to --estimators)" if self.lower_bound in self.not_run else ""
            out.append(
                f"For a safe lower bound on {', '.join(self.bounded)}: trust {self.lower_bound}'s Student-t bound"
                f"{missing} ({', '.join(LOWER_BOUND_ALTERNATIVES)} are also safe, and looser). Evidence: {_EVIDENCE_BOUND}."
            )
        for advice in self.policies:
            untrusted = [what for what, estimator in (("ranking", advice.ranking), ("a lower bound", advice.lower_bound))
                         if estimator is None]
            if untrusted:
                out.append(f"No estimator can be trusted for {' or '.join(untrusted)} of {advice.policy}: {advice.reason}.")
        out += [f"Caveat: {caveat}." for caveat in self.caveats]
        return out


def advise(diagnostics: Mapping[str, Any], estimators: Sequence[str] | None = None) -> Advice:
    """The recommendation for a log from each target policy's overlap diagnostics (see the module docstring).

    Parameters
    ----------
    diagnostics
        Policy name -> its :class:`~journeygym.ope.behavior.OverlapDiagnostics` on the log (or a mapping of
        its fields, as in ``OPEResult.as_dict()``).
    estimators
        The estimators that were run; recommended ones missing from them are listed in :attr:`Advice.not_run`
        (default: all were run).

    Raises
    ------
    OPEInputError
        If no policy is given or a policy's diagnostics lack a field the rules read.
    """
    if not isinstance(diagnostics, Mapping) or not diagnostics:
        raise OPEInputError(
            f"advice: received {type(diagnostics).__name__} {diagnostics!r:.60}; expected a non-empty mapping policy "
            "name -> overlap diagnostics."
        )
    advices = []
    estimated = False
    for policy, values in diagnostics.items():
        checked = _diagnostics_dict(str(policy), values)
        estimated = estimated or bool(checked.get("propensities_estimated", False))
        level, reason = overlap_level(checked)
        rule = _RULE_OF[level]
        advices.append(PolicyAdvice(str(policy), level, reason, rule.ranking, rule.lower_bound))
    ranked = tuple(a.policy for a in advices if a.ranking is not None)
    bounded = tuple(a.policy for a in advices if a.lower_bound is not None)
    ranking = RANKING_ESTIMATOR if len(ranked) >= 2 else None
    lower_bound = LOWER_BOUND_ESTIMATOR if bounded else None
    run = None if estimators is None else set(estimators)
    not_run = tuple(name for name in (ranking, lower_bound) if name is not None and run is not None and name not in run)
    caveats = (
        ("the log has no propensities: they were estimated, so the lower bound is approximate (the benchmark's logs "
         "had their true propensities)",)
        if estimated and lower_bound is not None
        else ()
    )
    return Advice(tuple(advices), ranking, ranked, lower_bound, bounded, LOWER_BOUND_FIELD, not_run, caveats)

