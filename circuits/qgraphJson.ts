import { ArtifactError } from '../protocol/errors.ts';
import type { FnTable } from './core/fnApprox.ts';
import type { QNode, QuantGraph } from './core/quantGraph.ts';

/** Serialises a quantized graph: bigints as decimal strings, index arrays as plain arrays. */
export function quantGraphToJson(g: QuantGraph): string {
  return JSON.stringify(g, (_key, value) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Int32Array) return Array.from(value);
    return value;
  });
}

/** Inverse of {@link quantGraphToJson}; throws ARTIFACT_INVALID on anything malformed. */
export function quantGraphFromJson(text: string, label = 'qgraph.json'): QuantGraph {
  try {
    const raw = JSON.parse(text) as {
      tensors: { id: number; name: string; scale: number; lo: string[]; hi: string[] }[];
      nodes: Record<string, unknown>[];
      input: QuantGraph['input'];
      outputs: QuantGraph['outputs'];
    };
    const big = (a: string[]) => a.map((v) => BigInt(v));
    const ints = (a: unknown) => Int32Array.from(a as number[]);
    return {
      tensors: raw.tensors.map((t) => ({ ...t, lo: big(t.lo), hi: big(t.hi) })),
      nodes: raw.nodes.map((n): QNode => {
        switch (n['kind']) {
          case 'linear':
            return {
              ...(n as unknown as QNode & { kind: 'linear' }),
              rowPtr: ints(n['rowPtr']),
              src: ints(n['src']),
              idx: ints(n['idx']),
              w: big(n['w'] as string[]),
              bias: big(n['bias'] as string[]),
            };
          case 'maxpool':
            return {
              ...(n as unknown as QNode & { kind: 'maxpool' }),
              windows: (n['windows'] as number[][]).map(ints),
            };
          case 'argmax':
            return {
              ...(n as unknown as QNode & { kind: 'argmax' }),
              groups: (n['groups'] as number[][]).map(ints),
            };
          case 'rescale':
            return n as unknown as QNode;
          case 'mul':
            return { ...(n as unknown as QNode & { kind: 'mul' }), ia: ints(n['ia']), ib: ints(n['ib']) };
          case 'div':
            return {
              ...(n as unknown as QNode & { kind: 'div' }),
              inum: ints(n['inum']),
              iden: ints(n['iden']),
            };
          case 'rsqrt':
            return { ...(n as unknown as QNode & { kind: 'rsqrt' }), add: BigInt(n['add'] as string) };
          case 'fn': {
            const t = n['table'] as Record<string, unknown>;
            return {
              ...(n as unknown as QNode & { kind: 'fn' }),
              offset: BigInt(n['offset'] as string),
              table: {
                ...(t as unknown as FnTable),
                w0: BigInt(t['w0'] as string),
                A: big(t['A'] as string[]),
                B: big(t['B'] as string[]),
                C: big(t['C'] as string[]),
                yLo: BigInt(t['yLo'] as string),
                yHi: BigInt(t['yHi'] as string),
                outLo: BigInt(t['outLo'] as string),
                outHi: BigInt(t['outHi'] as string),
              },
            };
          }
          default:
            throw new Error(`unknown node kind ${String(n['kind'])}`);
        }
      }),
      input: raw.input,
      outputs: raw.outputs,
    };
  } catch (cause) {
    throw new ArtifactError('ARTIFACT_INVALID', `${label} is not a valid zkinfer quantized graph`, { cause });
  }
}
