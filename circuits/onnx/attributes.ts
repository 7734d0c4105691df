import { ModelError } from '../../protocol/errors.ts';
import type { OnnxNode } from './parseOnnx.ts';

/** Typed attribute access with ONNX defaults. */
export function attrInt(node: OnnxNode, name: string, fallback: number): number {
  return node.attributes.get(name)?.i ?? fallback;
}
export function attrFloat(node: OnnxNode, name: string, fallback: number): number {
  return node.attributes.get(name)?.f ?? fallback;
}
export function attrString(node: OnnxNode, name: string, fallback: string): string {
  return node.attributes.get(name)?.s ?? fallback;
}
export function attrInts(node: OnnxNode, name: string): readonly number[] | undefined {
  const a = node.attributes.get(name);
  if (!a) return undefined;
  return a.ints ?? (a.i !== undefined ? [a.i] : []);
}
export function requireAttrInts(node: OnnxNode, name: string): readonly number[] {
  const v = attrInts(node, name);
  if (!v)
    throw new ModelError(
      'ONNX_INVALID',
      `${node.opType} node "${node.name}" lacks the required attribute ${name}`,
    );
  return v;
}
