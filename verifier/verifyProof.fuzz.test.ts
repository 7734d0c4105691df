import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIELD_MODULUS } from '../circuits/core/field.ts';
import type { ProofBundle } from '../protocol/bundle.ts';
import { ZkinferError } from '../protocol/errors.ts';
import { proveHoldout, setUpModel } from '../test/helpers/provedModel.ts';
import { BASE_FIELD_MODULUS, VKEY_VERIFY_FIELDS } from './proofShape.ts';
import { verifyProof } from './verifyProof.ts';

// Thousands of mutations of a valid (vkey, public signals, proof): none may be "valid", and none may
// crash (anything thrown other than a ZkinferError for an unusable key counts as a crash).

let bundle: ProofBundle;
let vkey: Record<string, unknown>;

beforeAll(async () => {
  const a = await setUpModel('mlp-digits');
  bundle = await proveHoldout(a, 'mlp-digits', 0, 42n);
  vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8')) as Record<string, unknown>;
}, 300_000);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Replacement values a hostile or broken file might carry. */
function junk(r: () => number, original: unknown): unknown {
  const s = typeof original === 'string' && /^[0-9]+$/.test(original) ? original : '1';
  const options: (() => unknown)[] = [
    () => (BigInt(s) + 1n).toString(),
    () => (BigInt(s) ^ (1n << BigInt(Math.floor(r() * 250)))).toString(),
    () => FIELD_MODULUS.toString(),
    () => BASE_FIELD_MODULUS.toString(),
    () => (BASE_FIELD_MODULUS + BigInt(s)).toString(),
    () => `-${s}`,
    () => `0x${BigInt(s).toString(16)}`,
    () => '',
    () => '0',
    () => '1',
    () => Number(s.slice(0, 8)),
    () => null,
    () => [s],
    () => ({ v: s }),
    () => `${s}0`,
    () => s.slice(1),
    () => `${s} `,
    () => '1e5',
    () => s.replace(/\d/, (d) => String((Number(d) + 1) % 10)),
  ];
  return options[Math.floor(r() * options.length)]!();
}

/** Walks to a random leaf of a JSON value and replaces, drops or duplicates it. */
function mutate(value: unknown, r: () => number): unknown {
  const copy = structuredClone(value);
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((c, i) => walk(c, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...path, k]);
  };
  walk(copy, []);
  const path = paths[Math.floor(r() * paths.length)]!;
  if (path.length === 0) return junk(r, copy);
  const parent = path
    .slice(0, -1)
    .reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], copy) as Record<
    string | number,
    unknown
  >;
  const key = path[path.length - 1]!;
  const roll = r();
  if (roll < 0.7) parent[key] = junk(r, parent[key]);
  else if (roll < 0.85) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (Array.isArray(parent)) parent.push(parent[Number(key)]);
  else parent[key] = [parent[key], parent[key]];
  return copy;
}

describe('verifyProof under fuzzing', () => {
  it('the unmutated proof is valid (the fuzzer starts from a real proof)', async () => {
    expect(await verifyProof(vkey, bundle.publicSignals, bundle.proof)).toEqual({ ok: true });
  });

  it('3,000 mutated proofs and public signals: zero valid, zero crashes', async () => {
    const r = rng(0xf022);
    const reasons = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const target = r();
      const proof = target < 0.6 ? mutate(bundle.proof, r) : bundle.proof;
      const signals = target >= 0.4 ? mutate(bundle.publicSignals, r) : bundle.publicSignals;
      const res = await verifyProof(vkey, signals, proof);
      if (res.ok) {
        // a mutation can be a no-op (e.g. "1" → "1"); it must then equal the original exactly
        expect(JSON.stringify([proof, signals])).toBe(JSON.stringify([bundle.proof, bundle.publicSignals]));
        continue;
      }
      reasons.set(res.reason, (reasons.get(res.reason) ?? 0) + 1);
    }
    expect(reasons.get('malformed')).toBeGreaterThan(100);
    expect(reasons.get('pairing')).toBeGreaterThan(100);
  }, 300_000);

  it('500 mutated verification keys: an error naming the problem or "invalid", never valid or a crash', async () => {
    const r = rng(0x7e7);
    let rejectedKeys = 0;
    for (let i = 0; i < 500; i++) {
      const key = mutate(vkey, r);
      try {
        const res = await verifyProof(key, bundle.publicSignals, bundle.proof);
        if (res.ok) {
          // only a change to a field verification never reads may leave the key valid
          const same = (k: string) =>
            JSON.stringify((key as Record<string, unknown>)[k]) === JSON.stringify(vkey[k]);
          expect(VKEY_VERIFY_FIELDS.filter((k) => !same(k))).toEqual([]);
        }
      } catch (e) {
        expect(e).toBeInstanceOf(ZkinferError);
        rejectedKeys++;
      }
    }
    expect(rejectedKeys).toBeGreaterThan(20);
  }, 300_000);
});
