import { loadQuantGraph } from '../../circuits/artifacts.ts';
import { fromField, toField } from '../../circuits/core/field.ts';
import { type InferenceResult, infer } from '../../circuits/core/inference.ts';
import type { QuantGraph } from '../../circuits/core/quantGraph.ts';
import { poseidonHashChain } from '../../circuits/poseidon.ts';
import type { AvsBindingParts } from '../../protocol/binding.ts';
import { BUNDLE_FORMAT, type ProofBundle } from '../../protocol/bundle.ts';
import type { SlicedBundle } from '../../protocol/slicedBundle.ts';
import type { Outcome } from '../core/scoring.ts';
import {
  type Answer,
  type Challenge,
  type Model,
  modelManifest,
  PRIORITY,
  type Validator,
} from '../validator.ts';
import { slicedBundleOf } from '../verifySliced.ts';
import type { GatewayResult } from './apiTypes.ts';
import { GatewayError } from './gatewayError.ts';

/** Progress of one request, as its event stream reports it. */
export type OrganicEvent =
  | { readonly type: 'sent'; readonly miner: string }
  | { readonly type: 'answered'; readonly miner: string; readonly latencyMs: number }
  | { readonly type: 'rejected'; readonly miner: string; readonly outcome: string; readonly reason: string }
  | { readonly type: 'verified'; readonly miner: string; readonly latencyMs: number };

/** A verified answer to an organic request: the result's fields the answer itself determines. */
export type OrganicAnswer = Pick<
  GatewayResult,
  'modelId' | 'input' | 'output' | 'class' | 'inputHash' | 'binding' | 'miner' | 'latencyMs' | 'proverTimings'
> & {
  readonly modelName: string;
  readonly bundle: ProofBundle | SlicedBundle;
};

const graphs = new WeakMap<Model, Promise<QuantGraph>>();
function graphOf(model: Model): Promise<QuantGraph> {
  let g = graphs.get(model);
  if (!g) {
    g = model.sliced ? Promise.resolve(model.sliced.graph) : loadQuantGraph(model.artifacts);
    graphs.set(model, g);
  }
  return g;
}

/**
 * The miners an organic request goes to, best first: by score, then hotkey; miners cooling down
 * (after a cheat or repeated failures) are left out, as in a round.
 */
export async function rankMiners(v: Validator): Promise<{ hotkey: string; url: string }[]> {
  const scores = v.store.scores();
  const next = v.store.lastRound() + 1;
  return (await v.miners())
    .filter((m) => (scores.get(m.hotkey)?.cooldownUntil ?? 0) < next)
    .sort(
      (a, b) =>
        (scores.get(b.hotkey)?.score ?? 0) - (scores.get(a.hotkey)?.score ?? 0) ||
        (a.hotkey < b.hotkey ? -1 : a.hotkey > b.hotkey ? 1 : 0),
    );
}

/**
 * Answers one organic request: `redundancy` miners at a time, best first, each sent the same
 * ProveInference synapse as a synthetic challenge (a miner cannot tell them apart) and judged by
 * the same checks. The first verified answer is returned; when a whole group fails and time
 * remains, the next group is asked. Every answer, verified or not, is scored as a round of its own
 * once all have arrived (`scored`), so a cheater caught here is zeroed as in any round.
 * Throws NO_MINER (nobody to ask) or NO_VERIFIED_ANSWER (none by the deadline).
 */
