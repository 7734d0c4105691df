import { randomInt } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Artifacts, openArtifacts, requireFile } from '../circuits/artifacts.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import type { Manifest } from '../circuits/manifest.ts';
import { isSlicedDir } from '../circuits/slicedManifest.ts';
import { openSlicedSetUp, type SlicedModel, slicedModelId } from '../circuits/slicedModel.ts';
import { type AvsBindingParts, type BindingParts, computeBinding } from '../protocol/binding.ts';
import { CHALLENGE_PROOF_FORMAT, type ChallengeProof } from '../protocol/challengeProof.ts';
import { type CallResult, callAxon } from '../protocol/dendrite.ts';
import { ArtifactError } from '../protocol/errors.ts';
import { type Hotkey, hotkeyFromFile, hotkeyFromUri } from '../protocol/keys.ts';
import { Metrics } from '../protocol/metrics.ts';
import type { ProveInferenceResponse } from '../protocol/synapses.ts';
import { LocalSubtensor } from '../subnet/localSubtensor.ts';
import { capWeights } from '../subnet/maxWeight.ts';
import { type SubtensorClient, SubtensorError } from '../subnet/subtensorClient.ts';
import { batchVerify } from './batchVerify.ts';
import { freshNonce, makeChallenge } from './core/challenge.ts';
import { PriorityLimiter } from './core/priorityLimiter.ts';
import { applyRound, freshScore, type MinerScore, type Outcome, weightsFromScores } from './core/scoring.ts';
import type { ValidatorConfig } from './validatorConfig.ts';
import { type RequestRecord, ValidatorStore } from './validatorStore.ts';
import { slicedBundleOf, verifySliced, verifySlicedBatch } from './verifySliced.ts';

export interface Model {
  readonly modelId: string;
  /** For a sliced model, its first slice's (whose input is the model's). */
  readonly artifacts: Artifacts;
  /** Set for a model cut into slices: answers carry every slice proof and are verified as a chain. */
  readonly sliced?: SlicedModel;
  readonly vkey: unknown;
  /** Dataset inputs of this model's size not yet sent (each input is used at most once). */
  readonly dataset: number[][];
}

/** A model's name, input encoding and outputs: its own manifest, or its sliced manifest. */
export function modelManifest(m: Model): Pick<Manifest, 'name' | 'input' | 'outputs'> {
  return m.sliced ? m.sliced.manifest : m.artifacts.manifest;
}

/** One challenge: fresh nonce, reserved in the replay guard before it is sent. */
export interface Challenge {
  readonly miner: { readonly hotkey: string; readonly url: string };
  readonly model: Model;
  readonly input: number[];
  readonly nonce: string;
  readonly inputHash: string;
  readonly binding: bigint;
  readonly parts: BindingParts;
}

export type Answer = CallResult<ProveInferenceResponse>;

