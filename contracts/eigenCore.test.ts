import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZeroAddress } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../circuits/artifacts.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { proveOnce } from '../prover/proveOnce.ts';
import { zkinfer } from '../test/helpers/cli.ts';
import { HASHED_MLP_DIR, holdoutInputs } from '../test/helpers/fixtures.ts';
import { setUpModel } from '../test/helpers/provedModel.ts';
import { revertName } from '../test/helpers/revert.ts';
import { type AttestationBatch, AvsClient, WAD } from './avsClient.ts';
import { deployMirrorCore } from './coreDeployment.ts';
import { devWallet, type LocalAvs, providerFor, setUpLocalAvs } from './localAvs.ts';
import { type LocalChain, startHardhatNode } from './localChain.ts';

// The AVS against EigenLayer core's interface: deployed over an existing core from a deployment
// file, and the core semantics the settlement relies on (slashable until deallocations and
// withdrawals complete, allocations counted once in force), on the local mirror.

let chain: LocalChain;
let a: Artifacts;
let modelId: string;
const inputs = holdoutInputs('mlp-digits');
const TOKEN = 10n ** 18n;

beforeAll(async () => {
  a = await setUpModel('mlp-digits', HASHED_MLP_DIR);
  modelId = a.manifest.setup!.modelId;
  chain = await startHardhatNode();
}, 300_000);

afterAll(async () => {
  await chain?.stop();
});

async function task(avs: LocalAvs, i: number, resultHash = `0x${'ab'.repeat(32)}`) {
  const block = await avs.provider.getBlockNumber();
  const { taskId, task } = await avs.owner.createTask(
    modelId,
    await inputHashOf(inputs[i]!, a.manifest.input),
    BigInt(block + 60),
    5_000n,
  );
  const batch: AttestationBatch = { taskIds: [taskId], tasks: [task], resultHashes: [resultHash] };
  return { taskId, batch };
}

async function signBy(batch: AttestationBatch, signers: readonly AvsClient[]) {
  return Promise.all(
    signers.map(async (o) => ({ signer: await o.address(), signature: await o.signAttestation(batch) })),
  );
}

