import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openArtifacts } from '../../circuits/artifacts.ts';
import { compileModel } from '../../circuits/compile.ts';
import { inputHashOf } from '../../circuits/inputHash.ts';
import { setupArtifacts } from '../../circuits/setup/setup.ts';
import type { AvsClient } from '../../contracts/avsClient.ts';
import { DEFAULT_AVS_PARAMS } from '../../contracts/avsClient.ts';
import { GatewaySettler } from '../../contracts/gatewaySettler.ts';
import { setUpLocalAvs } from '../../contracts/localAvs.ts';
import { startHardhatNode } from '../../contracts/localChain.ts';
import { SettlementQueue } from '../../contracts/settlementQueue.ts';
import { publishInput, type WatchDecision, Watcher } from '../../contracts/watcher.ts';
import { ZkinferError } from '../../protocol/errors.ts';
import { hotkeyFromUri } from '../../protocol/keys.ts';
import { type MinerProcess, startMinerProcess } from '../../prover/minerProcess.ts';
import { proveMany } from '../../prover/proveMany.ts';
import { LocalSubtensor } from '../../subnet/localSubtensor.ts';
import type { RunRecord, SettlementRecord } from '../../verifier/auditRun.ts';
import { GatewayClient } from '../../verifier/gateway/client.ts';
import { Gateway } from '../../verifier/gateway/gateway.ts';
import { parseGatewayConfig } from '../../verifier/gateway/gatewayConfig.ts';
import { GatewayStore } from '../../verifier/gateway/gatewayStore.ts';
import { Validator } from '../../verifier/validator.ts';
import { parseValidatorConfig } from '../../verifier/validatorConfig.ts';
import {
  type DemoSummary,
  type GatewaySummary,
  type MinerSummary,
  renderMarkdown,
  renderScoresSvg,
} from './demoReport.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLED_MODEL = join(ROOT, 'test', 'fixtures', 'models', 'mlp-digits.onnx');
const DEV_PTAU = join(ROOT, 'test', 'fixtures', 'ptau', 'dev-pot13.ptau');

export interface RoundRow {
  readonly miner: string;
  readonly behavior: string;
  readonly outcome: string;
  readonly score: number;
}

export interface DemoOptions {
  readonly dir: string;
  readonly rounds: number;
  readonly log: (line: string) => void;
  /** Called after every validator round (a TTY redraws a table from it). */
  readonly onRound?: (round: number, rows: readonly RoundRow[]) => void;
}

/** Everything the demo started, stopped in reverse order on any exit (also Ctrl-C via the CLI). */
export const demoCleanup: (() => Promise<void>)[] = [];
export async function runCleanup(): Promise<void> {
  while (demoCleanup.length > 0) await demoCleanup.pop()!().catch(() => {});
}

const CAST = [
  { name: 'fast', uri: '//DemoFast', behavior: 'honest' },
  { name: 'slow', uri: '//DemoSlow', behavior: 'slow' },
  { name: 'cheater', uri: '//DemoCheater', behavior: 'wrongInput' },
] as const;

/**
 * The whole local subnet in one call: compile and set up the bundled model (reused when unchanged),
 * start a Hardhat node and deploy the AVS, start LocalSubtensor and three miner processes (fast,
 * slow, cheating), run validator rounds with weights flowing through Yuma Consensus, settle results
 * on the AVS (proofs, and a false attestation overturned by a challenge), and write the report.
 */
