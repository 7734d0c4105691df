import { randomInt } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Artifacts, openArtifacts, requireFile } from '../circuits/artifacts.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { isSlicedDir } from '../circuits/slicedManifest.ts';
import { openSlicedSetUp, type SlicedModel, slicedModelId } from '../circuits/slicedModel.ts';
import { computeBinding } from '../protocol/binding.ts';
import { CHALLENGE_PROOF_FORMAT, type ChallengeProof } from '../protocol/challengeProof.ts';
import { callAxon } from '../protocol/dendrite.ts';
import { ArtifactError } from '../protocol/errors.ts';
import { type Hotkey, hotkeyFromFile, hotkeyFromUri } from '../protocol/keys.ts';
import { Metrics } from '../protocol/metrics.ts';
import type { ProveInferenceResponse } from '../protocol/synapses.ts';
import { LocalSubtensor } from '../subnet/localSubtensor.ts';
import { type SubtensorClient, SubtensorError } from '../subnet/subtensorClient.ts';
import { batchVerify } from './batchVerify.ts';
import { makeChallenge } from './core/challenge.ts';
import { applyRound, freshScore, type MinerScore, type Outcome, weightsFromScores } from './core/scoring.ts';
import type { ValidatorConfig } from './validatorConfig.ts';
import { type RequestRecord, ValidatorStore } from './validatorStore.ts';
import { slicedBundleOf, verifySliced } from './verifySliced.ts';

interface Model {
  readonly modelId: string;
  /** For a sliced model, its first slice's (whose input is the model's). */
  readonly artifacts: Artifacts;
  /** Set for a model cut into slices: answers carry every slice proof and are verified as a chain. */
  readonly sliced?: SlicedModel;
  readonly vkey: unknown;
  /** Dataset inputs of this model's size not yet sent (each input is used at most once). */
  readonly dataset: number[][];
}

export interface RoundResult {
  readonly round: number;
  readonly outcomes: readonly { readonly hotkey: string; readonly outcome: Outcome }[];
  readonly weights: ReadonlyMap<string, number>;
  readonly scores: ReadonlyMap<string, MinerScore>;
}

/** The validator: challenges miners, verifies, scores and persists, one round at a time. */
export class Validator {
  private constructor(
    readonly config: ValidatorConfig,
    readonly hotkey: Hotkey,
    private readonly models: readonly Model[],
    readonly store: ValidatorStore,
  ) {}

  static async open(config: ValidatorConfig): Promise<Validator> {
    const hotkey =
      'uri' in config.hotkey
        ? await hotkeyFromUri(config.hotkey.uri)
        : await hotkeyFromFile(config.hotkey.file);
    const models: Model[] = [];
    for (const dir of config.models) {
      if (isSlicedDir(dir)) {
        const sliced = await openSlicedSetUp(dir, ['vkey']);
        const dataset = config.challengeInputs
          ? await readDataset(config.challengeInputs, sliced.manifest.input.size)
          : [];
        models.push({
          modelId: slicedModelId(sliced),
          artifacts: sliced.slices[0]!,
          sliced,
          vkey: null,
          dataset,
        });
        continue;
      }
      const artifacts = await openArtifacts(dir);
      if (!artifacts.manifest.setup)
        throw new ArtifactError('ARTIFACT_NOT_FOUND', `${dir} has no keys; run zkinfer setup on it first`);
      const vkey = JSON.parse(
        await readFile(requireFile(artifacts.paths.vkey, 'verification key'), 'utf8'),
      ) as unknown;
      const dataset = config.challengeInputs
        ? await readDataset(config.challengeInputs, artifacts.manifest.input.size)
        : [];
      models.push({ modelId: artifacts.manifest.setup.modelId, artifacts, vkey, dataset });
    }
    return new Validator(config, hotkey, models, new ValidatorStore(config.db));
  }

  /** Prometheus metrics of this validator (served by the CLI when metricsPort is set). */
  readonly metrics = new Metrics();
  private readonly countRequests = this.metrics.counter(
    'zkinfer_validator_requests_total',
    'Challenges by outcome',
  );
  private readonly countRounds = this.metrics.counter('zkinfer_validator_rounds_total', 'Rounds committed');
  private readonly roundMs = this.metrics.histogram(
    'zkinfer_validator_round_ms',
    'Round duration',
    [500, 1000, 2000, 5000, 10000, 30000],
  );

  /** A challenge input: an unused dataset entry when there is one, else fresh CSPRNG values. */
  private challengeInput(model: Model): { input: number[]; nonce: string } {
    const enc = model.artifacts.manifest.input;
    const fresh = makeChallenge(enc.size, enc.range);
    if (model.dataset.length === 0) return fresh;
    const [input] = model.dataset.splice(randomInt(model.dataset.length), 1);
    return { input: input!, nonce: fresh.nonce };
  }

