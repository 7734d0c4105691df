import type { JsonRpcProvider } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../circuits/artifacts.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { proveOnce } from '../prover/proveOnce.ts';
import { HASHED_MLP_DIR, holdoutInputs } from '../test/helpers/fixtures.ts';
import { setUpModel } from '../test/helpers/provedModel.ts';
import { revertName } from '../test/helpers/revert.ts';
import type { AttestationBatch, AvsClient } from './avsClient.ts';
import { type LocalAvs, setUpLocalAvs } from './localAvs.ts';
import { type LocalChain, startHardhatNode } from './localChain.ts';

// The settlement exploits a review reproduced on a Hardhat node, one test each: every test failed
// against the contracts before the fix (see the issue note) and must pass after it. Each test
// deploys a fresh AVS over EigenLayer core's local mirror (operators deposit 100, 200, 300 tokens
// and allocate all of it to the AVS's operator set; quorum 2/3 of the members' slashable stake).

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

async function mine(provider: JsonRpcProvider, blocks: number): Promise<void> {
  await provider.send('hardhat_mine', [`0x${blocks.toString(16)}`]);
}

/** A task over hold-out input `i`, and a batch attesting `resultHash` for it. */
async function falseBatch(avs: LocalAvs, i: number, deadlineIn = 50, resultHash = `0x${'ab'.repeat(32)}`) {
  const block = await avs.provider.getBlockNumber();
  const { taskId, task } = await avs.owner.createTask(
    modelId,
    await inputHashOf(inputs[i]!, a.manifest.input),
    BigInt(block + deadlineIn),
    5_000n,
  );
  const batch: AttestationBatch = { taskIds: [taskId], tasks: [task], resultHashes: [resultHash] };
  return { taskId, task, batch };
}

async function signBy(batch: AttestationBatch, signers: readonly AvsClient[]) {
  return Promise.all(
    signers.map(async (o) => ({ signer: await o.address(), signature: await o.signAttestation(batch) })),
  );
}

/** The true proof of input `i` for `taskId`, bound to `prover`. */
async function truth(prover: AvsClient, taskId: number, i: number) {
  return proveOnce(a, inputs[i]!, await prover.bindingOf(taskId));
}

const stakeOf = async (avs: LocalAvs, who: AvsClient) => avs.owner.sharesOf(await who.address());
const tokensOf = async (avs: LocalAvs, who: string) =>
  (await avs.owner.token.getFunction('balanceOf')(who)) as bigint;

