import { createHash, randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { ZkinferError } from '../../protocol/errors.ts';

export type ResultStatus = 'pending' | 'verified' | 'failed';

export interface StoredResult {
  readonly id: string;
  readonly modelId: string;
  readonly status: ResultStatus;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  /** The answer (status verified) or the error (status failed), as the API returned it. */
  readonly body: unknown;
}

export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly quotaPerMinute: number;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** sha256 of an API key: only this is stored, so a copy of the database does not leak keys. */
export function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/**
 * The gateway's SQLite file (WAL): every request's result, so clients can fetch it later and
 * auditors re-check it; the API keys, hashed, with their quotas; and per-minute usage counters
 * (kept in the file, so a restart does not reset a quota).
 */
export class GatewayStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    try {
      this.db = new Database(path);
    } catch (cause) {
      throw new ZkinferError('IO', `cannot open the gateway database ${path}: ${(cause as Error).message}`, {
        cause,
      });
    }
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS results (
        id TEXT PRIMARY KEY, model_id TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
        finished_at TEXT, body TEXT NOT NULL, caller TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS results_created ON results (created_at);
      CREATE TABLE IF NOT EXISTS api_keys (
        id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, name TEXT NOT NULL, quota_per_minute INTEGER NOT NULL,
        created_at TEXT NOT NULL, revoked_at TEXT);
      CREATE TABLE IF NOT EXISTS usage (caller TEXT NOT NULL, minute INTEGER NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (caller, minute));
    `);
  }

  createResult(id: string, modelId: string, caller: string): void {
    this.db
      .prepare(
        "INSERT INTO results (id, model_id, status, created_at, finished_at, body, caller) VALUES (?, ?, 'pending', ?, NULL, 'null', ?)",
      )
      .run(id, modelId, new Date().toISOString(), caller);
  }

  finishResult(id: string, status: Exclude<ResultStatus, 'pending'>, body: unknown): void {
    this.db
      .prepare('UPDATE results SET status = ?, finished_at = ?, body = ? WHERE id = ?')
      .run(status, new Date().toISOString(), JSON.stringify(body), id);
  }

  /** Fails every result still pending (its process stopped before answering); returns how many. */
  failPending(body: unknown): number {
    return this.db
      .prepare("UPDATE results SET status = 'failed', finished_at = ?, body = ? WHERE status = 'pending'")
      .run(new Date().toISOString(), JSON.stringify(body)).changes;
  }

  result(id: string): StoredResult | undefined {
    const r = this.db.prepare('SELECT * FROM results WHERE id = ?').get(id) as Row | undefined;
    return r && rowToResult(r);
  }

  recentResults(limit: number): StoredResult[] {
    return (
      this.db.prepare('SELECT * FROM results ORDER BY created_at DESC, id LIMIT ?').all(limit) as Row[]
    ).map(rowToResult);
  }

  /** Creates a key and returns it: the only time the key itself is seen. */
  createKey(name: string, quotaPerMinute: number): { key: string; record: ApiKey } {
    const key = `zk_${randomBytes(24).toString('base64url')}`;
    const hash = keyHash(key);
    const id = hash.slice(0, 12);
    const createdAt = new Date().toISOString();
    this.db
      .prepare('INSERT INTO api_keys (id, hash, name, quota_per_minute, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, hash, name, quotaPerMinute, createdAt);
    return { key, record: { id, name, quotaPerMinute, createdAt, revokedAt: null } };
  }

  keyByHash(hash: string): ApiKey | undefined {
    const r = this.db.prepare('SELECT * FROM api_keys WHERE hash = ?').get(hash) as KeyRow | undefined;
    return r && rowToKey(r);
  }

  keys(): ApiKey[] {
    return (this.db.prepare('SELECT * FROM api_keys ORDER BY created_at, id').all() as KeyRow[]).map(
      rowToKey,
    );
  }

  /** Revokes a key by id; false when there is no such key or it was already revoked. */
  revokeKey(id: string): boolean {
    return (
      this.db
        .prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL')
        .run(new Date().toISOString(), id).changes === 1
    );
  }

  /**
   * Counts one request of `caller` in the current minute when it is under `quota`; returns the
   * seconds until the next minute when it is not (the request is then not counted).
   */
  takeQuota(
    caller: string,
    quota: number,
    nowMs = Date.now(),
  ): { ok: true } | { ok: false; retryAfter: number } {
    const minute = Math.floor(nowMs / 60_000);
    return this.db
      .transaction(() => {
        const row = this.db
          .prepare('SELECT count FROM usage WHERE caller = ? AND minute = ?')
          .get(caller, minute) as { count: number } | undefined;
        if ((row?.count ?? 0) >= quota)
          return {
            ok: false as const,
            retryAfter: Math.max(1, Math.ceil(((minute + 1) * 60_000 - nowMs) / 1000)),
          };
        this.db
          .prepare(
            'INSERT INTO usage (caller, minute, count) VALUES (?, ?, 1) ON CONFLICT(caller, minute) DO UPDATE SET count = count + 1',
          )
          .run(caller, minute);
        this.db.prepare('DELETE FROM usage WHERE minute < ?').run(minute - 60);
        return { ok: true as const };
      })
      .immediate();
  }

  close(): void {
    this.db.close();
  }
}

interface Row {
  id: string;
  model_id: string;
  status: ResultStatus;
  created_at: string;
  finished_at: string | null;
  body: string;
}
function rowToResult(r: Row): StoredResult {
  return {
    id: r.id,
    modelId: r.model_id,
    status: r.status,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    body: JSON.parse(r.body) as unknown,
  };
}

interface KeyRow {
  id: string;
  name: string;
  quota_per_minute: number;
  created_at: string;
  revoked_at: string | null;
}
function rowToKey(r: KeyRow): ApiKey {
  return {
    id: r.id,
    name: r.name,
    quotaPerMinute: r.quota_per_minute,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  };
}
