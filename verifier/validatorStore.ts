import Database from 'better-sqlite3';
import { ZkinferError } from '../protocol/errors.ts';
import type { MinerScore, Outcome } from './core/scoring.ts';

export interface RequestRecord {
  readonly round: number;
  readonly hotkey: string;
  readonly modelId: string;
  readonly nonce: string;
  readonly inputHash: string;
  readonly outcome: Outcome['kind'];
  readonly reason: string;
  readonly latencyMs: number;
  readonly latencyScore: number;
  readonly scoreAfter: number;
}

/**
 * The validator's persistent state in one SQLite file (WAL): scores, the replay guard (every nonce
 * and input hash ever sent), the request log and the weights of each round. A round is committed
 * in one transaction, so a crash leaves either the whole round or none of it, while challenges
 * are reserved before they are sent, so even an uncommitted round never reuses a nonce.
 */
export class ValidatorStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    try {
      this.db = new Database(path);
    } catch (cause) {
      throw new ZkinferError(
        'IO',
        `cannot open the validator database ${path}: ${(cause as Error).message}`,
        { cause },
      );
    }
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS scores (
        hotkey TEXT PRIMARY KEY, score REAL NOT NULL, verified INTEGER NOT NULL, invalid INTEGER NOT NULL,
        transport INTEGER NOT NULL, consecutive_transport INTEGER NOT NULL, cooldown_until INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS used_nonces (nonce TEXT PRIMARY KEY, round INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS used_inputs (input_hash TEXT PRIMARY KEY, round INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT, round INTEGER NOT NULL, hotkey TEXT NOT NULL, model_id TEXT NOT NULL,
        nonce TEXT NOT NULL, input_hash TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL,
        latency_ms REAL NOT NULL, latency_score REAL NOT NULL, score_after REAL NOT NULL, ts TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS weights (round INTEGER NOT NULL, hotkey TEXT NOT NULL, weight REAL NOT NULL, PRIMARY KEY (round, hotkey));
    `);
  }

  lastRound(): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'round'").get() as
      | { value: string }
      | undefined;
    return row ? Number(row.value) : 0;
  }

  scores(): Map<string, MinerScore> {
    const rows = this.db.prepare('SELECT * FROM scores ORDER BY hotkey').all() as {
      hotkey: string;
      score: number;
      verified: number;
      invalid: number;
      transport: number;
      consecutive_transport: number;
      cooldown_until: number;
    }[];
    return new Map(
      rows.map((r) => [
        r.hotkey,
        {
          hotkey: r.hotkey,
          score: r.score,
          verified: r.verified,
          invalid: r.invalid,
          transport: r.transport,
          consecutiveTransport: r.consecutive_transport,
          cooldownUntil: r.cooldown_until,
        },
      ]),
    );
  }

  /**
   * Reserves a challenge before it is sent; false when the nonce was ever used, or the input was
   * and may not repeat. An organic request's input may repeat (it is the caller's): it is recorded
   * all the same, so the validator's own challenges never send it.
   */
  reserveChallenge(round: number, nonce: string, inputHash: string, inputMayRepeat = false): boolean {
    const tx = this.db.transaction(() => {
      const n = this.db
        .prepare('INSERT OR IGNORE INTO used_nonces (nonce, round) VALUES (?, ?)')
        .run(nonce, round);
      if (n.changes === 0) return false;
      const i = this.db
        .prepare('INSERT OR IGNORE INTO used_inputs (input_hash, round) VALUES (?, ?)')
        .run(inputHash, round);
      if (i.changes === 0 && !inputMayRepeat) throw new RollbackSignal(); // undo the nonce too
      return true;
    });
    try {
      return tx.exclusive();
    } catch (e) {
      if (e instanceof RollbackSignal) return false;
      throw e;
    }
  }

  nonceCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS c FROM used_nonces').get() as { c: number }).c;
  }

  allNonces(): string[] {
    return (this.db.prepare('SELECT nonce FROM used_nonces').all() as { nonce: string }[]).map(
      (r) => r.nonce,
    );
  }

  /** Commits one round: its request log, the new scores and the weights, atomically. */
  commitRound(
    round: number,
    requests: readonly RequestRecord[],
    scores: readonly MinerScore[],
    weights: ReadonlyMap<string, number>,
  ): void {
    const ts = new Date().toISOString();
    this.db.transaction(() => {
      const ins = this.db.prepare(
        'INSERT INTO requests (round, hotkey, model_id, nonce, input_hash, outcome, reason, latency_ms, latency_score, score_after, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const r of requests)
        ins.run(
          r.round,
          r.hotkey,
          r.modelId,
          r.nonce,
          r.inputHash,
          r.outcome,
          r.reason,
          r.latencyMs,
          r.latencyScore,
          r.scoreAfter,
          ts,
        );
      const up = this.db.prepare(
        `INSERT INTO scores (hotkey, score, verified, invalid, transport, consecutive_transport, cooldown_until) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(hotkey) DO UPDATE SET score = excluded.score, verified = excluded.verified, invalid = excluded.invalid,
           transport = excluded.transport, consecutive_transport = excluded.consecutive_transport, cooldown_until = excluded.cooldown_until`,
      );
      for (const s of scores)
        up.run(
          s.hotkey,
          s.score,
          s.verified,
          s.invalid,
          s.transport,
          s.consecutiveTransport,
          s.cooldownUntil,
        );
      const w = this.db.prepare('INSERT OR REPLACE INTO weights (round, hotkey, weight) VALUES (?, ?, ?)');
      for (const [h, v] of weights) w.run(round, h, v);
      this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('round', ?)").run(String(round));
    })();
  }

  requests(): RequestRecord[] {
    return (
      this.db.prepare('SELECT * FROM requests ORDER BY round, id').all() as {
        round: number;
        hotkey: string;
        model_id: string;
        nonce: string;
        input_hash: string;
        outcome: Outcome['kind'];
        reason: string;
        latency_ms: number;
        latency_score: number;
        score_after: number;
      }[]
    ).map((r) => ({
      round: r.round,
      hotkey: r.hotkey,
      modelId: r.model_id,
      nonce: r.nonce,
      inputHash: r.input_hash,
      outcome: r.outcome,
      reason: r.reason,
      latencyMs: r.latency_ms,
      latencyScore: r.latency_score,
      scoreAfter: r.score_after,
    }));
  }

  weightsOf(round: number): Map<string, number> {
    const rows = this.db
      .prepare('SELECT hotkey, weight FROM weights WHERE round = ? ORDER BY hotkey')
      .all(round) as { hotkey: string; weight: number }[];
    return new Map(rows.map((r) => [r.hotkey, r.weight]));
  }

  close(): void {
    this.db.close();
  }
}

/** Thrown inside a transaction to roll it back (an input hash collision: try another challenge). */
class RollbackSignal extends Error {}
