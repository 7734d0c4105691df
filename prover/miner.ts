import { toField } from '../circuits/core/field.ts';
import { infer } from '../circuits/core/inference.ts';
import { computeBinding } from '../protocol/binding.ts';
import { type Hotkey, hotkeyFromFile, hotkeyFromUri } from '../protocol/keys.ts';
import { Metrics } from '../protocol/metrics.ts';
import { SDK_SYNAPSES } from '../protocol/sdkSynapse.ts';
import {
  type CapacityResponse,
  type ProveInferenceResponse,
  parseProveInference,
} from '../protocol/synapses.ts';
import { Axon, type SynapseReply } from './axon.ts';
import { FleetProver } from './fleet/fleetProver.ts';
import { announceAxon, MetagraphView, openMetagraphSource } from './metagraphSource.ts';
import type { MinerConfig } from './minerConfig.ts';
import { PoolError, ProvingPool } from './pool/provingPool.ts';
import type { Prover } from './prover.ts';
import { circuitsOf, loadServedModels, modelNames, type ServedModels, warmJob } from './servedModels.ts';
import { proveSlicedAnswer } from './slicedAnswer.ts';

export interface RunningMiner {
  readonly url: string;
  readonly hotkey: string;
  readonly models: readonly string[];
  /** Graceful: stop accepting, let in-flight proofs finish (up to the grace period), end workers. */
  close(): Promise<void>;
}

export type Logger = (event: Record<string, unknown>) => void;

const POOL_STATUS: Record<string, number> = {
  QUEUE_FULL: 503,
  DEADLINE_UNMEETABLE: 503,
  POOL_CLOSED: 503,
  FLEET_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 408,
  WORKER_FAILED: 500,
};