  /** The miners of this round: the configured ones plus, with a subtensor, every other neuron serving an axon. */
  async miners(): Promise<{ hotkey: string; url: string }[]> {
    const list = new Map(this.config.miners.map((m) => [m.hotkey, m]));
    if (this.config.subtensorState) {
      const mg = await LocalSubtensor.openExisting(this.config.subtensorState).metagraph();
      for (const n of mg.neurons) {
        if (n.axon && n.hotkey !== this.hotkey.ss58 && !list.has(n.hotkey))
          list.set(n.hotkey, { hotkey: n.hotkey, url: n.axon.url });
      }
    }
    return [...list.values()];
  }

  async runRound(): Promise<RoundResult> {
    const started = performance.now();
    const round = this.store.lastRound() + 1;
    const scores = this.store.scores();
    const roundMiners = await this.miners();
    const eligible = roundMiners.filter((m) => (scores.get(m.hotkey)?.cooldownUntil ?? 0) < round);

    // 1. fresh challenges, reserved in the replay guard before anything is sent
    const challenges = await Promise.all(
      eligible.map(async (miner, i) => {
        const model = this.models[(round + i) % this.models.length]!;
        const enc = model.artifacts.manifest.input;
        for (;;) {
          const { input, nonce } = this.challengeInput(model);
          const inputHash = (await inputHashOf(input, enc)).toString();
          if (this.store.reserveChallenge(round, nonce, inputHash)) {
            const parts = { nonce, validatorHotkey: this.hotkey.ss58, minerHotkey: miner.hotkey };
            return { miner, model, input, nonce, inputHash, binding: await computeBinding(parts), parts };
          }
        }
      }),
    );

    // 2. query with bounded concurrency; latency is measured here, on the validator's side
    const answers = await mapLimit(challenges, this.config.concurrency, (c) =>
      callAxon<ProveInferenceResponse>(
        c.miner.url,
        'ProveInference',
        { modelId: c.model.modelId, input: c.input, binding: c.parts, deadlineMs: this.config.timeoutMs },
        {
          hotkey: this.hotkey,
          axonHotkey: c.miner.hotkey,
          timeoutMs: this.config.timeoutMs,
          // a proof, its public signals and the outputs: a few KiB (per slice); anything far larger is refused
          maxBodyBytes: c.model.sliced
            ? c.model.sliced.slices.reduce(
                (s, a) => s + 16_384 + 400 * a.manifest.publicSignals.names.length,
                0,
              )
            : 16_384 + 400 * c.model.artifacts.manifest.publicSignals.names.length,
        },
      ),
    );

    // 3. the validator recomputes input hash and binding itself; only then the pairing (batched)
    const outcomes = new Map<string, Outcome>();
    const reasons = new Map<string, string>();
    const pending: { index: number; model: Model }[] = [];
    const slicedPending: number[] = [];
    answers.forEach((a, i) => {
      const c = challenges[i]!;
      const hk = c.miner.hotkey;
      if (!a.ok) {
        // a 200 that is not JSON is a broken answer; everything else is transport (never a cheat)
        const o: Outcome =
          a.failure === 'malformed'
            ? { kind: 'invalid', reason: 'malformed answer' }
            : { kind: 'transport', reason: `${a.failure}${a.status ? ` ${a.status}` : ''}: ${a.detail}` };
        outcomes.set(hk, o);
        return;
      }
      if (c.model.sliced) {
        slicedPending.push(i);
        return;
      }
      const signals = a.body.publicSignals;
      const n = c.model.artifacts.manifest.publicSignals.names.length;
      if (a.body.modelId !== c.model.modelId || !Array.isArray(signals) || signals.length !== n) {
        outcomes.set(hk, { kind: 'invalid', reason: 'malformed: wrong model or public signal count' });
      } else if (signals[n - 2] !== c.inputHash) {
        outcomes.set(hk, { kind: 'invalid', reason: 'inputHashMismatch' });
      } else if (signals[n - 1] !== c.binding.toString()) {
        outcomes.set(hk, { kind: 'invalid', reason: 'bindingMismatch' });
      } else {
        pending.push({ index: i, model: c.model });
      }
    });
    for (const model of this.models) {
      const group = pending.filter((p) => p.model === model);
      if (group.length === 0) continue;
      const results = await batchVerify(
        model.vkey,
        group.map((p) => {
          const a = answers[p.index]!;
          return a.ok
            ? { publicSignals: a.body.publicSignals, proof: a.body.proof }
            : { publicSignals: [], proof: null };
        }),
      );
      results.forEach((r, j) => {
        const p = group[j]!;
        const a = answers[p.index]!;
        const hk = challenges[p.index]!.miner.hotkey;
        outcomes.set(
          hk,
          r.ok ? { kind: 'verified', latencyMs: a.latencyMs } : { kind: 'invalid', reason: r.reason },
        );
      });
    }
    // a sliced model's answer: every slice proof, chained, for this input and this binding
    for (const i of slicedPending) {
      const c = challenges[i]!;
      const a = answers[i]!;
      if (!a.ok) continue;
      const r = await verifySliced(c.model.sliced!, slicedBundleOf(a.body, c.model.sliced!, c.binding), {
        input: c.input,
        binding: c.binding,
      });
      outcomes.set(
        c.miner.hotkey,
        r.ok
          ? { kind: 'verified', latencyMs: a.latencyMs }
          : { kind: 'invalid', reason: `${r.reason}: ${r.detail}` },
      );
    }
    for (const [h, o] of outcomes) if (o.kind !== 'verified') reasons.set(h, o.reason);

    if (this.config.proofDir) await this.keepProofs(round, challenges, answers, outcomes);

    // 4. score, weigh and commit the round atomically
    const { scores: next, latency } = applyRound(scores, outcomes, round);
    const all = roundMiners.map((m) => next.get(m.hotkey) ?? freshScore(m.hotkey));
    const weights = weightsFromScores(all);
    const records: RequestRecord[] = challenges.map((c, i) => {
      const o = outcomes.get(c.miner.hotkey)!;
      return {
        round,
        hotkey: c.miner.hotkey,
        modelId: c.model.modelId,
        nonce: c.nonce,
        inputHash: c.inputHash,
        outcome: o.kind,
        reason: reasons.get(c.miner.hotkey) ?? '',
        latencyMs: answers[i]!.latencyMs,
        latencyScore: latency.get(c.miner.hotkey) ?? 0,
        scoreAfter: next.get(c.miner.hotkey)!.score,
      };
    });
    this.store.commitRound(round, records, all, weights);
    for (const r of records) this.countRequests({ outcome: r.outcome });
    this.countRounds();
    this.roundMs(performance.now() - started);
    return {
      round,
      outcomes: [...outcomes].map(([hotkey, outcome]) => ({ hotkey, outcome })),
      weights,
      scores: new Map(all.map((s) => [s.hotkey, s])),
    };
  }