describe('settlement exploits (each failed before the fix)', () => {
  it('1. deregistering after a false attestation does not dodge the slash, nor block the challenge', async () => {
    const avs = await setUpLocalAvs(chain.url, [a]);
    const [, op2, op3] = avs.operators as [AvsClient, AvsClient, AvsClient];
    const { taskId, batch } = await falseBatch(avs, 0);
    const signed = await signBy(batch, [op2, op3]);
    const { batchId, attested } = await op3.attest(batch, signed);
    const before = await stakeOf(avs, op3);
    // the liar leaves at once
    await op3.deregister();
    const p = await truth(avs.outsider, taskId, 0);
    const receipt = await avs.outsider.challenge(batchId, attested, 0, p.proof, p.publicSignals);
    const names = avs.owner.events(receipt).map((e) => e.name);
    expect(names).toContain('ChallengeSucceeded');
    expect(names.filter((n) => n === 'OperatorSlashed')).toHaveLength(2);
    expect(await stakeOf(avs, op3)).toBe(before - before / 10n);
  }, 120_000);

  it('2. stake withdrawn or deallocated before attesting does not count toward the quorum', async () => {
    const avs = await setUpLocalAvs(chain.url, [a]);
    const [, op2, op3] = avs.operators as [AvsClient, AvsClient, AvsClient];
    // a long deadline leaves time to unbond: op2 withdraws its shares, op3 deallocates them
    const { batch } = await falseBatch(avs, 1, 200);
    const withdrawal = await op2.queueWithdrawal(await stakeOf(avs, op2));
    await op3.send(op3.allocation, 'modifyAllocations', [
      await op3.address(),
      [{ operatorSet: op3.operatorSet(), strategies: [avs.deployment.strategies[0]], newMagnitudes: [0] }],
    ]);
    await mine(avs.provider, 22); // past the withdrawal delay and DEALLOCATION_DELAY (20 blocks)
    await op2.completeWithdrawal(withdrawal);
    expect(await tokensOf(avs, await op2.address())).toBe(10n ** 21n); // all of it back
    const name = await revertName(op3.attest(batch, await signBy(batch, [op2, op3])));
    expect(name).toBe('SignerStakeTooLow');
  }, 120_000);

  it('3. a signer who challenges its own false batch still loses all that is slashed (burned), gaining only the bounty; the consumer is refunded', async () => {
    const avs = await setUpLocalAvs(chain.url, [a]);
    const [, op2, op3] = avs.operators as [AvsClient, AvsClient, AvsClient];
    const { taskId, batch } = await falseBatch(avs, 2);
    const signed = await signBy(batch, [op2, op3]);
    const { batchId, attested } = await op3.attest(batch, signed);
    const group = [op2, op3];
    const holdings = async () => {
      let sum = 0n;
      for (const op of group) sum += (await stakeOf(avs, op)) + (await tokensOf(avs, await op.address()));
      return sum;
    };
    const before = await holdings();
    const claimable = async (who: string) =>
      (await avs.owner.service.getFunction('claimable')(who)) as bigint;
    const consumerBefore = await claimable(await avs.owner.address());
    const colluderBefore = await claimable(await op3.address());
    const p = await truth(op3, taskId, 2); // the colluder front-runs any honest challenger
    await op3.challenge(batchId, attested, 0, p.proof, p.publicSignals);
    // every slashed share is burned: the group keeps none of it, and earns only the bounty (in wei)
    const slashed = (200n * TOKEN + 300n * TOKEN) / 10n;
    expect(before - (await holdings())).toBe(slashed);
    const bond = (await avs.owner.tasks.getFunction('challengeBond')()) as bigint;
    const bounty = (await avs.owner.tasks.getFunction('challengeBounty')()) as bigint;
    expect((await claimable(await op3.address())) - colluderBefore).toBe(bond + bounty);
    expect(bounty * 100n).toBeLessThan(slashed); // the bounty is a small fraction of what is lost
    expect((await claimable(await avs.owner.address())) - consumerBefore).toBe(5_000n);
  }, 120_000);

  it('4. an attestation signed on one chain is refused on another (EIP-712 domain and task contents)', async () => {
    // two fresh chains, one deployer, the same nonces: the same contract addresses on both
    const chainA = await startHardhatNode(undefined, 31338);
    const chainB = await startHardhatNode(undefined, 31339);
    try {
      const here = await setUpLocalAvs(chainA.url, [a]);
      const there = await setUpLocalAvs(chainB.url, [a]);
      expect(there.deployment.taskManager).toBe(here.deployment.taskManager);
      const hereTask = await falseBatch(here, 3, 50);
      const p = await truth(here.outsider, hereTask.taskId, 3);
      const honest = await here.owner.resultHashOf(p.publicSignals);
      const good: AttestationBatch = { ...hereTask.batch, resultHashes: [honest] };
      const signed = await signBy(good, here.operators);
      await here.operators[0]!.attest(good, signed);
      // on the other chain: a task with the same id over a different input, the same claimed result
      const thereTask = await falseBatch(there, 4, 50, honest);
      expect(thereTask.taskId).toBe(hereTask.taskId);
      expect(await revertName(there.operators[0]!.attest(thereTask.batch, signed))).toBe('BadSignature');
    } finally {
      await chainA.stop();
      await chainB.stop();
    }
  }, 180_000);

  it('5. stake that never registers does not count in the quorum', async () => {
    const avs = await setUpLocalAvs(chain.url, [a]);
    // a whale becomes an EigenLayer operator, deposits 10,000 tokens, even allocates them to the
    // AVS's operator set, and never registers for it
    const whale = avs.outsider;
    await avs.owner.send(avs.owner.token, 'mint', [await whale.address(), 10_000n * TOKEN]);
    await whale.stakeAndRegister(10_000n * TOKEN, { register: false });
    const { taskId, batch } = await falseBatch(avs, 5);
    const p = await truth(avs.outsider, taskId, 5);
    const good = { ...batch, resultHashes: [await avs.owner.resultHashOf(p.publicSignals)] };
    const { batchId } = await avs.operators[0]!.attest(good, await signBy(good, avs.operators));
    expect(batchId).toBeGreaterThan(0);
  }, 120_000);

  it('6. signer lists cannot be padded: zero-stake signers and lists over 32 are refused', async () => {
    const avs = await setUpLocalAvs(chain.url, [a]);
    // a registered operator with no stake at all
    const sybil = avs.outsider;
    await sybil.stakeAndRegister(0n);
    const { batch } = await falseBatch(avs, 6);
    const name = await revertName(
      avs.operators[0]!.attest(batch, await signBy(batch, [...avs.operators, sybil])),
    );
    expect(name).toBe('SignerStakeTooLow');
    const tooMany = Array.from({ length: 33 }, (_, i) => ({
      signer: `0x${(i + 1).toString(16).padStart(40, '0')}`,
      signature: '0x',
    }));
    expect(await revertName(avs.operators[0]!.attest(batch, tooMany))).toBe('TooManySigners');
  }, 120_000);

  it('the submitter of an attestation cannot choose who is paid: a signer left out joins and is paid pro rata', async () => {
    const avs = await setUpLocalAvs(chain.url, [a]);
    const [op1, op2, op3] = avs.operators as [AvsClient, AvsClient, AvsClient];
    const block = await avs.provider.getBlockNumber();
    const { taskId, task } = await avs.owner.createTask(
      modelId,
      await inputHashOf(inputs[8]!, a.manifest.input),
      BigInt(block + 50),
      6_000n,
    );
    const p = await truth(avs.outsider, taskId, 8);
    const batch: AttestationBatch = {
      taskIds: [taskId],
      tasks: [task],
      resultHashes: [await avs.owner.resultHashOf(p.publicSignals)],
    };
    const [sig1, sig2, sig3] = await signBy(batch, [op1, op2, op3]);
    // op3 submits with op2's signature and its own (a quorum of 500 of 600) and leaves op1 out
    const { batchId, attested } = await op3.attest(batch, [sig2!, sig3!]);
    expect(attested.signers).toHaveLength(2);
    // a member's signature of other results does not join this batch; a non-member cannot join
    const other = { ...batch, resultHashes: [`0x${'cd'.repeat(32)}`] };
    const [otherByOp1] = await signBy(other, [op1]);
    expect(await revertName(op1.joinAttestation(batchId, attested, otherByOp1!))).toBe('BadSignature');
    const [byOutsider] = await signBy(batch, [avs.outsider]);
    expect(await revertName(avs.outsider.joinAttestation(batchId, attested, byOutsider!))).toBe(
      'NotOperator',
    );
    await avs.outsider.joinAttestation(batchId, attested, sig1!); // anyone may carry op1's signature
    expect(await avs.owner.joinersOf(batchId)).toEqual([
      { signer: await op1.address(), stake: 100n * TOKEN },
    ]);
    expect(await revertName(op1.joinAttestation(batchId, attested, sig1!))).toBe('AlreadySigned');
    expect(await revertName(op2.joinAttestation(batchId, attested, sig2!))).toBe('AlreadySigned');
    const claimable = async (who: AvsClient) =>
      (await avs.owner.service.getFunction('claimable')(await who.address())) as bigint;
    const before = await Promise.all([op1, op2, op3].map(claimable));
    await mine(avs.provider, 11);
    await op3.finalize(batchId, attested);
    const after = await Promise.all([op1, op2, op3].map(claimable));
    // stakes 100 : 200 : 300 of a 6,000 wei fee
    expect(after.map((x, i) => x - before[i]!)).toEqual([1_000n, 2_000n, 3_000n]);
  }, 120_000);

  it('a signer that joined a false attestation is slashed with the others; it cannot wait to see whether it is challenged', async () => {
    const avs = await setUpLocalAvs(chain.url, [a]);
    const [op1, op2, op3] = avs.operators as [AvsClient, AvsClient, AvsClient];
    /** A false batch attested by op2 and op3, op1's signature of it left out. */
    const leftOut = async (i: number) => {
      const { taskId, batch } = await falseBatch(avs, i);
      const [sig1, sig2, sig3] = await signBy(batch, [op1, op2, op3]);
      const { batchId, attested } = await op3.attest(batch, [sig2!, sig3!]);
      return { taskId, batchId, attested, sig1: sig1! };
    };
    const overturn = async (b: Awaited<ReturnType<typeof leftOut>>, i: number) => {
      const p = await truth(avs.outsider, b.taskId, i);
      return avs.outsider.challenge(b.batchId, b.attested, 0, p.proof, p.publicSignals);
    };
    // joined, then overturned: slashed like the signers
    const first = await leftOut(9);
    await op1.joinAttestation(first.batchId, first.attested, first.sig1);
    const before = await stakeOf(avs, op1);
    const receipt = await overturn(first, 9);
    expect(avs.owner.events(receipt).filter((e) => e.name === 'OperatorSlashed')).toHaveLength(3);
    expect(await stakeOf(avs, op1)).toBe(before - before / 10n);
    // overturned first: the batch takes no joiner
    const second = await leftOut(10);
    await overturn(second, 10);
    expect(await revertName(op1.joinAttestation(second.batchId, second.attested, second.sig1))).toBe(
      'NotAttested',
    );
    // not challenged by halfway through the window (10 blocks): too late to join
    const third = await leftOut(11);
    await mine(avs.provider, 6);
    expect(await revertName(op1.joinAttestation(third.batchId, third.attested, third.sig1))).toBe(
      'JoinClosed',
    );
  }, 120_000);

  it('a fee above uint96 is refused, not truncated', async () => {
    const avs = await setUpLocalAvs(chain.url, [a]);
    await avs.provider.send('hardhat_setBalance', [
      await avs.owner.address(),
      `0x${(2n ** 100n).toString(16)}`,
    ]);
    const block = await avs.provider.getBlockNumber();
    const name = await revertName(
      avs.owner.createTask(
        modelId,
        await inputHashOf(inputs[7]!, a.manifest.input),
        BigInt(block + 50),
        2n ** 96n,
      ),
    );
    expect(name).toBe('FeeTooLarge');
  }, 120_000);
});
