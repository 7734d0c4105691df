/**
 * Validator scoring, pure: only verified proofs earn; invalid proofs (cheating or broken provers)
 * and transport failures (timeouts, refusals, busy) are separate paths.
 *
 *   latency score of a verified proof: 0.5 + 0.5·(1 − tan(norm·π/4)), norm = (t − fastest)/(slowest − fastest)
 *     → the fastest verified miner of the round gets 1, the slowest 0.5 (after Omron's tan curve);
 *   verified:  score ← score + 0.1·(latency score − score)       (EMA, rate 0.1 to recover)
 *   invalid:   score ← 0, and the miner sits out `invalidCooldownRounds` rounds
 *   transport: score ← score·(1 − 0.4)                             (decay, rate 0.4; never marked a cheat)
 *              and after `transportCooldownAfter` failures in a row it sits out one round
 *   weights:   score / Σ scores (all zero when nobody has earned).
 */
export type Outcome =
  | { readonly kind: 'verified'; readonly latencyMs: number }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'transport'; readonly reason: string };

export interface MinerScore {
  readonly hotkey: string;
  readonly score: number;
  readonly verified: number;
  readonly invalid: number;
  readonly transport: number;
  readonly consecutiveTransport: number;
  /** The miner is not queried in rounds <= cooldownUntil. */
  readonly cooldownUntil: number;
}

export const SCORING = Object.freeze({
  recoverRate: 0.1,
  decayRate: 0.4,
  invalidCooldownRounds: 3,
  transportCooldownAfter: 3,
});

export function freshScore(hotkey: string): MinerScore {
  return {
    hotkey,
    score: 0,
    verified: 0,
    invalid: 0,
    transport: 0,
    consecutiveTransport: 0,
    cooldownUntil: 0,
  };
}

/** Latency scores of one round's verified proofs, relative to each other. */
export function latencyScores(latencies: ReadonlyMap<string, number>): Map<string, number> {
  const values = [...latencies.values()];
  const fastest = Math.min(...values);
  const slowest = Math.max(...values);
  const out = new Map<string, number>();
  for (const [hotkey, t] of latencies) {
    const norm = slowest > fastest ? Math.min(1, Math.max(0, (t - fastest) / (slowest - fastest))) : 0;
    out.set(hotkey, 0.5 + 0.5 * (1 - Math.tan((norm * Math.PI) / 4)));
  }
  return out;
}

/** The score after one outcome in `round`. `latencyScore` is used only for verified outcomes. */
export function updateScore(
  prev: MinerScore,
  outcome: Outcome,
  latencyScore: number,
  round: number,
): MinerScore {
  switch (outcome.kind) {
    case 'verified':
      return {
        ...prev,
        score: prev.score + SCORING.recoverRate * (latencyScore - prev.score),
        verified: prev.verified + 1,
        consecutiveTransport: 0,
      };
    case 'invalid':
      return {
        ...prev,
        score: 0,
        invalid: prev.invalid + 1,
        consecutiveTransport: 0,
        cooldownUntil: round + SCORING.invalidCooldownRounds,
      };
    case 'transport': {
      const consecutive = prev.consecutiveTransport + 1;
      return {
        ...prev,
        score: prev.score * (1 - SCORING.decayRate),
        transport: prev.transport + 1,
        consecutiveTransport: consecutive,
        cooldownUntil: consecutive >= SCORING.transportCooldownAfter ? round + 1 : prev.cooldownUntil,
      };
    }
  }
}

/** Applies one round's outcomes (latency scores computed among this round's verified proofs). */
export function applyRound(
  scores: ReadonlyMap<string, MinerScore>,
  outcomes: ReadonlyMap<string, Outcome>,
  round: number,
): { scores: Map<string, MinerScore>; latency: Map<string, number> } {
  const verified = new Map<string, number>();
  for (const [h, o] of outcomes) if (o.kind === 'verified') verified.set(h, o.latencyMs);
  const latency = latencyScores(verified);
  const next = new Map(scores);
  for (const [h, o] of outcomes)
    next.set(h, updateScore(scores.get(h) ?? freshScore(h), o, latency.get(h) ?? 0, round));
  return { scores: next, latency };
}

/** Normalised weights (sum 1), in the order given. */
export function weightsFromScores(scores: readonly MinerScore[]): Map<string, number> {
  // summed in hotkey order: floating-point addition is not associative, and a replay must get the
  // very same weights whatever order it lists the miners in
  const total = [...scores]
    .sort((a, b) => (a.hotkey < b.hotkey ? -1 : a.hotkey > b.hotkey ? 1 : 0))
    .reduce((s, m) => s + m.score, 0);
  return new Map(scores.map((m) => [m.hotkey, total > 0 ? m.score / total : 0]));
}
