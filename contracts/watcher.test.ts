import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../circuits/artifacts.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { proveOnce } from '../prover/proveOnce.ts';
import { zkinfer } from '../test/helpers/cli.ts';
import { HASHED_MLP_DIR, holdoutInputs } from '../test/helpers/fixtures.ts';
import { setUpModel } from '../test/helpers/provedModel.ts';
import type { AttestationBatch } from './avsClient.ts';
import { setUpLocalAvs } from './localAvs.ts';
import { type LocalChain, startHardhatNode } from './localChain.ts';
import { publishInput, Watcher } from './watcher.ts';

let chain: LocalChain;
let a: Artifacts;
const inputs = holdoutInputs('mlp-digits');

beforeAll(async () => {
  a = await setUpModel('mlp-digits', HASHED_MLP_DIR);
  chain = await startHardhatNode();
}, 300_000);

afterAll(async () => {
  await chain?.stop();
});

describe('the automatic challenger', () => {
  it('challenges a false attestation within its window, leaves a true one, and says why it checks nothing else', async () => {
    const avs = await setUpLocalAvs(chain.url, [a]);
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-watcher-'));
    const inputsDir = join(dir, 'inputs');
    const modelId = a.manifest.setup!.modelId;
    const tasks: Awaited<ReturnType<typeof avs.owner.createTask>>[] = [];
    for (const i of [0, 1, 2]) {
      const commitment = await inputHashOf(inputs[i]!, a.manifest.input);
      if (i !== 2) await publishInput(inputsDir, commitment, Array.from(inputs[i]!));
      const block = await avs.provider.getBlockNumber();
      tasks.push(await avs.owner.createTask(modelId, commitment, BigInt(block + 60), 4_000n));
    }
    const truth = await proveOnce(a, inputs[0]!, 1n);
    const honest = await avs.owner.resultHashOf(truth.publicSignals);
    const attest = async (k: number, resultHash: string) => {
      const batch: AttestationBatch = {
        taskIds: [tasks[k]!.taskId],
        tasks: [tasks[k]!.task],
        resultHashes: [resultHash],
      };
      const signed = await Promise.all(
        avs.operators.map(async (o) => ({
          signer: await o.address(),
          signature: await o.signAttestation(batch),
        })),
      );
      await avs.operators[0]!.attest(batch, signed);
    };
    await attest(0, honest); // true
    await attest(1, honest); // false: input 1 is another digit's image
    await attest(2, honest); // its input was never published
    const lines: string[] = [];
    const w = await Watcher.open({
      client: avs.outsider,
      models: [a.dir],
      inputs: inputsDir,
      db: join(dir, 'w.db'),
      log: (l) => lines.push(l),
    });
    try {
      const decisions = await w.tick();
      expect(decisions.map((d) => d.kind)).toEqual(['agrees', 'challenged', 'noInput']);
      expect(await avs.owner.status(tasks[0]!.taskId)).toBe(3); // still attested
      expect(await avs.owner.status(tasks[1]!.taskId)).toBe(5); // overturned
      expect(lines[1]).toMatch(
        /^task \d+: FALSE result attested; challenged with a proof \(tx 0x[0-9a-f]+\), \d+ slashed$/,
      );
      expect(lines[2]).toMatch(/no published input/);
      // decisions are remembered: a second pass decides nothing again
      expect(await w.tick()).toEqual([]);
    } finally {
      w.close();
    }
    // the state file belongs to that task manager: another deployment is refused by name
    const other = await setUpLocalAvs(chain.url, [a]);
    await expect(
      Watcher.open({ client: other.outsider, models: [a.dir], inputs: inputsDir, db: join(dir, 'w.db') }),
    ).rejects.toThrow(/holds the state of task manager 0x[0-9a-f]+ on chain 31337/);
  }, 180_000);

  it('zkinfer watch --once runs from a config file; a bad config is one line naming the key', async () => {
    const avs = await setUpLocalAvs(chain.url, [a]);
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-watch-cli-'));
    const deployment = join(dir, 'deployment.json');
    await writeFile(deployment, JSON.stringify(avs.deployment));
    const config = {
      rpc: chain.url,
      deployment,
      key: { devAccount: 9 },
      models: [a.dir],
      inputs: join(dir, 'inputs'),
      db: join(dir, 'watch.db'),
    };
    await writeFile(join(dir, 'watch.json'), JSON.stringify(config));
    const ok = await zkinfer('watch', '--config', join(dir, 'watch.json'), '--once');
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout.trim().split('\n')[0]!).msg).toMatch(/^watching 0x[0-9a-fA-F]{40} as 0x/);
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ ...config, key: { privateKey: 'nope' } }));
    const bad = await zkinfer('watch', '--config', join(dir, 'bad.json'), '--once');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/error\[INVALID_OPTION\]: watcher config: key must be \{"privateKey"/);
  }, 120_000);
});
