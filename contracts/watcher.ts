import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type Artifacts, loadQuantGraph, openArtifacts } from '../circuits/artifacts.ts';
import { infer } from '../circuits/core/inference.ts';
import type { QuantGraph } from '../circuits/core/quantGraph.ts';
import { InvalidInputError } from '../protocol/errors.ts';
import { expectedPublicSignals, proveOnce } from '../prover/proveOnce.ts';
import { type AttestedBatch, type AvsClient, type AvsTask, taskFromEvent } from './avsClient.ts';
import { EventIndexer } from './eventIndexer.ts';
import { resultHashOf } from './settlementMath.ts';

/**
 * The automatic challenger: follows BatchAttested events, recomputes every attested result with the
 * reference executor from the task's published input, and challenges a false one with a proof while
 * its window is open. Every task gets one logged decision; nothing is skipped silently.
 *
 * Inputs are published by consumers beside the chain (a task carries only the input's commitment):
 * `<inputs>/<commitment>.json` = {"input": [...]}, see publishInput.
 */
export interface WatcherOptions {
  readonly client: AvsClient;
  readonly models: readonly string[];
  /** Directory of published inputs, by commitment. */
  readonly inputs: string;
  /** SQLite file: indexed events and the decisions taken (a restart resumes). */
  readonly db: string;
  readonly log?: (line: string) => void;
}

export type WatchDecision =
  | { readonly kind: 'agrees'; readonly taskId: number }
  | {
      readonly kind: 'challenged';
      readonly taskId: number;
      readonly txHash: string;
      readonly slashed: string;
    }
  | { readonly kind: 'challengeFailed'; readonly taskId: number; readonly reason: string }
  | { readonly kind: 'unknownModel'; readonly taskId: number; readonly modelId: string }
  | { readonly kind: 'noInput'; readonly taskId: number; readonly commitment: string }
  | { readonly kind: 'windowClosed'; readonly taskId: number };

interface LoadedModel {
  readonly artifacts: Artifacts;
  readonly graph: QuantGraph;
}

