import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pyFloatRepr, pyStr, pyStrRepr } from './pythonRepr.ts';
import { buildSdkRequest, isSdkBody, SDK_SYNAPSES, sdkBodyHash, sdkPayload } from './sdkSynapse.ts';

// made by protocol/python/make_fixture.py: Python's own json.dumps, str() and the SDK's body hash
const fixture = JSON.parse(
  readFileSync(new URL('../test/fixtures/sdk-requests.json', import.meta.url), 'utf8'),
) as {
  placeholder_signature: string;
  float_reprs: string[];
  dendrite: { ip: string; version: number; hotkey: string };
  axon: { ip: string; port: number; hotkey: string };
  cases: {
    synapse: string;
    values: Record<string, unknown>;
    timeout: number;
    nonce: string;
    uuid: string;
    body: string;
    body_hash: string;
    hashed_str: Record<string, string>;
  }[];
};

describe("Python's text forms", () => {
  it('repr(float) as Python prints it, in both notations, for 400 doubles and the boundaries', () => {
    for (const text of fixture.float_reprs) expect(pyFloatRepr(Number(text))).toBe(text);
  });

  it('repr(str) picks quotes and escapes as Python does', () => {
    expect(pyStrRepr('abc')).toBe("'abc'");
    expect(pyStrRepr("it's")).toBe('"it\'s"');
    expect(pyStrRepr(`it's "x"`)).toBe(`'it\\'s "x"'`);
    expect(pyStrRepr('a\\b\n\u0001\u007f')).toBe("'a\\\\b\\n\\x01\\x7f'");
    expect(pyStrRepr('café\u00a0\u2028😀')).toBe("'café\\xa0\\u2028😀'");
  });

  it('str() of each hashed field equals what Python printed', () => {
    for (const c of fixture.cases) {
      const spec = SDK_SYNAPSES[c.synapse]!;
      const types = new Map(spec.fields);
      for (const [field, text] of Object.entries(c.hashed_str))
        expect(pyStr(c.values[field], types.get(field)!, field)).toBe(text);
    }
  });
});

describe('requests in the SDK dendrite form', () => {
  it('are built byte for byte as Python builds them, with the same body hash', () => {
    for (const c of fixture.cases) {
      const spec = SDK_SYNAPSES[c.synapse]!;
      const { body, headers } = buildSdkRequest({
        spec,
        values: c.values,
        timeoutSeconds: c.timeout,
        dendrite: fixture.dendrite,
        axon: fixture.axon,
        nonce: BigInt(c.nonce),
        uuid: c.uuid,
        sign: () => fixture.placeholder_signature,
      });
      expect(body).toBe(c.body);
      expect(headers['computed_body_hash']).toBe(c.body_hash);
      expect(headers['timeout']).toBe(Number.isInteger(c.timeout) ? `${c.timeout}.0` : String(c.timeout));
    }
  });

  it("the axon's side: recognises the SDK form, recomputes its hash from the parsed body, strips the envelope", () => {
    for (const c of fixture.cases) {
      const spec = SDK_SYNAPSES[c.synapse]!;
      const parsed = JSON.parse(c.body) as unknown;
      expect(isSdkBody(parsed, spec)).toBe(true);
      if (!isSdkBody(parsed, spec)) continue;
      expect(sdkBodyHash(spec, parsed)).toBe(c.body_hash);
      const payload = sdkPayload(parsed);
      expect(Object.keys(payload)).toEqual(spec.fields.map(([k]) => k));
    }
  });

  it('an edited hashed field changes the hash; a field of the wrong type has none', () => {
    const c = fixture.cases[0]!;
    const spec = SDK_SYNAPSES['ProveInference']!;
    const parsed = JSON.parse(c.body) as Record<string, unknown>;
    const input = [...(parsed['input'] as number[])];
    input[3] = 0.2;
    expect(sdkBodyHash(spec, { ...parsed, input })).not.toBe(c.body_hash);
    expect(sdkBodyHash(spec, { ...parsed, deadlineMs: 12000.5 })).toBeNull();
    expect(sdkBodyHash(spec, { ...parsed, binding: { nonce: '0x01' } })).toBeNull();
    expect(sdkBodyHash(spec, { ...parsed, input: ['1'] })).toBeNull();
    // an unhashed field (the SDK's own timeout) may change freely
    expect(sdkBodyHash(spec, { ...parsed, timeout: 99 })).toBe(c.body_hash);
  });
});