/** Starts a miner: loads its models, starts the proving pool, serves the axon. */
export async function startMiner(config: MinerConfig, log: Logger = () => {}): Promise<RunningMiner> {
  const hotkey: Hotkey =
    'uri' in config.hotkey
      ? await hotkeyFromUri(config.hotkey.uri)
      : await hotkeyFromFile(config.hotkey.file);
  const served = await loadServedModels(config.models);
  const { models, sliced: slicedModels } = served;
  // the metagraph first: a chain that cannot be reached fails the start before workers exist
  const source = await openMetagraphSource(config, hotkey);
  let prover: Prover;
  try {
    prover = await startProver(config, served, log);
  } catch (e) {
    await source?.close();
    throw e;
  }
  const metrics = new Metrics();
  const proofsTotal = metrics.counter('zkinfer_miner_proofs_total', 'Proofs delivered');
  const failures = metrics.counter(
    'zkinfer_miner_failures_total',
    'Requests that produced no proof, by cause',
  );
  const requests = metrics.counter('zkinfer_miner_requests_total', 'Requests by synapse and status');
  const latency = metrics.histogram(
    'zkinfer_miner_proof_ms',
    'Queue + witness + prove time per proof',
    [250, 500, 1000, 2000, 4000, 8000, 16000],
  );
  metrics.gauge('zkinfer_miner_queue_depth', 'Jobs waiting for a worker', () => prover.queueDepth);
  metrics.gauge('zkinfer_miner_in_flight', 'Jobs being proved', () => prover.inFlight);
  metrics.gauge('zkinfer_miner_workers', 'Proving workers', () => prover.workers);
  if (prover instanceof FleetProver) prover.instrument(metrics);

  let replayed: ProveInferenceResponse | undefined;
  // When a metagraph is known (a local state file or a real chain), only registered validators with
  // a permit and enough stake may call (see MetagraphView for re-reads and staleness).
  const metagraph = source ? new MetagraphView(source, log) : undefined;
  const metagraphRefusal = async (caller: string): Promise<string | null> => {
    if (!metagraph) return null;
    const neurons = await metagraph.neurons();
    if (typeof neurons === 'string') return neurons;
    const n = neurons.get(caller);
    if (!n) return `hotkey ${caller} is not registered on the subnet`;
    if (!n.validatorPermit) return `hotkey ${caller} has no validator permit`;
    if (n.stake < config.minValidatorStake)
      return `hotkey ${caller} has stake ${n.stake}, below ${config.minValidatorStake}`;
    return null;
  };
  // workers that can prove a model now: for a sliced one, the fewest any of its slices has
  const workersFor = (circuits: readonly string[]) =>
    Math.min(...circuits.map((id) => prover.workersFor(id)));
  const refuse = (status: number, error: string, cause: string): SynapseReply => {
    failures({ cause });
    return { status, body: { error } };
  };

  const axon = new Axon({
    host: config.host,
    port: config.port,
    hotkey: hotkey.ss58,
    sign: (message) => hotkey.sign(message),
    sdkSynapses: SDK_SYNAPSES,
    maxBodyBytes: config.maxBodyBytes,
    rateLimitPerMinute: config.rateLimitPerMinute,
    limits: {
      maxConnections: config.maxConnections,
      maxConnectionsPerIp: config.maxConnectionsPerIp,
      headersTimeoutMs: config.headersTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
    },
    blacklist: async (caller) => {
      if (config.allowedHotkeys.length > 0 && !config.allowedHotkeys.includes(caller)) {
        return `hotkey ${caller} is not allowed to query this miner`;
      }
      return metagraphRefusal(caller);
    },
    getRoutes: {
      metrics: () => ({ contentType: 'text/plain; version=0.0.4', body: metrics.render() }),
      health: () => ({
        contentType: 'application/json',
        body: JSON.stringify({ ok: true, hotkey: hotkey.ss58 }),
      }),
    },
    onRequest: (e) => {
      requests({ synapse: e.synapse, status: String(e.status) });
      log({ msg: 'request', ...e, ms: Math.round(e.ms) });
    },
    synapses: {
      Capacity: async () => {
        const body: CapacityResponse = {
          hotkey: hotkey.ss58,
          models: [
            ...[...models.entries()].map(([modelId, m]) => ({
              modelId,
              name: m.artifacts.manifest.name,
              constraints: m.artifacts.manifest.circuit.constraints,
              workers: workersFor([modelId]),
            })),
            ...[...slicedModels.entries()].map(([modelId, m]) => ({
              modelId,
              name: m.sliced.manifest.name,
              constraints: m.sliced.manifest.totalConstraints,
              slices: m.sliced.slices.length,
              workers: workersFor(m.sliced.slices.map((a) => a.manifest.setup!.modelId)),
            })),
          ],
          workers: prover.workers,
          queueDepth: prover.queueDepth,
          maxQueue: prover.maxQueue,
        };
        return { status: 200, body };
      },
      ProveInference: async (raw, ctx) => {
        const req = parseProveInference(raw);
        if (typeof req === 'string') return refuse(400, req, 'malformed');
        const model = models.get(req.modelId);
        const sliced = slicedModels.get(req.modelId);
        if (!model && !sliced)
          return refuse(400, `model ${req.modelId} is not served by this miner`, 'unknown model');
        if (req.binding.minerHotkey !== hotkey.ss58)
          return refuse(400, 'binding.minerHotkey is not this miner', 'binding');
        if (req.binding.validatorHotkey !== ctx.callerHotkey)
          return refuse(400, 'binding.validatorHotkey is not the caller', 'binding');
        const circuits = model ? [req.modelId] : sliced!.sliced.slices.map((a) => a.manifest.setup!.modelId);
        const unavailable = circuits.map((id) => prover.refusal(id)).find((r) => r !== null);
        if (unavailable) return refuse(503, unavailable, 'unavailable');
        const size = model ? model.artifacts.manifest.input.size : sliced!.sliced.manifest.input.size;
        if (req.input.length !== size)
          return refuse(400, `the model takes ${size} input values, got ${req.input.length}`, 'malformed');
        let binding: bigint;
        try {
          binding = await computeBinding(req.binding);
        } catch (e) {
          return refuse(400, (e as Error).message, 'binding');
        }
        // demo/test misbehaviour (see MinerConfig.demoBehavior); honest miners skip all of this
        const cheat = config.demoBehavior;
        if (cheat === 'replay' && replayed) return { status: 200, body: replayed };
        if (cheat === 'garbage') return { status: 200, body: garbageAnswer(req.modelId) };
        if (cheat === 'stealBinding')
          binding = await computeBinding({ ...req.binding, minerHotkey: `${req.binding.minerHotkey}-other` });
        const provedInput =
          cheat === 'wrongInput' ? req.input.map((v, i) => (i === 0 ? v + 0.5 : v)) : req.input;
        const deadline = {
          deadlineMs: Math.min(req.deadlineMs, ctx.timeoutSeconds * 1000),
          signal: ctx.signal,
          // the SDK's priority: the caller's stake (0 without a metagraph, so nobody displaces anyone)
          priority: metagraph?.known?.get(ctx.callerHotkey)?.stake ?? 0,
        };
        if (sliced) {
          try {
            const { body, ms } = await proveSlicedAnswer(prover, sliced, provedInput, binding, deadline);
            proofsTotal();
            latency(ms);
            return { status: 200, body };
          } catch (e) {
            if (e instanceof PoolError)
              return refuse(POOL_STATUS[e.poolCode] ?? 500, e.shortMessage, e.poolCode.toLowerCase());
            throw e;
          }
        }
        const r = infer(model!.graph, provedInput);
        try {
          const result = await prover.prove(
            {
              modelId: req.modelId,
              wasmPath: model!.artifacts.paths.wasm,
              zkeyPath: model!.artifacts.paths.zkey,
              circuitInput: {
                in: r.quantizedInput.map((v) => toField(v).toString()),
                binding: binding.toString(),
              },
            },
            deadline,
          );
          proofsTotal();
          latency(result.timings.queueMs + result.timings.witnessMs + result.timings.proveMs);
          const body: ProveInferenceResponse = {
            modelId: req.modelId,
            proof: result.proof,
            publicSignals: result.publicSignals,
            outputs: r.outputs,
            predictedClass: r.predictedClass,
            timings: result.timings,
          };
          if (cheat === 'replay') replayed = body;
          if (cheat === 'slow') await new Promise((resolve) => setTimeout(resolve, config.demoDelayMs));
          return { status: 200, body };
        } catch (e) {
          if (e instanceof PoolError)
            return refuse(POOL_STATUS[e.poolCode] ?? 500, e.shortMessage, e.poolCode.toLowerCase());
          throw e;
        }
      },
    },
  });
  let url: string;
  try {
    ({ url } = await axon.listen());
  } catch (e) {
    // the port is taken (or the host is not ours): nothing may be left running
    await prover.close();
    await source?.close();
    throw e;
  }
  if (source && config.announce) await announceAxon(source, hotkey.ss58, config.announce, log);
  const servedIds = [...models.keys(), ...slicedModels.keys()];
  log({ msg: 'listening', url, hotkey: hotkey.ss58, models: servedIds, workers: prover.workers });
  return {
    url,
    hotkey: hotkey.ss58,
    models: servedIds,
    close: async () => {
      await axon.close(config.shutdownGraceSeconds * 1000);
      await prover.close();
      await source?.close();
    },
  };
}