export async function runDemo(opts: DemoOptions): Promise<DemoSummary> {
  const started = performance.now();
  const dir = resolve(opts.dir);
  const log = opts.log;
  await mkdir(dir, { recursive: true });
  for (const f of [
    'validator.db',
    'validator.db-wal',
    'validator.db-shm',
    'subtensor.json',
    'proofs',
    'settlements.json',
    'queues',
    'gateway.db',
    'gateway.db-wal',
    'gateway.db-shm',
  ]) {
    await rm(join(dir, f), { recursive: true, force: true });
  }
  try {
    // 1. the model
    const artifactsDir = join(dir, 'artifacts', 'mlp-digits');
    const compiled = await compileModel(BUNDLED_MODEL, {
      outDir: artifactsDir,
      hashOutputs: true,
      onProgress: (m) => log(`compile: ${m}`),
    });
    let a = await openArtifacts(artifactsDir);
    if (!a.manifest.setup || !existsSync(a.paths.zkey)) {
      log('setup: groth16 keys from the committed dev ptau (INSECURE, for demos only)');
      await setupArtifacts(artifactsDir, DEV_PTAU, (m) => log(`setup: ${m}`));
      a = await openArtifacts(artifactsDir);
    } else log('setup: reusing the keys already in the artifact directory');
    const modelId = a.manifest.setup!.modelId;

    // 2. the chain and the AVS (operators 0, 1, 2 are the miners' operator accounts)
    log('chain: starting a local Hardhat node on 127.0.0.1');
    const chain = await startHardhatNode();
    demoCleanup.push(() => chain.stop());
    const avs = await setUpLocalAvs(chain.url, [a], 3, { ...DEFAULT_AVS_PARAMS, quorumBps: 5000 });
    log(`chain: AVS deployed at ${chain.url} (task manager ${avs.deployment.taskManager})`);

    // 3. the subnet and its miners
    const subtensor = LocalSubtensor.open(join(dir, 'subtensor.json'), { tempo: 5 });
    const validatorKey = await hotkeyFromUri('//DemoValidator');
    subtensor.register(validatorKey.ss58, 1000);
    const miners: MinerProcess[] = [];
    for (const m of CAST) {
      const p = await startMinerProcess({
        hotkey: { uri: m.uri },
        models: [artifactsDir],
        workers: 1,
        maxQueue: 4,
        demoBehavior: m.behavior,
        demoDelayMs: 900,
        allowedHotkeys: [validatorKey.ss58],
        shutdownGraceSeconds: 2,
      });
      demoCleanup.push(async () => {
        await p.stop();
      });
      miners.push(p);
      subtensor.register(p.hotkey);
      await subtensor.serveAxon(p.hotkey, p.url);
      log(`miner ${m.name} (${m.behavior}) listening at ${p.url}`);
    }
    subtensor.advance(5); // first epoch: the validator's permit

    // 4. validator rounds; weights → Yuma Consensus every round
    const validator = await Validator.open(
      parseValidatorConfig({
        hotkey: { uri: '//DemoValidator' },
        db: join(dir, 'validator.db'),
        models: [artifactsDir],
        miners: miners.map((p) => ({ hotkey: p.hotkey, url: p.url })),
        timeoutMs: 20_000,
        proofDir: join(dir, 'proofs'),
      }),
    );
    demoCleanup.push(async () => validator.close());
    const scoresByRound: number[][] = [];
    let verified = 0;
    let rejected = 0;
    for (let r = 0; r < opts.rounds; r++) {
      const result = await validator.runRound();
      await validator.setWeights(subtensor);
      subtensor.advance(5);
      const parts = CAST.map((m, i) => {
        const o = result.outcomes.find((x) => x.hotkey === miners[i]!.hotkey)?.outcome;
        if (o?.kind === 'verified') verified++;
        else if (o) rejected++; // a miner cooling down was not queried
        return `${m.name} ${o ? (o.kind === 'verified' ? `verified ${o.latencyMs}ms` : `${o.kind}: ${o.reason}`) : 'cooling down'} (score ${(result.scores.get(miners[i]!.hotkey)?.score ?? 0).toFixed(3)})`;
      });
      scoresByRound.push(miners.map((p) => result.scores.get(p.hotkey)?.score ?? 0));
      opts.onRound?.(
        result.round,
        CAST.map((m, i) => {
          const o = result.outcomes.find((x) => x.hotkey === miners[i]!.hotkey)?.outcome;
          return {
            miner: m.name,
            behavior: m.behavior,
            outcome: o
              ? o.kind === 'verified'
                ? `verified in ${o.latencyMs} ms`
                : `${o.kind}: ${o.reason}`
              : 'cooling down',
            score: result.scores.get(miners[i]!.hotkey)?.score ?? 0,
          };
        }),
      );
      log(`round ${result.round}: ${parts.join(' | ')}`);
    }

    // 4b. the gateway: a protocol's organic requests, verified by the validator and again by the client;
    // the last one settled on the AVS by the proven path
    await mkdir(join(dir, 'queues'), { recursive: true });
    const gatewayConfig = parseGatewayConfig({
      validator: {},
      db: join(dir, 'gateway.db'),
      port: 0,
      syntheticRounds: false,
      auth: { open: true },
    });
    const gatewayStore = new GatewayStore(gatewayConfig.db);
    const settler = new GatewaySettler(avs.operators[0]!, join(dir, 'queues', 'gateway.db'), 10n ** 15n, 200);
    const gateway = new Gateway(gatewayConfig, validator, gatewayStore, () => {}, settler);
    const gatewayUrl = await gateway.start();
    demoCleanup.push(async () => {
      await gateway.stop();
      gatewayStore.close();
    });
    log(`gateway: listening at ${gatewayUrl} (the page verifies proofs in your browser while the demo runs)`);
    const client = new GatewayClient(gatewayUrl);
    const gatewayRequests: GatewaySummary['requests'][number][] = [];
    for (let k = 0; k < 3; k++) {
      const x = Array.from({ length: a.manifest.input.size }, (_, j) => ((j * 5 + k * 11) % 13) / 12);
      const result = await client.infer(modelId, x, { settle: k === 2 });
      const check = await client.verifyLocally(result, modelId);
      const miner = CAST[miners.findIndex((p) => p.hotkey === result.miner)]?.name ?? result.miner;
      gatewayRequests.push({
        id: result.id,
        class: result.class,
        miner,
        totalMs: result.totalMs,
        verifiedLocally: check.ok,
        settledTx: result.settlement?.txHash ?? null,
      });
      log(
        `gateway: request ${k + 1}: class ${result.class} proven by ${miner} in ${result.totalMs} ms, ${check.ok ? 'verified locally' : `NOT verified: ${check.reason}`}${result.settlement ? `, settled on the AVS as task ${result.settlement.taskId} (${result.settlement.status})` : ''}`,
      );
    }

    // 5. AVS settlement: honest operators settle proven tasks; the cheater attests a false result and is challenged
    const gas: Record<string, number> = {};
    const settlements: SettlementRecord[] = [];
    const stakeOf = async (c: AvsClient) => avs.owner.sharesOf(await c.address());
    const stakeBefore = await Promise.all(avs.operators.map(stakeOf));
    const inputs = Array.from({ length: 4 }, (_, k) =>
      Array.from({ length: a.manifest.input.size }, (_, j) => ((j * 7 + k * 3) % 17) / 16),
    );
    // the consumer publishes each task's input beside the chain, where watchers look for it
    const inputsDir = join(dir, 'inputs');
    const newTask = async (x: number[]) => {
      const commitment = await inputHashOf(x, a.manifest.input);
      await publishInput(inputsDir, commitment, x);
      return avs.owner.createTask(
        modelId,
        commitment,
        BigInt((await avs.provider.getBlockNumber()) + 200),
        10n ** 15n,
      );
    };
    for (const [k, op] of avs.operators.slice(0, 2).entries()) {
      const tasks = [await newTask(inputs[2 * k]!), await newTask(inputs[2 * k + 1]!)];
      const bindings = await Promise.all(tasks.map((t) => op.bindingOf(t.taskId)));
      const proofs = await proveMany(
        a,
        tasks.map((_, i) => ({ input: inputs[2 * k + i]!, binding: bindings[i]! })),
        1,
      );
      const queue = new SettlementQueue(join(dir, 'queues', `operator${k}.db`), op);
      tasks.forEach((t, i) =>
        queue.enqueue({
          taskId: t.taskId,
          task: t.task,
          proof: proofs[i]!.proof,
          publicSignals: proofs[i]!.publicSignals,
        }),
      );
      await queue.drain(120_000);
      for (const row of queue.rows()) {
        const i = tasks.findIndex((t) => t.taskId === row.taskId);
        const receipt = row.txHash ? await avs.provider.getTransactionReceipt(row.txHash) : null;
        if (receipt) gas['submitProven (proven settlement)'] = Number(receipt.gasUsed);
        settlements.push({
          taskId: row.taskId,
          operator: await op.address(),
          inputCommitment: tasks[i]!.task.inputCommitment.toString(),
          txHash: row.txHash ?? '',
          proof: proofs[i]!.proof,
          publicSignals: proofs[i]!.publicSignals,
        });
      }
      queue.close();
    }
    const lieTask = await newTask(inputs[0]!);
    const cheaterOp = avs.operators[2]!;
    const lieBatch = {
      taskIds: [lieTask.taskId],
      tasks: [lieTask.task],
      resultHashes: [`0x${'ba'.repeat(32)}`],
    };
    const cheaterSig = [
      {
        signer: await cheaterOp.address(),
        signature: await cheaterOp.signAttestation(lieBatch),
      },
    ];
    const attested = await cheaterOp.attest(lieBatch, cheaterSig);
    gas['attest (false result, 1 signer)'] = Number(attested.receipt.gasUsed);
    // the automatic challenger (zkinfer watch) finds the false attestation and overturns it;
    // every demo run starts a new chain, so the watcher starts with new state
    await rm(join(dir, 'watcher.db'), { force: true });
    const watcher = await Watcher.open({
      client: avs.operators[0]!,
      models: [a.dir],
      inputs: inputsDir,
      db: join(dir, 'watcher.db'),
      log: (line) => log(`watcher: ${line}`),
    });
    let challenged: WatchDecision | undefined;
    try {
      challenged = (await watcher.tick()).find((d) => d.kind === 'challenged');
    } finally {
      watcher.close();
    }
    if (challenged?.kind !== 'challenged') {
      throw new ZkinferError('CHAIN_ERROR', 'the watcher did not challenge the false attestation');
    }
    const challengeReceipt = await avs.provider.getTransactionReceipt(challenged.txHash);
    gas['challenge (slashes the signer)'] = Number(challengeReceipt!.gasUsed);
    log(
      `avs: ${settlements.length} tasks settled by proof; the cheater's false attestation was overturned and slashed`,
    );
    const stakeAfter = await Promise.all(avs.operators.map(stakeOf));

    // 6. summary, report, audit trail
    const mg = await subtensor.metagraph();
    const scores = validator.store.scores();
    const total = [...scores.values()].reduce((s, x) => s + x.score, 0);
    const minerRows: MinerSummary[] = CAST.map((m, i) => {
      const hk = miners[i]!.hotkey;
      const s = scores.get(hk);
      const n = mg.neurons.find((x) => x.hotkey === hk);
      return {
        name: m.name,
        behavior: m.behavior,
        hotkey: hk,
        verified: s?.verified ?? 0,
        invalid: s?.invalid ?? 0,
        transport: s?.transport ?? 0,
        score: s?.score ?? 0,
        weight: total > 0 ? (s?.score ?? 0) / total : 0,
        incentive: n?.incentive ?? 0,
        emission: n?.totalEmission ?? 0,
        stakeBefore: (stakeBefore[i]! / 10n ** 18n).toString(),
        stakeAfter: (Number(stakeAfter[i]! / 10n ** 15n) / 1000).toString(),
        slashed: stakeAfter[i]! < stakeBefore[i]!,
      };
    });
    const network = await avs.provider.getNetwork();
    const run: RunRecord = {
      format: 'zkinfer/run@1',
      artifacts: relative(dir, artifactsDir),
      validatorDb: 'validator.db',
      proofDir: 'proofs',
      settlements: 'settlements.json',
      chainId: network.chainId.toString(),
      taskManager: avs.deployment.taskManager,
    };
    await writeFile(join(dir, 'demo.json'), `${JSON.stringify(run, null, 2)}\n`);
    await writeFile(join(dir, 'settlements.json'), `${JSON.stringify(settlements, null, 1)}\n`);
    const summary: DemoSummary = {
      seconds: (performance.now() - started) / 1000,
      rounds: opts.rounds,
      model: {
        name: a.manifest.name,
        constraints: a.manifest.circuit.constraints,
        modelId,
        insecureSetup: !!a.manifest.setup?.insecure,
        cached: compiled.cached,
      },
      proofsVerified: verified,
      proofsRejected: rejected,
      miners: minerRows,
      scoresByRound,
      settlements: { proven: settlements.length, overturned: 1, gas },
      gateway: { url: gatewayUrl, requests: gatewayRequests },
      paths: {
        artifacts: artifactsDir,
        'validator database': join(dir, 'validator.db'),
        'verified proofs': join(dir, 'proofs'),
        'subtensor state': join(dir, 'subtensor.json'),
        'settlement queues': join(dir, 'queues'),
        'gateway database': join(dir, 'gateway.db'),
        report: join(dir, 'demo-report.md'),
      },
    };
    await writeFile(join(dir, 'demo-report.md'), renderMarkdown(summary));
    await writeFile(join(dir, 'demo-report.json'), `${JSON.stringify(summary, null, 2)}\n`);
    await writeFile(
      join(dir, 'demo-scores.svg'),
      renderScoresSvg(
        CAST.map((m) => m.name),
        scoresByRound,
      ),
    );
    return summary;
  } finally {
    await runCleanup();
  }
}
