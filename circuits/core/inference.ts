import type { QuantGraph } from './quantGraph.ts';
import { quantizeInput } from './quantize.ts';
import { runReference } from './reference.ts';

export interface InferenceResult {
  /** The circuit's input: quantized, clamped to the input domain. */
  readonly quantizedInput: readonly bigint[];
  /** Every output element, quantized (what the circuit makes public), in output order. */
  readonly quantizedOutputs: readonly bigint[];
  /** The same values divided by their scales. */
  readonly outputs: readonly number[];
  /** Arg-max of the first output (or its value when the model ends in ArgMax). */
  readonly predictedClass: number;
}

/** Runs the quantized model exactly as the circuit does, on a float input. */
export function infer(graph: QuantGraph, input: ArrayLike<number>): InferenceResult {
  const q = quantizeInput(graph.input, input);
  const values = runReference(graph, q);
  const quantizedOutputs: bigint[] = [];
  const outputs: number[] = [];
  for (const o of graph.outputs) {
    for (const v of values[o.tensor]!) {
      quantizedOutputs.push(v);
      outputs.push(Number(v) / 2 ** o.scale);
    }
  }
  const first = graph.outputs[0]!;
  const firstValues = values[first.tensor]!;
  const isArgMax = graph.nodes.some((n) => n.kind === 'argmax' && n.output === first.tensor);
  let best = 0;
  for (let i = 1; i < firstValues.length; i++) if (firstValues[i]! > firstValues[best]!) best = i;
  return {
    quantizedInput: q,
    quantizedOutputs,
    outputs,
    predictedClass: isArgMax ? Number(firstValues[0]) : best,
  };
}
