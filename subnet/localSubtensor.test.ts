import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { zkinfer } from '../test/helpers/cli.ts';
import { LocalSubtensor } from './localSubtensor.ts';
import { SubtensorError } from './subtensorClient.ts';

async function chainFile(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'zkinfer-chain-')), 'chain.json');
}

/** A subnet with one validator (uid 0, with stake) and three miners, permits granted by a first epoch. */
async function smallSubnet(params = {}) {
  const file = await chainFile();
  const chain = LocalSubtensor.open(file, { tempo: 5, weightsRateLimit: 3, ...params });
  chain.register('V', 1000);
  for (const m of ['M1', 'M2', 'M3']) chain.register(m);
  chain.advance(5);
  return { chain, file };
}

async function chainError(p: Promise<unknown>): Promise<string> {
  const e = await p.catch((err: unknown) => err);
  expect(e).toBeInstanceOf(SubtensorError);
  return (e as SubtensorError).chainError;
}

describe('LocalSubtensor', () => {
  it("refuses set_weights with the chain's error names, in the chain's order, and changes nothing", async () => {
    const { chain } = await smallSubnet();
    await chain.setWeights('V', [1, 2], [100, 200], 0);
    const before = JSON.stringify(await chain.metagraph());
    expect(await chainError(chain.setWeights('V', [1, 2], [100, 200], 0))).toBe('SettingWeightsTooFast');
    chain.advance(3);
    const snapshot = JSON.stringify(await chain.metagraph());
    expect(await chainError(chain.setWeights('V', [1, 1], [100, 200], 0))).toBe('DuplicateUids');
    expect(await chainError(chain.setWeights('M1', [2, 3], [100, 200], 0))).toBe('NeuronNoValidatorPermit');
    expect(await chainError(chain.setWeights('V', [1, 2], [100], 0))).toBe('WeightVecNotEqualSize');
    expect(await chainError(chain.setWeights('V', [1, 9], [1, 2], 0))).toBe('UidVecContainInvalidOne');
    expect(await chainError(chain.setWeights('Nobody', [1], [1], 0))).toBe('HotKeyNotRegisteredInSubNet');
    // order: a duplicate-uid request from a neuron without a permit fails on the permit first
    expect(await chainError(chain.setWeights('M1', [2, 2], [1, 1], 0))).toBe('NeuronNoValidatorPermit');
    expect(JSON.stringify(await chain.metagraph())).toBe(snapshot);
    expect(before).not.toBe(snapshot); // the clock moved, nothing else
    const versioned = await smallSubnet({ weightsVersionKey: 3 });
    expect(await chainError(versioned.chain.setWeights('V', [1], [1], 2))).toBe('IncorrectWeightVersionKey');
  });

  it('runs Yuma every tempo: the weighted miners earn incentive, the validator dividends, the owner its cut', async () => {
    const { chain } = await smallSubnet();
    await chain.setWeights('V', [1, 2, 3], [65535, 32767, 0], 0);
    const epochs = chain.advance(5);
    expect(epochs).toHaveLength(1);
    const mg = await chain.metagraph();
    const [v, m1, m2, m3] = mg.neurons;
    expect(m1!.incentive).toBeGreaterThan(m2!.incentive);
    expect(m3!.incentive).toBe(0);
    expect(v!.dividends).toBeCloseTo(1, 9);
    const total = mg.neurons.reduce((s, n) => s + n.emission, 0);
    const owner = chain.explain(0).ownerEmission;
    expect(total + owner).toBeLessThanOrEqual(5 * 2 * 1_000_000_000); // two epochs of 5 blocks
    expect(total).toBeGreaterThan(0.8 * 5 * 1_000_000_000);
  });

  it('persists to its file: reopened, it is the same chain', async () => {
    const { chain, file } = await smallSubnet();
    await chain.setWeights('V', [1, 2], [1, 2], 0);
    chain.advance(5);
    const again = LocalSubtensor.open(file);
    expect(await again.metagraph()).toEqual(await chain.metagraph());
    const status = await zkinfer('--json', 'subnet', 'status', '--state', file);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).neurons).toHaveLength(4);
    const explain = await zkinfer('subnet', 'explain', '2', '--state', file);
    expect(explain.stdout).toMatch(/consensus .* stake-weighted median/);
    expect((await zkinfer('subnet', 'explain', '17', '--state', file)).stderr).toMatch(
      /CHAIN_ERROR\]: UidNotFound/,
    );
  });

  it('the CLI runs a file-based subnet: init, register, serve, advance, status', async () => {
    const file = await chainFile();
    expect((await zkinfer('subnet', 'init', '--state', file, '--tempo', '2')).code).toBe(0);
    expect((await zkinfer('subnet', 'register', 'VAL', '--stake', '100', '--state', file)).stdout).toMatch(
      /VAL is uid 0/,
    );
    expect((await zkinfer('subnet', 'register', 'MIN', '--state', file)).stdout).toMatch(/MIN is uid 1/);
    expect((await zkinfer('subnet', 'serve', 'MIN', 'http://127.0.0.1:9', '--state', file)).code).toBe(0);
    expect((await zkinfer('subnet', 'advance', '--blocks', '4', '--state', file)).stdout).toMatch(
      /block 4; 2 epoch\(s\) ran/,
    );
    const mg = JSON.parse((await zkinfer('--json', 'subnet', 'status', '--state', file)).stdout) as {
      neurons: { hotkey: string; validatorPermit: boolean; axon: unknown }[];
    };
    expect(mg.neurons[0]).toMatchObject({ hotkey: 'VAL', validatorPermit: true });
    expect(mg.neurons[1]).toMatchObject({ hotkey: 'MIN', axon: { url: 'http://127.0.0.1:9' } });
  });

  it('when full, registration replaces the non-immune neuron with the lowest emission', async () => {
    const chain = LocalSubtensor.open(undefined, { tempo: 2, maxAllowedUids: 3, immunityPeriod: 4 });
    chain.register('V', 10);
    chain.register('A');
    chain.register('B');
    expect(() => chain.register('C')).toThrow(/NoNeuronIdAvailable/);
    chain.advance(2);
    await chain.setWeights('V', [1], [65535], 0);
    chain.advance(4);
    expect(chain.register('C')).toBe(2); // B earned nothing
    expect((await chain.metagraph()).neurons.map((n) => n.hotkey)).toEqual(['V', 'A', 'C']);
  });
});