describe('the AVS over EigenLayer core', () => {
  it('zkinfer avs deploy points the AVS at an existing core from its deployment file; operators join with the core calls', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-core-'));
    const provider = providerFor(chain.url);
    // a core deployed beforehand, by someone else: the AVS must only be told where it is
    const core = await deployMirrorCore(devWallet(provider, 9));
    const coreFile = join(dir, 'core.json');
    await writeFile(coreFile, JSON.stringify(core));
    const out = join(dir, 'deployment.json');
    const deployed = await zkinfer(
      'avs',
      'deploy',
      '--rpc',
      chain.url,
      '--core',
      coreFile,
      '--out',
      out,
      '--model',
      a.dir,
    );
    expect(deployed.stderr).toBe('');
    expect(deployed.code).toBe(0);
    expect(JSON.parse(deployed.stdout)).toMatchObject({ ok: true, core: 'existing', models: [modelId] });
    const deployment = JSON.parse(await readFile(out, 'utf8'));
    expect(deployment).toMatchObject(core);

    // the AVS registered itself with the core: operator set 0 over the strategy, its registrar
    const owner = await AvsClient.connect(deployment, devWallet(provider, 0));
    const set = owner.operatorSet();
    expect(await owner.allocation.getFunction('isOperatorSet')(set)).toBe(true);
    expect([...(await owner.allocation.getFunction('getStrategiesInOperatorSet')(set))]).toEqual(
      core.strategies,
    );
    expect(await owner.allocation.getFunction('getAVSRegistrar')(deployment.serviceManager)).toBe(
      deployment.registrar,
    );

    // an operator joins through the CLI (registerAsOperator, deposit, allocate, register) and settles alone
    const mint = await AvsClient.connect(deployment, devWallet(provider, 9)); // the core's deployer owns its token
    await mint.send(mint.token, 'mint', [await devWallet(provider, 1).getAddress(), 100n * TOKEN]);
    const joined = await zkinfer(
      'avs',
      'join',
      '--rpc',
      chain.url,
      '--deployment',
      out,
      '--amount',
      String(100n * TOKEN),
      '--dev-account',
      '1',
    );
    expect(joined.code).toBe(0);
    expect(JSON.parse(joined.stdout)).toMatchObject({ ok: true, shares: String(100n * TOKEN) });
    const op = await AvsClient.connect(deployment, devWallet(provider, 1));
    expect(await op.allocation.getFunction('isMemberOfOperatorSet')(await op.address(), set)).toBe(true);
    const local: LocalAvs = { provider, deployment, owner, operators: [op], outsider: op };
    const { batch } = await task(local, 0);
    const { batchId, attested } = await op.attest(batch, await signBy(batch, [op]));
    expect(attested.stakes).toEqual([100n * TOKEN]);
    await provider.send('hardhat_mine', ['0xb']);
    await op.finalize(batchId, attested);
    expect(await op.status(batch.taskIds[0]!)).toBe(4);

    // a core file that EigenLayer would refuse is refused first, by name
    await writeFile(coreFile, JSON.stringify({ ...core, strategies: [core.strategies[0], ZeroAddress] }));
    const bad = await zkinfer('avs', 'deploy', '--rpc', chain.url, '--core', coreFile, '--out', out);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/strategies.*ascending/);
    provider.destroy();
  }, 180_000);

  it('a signer stays slashable through the window though it withdraws, deallocates and deregisters after signing', async () => {
    const avs = await setUpLocalAvs(chain.url, [a]);
    const [op1, op2, op3] = avs.operators as [AvsClient, AvsClient, AvsClient];
    const { taskId, batch } = await task(avs, 1);
    const { batchId, attested } = await op1.attest(batch, await signBy(batch, [op1, op2, op3]));
    const strategy = avs.deployment.strategies[0]!;
    // op2 queues a withdrawal of everything; op3 deallocates everything and leaves the set
    const withdrawal = await op2.queueWithdrawal(200n * TOKEN);
    await op3.send(op3.allocation, 'modifyAllocations', [
      await op3.address(),
      [{ operatorSet: op3.operatorSet(), strategies: [strategy], newMagnitudes: [0] }],
    ]);
    await op3.deregister();
    const p = await proveOnce(a, inputs[1]!, await avs.outsider.bindingOf(taskId));
    const receipt = await avs.outsider.challenge(batchId, attested, 0, p.proof, p.publicSignals);
    const names = avs.owner.events(receipt).map((e) => e.name);
    expect(names.filter((n) => n === 'OperatorSlashed')).toHaveLength(3);
    expect(names).not.toContain('SignerNotSlashable');
    expect(await avs.owner.sharesOf(await op3.address())).toBe(270n * TOKEN);
    // the queued withdrawal lost its tenth too: completing it pays 180 tokens, not 200
    await avs.provider.send('hardhat_mine', ['0x16']);
    const tokens = async () =>
      (await avs.owner.token.getFunction('balanceOf')(await op2.address())) as bigint;
    const before = await tokens();
    await op2.completeWithdrawal(withdrawal);
    expect((await tokens()) - before).toBe(180n * TOKEN);
  }, 120_000);

  it("an allocation counts toward a quorum only once in force (the operator's allocation delay)", async () => {
    const avs = await setUpLocalAvs(chain.url, [a], 0);
    const op = avs.outsider;
    await avs.owner.send(avs.owner.token, 'mint', [await op.address(), 50n * TOKEN]);
    await op.send(op.delegation, 'registerAsOperator', [ZeroAddress, 15, '']);
    await op.stakeAndRegister(50n * TOKEN);
    const { batch } = await task(avs, 2);
    expect(await revertName(op.attest(batch, await signBy(batch, [op])))).toBe('SignerStakeTooLow');
    await avs.provider.send('hardhat_mine', ['0xf']);
    const { attested } = await op.attest(batch, await signBy(batch, [op]));
    expect(attested.stakes).toEqual([50n * TOKEN]);
    expect(
      await avs.owner.allocation.getFunction('getAllocation')(
        await op.address(),
        op.operatorSet(),
        avs.deployment.strategies[0],
      ),
    ).toEqual([WAD, 0n, 0n]);
  }, 120_000);
});
