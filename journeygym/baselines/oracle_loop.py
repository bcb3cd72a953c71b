"""The compiled backward induction behind :func:`~journeygym.baselines.oracle.solve_oracle`.

Why compiled: with the fatigue stock's grid (44 levels by default) the batched
numpy form made ``(levels, N, K)`` temporaries for every week and action and
was memory-bound, about 15x slower at 100,000 customers x 52 weeks.  Here a
block of :data:`BLOCK` customers of one segment is solved at a time: its tables
stay in cache and the loops over the block vectorize.  The actions are packed
two bits each (with up to four actions), a quarter of the memory; writing
unpacked bytes cost a fifth of the time (``benchmarks/bench_oracle.py``;
figures in ``docs/benchmarks.md``).

The recursion is the one documented in :mod:`journeygym.baselines.oracle`;
ties between actions keep the first best, as ``argmax`` does.  It runs
on numba's threads (``NUMBA_NUM_THREADS``, one block of customers at a time each) and
compiles on first use (cached beside this module).
"""

from __future__ import annotations

import math

import numba
import numpy as np


#: Customers solved together: their tables (``levels x K x BLOCK`` doubles) stay in the second-level
#: cache, and the loops over the block are the innermost, so they run on vector instructions.
BLOCK = 64


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _solve_blocks(  # type: ignore[no-untyped-def]
    first_block,
    last_block,
    order,
    block_starts,
    segment,
    covariate_logit,
    transition,
    purchase_logit,
    reward_scale,
    base_cost,
    action_cost,
    is_contact,
    email_price,
    unsubscribe,
    next_fatigue,
    reachable,
    candidates,
    start,
    want_contacts,
    want_advantages,
    values,
    packed_actions,
    action_bits,
    contacts,
    never,
    advantages,
):
    """Solve the finite MDP over (week, state, fatigue, subscribed) of the customers of blocks
    ``first_block`` to ``last_block - 1``, writing into the outputs.

    Parameters
    ----------
    first_block, last_block
        The blocks solved, with scratch tables of their own (one call per thread).
    order, block_starts
        Customers sorted by history segment, and where each block of at most :data:`BLOCK` customers
        of one segment starts in ``order`` (closed by ``order.size``).
    segment, covariate_logit
        ``(N,)`` history segment and covariate purchase logit per customer.
    transition
        ``(G, A, F, K, K)`` ``P(z' | z)`` per segment, action and fatigue level.
    purchase_logit
        ``(G, A, F, K)`` purchase logit by the next state, before the customer's covariate logit.
    reward_scale
        ``(G,)`` ``margin * E[spend]`` per segment: the reward of a purchase.
    base_cost
        The week's cost of no action, taken off every expected reward (as the env does).
    action_cost, is_contact
        ``(A,)`` cost of each delivered action, and whether it is a contact: ``email_price`` is added
        for every contact, and the expected contacts count them.
    unsubscribe, next_fatigue
        ``(A, F)`` probability that the delivered action unsubscribes, and the fatigue after the week.
    reachable
        ``(H, F)`` whether a history reaches fatigue level f by week t; other levels are not solved.
    candidates
        Actions optimized over (one action evaluates the policy that always takes it).
    start
        Fatigue level of week 0.
    values, never
        ``(N, K)`` outputs: optimal (priced) return from week 0 subscribed at ``start``, and the return
        of an unsubscribed customer (no e-mail ever).
    packed_actions, action_bits
        ``(H, N, K, ceil(F / codes))`` uint8 output: the optimal action of a subscribed customer at
        fatigue ``f``, ``action_bits`` bits per action, ``codes = 8 // action_bits`` to a byte
        (:func:`unpack_actions`).
    contacts
        ``(N, K)`` expected e-mails of the optimal policy (or an empty array when not wanted).
    advantages
        ``(H, N, K, F)`` float32 ``Q(best e-mail) - Q(no action)`` (or an empty array when not wanted).
    """
    n_actions, n_fatigue, n_states = purchase_logit.shape[1], purchase_logit.shape[2], purchase_logit.shape[3]
    horizon = reachable.shape[0]
    n_candidates = candidates.size
    reward = np.empty((n_actions, n_fatigue, n_states, BLOCK))
    value = np.zeros((n_fatigue, n_states, BLOCK))
    value_before = np.zeros((n_fatigue, n_states, BLOCK))
    expected = np.zeros((n_fatigue, n_states, BLOCK))
    expected_before = np.zeros((n_fatigue, n_states, BLOCK))
    unsubscribed = np.zeros((n_states, BLOCK))
    unsubscribed_before = np.zeros((n_states, BLOCK))
    landing = np.empty((n_states, BLOCK))
    landing_contacts = np.zeros((n_states, BLOCK))
    q = np.empty((n_candidates, n_states, BLOCK))
    q_contacts = np.zeros((n_candidates, n_states, BLOCK))
    chosen = np.empty(BLOCK, dtype=np.int64)
    block_actions = np.zeros((BLOCK, n_states, n_fatigue), dtype=np.uint8)
    codes = 8 // action_bits
    n_bytes = packed_actions.shape[3]
    for block in range(first_block, last_block):
        first = block_starts[block]
        last = block_starts[block + 1] if block + 1 < block_starts.size else order.size
        m = last - first
        members = order[first:last]
        g = segment[members[0]]
        for a in range(n_actions):
            for f in range(n_fatigue):
                for w in range(n_states):
                    level = purchase_logit[g, a, f, w]
                    for b in range(m):
                        probability = 1.0 / (1.0 + math.exp(-(level + covariate_logit[members[b]])))
                        reward[a, f, w, b] = reward_scale[g] * probability - base_cost
        value[:] = 0.0
        expected[:] = 0.0
        unsubscribed[:] = 0.0
        for t in range(horizon - 1, -1, -1):
            # value holds V_{t+1}(f', z'); value_before becomes V_t.  An unsubscribed customer gets no e-mail.
            for z in range(n_states):
                for b in range(m):
                    unsubscribed_before[z, b] = 0.0
                for w in range(n_states):
                    p = transition[g, 0, 0, z, w]
                    for b in range(m):
                        unsubscribed_before[z, b] += p * (reward[0, 0, w, b] + unsubscribed[w, b])
            for f in range(n_fatigue):
                if not reachable[t, f]:
                    block_actions[:, :, f] = 0
                    continue
                for k in range(n_candidates):
                    a = candidates[k]
                    after = next_fatigue[a, f]
                    leave = unsubscribe[a, f]
                    stay = 1.0 - leave
                    for w in range(n_states):
                        for b in range(m):
                            landing[w, b] = reward[a, f, w, b] + stay * value[after, w, b] + leave * unsubscribed[w, b]
                    if want_contacts:
                        for w in range(n_states):
                            for b in range(m):
                                landing_contacts[w, b] = stay * expected[after, w, b]
                    price = action_cost[a] + (email_price if is_contact[a] else 0.0)
                    for z in range(n_states):
                        # Two next states a pass over the block (the passes, not the products, cost):
                        # the first pass also starts the sum.
                        p0 = transition[g, a, f, z, 0]
                        p1 = transition[g, a, f, z, 1] if n_states > 1 else 0.0
                        second = 1 if n_states > 1 else 0
                        for b in range(m):
                            q[k, z, b] = p0 * landing[0, b] + p1 * landing[second, b] - price
                        w = 2
                        while w < n_states:
                            p0 = transition[g, a, f, z, w]
                            p1 = transition[g, a, f, z, w + 1] if w + 1 < n_states else 0.0
                            second = w + 1 if w + 1 < n_states else w
                            for b in range(m):
                                q[k, z, b] += p0 * landing[w, b] + p1 * landing[second, b]
                            w += 2
                        if want_contacts:
                            for b in range(m):
                                q_contacts[k, z, b] = 1.0 if is_contact[a] else 0.0
                            for w in range(n_states):
                                p = transition[g, a, f, z, w]
                                for b in range(m):
                                    q_contacts[k, z, b] += p * landing_contacts[w, b]
                for z in range(n_states):
                    for b in range(m):
                        chosen[b] = 0
                        value_before[f, z, b] = q[0, z, b]
                        expected_before[f, z, b] = q_contacts[0, z, b]
                    for k in range(1, n_candidates):
                        for b in range(m):
                            better = q[k, z, b] > value_before[f, z, b]
                            chosen[b] = k if better else chosen[b]
                            value_before[f, z, b] = q[k, z, b] if better else value_before[f, z, b]
                            expected_before[f, z, b] = q_contacts[k, z, b] if better else expected_before[f, z, b]
                    for b in range(m):
                        block_actions[b, z, f] = candidates[chosen[b]]
                    if want_advantages:
                        for b in range(m):
                            best_email = -np.inf
                            no_action = 0.0
                            for k in range(n_candidates):
                                if not is_contact[candidates[k]]:
                                    no_action = q[k, z, b]
                                elif q[k, z, b] > best_email:
                                    best_email = q[k, z, b]
                            advantages[t, members[b], z, f] = best_email - no_action
            for b in range(m):
                row = members[b]
                for z in range(n_states):
                    for j in range(n_bytes):
                        byte = 0
                        for position in range(codes):
                            f = j * codes + position
                            if f < n_fatigue:
                                byte |= block_actions[b, z, f] << (position * action_bits)
                        packed_actions[t, row, z, j] = byte
            value, value_before = value_before, value
            expected, expected_before = expected_before, expected
            unsubscribed, unsubscribed_before = unsubscribed_before, unsubscribed
        for b in range(m):
            for z in range(n_states):
                values[members[b], z] = value[start, z, b]
                never[members[b], z] = unsubscribed[z, b]
                if want_contacts:
                    contacts[members[b], z] = expected[start, z, b]


