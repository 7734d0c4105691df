import Database from 'better-sqlite3';
import type { Contract, JsonRpcProvider, Log } from 'ethers';

export interface IndexedEvent {
  readonly block: number;
  readonly txHash: string;
  readonly logIndex: number;
  readonly contract: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
}

/**
 * Indexes the AVS contracts' events by block range (no live subscriptions), a page at a time, and
 * remembers the last block it indexed, so a restart resumes where it stopped. Each log is stored
 * once (unique by transaction and log index), even when a page is read twice.
 */
export class EventIndexer {
  private readonly db: Database.Database;

  constructor(
    path: string,
    private readonly provider: JsonRpcProvider,
    private readonly contracts: Readonly<Record<string, Contract>>,
    private readonly pageSize = 500,
  ) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS indexer_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS events (block INTEGER NOT NULL, tx_hash TEXT NOT NULL, log_index INTEGER NOT NULL,
        contract TEXT NOT NULL, name TEXT NOT NULL, args TEXT NOT NULL, PRIMARY KEY (tx_hash, log_index));`);
  }

  lastBlock(): number {
    const row = this.db.prepare("SELECT value FROM indexer_state WHERE key = 'last_block'").get() as
      | { value: number }
      | undefined;
    return row ? row.value : -1;
  }

  /** Indexes up to the current head (or `toBlock`); returns the number of new events. */
  async sync(toBlock?: number): Promise<number> {
    const head = toBlock ?? (await this.provider.getBlockNumber());
    const addresses = await Promise.all(
      Object.entries(this.contracts).map(
        async ([name, c]) => [(await c.getAddress()).toLowerCase(), name, c] as const,
      ),
    );
    let added = 0;
    for (let from = this.lastBlock() + 1; from <= head; from += this.pageSize) {
      const to = Math.min(head, from + this.pageSize - 1);
      const logs: Log[] = await this.provider.getLogs({
        address: addresses.map(([a]) => a),
        fromBlock: from,
        toBlock: to,
      });
      const insert = this.db.prepare(
        'INSERT OR IGNORE INTO events (block, tx_hash, log_index, contract, name, args) VALUES (?, ?, ?, ?, ?, ?)',
      );
      this.db.transaction(() => {
        for (const log of logs) {
          const entry = addresses.find(([a]) => a === log.address.toLowerCase());
          if (!entry) continue;
          const parsed = entry[2].interface.parseLog(log);
          if (!parsed) continue;
          const args = Object.fromEntries(
            parsed.fragment.inputs.map((input, i) => [input.name || `arg${i}`, parsed.args[i]]),
          );
          added += insert.run(
            log.blockNumber,
            log.transactionHash,
            log.index,
            entry[1],
            parsed.name,
            JSON.stringify(args, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
          ).changes;
        }
        this.db.prepare("INSERT OR REPLACE INTO indexer_state (key, value) VALUES ('last_block', ?)").run(to);
      })();
    }
    return added;
  }

  events(name?: string): IndexedEvent[] {
    const rows = (
      name
        ? this.db.prepare('SELECT * FROM events WHERE name = ? ORDER BY block, log_index').all(name)
        : this.db.prepare('SELECT * FROM events ORDER BY block, log_index').all()
    ) as {
      block: number;
      tx_hash: string;
      log_index: number;
      contract: string;
      name: string;
      args: string;
    }[];
    return rows.map((r) => ({
      block: r.block,
      txHash: r.tx_hash,
      logIndex: r.log_index,
      contract: r.contract,
      name: r.name,
      args: JSON.parse(r.args) as Record<string, unknown>,
    }));
  }

  close(): void {
    this.db.close();
  }
}