  /** Writes each verified proof with its challenge to proofDir (an auditor re-checks them with `zkinfer audit run`). */
  private async keepProofs(
    round: number,
    challenges: readonly {
      miner: { hotkey: string };
      model: Model;
      input: number[];
      nonce: string;
      inputHash: string;
      binding: bigint;
      parts: object;
    }[],
    answers: readonly Awaited<ReturnType<typeof callAxon<ProveInferenceResponse>>>[],
    outcomes: ReadonlyMap<string, Outcome>,
  ): Promise<void> {
    const dir = this.config.proofDir!;
    await mkdir(dir, { recursive: true });
    for (const [i, c] of challenges.entries()) {
      const a = answers[i]!;
      if (!a.ok || outcomes.get(c.miner.hotkey)?.kind !== 'verified') continue;
      const record: ChallengeProof = {
        format: CHALLENGE_PROOF_FORMAT,
        round,
        modelId: c.model.modelId,
        miner: c.miner.hotkey,
        challenge: { input: c.input, binding: c.parts as ChallengeProof['challenge']['binding'] },
        proof: a.body.proof,
        publicSignals: a.body.publicSignals,
        // a sliced model's answer is kept whole: the chain is what an auditor re-checks
        ...(c.model.sliced
          ? { slices: a.body.slices ?? [], outputs: a.body.outputs, predictedClass: a.body.predictedClass }
          : {}),
      };
      await writeFile(
        join(dir, `round${String(round).padStart(4, '0')}-${c.miner.hotkey}.json`),
        `${JSON.stringify(record, null, 1)}\n`,
      );
    }
  }

  /**
   * Sets the current weights on the subnet: scores → normalised weights → u16, for the miners the
   * metagraph knows. Returns what was set, or the chain's refusal (never throws for a refusal).
   */
  async setWeights(
    client: SubtensorClient,
    versionKey = 0,
  ): Promise<{ ok: true; uids: number[]; values: number[] } | { ok: false; error: string }> {
    const mg = await client.metagraph();
    const uidOf = new Map(mg.neurons.map((n) => [n.hotkey, n.uid]));
    const scores = this.store.scores();
    const known = (await this.miners())
      .filter((m) => uidOf.has(m.hotkey))
      .map((m) => scores.get(m.hotkey) ?? freshScore(m.hotkey));
    const weights = weightsFromScores(known);
    const entries = [...weights].filter(([, w]) => w > 0);
    if (entries.length === 0) return { ok: false, error: 'no miner has earned a weight yet' };
    const uids = entries.map(([h]) => uidOf.get(h)!);
    const values = entries.map(([, w]) => Math.max(1, Math.round(w * 65535)));
    try {
      await client.setWeights(this.hotkey.ss58, uids, values, versionKey);
      return { ok: true, uids, values };
    } catch (e) {
      if (e instanceof SubtensorError) return { ok: false, error: e.message };
      throw e;
    }
  }

  close(): void {
    this.store.close();
  }
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Dataset inputs of the given size from {"inputs": [[...], ...]} (entries of other sizes are skipped). */
async function readDataset(path: string, size: number): Promise<number[][]> {
  const doc = JSON.parse(await readFile(path, 'utf8')) as { inputs?: unknown };
  if (!Array.isArray(doc.inputs))
    throw new ArtifactError('ARTIFACT_INVALID', `${path} must be {"inputs": [[...], ...]}`);
  const out: number[][] = [];
  for (const x of doc.inputs) {
    if (Array.isArray(x) && x.length === size && x.every((v) => typeof v === 'number' && Number.isFinite(v)))
      out.push(x as number[]);
  }
  return out;
}