@numba.njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def backward_induction(n_chunks, block_starts, arguments):  # type: ignore[no-untyped-def]
    """Solve every customer's finite MDP, the blocks split into ``n_chunks`` runs on numba's threads.

    ``arguments`` is the tuple of :func:`_solve_blocks`'s arguments after its first two
    (``block_starts`` among them).  Customers are independent and every block writes only
    its own customers' outputs, so the result does not depend on the number of threads.
    """
    n_blocks = block_starts.size
    for chunk in numba.prange(n_chunks):
        _solve_blocks(chunk * n_blocks // n_chunks, (chunk + 1) * n_blocks // n_chunks, *arguments)


def action_bits(n_actions: int) -> int:
    """Bits that hold one action code: 2 up to 4 actions, 4 up to 16, else 8 (at most 256 actions)."""
    if n_actions <= 4:
        return 2
    return 4 if n_actions <= 16 else 8


def packed_width(n_fatigue: int, bits: int) -> int:
    """Bytes that hold the actions of ``n_fatigue`` levels at ``bits`` bits each."""
    codes = 8 // bits
    return -(-n_fatigue // codes)


def unpack_actions(packed: np.ndarray, fatigue: np.ndarray | int, bits: int) -> np.ndarray:
    """The action codes at ``fatigue`` from bytes of :func:`backward_induction`'s packing (broadcasting)."""
    codes = 8 // bits
    fatigue = np.asarray(fatigue, dtype=np.int64)
    return (packed >> ((fatigue % codes) * bits).astype(np.uint8)) & np.uint8((1 << bits) - 1)


def customer_blocks(segment: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Customers sorted by segment (stable) and the start of each block of at most :data:`BLOCK` of one segment."""
    order = np.argsort(segment, kind="stable")
    sorted_segments = segment[order]
    group_starts = np.flatnonzero(np.r_[True, sorted_segments[1:] != sorted_segments[:-1]]) if order.size else np.zeros(0, dtype=np.int64)
    group_ends = np.r_[group_starts[1:], order.size]
    starts = [np.arange(first, end, BLOCK) for first, end in zip(group_starts, group_ends)]
    block_starts = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
    return order.astype(np.int64), block_starts.astype(np.int64)
