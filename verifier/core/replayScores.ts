import { applyRound, freshScore, type MinerScore, type Outcome, weightsFromScores } from './scoring.ts';

export interface LoggedRequest {
  readonly round: number;
  readonly hotkey: string;
  readonly outcome: Outcome['kind'];
  readonly reason: string;
  readonly latencyMs: number;
  readonly latencyScore: number;
  readonly scoreAfter: number;
}

export interface ReplayResult {
  readonly ok: boolean;
  readonly rounds: number;
  readonly mismatches: readonly string[];
  readonly scores: ReadonlyMap<string, MinerScore>;
}

/**
 * Recomputes every round's scores and weights from the request log alone, with the same pure
 * functions the validator used, and compares them with what was stored: equal to the bit.
 */
export function replayScores(
  requests: readonly LoggedRequest[],
  storedWeights: (round: number) => ReadonlyMap<string, number>,
): ReplayResult {
  const mismatches: string[] = [];
  let scores = new Map<string, MinerScore>();
  const rounds = [...new Set(requests.map((r) => r.round))].sort((a, b) => a - b);
  for (const round of rounds) {
    const rows = requests.filter((r) => r.round === round);
    const outcomes = new Map<string, Outcome>(
      rows.map((r) => [
        r.hotkey,
        r.outcome === 'verified'
          ? { kind: 'verified', latencyMs: r.latencyMs }
          : { kind: r.outcome, reason: r.reason },
      ]),
    );
    const result = applyRound(scores, outcomes, round);
    scores = result.scores;
    for (const r of rows) {
      const got = scores.get(r.hotkey)!.score;
      if (got !== r.scoreAfter)
        mismatches.push(`round ${round} ${r.hotkey}: score ${got} recomputed, ${r.scoreAfter} stored`);
      const ls = result.latency.get(r.hotkey) ?? 0;
      if (ls !== r.latencyScore)
        mismatches.push(
          `round ${round} ${r.hotkey}: latency score ${ls} recomputed, ${r.latencyScore} stored`,
        );
    }
    const stored = storedWeights(round);
    const recomputed = weightsFromScores([...stored.keys()].map((h) => scores.get(h) ?? freshScore(h)));
    for (const [h, w] of stored) {
      if (recomputed.get(h) !== w)
        mismatches.push(`round ${round} ${h}: weight ${recomputed.get(h)} recomputed, ${w} stored`);
    }
  }
  return { ok: mismatches.length === 0, rounds: rounds.length, mismatches, scores };
}