/** Writes an input where watchers look for it (what a consumer does when it creates a task). */
export async function publishInput(dir: string, commitment: bigint, input: readonly number[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${commitment}.json`), JSON.stringify({ input }));
}

export class Watcher {
  private constructor(
    private readonly options: WatcherOptions,
    private readonly models: ReadonlyMap<string, LoadedModel>,
    private readonly indexer: EventIndexer,
    private readonly db: Database.Database,
    private readonly me: string,
  ) {}

  static async open(options: WatcherOptions): Promise<Watcher> {
    const models = new Map<string, LoadedModel>();
    for (const dir of options.models) {
      const artifacts = await openArtifacts(dir);
      const id = artifacts.manifest.setup?.modelId;
      if (!id)
        throw new InvalidInputError(
          `${dir} has no keys: a watcher proves, so run zkinfer setup first`,
          'INVALID_OPTION',
        );
      models.set(`0x${id}`.toLowerCase(), { artifacts, graph: await loadQuantGraph(artifacts) });
    }
    const { client } = options;
    const provider = client.signer.provider as ConstructorParameters<typeof EventIndexer>[1];
    const indexer = new EventIndexer(options.db, provider, { tasks: client.tasks });
    const db = new Database(options.db);
    db.exec(`CREATE TABLE IF NOT EXISTS watcher_decisions (task_id INTEGER PRIMARY KEY, batch_id INTEGER NOT NULL, decision TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS watcher_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`);
    // the state belongs to one task manager on one chain: task ids and blocks mean nothing elsewhere
    const chainId = (await client.signer.provider!.getNetwork()).chainId.toString();
    const owner = `${chainId}:${client.deployment.taskManager.toLowerCase()}`;
    const row = db.prepare("SELECT value FROM watcher_meta WHERE key = 'task_manager'").get() as
      | { value: string }
      | undefined;
    if (row && row.value !== owner) {
      db.close();
      indexer.close();
      const [chain, address] = row.value.split(':');
      throw new InvalidInputError(
        `${options.db} holds the state of task manager ${address} on chain ${chain}, not ${client.deployment.taskManager} on chain ${chainId}: give this watcher another db file`,
        'INVALID_OPTION',
      );
    }
    db.prepare("INSERT OR REPLACE INTO watcher_meta (key, value) VALUES ('task_manager', ?)").run(owner);
    return new Watcher(options, models, indexer, db, await client.address());
  }

  /** Indexes new events and decides on every attested task not decided yet. */
  async tick(): Promise<WatchDecision[]> {
    await this.indexer.sync();
    const created = new Map<number, AvsTask>();
    for (const e of this.indexer.events('TaskCreated')) {
      created.set(Number(e.args['taskId']), taskFromEvent(e.args['task']));
    }
    const decided = new Set(
      (this.db.prepare('SELECT task_id FROM watcher_decisions').all() as { task_id: number }[]).map(
        (r) => r.task_id,
      ),
    );
    const out: WatchDecision[] = [];
    for (const e of this.indexer.events('BatchAttested')) {
      const batchId = Number(e.args['batchId']);
      const taskIds = (e.args['taskIds'] as string[]).map(Number);
      const batch: AttestedBatch = {
        taskIds,
        tasks: taskIds.map((id) => created.get(id)!),
        resultHashes: e.args['resultHashes'] as string[],
        signers: e.args['signers'] as string[],
        stakes: (e.args['stakes'] as (string | bigint)[]).map(BigInt),
      };
      const windowEnd = Number(e.args['windowEnd']);
      for (let index = 0; index < taskIds.length; index++) {
        const taskId = taskIds[index]!;
        if (decided.has(taskId)) continue;
        const d = await this.decide(batchId, batch, index, windowEnd);
        this.db
          .prepare('INSERT OR REPLACE INTO watcher_decisions (task_id, batch_id, decision) VALUES (?, ?, ?)')
          .run(taskId, batchId, JSON.stringify(d));
        this.options.log?.(describe(d));
        out.push(d);
      }
    }
    return out;
  }

  private async decide(
    batchId: number,
    batch: AttestedBatch,
    index: number,
    windowEnd: number,
  ): Promise<WatchDecision> {
    const taskId = batch.taskIds[index]!;
    const task = batch.tasks[index]!;
    const model = this.models.get(task.modelId.toLowerCase());
    if (!model) return { kind: 'unknownModel', taskId, modelId: task.modelId };
    const file = join(this.options.inputs, `${task.inputCommitment}.json`);
    if (!existsSync(file)) return { kind: 'noInput', taskId, commitment: task.inputCommitment.toString() };
    const input = (JSON.parse(await readFile(file, 'utf8')) as { input: number[] }).input;
    const r = infer(model.graph, input);
    const { client } = this.options;
    const binding = await client.bindingOf(taskId, this.me);
    const expected = resultHashOf(
      await expectedPublicSignals(model.artifacts, r.quantizedInput, r.quantizedOutputs, binding),
    );
    if (expected.toLowerCase() === batch.resultHashes[index]!.toLowerCase())
      return { kind: 'agrees', taskId };
    const head = await client.signer.provider!.getBlockNumber();
    if (head + 1 > windowEnd) return { kind: 'windowClosed', taskId };
    const bundle = await proveOnce(model.artifacts, input, binding);
    try {
      const receipt = await client.challenge(batchId, batch, index, bundle.proof, bundle.publicSignals);
      const ev = client.events(receipt).find((x) => x.name === 'ChallengeSucceeded');
      return { kind: 'challenged', taskId, txHash: receipt.hash, slashed: String(ev?.args[3] ?? 0n) };
    } catch (e) {
      return { kind: 'challengeFailed', taskId, reason: (e as Error).message.split('\n')[0]! };
    }
  }

  close(): void {
    this.indexer.close();
    this.db.close();
  }
}

function describe(d: WatchDecision): string {
  switch (d.kind) {
    case 'agrees':
      return `task ${d.taskId}: the attested result is what the model computes; nothing to do`;
    case 'challenged':
      return `task ${d.taskId}: FALSE result attested; challenged with a proof (tx ${d.txHash}), ${d.slashed} slashed`;
    case 'challengeFailed':
      return `task ${d.taskId}: false result attested, but the challenge failed: ${d.reason}`;
    case 'unknownModel':
      return `task ${d.taskId}: model ${d.modelId} is not among this watcher's models; not checked`;
    case 'noInput':
      return `task ${d.taskId}: no published input for commitment ${d.commitment}; not checked`;
    case 'windowClosed':
      return `task ${d.taskId}: false result attested, but its challenge window has closed`;
  }
}
