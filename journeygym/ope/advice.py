"""Which estimator to trust on a log: a rule table from its overlap diagnostics and the benchmark's measurements.

The simulator measured the estimators against the truth, on logs of 20,000
customers x 52 weeks with the candidates never, random, always_mens, the seed
baselines, PPO, fqi and cql (``journeygym run offline-realistic``,
``docs/results/offline.md``; ten logs per logging policy).  Its findings:

* On uniform logs (every action with probability 1/3): ``dm`` and ``magic``
  rank the candidates (Spearman 0.668 [0.587, 0.750] and 0.662) with a small
  relative error (9-10%), but their Student-t lower bounds are unsafe (below the
  truth in 83.3% and 84.4% of the policy-log pairs, short of 95%).  ``mdr`` and
  ``mis`` with the binned ratio learner rank a little higher (0.757, 0.733;
  the intervals overlap ``dm``'s).  ``dr``'s t lower bound is safe (100% of the
  90 pairs) but it ranks poorly (0.240); ``is`` and ``pdis`` have safe bounds
  too, and looser.  On three uniform logs of 100,000 customers
  (``benchmarks/offline_100k.yaml``) ``dm`` and ``magic`` rank better (0.883),
  ``mis`` and ``mdr`` do not (0.750, 0.683; their t bounds fall to 70% and 63%
  below the truth as their intervals shrink around the binned ratios' bias), and
  ``dr``'s t bound stays safe (100%).
* On logs of a deployed targeting policy (``ltv_uplift`` run epsilon-greedy,
  epsilon 0.2 and 0.05): no estimator ranks (``dm`` -0.49 and -0.56, while an
  unbiased estimator with its standard errors would reach 0.998: the fitted Q
  follows the logging policy's choices and extrapolates the rest; the best is
  ``pdis`` at 0.40 at epsilon 0.05).  ``dr``'s t bound is unsafe (90.0% and
  73.3%); ``pdis``'s and ``is``'s are below the truth in 100% of the pairs but
  far below it (relative error 0.79-0.98).  Yet a deterministic candidate's
  per-decision overlap with such a log can look like the uniform logs' (an ESS
  share near 0.01 at epsilon 0.05), so the rules read the log's exploration too.
* With the regression ratio learner, ``mis`` met the ranking targets (Spearman >= 0.9,
  regret@1 <= 5% of the oracle) on three uniform logs of 100,000 customers (0.928, 0.1%;
  ``benchmarks/offline_100k_regression.yaml``) but not on twenty of 20,000
  (``benchmarks/offline_regression.yaml``: 0.652, and 0.571 if it were unbiased: the
  weekly regressions are too noisy there), where ``mdr``, ``magic`` and ``dm`` rank alike
  (0.688, 0.687, 0.683).  No estimator combines a ranking with a safe bound, and none met the
  targets at the benchmark's 20,000 customers, so the rules below keep ``dm`` to rank.

The overlap of a deterministic candidate with the benchmark's uniform logs: a
per-decision effective sample share of 0.0096-0.011 (never, always_mens,
always_womens, lookalike, expected_ltv, ltv_uplift; the share depends on the two
policies, hardly on the log's size), so about 190-220 effective customers per
week at 20,000 customers; no logged propensity below 0.01; no support
violation; exploration 1/3.

The rule table (:data:`RULES`), first match wins, per target policy:

=============  ==================================================================  ==========  ===========
overlap        condition                                                           ranking     lower bound
=============  ==================================================================  ==========  ===========
unsupported    support violations > :data:`MAX_SUPPORT_VIOLATION_SHARE`           none        none
weak           per-decision ESS share < :data:`MIN_ESS_SHARE`, or fewer            none        none
               effective customers per week than :data:`MIN_EFFECTIVE_CUSTOMERS`
targeted       the log's exploration < :data:`MIN_EXPLORATION`                     none        ``pdis`` (t)
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
    "MIN_EXPLORATION",
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
#: Smallest exploration of the logging policy (``exploration`` of
#: :class:`~journeygym.ope.behavior.OverlapDiagnostics`: the smallest behavior probability among the actions,
#: averaged over the decisions).  The uniform logs (1/3) ranked; the epsilon-greedy logs of a targeting policy
#: (0.067 at epsilon 0.2, 0.017 at 0.05) did not rank with any estimator.  0.2 lies between what was measured.
MIN_EXPLORATION = 0.2
#: The estimator recommended for ranking, and those that ranked alike on the uniform logs (Spearman 0.662 for
#: magic; 0.757 and 0.733 for mdr and mis with the binned ratio learner, against dm's 0.668).
RANKING_ESTIMATOR = "dm"
RANKING_ALTERNATIVES: tuple[str, ...] = ("magic", "mdr", "mis")
#: The estimator recommended for a safe lower bound, its bound, and those also safe on the uniform logs (looser).
LOWER_BOUND_ESTIMATOR = "dr"
LOWER_BOUND_FIELD = "lower_bound_t"
LOWER_BOUND_ALTERNATIVES: tuple[str, ...] = ("pdis", "is")
#: The lower bound still safe on the logs of a targeting policy, and its alternatives there.
TARGETED_LOWER_BOUND_ESTIMATOR = "pdis"
TARGETED_LOWER_BOUND_ALTERNATIVES: tuple[str, ...] = ("is",)
#: What "ranks" means in a benchmark's assessment: a mean Spearman correlation of at least this over logs
#: (dm and magic, 0.67, pass on the uniform logs; dr, 0.24, does not).
RANKS_WELL_SPEARMAN = 0.5
#: What "a safe lower bound" means in a benchmark's assessment: at least this share of (policy, log) pairs
#: below the truth (the bounds' own level; dm's 83% is unsafe, dr's 100% safe).
SAFE_BOUND_SHARE = 0.95

#: The overlap levels, from none to enough, in the order the rules test them.
OVERLAP_LEVELS: tuple[str, ...] = ("unsupported", "weak", "targeted", "heavy_tailed", "adequate")

_EVIDENCE_RANKING = (
    "dm ranked the candidates of the benchmark's uniform logs (Spearman 0.668 [0.587, 0.750]; magic 0.662, mdr "
    "0.757 and mis 0.733 with the binned ratio learner; on logs of 100,000 customers dm 0.883, mdr 0.683), but its "
    "t lower bound was below the truth in only 83.3% of the pairs: use it to rank, not to bound"
)
_EVIDENCE_BOUND = (
    "dr's Student-t lower bound was below the truth in 100% of the 90 policy-log pairs of the uniform logs (and "
    "of the 27 on logs of 100,000 customers), but dr ranks poorly (Spearman 0.240): use it to bound, not to rank"
)
_EVIDENCE_TARGETED = (
    "on logs of ltv_uplift run epsilon-greedy (epsilon 0.2 and 0.05) no estimator ranked (dm -0.49 and -0.56: "
    "its fitted Q follows the logging policy's choices), dr's t bound was unsafe (90.0%, 73.3% below the truth), "
    "and pdis's t bound was below the truth in 100% of the pairs, far below it (relative error 0.79-0.98)"
)
#: The evidence behind each recommended estimator, and the estimators as safe and looser, by lower-bound estimator.
_EVIDENCE = {RANKING_ESTIMATOR: _EVIDENCE_RANKING, LOWER_BOUND_ESTIMATOR: _EVIDENCE_BOUND,
             TARGETED_LOWER_BOUND_ESTIMATOR: _EVIDENCE_TARGETED}
_BOUND_ALTERNATIVES = {LOWER_BOUND_ESTIMATOR: LOWER_BOUND_ALTERNATIVES,
                       TARGETED_LOWER_BOUND_ESTIMATOR: TARGETED_LOWER_BOUND_ALTERNATIVES}


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
        "targeted",
        f"the logging policy explores little: its smallest action probability averages below {MIN_EXPLORATION:g}",
        None,
        TARGETED_LOWER_BOUND_ESTIMATOR,
        _EVIDENCE_TARGETED,
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
    exploration = _number(values.get("exploration"))
    if exploration < MIN_EXPLORATION:  # NaN (diagnostics without the field) skips the rule
        return "targeted", (
            f"the logging policy's smallest action probability averages {exploration:.3f} (needs >= "
            f"{MIN_EXPLORATION:g}): a log of a targeting policy, where no estimator ranked on the benchmark"
        )
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
            "lower_bound_alternatives": list(_BOUND_ALTERNATIVES.get(self.lower_bound or "", ())),
            "evidence": {"ranking": _EVIDENCE_RANKING, "lower_bound": _EVIDENCE.get(self.lower_bound or "")},
            "thresholds": {
                "min_exploration": MIN_EXPLORATION,
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
                f"For ranking {', '.join(self.ranked)}: trust {self.ranking}{missing} ({', '.join(RANKING_ALTERNATIVES)} "
                f"rank alike). Evidence: {_EVIDENCE_RANKING}."
            )
        elif len(self.ranked) == 1:
            out.append(f"Ranking needs two policies whose overlap allows it; only {self.ranked[0]} does.")
        if self.lower_bound is not None:
            missing = f" (not run: add {self.lower_bound} to --estimators)" if self.lower_bound in self.not_run else ""
            alternatives = _BOUND_ALTERNATIVES.get(self.lower_bound, ())
            also = f" ({', '.join(alternatives)} {'is' if len(alternatives) == 1 else 'are'} also safe, and looser)" if alternatives else ""
            out.append(
                f"For a safe lower bound on {', '.join(self.bounded)}: trust {self.lower_bound}'s Student-t bound"
                f"{missing}{also}. Evidence: {_EVIDENCE.get(self.lower_bound, '')}."
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
    # The targeted rule is the log's: every bounded policy of one log has the same estimator; where they
    # differ, the one safe on every measured log.
    bound_estimators = {a.lower_bound for a in advices if a.lower_bound is not None}
    lower_bound = None if not bound_estimators else (
        bound_estimators.pop() if len(bound_estimators) == 1 else TARGETED_LOWER_BOUND_ESTIMATOR
    )
    run = None if estimators is None else set(estimators)
    not_run = tuple(name for name in (ranking, lower_bound) if name is not None and run is not None and name not in run)
    caveats = (
        ("the log has no propensities: they were estimated, so the lower bound is approximate (the benchmark's logs "
         "had their true propensities)",)
        if estimated and lower_bound is not None
        else ()
    )
    return Advice(tuple(advices), ranking, ranked, lower_bound, bounded, LOWER_BOUND_FIELD, not_run, caveats)

