import { evalFnTable } from './fnApprox.ts';
import { divValue, maxBig, type QuantGraph, rescaleValue, rsqrtValue } from './quantGraph.ts';

/**
 * The bit-exact integer executor: the circuit computes exactly these values (tested against the
 * witness). Returns every tensor's values by quantized tensor id.
 */
export function runReference(graph: QuantGraph, input: readonly bigint[]): bigint[][] {
  const values: bigint[][] = [];
  values[graph.input.tensor] = [...input];
  for (const node of graph.nodes) {
    switch (node.kind) {
      case 'linear': {
        const ins = node.inputs.map((t) => values[t]!);
        const out: bigint[] = [];
        for (let r = 0; r < node.bias.length; r++) {
          let acc = node.bias[r]!;
          for (let e = node.rowPtr[r]!; e < node.rowPtr[r + 1]!; e++)
            acc += node.w[e]! * ins[node.src[e]!]![node.idx[e]!]!;
          out.push(acc);
        }
        values[node.output] = out;
        break;
      }
      case 'rescale':
        values[node.output] = values[node.input]!.map((v) => rescaleValue(v, node.shift, node.relu));
        break;
      case 'maxpool': {
        const x = values[node.input]!;
        values[node.output] = node.windows.map((w) => maxBig(Array.from(w, (i) => x[i]!)));
        break;
      }
      case 'mul': {
        const a = values[node.a]!;
        const b = values[node.b]!;
        values[node.output] = Array.from(node.ia, (i, r) => a[i]! * b[node.ib[r]!]!);
        break;
      }
      case 'fn': {
        const k = BigInt(node.k);
        const up = BigInt(node.up);
        values[node.output] = values[node.input]!.map((v) =>
          evalFnTable(node.table, ((v << up) + node.offset) >> k),
        );
        break;
      }
      case 'div': {
        const n = values[node.num]!;
        const d = values[node.den]!;
        values[node.output] = Array.from(node.inum, (i, r) => divValue(n[i]!, d[node.iden[r]!]!, node.k));
        break;
      }
      case 'rsqrt': {
        const up = BigInt(node.up);
        values[node.output] = values[node.input]!.map((v) => rsqrtValue((v << up) + node.add, node.K));
        break;
      }
      case 'argmax': {
        const x = values[node.input]!;
        values[node.output] = node.groups.map((g) => {
          let best = 0;
          for (let k = 1; k < g.length; k++) if (x[g[k]!]! > x[g[best]!]!) best = k;
          return BigInt(best);
        });
        break;
      }
    }
  }
  return values;
}
