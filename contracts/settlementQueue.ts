import Database from 'better-sqlite3';
import type { Groth16Proof } from 'snarkjs';
import { ZkinferError } from '../protocol/errors.ts';
import { type AvsClient, AvsError, type AvsTask } from './avsClient.ts';
import { TASK_STATUS } from './settlementMath.ts';

/** A Groth16 proof and the public signals it proves. */
export interface ProofWithSignals {
  readonly proof: Groth16Proof;
  readonly publicSignals: readonly string[];
}

/** A proven result to settle: one proof, or a sliced model's slice proofs in order. */
export type ProvenSettlement = {
  readonly taskId: number;
  readonly task: AvsTask;
} & (ProofWithSignals | { readonly slices: readonly ProofWithSignals[] });

export type SettlementStatus = 'pending' | 'settled' | 'failed';

export interface SettlementRow {
  readonly id: number;
  readonly taskId: number;
  readonly status: SettlementStatus;
  readonly txHash: string | null;
  readonly attempts: number;
  readonly lastError: string | null;
}

/**
 * A persistent queue of proven results to settle. Nothing is lost: an entry leaves `pending` only
 * when the chain shows the task settled by this operator (or settled/closed otherwise, which is
 * recorded as failed with the reason). Nothing is doubled: before every submission the task's
 * on-chain status is read, so a transaction whose receipt was lost (RPC outage, restart) is found,
 * not resent; the contract's TaskNotOpen guards the rest.
 */
export class SettlementQueue {
  private readonly db: Database.Database;

  constructor(
    path: string,
    private readonly client: AvsClient,
  ) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS settlements (
      id INTEGER PRIMARY KEY AUTOINCREMENT, task_id INTEGER NOT NULL UNIQUE, payload TEXT NOT NULL,
      status TEXT NOT NULL, tx_hash TEXT, attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT,
      created_at TEXT NOT NULL, settled_at TEXT)`);
  }

  /** Queues a settlement (idempotent per task). */
  enqueue(s: ProvenSettlement): void {
    const payload = JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? { $big: v.toString() } : v));
    this.db
      .prepare(
        "INSERT OR IGNORE INTO settlements (task_id, payload, status, created_at) VALUES (?, ?, 'pending', ?)",
      )
      .run(s.taskId, payload, new Date().toISOString());
  }

  rows(): SettlementRow[] {
    return (
      this.db
        .prepare('SELECT id, task_id, status, tx_hash, attempts, last_error FROM settlements ORDER BY id')
        .all() as {
        id: number;
        task_id: number;
        status: SettlementStatus;
        tx_hash: string | null;
        attempts: number;
        last_error: string | null;
      }[]
    ).map((r) => ({
      id: r.id,
      taskId: r.task_id,
      status: r.status,
      txHash: r.tx_hash,
      attempts: r.attempts,
      lastError: r.last_error,
    }));
  }

  pendingCount(): number {
    return (
      this.db.prepare("SELECT COUNT(*) AS c FROM settlements WHERE status = 'pending'").get() as { c: number }
    ).c;
  }

  /** One pass over the pending entries; returns how many are still pending. `limit` caps the entries touched. */
  async drainOnce(limit = Number.POSITIVE_INFINITY): Promise<number> {
    const pending = this.db
      .prepare("SELECT id, task_id, payload FROM settlements WHERE status = 'pending' ORDER BY id")
      .all() as {
      id: number;
      task_id: number;
      payload: string;
    }[];
    let touched = 0;
    for (const row of pending) {
      if (touched++ >= limit) break;
      const s = JSON.parse(row.payload, (_k, v) =>
        v && typeof v === 'object' && '$big' in v ? BigInt(v.$big) : v,
      ) as ProvenSettlement;
      try {
        await this.settle(row.id, s);
      } catch (e) {
        // transport trouble (timeouts, a stalled or restarting node): stay pending, try again later
        this.db
          .prepare('UPDATE settlements SET attempts = attempts + 1, last_error = ? WHERE id = ?')
          .run(errorText(e), row.id);
      }
    }
    return this.pendingCount();
  }

  /** Drains until nothing is pending, retrying with back-off; throws when `timeoutMs` passes first. */
  async drain(timeoutMs = 120_000, retryMs = 250): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.drainOnce()) > 0) {
      if (Date.now() > deadline)
        throw new ZkinferError(
          'IO',
          `settlement queue still has ${this.pendingCount()} pending after ${timeoutMs} ms`,
        );
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }

  private async settle(id: number, s: ProvenSettlement): Promise<void> {
    const status = await this.client.status(s.taskId);
    if (TASK_STATUS[status] === 'Proven') {
      const mine = await this.findMyProof(s.taskId);
      if (mine) this.mark(id, 'settled', mine, null);
      else this.mark(id, 'failed', null, 'settled by another operator');
      return;
    }
    if (TASK_STATUS[status] !== 'Open') {
      this.mark(id, 'failed', null, `task is ${TASK_STATUS[status] ?? status}`);
      return;
    }
    try {
      const receipt =
        'slices' in s
          ? await this.client.submitProvenSliced(s.taskId, s.task, s.slices)
          : await this.client.submitProven(s.taskId, s.task, s.proof, s.publicSignals);
      this.mark(id, 'settled', receipt.hash, null);
    } catch (e) {
      if (e instanceof AvsError && e.errorName !== 'TaskNotOpen') {
        this.mark(id, 'failed', null, e.shortMessage); // the contract refuses it for good
        return;
      }
      throw e; // transport, or TaskNotOpen: the next pass reads the status again
    }
  }

  /** The transaction that settled the task by this operator (either kind of proof), if any. */
  private async findMyProof(taskId: number): Promise<string | null> {
    const me = await this.client.address();
    for (const event of ['TaskProven', 'SlicedTaskProven']) {
      const filter = this.client.tasks.filters[event]!(taskId, me);
      const logs = await this.client.tasks.queryFilter(filter, 0);
      if (logs[0]) return logs[0].transactionHash;
    }
    return null;
  }

  private mark(id: number, status: SettlementStatus, txHash: string | null, error: string | null): void {
    this.db
      .prepare(
        'UPDATE settlements SET status = ?, tx_hash = ?, last_error = ?, attempts = attempts + 1, settled_at = ? WHERE id = ?',
      )
      .run(status, txHash, error, new Date().toISOString(), id);
  }

  close(): void {
    this.db.close();
  }
}

function errorText(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.slice(0, 300);
}