/**
 * Where the miner's proofs are made: with a `redis` key, a fleet of prover nodes (which it tells
 * which models it serves); without one, its own pool, warmed before the axon listens.
 */
async function startProver(config: MinerConfig, served: ServedModels, log: Logger): Promise<Prover> {
  if (config.redis) {
    const fleet = await FleetProver.connect({
      redis: config.redis,
      fleet: config.fleet,
      models: modelNames(served),
      log,
      ...(config.maxQueue === undefined ? {} : { maxQueue: config.maxQueue }),
    });
    log({ msg: 'fleet joined', fleet: config.fleet, nodes: fleet.liveNodes.length, workers: fleet.workers });
    return fleet;
  }
  const pool = new ProvingPool({
    workers: config.workers,
    ...(config.maxQueue === undefined ? {} : { maxQueue: config.maxQueue }),
    engine: config.engine,
    tableBudgetBytes: config.engineTableBudgetMB * 2 ** 20,
    // every circuit served stays warm: a sliced model's slices take turns on each worker
    maxModels: Math.max(4, circuitsOf(served).length),
  });
  try {
    const warmMs = await pool.warm(circuitsOf(served).map(warmJob));
    log({ msg: 'models warm', engine: pool.engine, workers: pool.workers, warmMs });
  } catch (e) {
    await pool.close();
    throw e;
  }
  return pool;
}

/** A well-formed answer with a proof that proves nothing (demoBehavior "garbage"). */
function garbageAnswer(modelId: string): ProveInferenceResponse {
  return {
    modelId,
    proof: {
      pi_a: ['1', '2', '1'],
      pi_b: [
        ['1', '2'],
        ['3', '4'],
        ['1', '0'],
      ],
      pi_c: ['1', '2', '1'],
      protocol: 'groth16',
      curve: 'bn128',
    },
    publicSignals: ['0'],
    outputs: [],
    predictedClass: 0,
    timings: { queueMs: 0, witnessMs: 0, proveMs: 0 },
  };
}
