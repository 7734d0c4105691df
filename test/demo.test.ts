import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../scripts/demo/runDemo.ts';
import { zkinfer } from './helpers/cli.ts';

describe('the main job: a shortened local subnet demo, end to end', () => {
  it('ends with the cheater at zero weight and slashed, the fast miner first; audit run passes, and fails on an altered proof', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-demo-'));
    const lines: string[] = [];
    const first = await runDemo({ dir, rounds: 2, log: (l) => lines.push(l) });
    const [fast, slow, cheater] = first.miners;
    expect(cheater).toMatchObject({ weight: 0, incentive: 0, slashed: true });
    expect(fast!.incentive).toBeGreaterThan(slow!.incentive);
    expect(fast!.incentive).toBe(Math.max(...first.miners.map((m) => m.incentive)));
    expect(first.settlements.proven).toBe(4);
    // organic requests through the gateway: answered by honest miners, verified again by the client, one settled
    expect(first.gateway.requests).toHaveLength(3);
    for (const r of first.gateway.requests) {
      expect(r.verifiedLocally).toBe(true);
      expect(['fast', 'slow']).toContain(r.miner);
    }
    expect(first.gateway.requests[2]!.settledTx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(first.settlements.gas['submitProven (proven settlement)']).toBeLessThanOrEqual(320_000);
    expect(await readFile(join(dir, 'demo-scores.svg'), 'utf8')).toMatch(/^<svg/);
    expect(await readFile(join(dir, 'demo-report.md'), 'utf8')).toMatch(/INSECURE development Powers of Tau/);

    const audit = await zkinfer('audit', 'run', dir);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    const proofs = (await readdir(join(dir, 'proofs'))).sort();
    const victim = join(dir, 'proofs', proofs[0]!);
    const doc = JSON.parse(await readFile(victim, 'utf8')) as { publicSignals: string[] };
    doc.publicSignals[0] = (BigInt(doc.publicSignals[0]!) + 1n).toString();
    await writeFile(victim, JSON.stringify(doc));
    const altered = await zkinfer('audit', 'run', dir);
    expect(altered.code).toBe(2);
    expect(altered.stdout).toContain(`FAIL proof proofs/${proofs[0]}`);

    // a second run reuses the compiled artifacts and keys instead of compiling again
    const second = await runDemo({ dir, rounds: 1, log: (l) => lines.push(l) });
    expect(second.model.cached).toBe(true);
    expect(lines).toContain('setup: reusing the keys already in the artifact directory');
  }, 600_000);
});