export async function answerOrganic(
  v: Validator,
  model: Model,
  input: readonly number[],
  options: {
    redundancy: number;
    deadlineMs: number;
    onEvent?: (e: OrganicEvent) => void;
    /** Proofs must carry this AVS task's binding (the request is to be settled). */
    avs?: AvsBindingParts;
  },
): Promise<{ answer: OrganicAnswer; scored: Promise<void> }> {
  const emit = options.onEvent ?? (() => {});
  const deadline = performance.now() + options.deadlineMs;
  const reference = infer(await graphOf(model), input);
  const ranked = await rankMiners(v);
  if (ranked.length === 0)
    throw new GatewayError('NO_MINER', 'no miner is available (none registered, or all are cooling down)');

  const tried: { c: Challenge; answer: Answer; outcome: Outcome }[] = [];
  const all: Promise<void>[] = [];
  const score = async () => {
    await Promise.all(all);
    if (tried.length > 0)
      v.commit(
        await v.miners(),
        tried.map((t) => t.c),
        tried.map((t) => t.answer),
        new Map(tried.map((t) => [t.c.miner.hotkey, t.outcome])),
      );
  };

  type Won = { c: Challenge; answer: Answer & { ok: true } };
  let won: Won | undefined;
  for (let k = 0; k < ranked.length && !won; k += options.redundancy) {
    const remaining = Math.floor(deadline - performance.now());
    if (remaining < 100) break;
    const group = ranked.slice(k, k + options.redundancy);
    won = await new Promise<Won | undefined>((resolve) => {
      let left = group.length;
      for (const miner of group) {
        const task = (async () => {
          const c = await v.challengeFor(miner, model, input, options.avs);
          emit({ type: 'sent', miner: miner.hotkey });
          const answer = await v.ask(c, PRIORITY.organic, Math.min(remaining, v.config.timeoutMs));
          if (answer.ok) emit({ type: 'answered', miner: miner.hotkey, latencyMs: answer.latencyMs });
          let outcome = await v.judge(c, answer);
          if (outcome.kind === 'verified' && answer.ok && !(await provenOutputsMatch(c, answer, reference)))
            outcome = { kind: 'invalid', reason: 'outputMismatch: the proven outputs are not the model’s' };
          tried.push({ c, answer, outcome });
          if (outcome.kind === 'verified' && answer.ok) {
            emit({ type: 'verified', miner: miner.hotkey, latencyMs: outcome.latencyMs });
            resolve({ c, answer });
          } else if (outcome.kind !== 'verified') {
            emit({ type: 'rejected', miner: miner.hotkey, outcome: outcome.kind, reason: outcome.reason });
          }
        })()
          .catch((e: unknown) => {
            emit({ type: 'rejected', miner: miner.hotkey, outcome: 'error', reason: (e as Error).message });
          })
          .finally(() => {
            if (--left === 0) resolve(undefined);
          });
        all.push(task);
      }
    });
  }
  const scored = score();
  if (!won) {
    await scored;
    const why = tried.map((t) => `${t.c.miner.hotkey}: ${t.outcome.kind}`).join('; ');
    throw new GatewayError(
      'NO_VERIFIED_ANSWER',
      `no verified answer within ${options.deadlineMs} ms${why ? ` (${why})` : ''}`,
    );
  }
  const { c, answer } = won;
  const binding = {
    value: c.binding.toString(),
    nonce: c.parts.nonce,
    validatorHotkey: c.parts.validatorHotkey,
    minerHotkey: c.parts.minerHotkey,
    ...(c.parts.avs ? { avs: c.parts.avs } : {}),
  };
  const bundle: ProofBundle | SlicedBundle = model.sliced
    ? (slicedBundleOf(answer.body, model.sliced, c.binding) as SlicedBundle)
    : {
        format: BUNDLE_FORMAT,
        modelId: model.modelId,
        proof: answer.body.proof,
        publicSignals: answer.body.publicSignals,
        outputs: reference.outputs,
        predictedClass: reference.predictedClass,
        binding: binding.value,
        timings: {
          witnessMs: finiteOr0(answer.body.timings?.witnessMs),
          proveMs: finiteOr0(answer.body.timings?.proveMs),
        },
      };
  return {
    answer: {
      modelId: model.modelId,
      modelName: modelManifest(model).name,
      input: [...input],
      output: reference.outputs,
      class: reference.predictedClass,
      inputHash: c.inputHash,
      binding,
      bundle,
      miner: c.miner.hotkey,
      latencyMs: answer.latencyMs,
      proverTimings: {
        queueMs: finiteOr0(answer.body.timings?.queueMs),
        witnessMs: finiteOr0(answer.body.timings?.witnessMs),
        proveMs: finiteOr0(answer.body.timings?.proveMs),
      },
    },
    scored,
  };
}

/**
 * A verified single-circuit proof must carry the reference executor's outputs: as public signals,
 * or as the Poseidon hash the circuit publishes instead. It does, for a sound circuit (the circuit
 * is a function of the input the proof is bound to); this is checked anyway, since the gateway
 * returns the reference's outputs. A sliced chain's outputs were checked by its verification.
 */
async function provenOutputsMatch(
  c: Challenge,
  answer: Answer & { ok: true },
  reference: InferenceResult,
): Promise<boolean> {
  if (c.model.sliced) return true;
  const signals = answer.body.publicSignals;
  if (c.model.artifacts.manifest.publicSignals.outputsHashed)
    return (await poseidonHashChain(reference.quantizedOutputs.map(toField))).toString() === signals[0];
  const proven = signals.slice(0, signals.length - 2);
  return (
    proven.length === reference.quantizedOutputs.length &&
    proven.every((s, i) => fromField(BigInt(s)) === reference.quantizedOutputs[i])
  );
}

/** A number the miner reported, or 0 (its timings are informative and unchecked). */
function finiteOr0(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
