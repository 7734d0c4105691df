import type { FileHandle } from 'node:fs/promises';
import { type FixedBase, generatorTimes } from '../../prover/engine/generatorTimes.ts';
import type { CurveHeap } from '../../prover/engine/wasmCurve.ts';
import { pack } from './tauScalars.ts';

/** Scalars converted per batch (bounds the BigInt arrays kept at once). */
export const BATCH = 1 << 14;

/** Sequential writes to an iden3 binary file (ptau, zkey) at an explicit position. */
export class Writer {
  private pos = 0;
  constructor(private readonly fh: FileHandle) {}
  async bytes(b: Uint8Array): Promise<void> {
    let off = 0;
    while (off < b.length) {
      const { bytesWritten } = await this.fh.write(b, off, b.length - off, this.pos);
      off += bytesWritten;
      this.pos += bytesWritten;
    }
  }
  async u32(v: number): Promise<void> {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    await this.bytes(b);
  }
  async u64(v: number): Promise<void> {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    await this.bytes(b);
  }
}

/** Writes s·P for the scalars that `scalarsOf(from, to)` yields, in batches. */
export async function writePoints(
  w: Writer,
  heap: CurveHeap,
  table: FixedBase,
  count: number,
  scalarsOf: (from: number, to: number) => bigint[],
): Promise<void> {
  for (let from = 0; from < count; from += BATCH) {
    const to = Math.min(count, from + BATCH);
    const chunks: Uint8Array[] = [];
    generatorTimes(heap, table, pack(scalarsOf(from, to)), to - from, (p) => chunks.push(p));
    for (const c of chunks) await w.bytes(c);
  }
}