/** Who goes first when axon calls wait for a slot: a caller's request before the validator's own. */
export const PRIORITY = Object.freeze({ organic: 0, synthetic: 1 });

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
  ) {
    this.limiter = new PriorityLimiter(config.concurrency);
  }

  /** Sends axon calls at most `concurrency` at a time; organic calls take free slots first. */
  private readonly limiter: PriorityLimiter;
  /** The real chain, once connected (config.network). */
  private chain: Promise<SubtensorClient> | undefined;

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

  /**
   * The subnet this validator reads and sets weights on: a local subtensor state file, or a real
   * chain (connected once, signing with this validator's hotkey); undefined without either.
   */
  subtensor(): Promise<SubtensorClient> | undefined {
    if (this.config.subtensorState)
      return Promise.resolve(LocalSubtensor.openExisting(this.config.subtensorState));
    const network = this.config.network;
    if (network === undefined) return undefined;
    this.chain ??= import('../subnet/chain/chainSubtensor.ts').then(({ ChainSubtensor }) =>
      ChainSubtensor.connect({ network, netuid: this.config.netuid ?? 0, signer: this.hotkey }),
    );
    // a failed connection is not remembered: the next round tries again
    this.chain.catch(() => {
      this.chain = undefined;
    });
    return this.chain;
  }

  /** The miners of this round: the configured ones plus, with a subtensor, every other neuron serving an axon. */
  async miners(): Promise<{ hotkey: string; url: string }[]> {
    const list = new Map(this.config.miners.map((m) => [m.hotkey, m]));
    const subtensor = this.subtensor();
    if (subtensor) {
      const mg = await (await subtensor).metagraph();
      for (const n of mg.neurons) {
        if (n.axon && n.hotkey !== this.hotkey.ss58 && !list.has(n.hotkey))
          list.set(n.hotkey, { hotkey: n.hotkey, url: n.axon.url });
      }
    }
    return [...list.values()];
  }

  /** The models this validator challenges and verifies (and a gateway serves). */
  modelList(): readonly Model[] {
    return this.models;
  }

  /**
   * A challenge for `miner` on `model`. Without an input: an unused dataset entry or fresh CSPRNG
   * values, never an input sent before. With one (an organic request): that input, with a fresh
   * nonce; the input is marked used so the validator's own challenges never repeat it. With `avs`
   * parts the proof must carry that AVS task's binding (a request to be settled on chain).
   */
  async challengeFor(
    miner: { hotkey: string; url: string },
    model: Model,
    organicInput?: readonly number[],
    avs?: AvsBindingParts,
  ): Promise<Challenge> {
    const enc = model.artifacts.manifest.input;
    const round = this.store.lastRound() + 1;
    for (;;) {
      const { input, nonce } = organicInput
        ? { input: [...organicInput], nonce: freshNonce() }
        : this.challengeInput(model);
      const inputHash = (await inputHashOf(input, enc)).toString();
      // an organic input may repeat (it is the caller's); the validator's own never does
      if (this.store.reserveChallenge(round, nonce, inputHash, organicInput !== undefined)) {
        const parts = {
          nonce,
          validatorHotkey: this.hotkey.ss58,
          minerHotkey: miner.hotkey,
          ...(avs ? { avs } : {}),
        };
        return { miner, model, input, nonce, inputHash, binding: await computeBinding(parts), parts };
      }
    }
  }

  /** Sends one challenge (latency is measured here, on the validator's side). */
  ask(c: Challenge, priority: number, timeoutMs = this.config.timeoutMs): Promise<Answer> {
    return this.limiter.run(priority, () =>
      callAxon<ProveInferenceResponse>(
        c.miner.url,
        'ProveInference',
        { modelId: c.model.modelId, input: c.input, binding: c.parts, deadlineMs: timeoutMs },
        {
          hotkey: this.hotkey,
          axonHotkey: c.miner.hotkey,
          timeoutMs,
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
  }

  /**
   * The checks that need no pairing: transport, shape, and that the proof is for this input and
   * this binding (the validator recomputed both itself). An outcome, or undefined when only the
   * proof itself remains to be verified.
   */
  private precheck(c: Challenge, a: Answer): Outcome | undefined {
    if (!a.ok) {
      // a 200 that is not JSON is a broken answer; everything else is transport (never a cheat)
      return a.failure === 'malformed'
        ? { kind: 'invalid', reason: 'malformed answer' }
        : { kind: 'transport', reason: `${a.failure}${a.status ? ` ${a.status}` : ''}: ${a.detail}` };
    }
    if (c.model.sliced) return undefined;
    const signals = a.body.publicSignals;
    const n = c.model.artifacts.manifest.publicSignals.names.length;
    if (a.body.modelId !== c.model.modelId || !Array.isArray(signals) || signals.length !== n)
      return { kind: 'invalid', reason: 'malformed: wrong model or public signal count' };
    if (signals[n - 2] !== c.inputHash) return { kind: 'invalid', reason: 'inputHashMismatch' };
    if (signals[n - 1] !== c.binding.toString()) return { kind: 'invalid', reason: 'bindingMismatch' };
    return undefined;
  }

  /** A sliced model's answer: every slice proof, chained, for this input and this binding. */
  private async judgeSliced(c: Challenge, a: Answer): Promise<Outcome> {
    if (!a.ok) return this.precheck(c, a)!;
    const r = await verifySliced(c.model.sliced!, slicedBundleOf(a.body, c.model.sliced!, c.binding), {
      input: c.input,
      binding: c.binding,
    });
    return r.ok
      ? { kind: 'verified', latencyMs: a.latencyMs }
      : { kind: 'invalid', reason: `${r.reason}: ${r.detail}` };
  }

  /** The outcome of one answer, judged exactly as in a round (one pairing, no batch). */
  async judge(c: Challenge, a: Answer): Promise<Outcome> {
    if (c.model.sliced) return this.judgeSliced(c, a);
    const early = this.precheck(c, a);
    if (early || !a.ok) return early!;
    const [r] = await batchVerify(c.model.vkey, [
      { publicSignals: a.body.publicSignals, proof: a.body.proof },
    ]);
    return r!.ok ? { kind: 'verified', latencyMs: a.latencyMs } : { kind: 'invalid', reason: r!.reason };
  }

  async runRound(): Promise<RoundResult> {
    const started = performance.now();
    const scores = this.store.scores();
    const roundMiners = await this.miners();
    const next = this.store.lastRound() + 1;
    const eligible = roundMiners.filter((m) => (scores.get(m.hotkey)?.cooldownUntil ?? 0) < next);

    // 1. fresh challenges, reserved in the replay guard before anything is sent
    const challenges = await Promise.all(
      eligible.map((miner, i) => this.challengeFor(miner, this.models[(next + i) % this.models.length]!)),
    );

    // 2. query, organic requests first when slots are short
    const answers = await Promise.all(challenges.map((c) => this.ask(c, PRIORITY.synthetic)));

    // 3. the cheap checks first; then the pairings, batched per model, and the sliced chains
    const outcomes = new Map<string, Outcome>();
    const pending: { index: number; model: Model }[] = [];
    answers.forEach((a, i) => {
      const c = challenges[i]!;
      const early = c.model.sliced ? undefined : this.precheck(c, a);
      if (early) outcomes.set(c.miner.hotkey, early);
      else if (!c.model.sliced) pending.push({ index: i, model: c.model });
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
    // sliced answers: the cheap checks per answer, then one multi-pairing per slice per model
    for (const model of this.models) {
      if (!model.sliced) continue;
      const group = challenges.flatMap((c, i) => (c.model === model ? [{ c, a: answers[i]! }] : []));
      const reachable = group.filter(({ c, a }) => {
        if (a.ok) return true;
        outcomes.set(c.miner.hotkey, this.precheck(c, a)!);
        return false;
      });
      const verdicts = await verifySlicedBatch(
        model.sliced,
        reachable.map(({ c, a }) => ({
          raw: slicedBundleOf(a.ok ? a.body : {}, model.sliced!, c.binding),
          opts: { input: c.input, binding: c.binding },
        })),
      );
      reachable.forEach(({ c, a }, j) => {
        const r = verdicts[j]!;
        outcomes.set(
          c.miner.hotkey,
          r.ok
            ? { kind: 'verified', latencyMs: a.latencyMs }
            : { kind: 'invalid', reason: `${r.reason}: ${r.detail}` },
        );
      });
    }

    // 4. score, weigh and commit the round atomically
    const result = this.commit(roundMiners, challenges, answers, outcomes);
    if (this.config.proofDir) await this.keepProofs(result.round, challenges, answers, outcomes);
    this.countRounds();
    this.roundMs(performance.now() - started);
    return result;
  }

  /**
   * Scores one round's outcomes and commits them with the request log and the weights, in one
   * transaction. Synchronous from reading the scores to writing them: rounds committed by
   * concurrent callers (a gateway's organic requests) each build on the one before.
   */
  commit(
    roundMiners: readonly { hotkey: string }[],
    challenges: readonly Challenge[],
    answers: readonly Answer[],
    outcomes: ReadonlyMap<string, Outcome>,
  ): RoundResult {
    const round = this.store.lastRound() + 1;
    const { scores: next, latency } = applyRound(this.store.scores(), outcomes, round);
    const hotkeys = new Set(roundMiners.map((m) => m.hotkey));
    for (const c of challenges) hotkeys.add(c.miner.hotkey);
    const all = [...hotkeys].map((h) => next.get(h) ?? freshScore(h));
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
        reason: o.kind === 'verified' ? '' : o.reason,
        latencyMs: answers[i]!.latencyMs,
        latencyScore: latency.get(c.miner.hotkey) ?? 0,
        scoreAfter: next.get(c.miner.hotkey)!.score,
      };
    });
    this.store.commitRound(round, records, all, weights);
    for (const r of records) this.countRequests({ outcome: r.outcome });
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
    challenges: readonly Challenge[],
    answers: readonly Answer[],
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
    let shares = entries.map(([, w]) => w);
    // the subnet refuses a vector whose largest share exceeds its max weight limit: cap it (a hair
    // under, for the u16 rounding); too few miners to spread over get every other uid a floor share,
    // as the SDK pads them
    const limit = (await client.hyperparameters()).maxWeightLimit / 65535;
    if (limit < 1) {
      if (uids.length * limit <= 1) {
        const floor = 1e-5 * Math.max(...shares);
        const weighted = new Set(uids);
        for (const n of mg.neurons)
          if (!weighted.has(n.uid) && n.hotkey !== this.hotkey.ss58) {
            uids.push(n.uid);
            shares.push(floor);
          }
      }
      shares = capWeights(shares, limit * (1 - 1e-3));
    }
    const values = shares.map((w) => Math.max(1, Math.round(w * 65535)));
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
    void this.chain?.then((c) => (c as { close?: () => Promise<void> }).close?.()).catch(() => {});
  }
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
