import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContractFactory, type Interface, type JsonRpcProvider, ZeroAddress } from 'ethers';
import type { Groth16Proof } from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifacts } from '../circuits/artifacts.ts';
import { inputHashOf } from '../circuits/inputHash.ts';
import { proveOnce } from '../prover/proveOnce.ts';
import { zkinfer } from '../test/helpers/cli.ts';
import { HASHED_MLP_DIR, holdoutInputs } from '../test/helpers/fixtures.ts';
import { setUpModel } from '../test/helpers/provedModel.ts';
import { revertName } from '../test/helpers/revert.ts';
import { type AttestationBatch, type AvsClient, type AvsTask, toSolidityProof } from './avsClient.ts';
import { compileSources } from './compileSolidity.ts';
import { setUpLocalAvs } from './localAvs.ts';
import { type LocalChain, startHardhatNode } from './localChain.ts';
import { TASK_STATUS } from './settlementMath.ts';
import { encodeVerifyingKey, type SnarkjsVkey, vkHashOf } from './verifyingKey.ts';

let chain: LocalChain;
let provider: JsonRpcProvider;
let owner: AvsClient; // deployer, also the consumer
let ops: AvsClient[]; // three registered operators
let outsider: AvsClient;
let a: Artifacts;
let modelId: string;
const inputs = holdoutInputs('mlp-digits');
const gas: Record<string, bigint> = {};

async function mine(blocks: number): Promise<void> {
  await provider.send('hardhat_mine', [`0x${blocks.toString(16)}`]);
}

async function newTask(
  input: ArrayLike<number>,
  deadlineIn = 50,
  fee = 10n ** 15n,
): Promise<{ taskId: number; task: AvsTask }> {
  const block = await provider.getBlockNumber();
  return owner.createTask(
    modelId,
    await inputHashOf(input, a.manifest.input),
    BigInt(block + deadlineIn),
    fee,
  );
}

/** Proves `input` for (taskId, prover): the binding is the contract's own bindingOf. */
async function proveFor(client: AvsClient, taskId: number, input: ArrayLike<number>) {
  return proveOnce(a, input, await client.bindingOf(taskId));
}

/** Proves as a user would, with `zkinfer prove`, bound to (taskId, client); returns the bundle. */
async function proveWithCli(
  client: AvsClient,
  taskId: number,
  inputFile: string,
  out: string,
  ...extra: string[]
) {
  const binding = await client.bindingOf(taskId);
  const proved = await zkinfer(
    'prove',
    a.dir,
    '--input',
    inputFile,
    '--binding',
    binding.toString(),
    '--out',
    out,
    ...extra,
  );
  expect(proved.code).toBe(0);
  return JSON.parse(await readFile(join(out, 'bundle.json'), 'utf8')) as {
    proof: Groth16Proof;
    publicSignals: string[];
  };
}

/** `zkinfer audit task` as an auditor runs it, with the model's key from the artifacts unless told. */
function auditTaskCli(taskId: string, deploymentFile: string, ...key: string[]) {
  return zkinfer(
    'audit',
    'task',
    taskId,
    '--rpc',
    chain.url,
    '--deployment',
    deploymentFile,
    ...(key.length > 0 ? key : ['--artifacts', a.dir]),
  );
}

beforeAll(async () => {
  a = await setUpModel('mlp-digits', HASHED_MLP_DIR); // 3 public signals: outputHash, inputHash, binding
  modelId = a.manifest.setup!.modelId;
  chain = await startHardhatNode();
  const avs = await setUpLocalAvs(chain.url, [a]);
  provider = avs.provider;
  owner = avs.owner;
  ops = avs.operators;
  outsider = avs.outsider;
}, 300_000);

afterAll(async () => {
  await chain?.stop();
});

describe('AVS contracts on a real local node', () => {
  it('proven path: a proof settles the task and pays the operator (pull)', async () => {
    const { taskId, task } = await newTask(inputs[0]!);
    const bundle = await proveFor(ops[0]!, taskId, inputs[0]!);
    const receipt = await ops[0]!.submitProven(taskId, task, bundle.proof, bundle.publicSignals);
    gas['submitProven'] = receipt.gasUsed;
    expect(await ops[0]!.status(taskId)).toBe(2);
    expect(await owner.service.getFunction('claimable')(await ops[0]!.address())).toBe(task.fee);
    const claim = await ops[0]!.claim();
    expect(claim.status).toBe(1);
    // double submission and a replay of the same proof on another task are refused by name
    expect(await revertName(ops[0]!.submitProven(taskId, task, bundle.proof, bundle.publicSignals))).toBe(
      'TaskNotOpen',
    );
    const other = await newTask(inputs[0]!);
    expect(
      await revertName(ops[0]!.submitProven(other.taskId, other.task, bundle.proof, bundle.publicSignals)),
    ).toBe('BindingMismatch');
    // another operator cannot take over the proof either (its binding differs)
    const stolen = await newTask(inputs[0]!);
    const mine_ = await proveFor(ops[0]!, stolen.taskId, inputs[0]!);
    expect(
      await revertName(ops[1]!.submitProven(stolen.taskId, stolen.task, mine_.proof, mine_.publicSignals)),
    ).toBe('BindingMismatch');
  });

  it('proofs from both engines settle on chain; the CLI names a bad --engine', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-engines-'));
    await writeFile(join(dir, 'x.json'), JSON.stringify({ input: Array.from(inputs[5]!) }));
    for (const engine of ['native-cache', 'snarkjs']) {
      const { taskId, task } = await newTask(inputs[5]!);
      const bundle = await proveWithCli(
        ops[2]!,
        taskId,
        join(dir, 'x.json'),
        join(dir, engine),
        '--engine',
        engine,
      );
      await ops[2]!.submitProven(taskId, task, bundle.proof, bundle.publicSignals);
      expect(TASK_STATUS[await ops[2]!.status(taskId)]).toBe('Proven');
    }
    const bad = await zkinfer(
      'prove',
      a.dir,
      '--input',
      join(dir, 'x.json'),
      '--out',
      dir,
      '--engine',
      'nope',
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--engine must be one of native-cache, snarkjs, got "nope"/);
  });

  it('zkinfer audit task re-verifies a settled task from the chain alone; a wrong key fails it', async () => {
    const { taskId, task } = await newTask(inputs[8]!);
    // the operator proves with the CLI, exactly as a user would, bound to this task and itself
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-audit-'));
    await writeFile(join(dir, 'x.json'), JSON.stringify({ input: Array.from(inputs[8]!) }));
    const bundle = await proveWithCli(ops[1]!, taskId, join(dir, 'x.json'), join(dir, 'proof'));
    await ops[1]!.submitProven(taskId, task, bundle.proof, bundle.publicSignals);
    const deploymentFile = join(dir, 'deployment.json');
    await writeFile(deploymentFile, JSON.stringify(owner.deployment));
    const ok = await auditTaskCli(String(taskId), deploymentFile);
    expect(ok.stdout).toMatch(/task audit passed/);
    expect(ok.code).toBe(0);
    const otherKey = join(dir, 'other-vkey.json');
    const vk = JSON.parse(await readFile(a.paths.vkey, 'utf8')) as { IC: string[][] };
    vk.IC = [vk.IC[0]!, vk.IC[2]!, vk.IC[1]!, ...vk.IC.slice(3)]; // well-formed, but another key
    await writeFile(otherKey, JSON.stringify(vk));
    const bad = await auditTaskCli(String(taskId), deploymentFile, '--vkey', otherKey);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/FAIL vkey hashes to the registered vkHash/);
    expect(bad.stdout).toMatch(/FAIL Groth16 proof verifies off-chain/);
    expect(bad.stdout).toMatch(/FAIL the key the chain verifies with is this vkey/);
    expect(ok.stdout).toMatch(/ok {3}the key the chain verifies with is this vkey/);

    // an optimistic result that finalized without a proof is reported as such, never as verified
    const attestedTask = await newTask(inputs[9]!);
    const batch: AttestationBatch = {
      taskIds: [attestedTask.taskId],
      tasks: [attestedTask.task],
      resultHashes: [await owner.resultHashOf(bundle.publicSignals)],
    };
    const sigs = await signAll(batch);
    const { batchId, attested: recorded } = await ops[0]!.attest(batch, sigs);
    await mine(11);
    await ops[0]!.finalize(batchId, recorded);
    const attested = await auditTaskCli(String(attestedTask.taskId), deploymentFile);
    expect(attested.code).toBe(2);
    expect(attested.stdout).toMatch(/FAIL status Finalized: attested, not proven/);
    expect(attested.stdout).toMatch(/task audit: attested, not proven/);
  });

  it('refuses a wrong model, a wrong input commitment, a non-operator and a bad proof, by name', async () => {
    const block = await provider.getBlockNumber();
    expect(await revertName(owner.createTask('ab'.repeat(32), 1n, BigInt(block + 10), 1n))).toBe(
      'UnknownModel',
    );
    const { taskId, task } = await newTask(inputs[1]!);
    const wrongInput = await proveFor(ops[0]!, taskId, inputs[2]!);
    expect(
      await revertName(ops[0]!.submitProven(taskId, task, wrongInput.proof, wrongInput.publicSignals)),
    ).toBe('InputCommitmentMismatch');
    const forOutsider = await proveFor(outsider, taskId, inputs[1]!);
    expect(
      await revertName(outsider.submitProven(taskId, task, forOutsider.proof, forOutsider.publicSignals)),
    ).toBe('NotOperator');
    const good = await proveFor(ops[0]!, taskId, inputs[1]!);
    const bad = { ...good.proof, pi_a: [good.proof.pi_c[0]!, good.proof.pi_c[1]!, '1'] };
    expect(await revertName(ops[0]!.submitProven(taskId, task, bad, good.publicSignals))).toBe(
      'InvalidProof',
    );
    const tampered = { ...task, fee: task.fee + 1n };
    expect(await revertName(ops[0]!.submitProven(taskId, tampered, good.proof, good.publicSignals))).toBe(
      'TaskMismatch',
    );
  });

  it('the registry writes the key itself: vkHash is its keccak, proofs are checked against it, malformed keys are refused', async () => {
    const vkey = JSON.parse(await readFile(a.paths.vkey, 'utf8')) as SnarkjsVkey;
    const [key, vkHash, numPublic] = (await owner.service.getFunction('modelOf')(`0x${modelId}`)) as [
      string,
      string,
      bigint,
    ];
    expect(vkHash).toBe(vkHashOf(vkey));
    expect(await provider.getCode(key)).toBe(`0x00${encodeVerifyingKey(vkey).slice(2)}`);
    expect(numPublic).toBe(BigInt(a.manifest.publicSignals.names.length));
    const register = (id: string, bytes: string) =>
      revertName(owner.send(owner.service, 'registerModel', [id, bytes]));
    expect(await register(`0x${modelId}`, encodeVerifyingKey(vkey))).toBe('ModelExists');
    for (const bytes of ['0x', `0x${'11'.repeat(33)}`, `0x${'00'.repeat(32 * 18)}`]) // 18 words: 1 public signal
      expect(await register(`0x${'77'.repeat(32)}`, bytes)).toBe('BadModel');
    // the same proof under another key (IC points swapped) is refused
    const other = { ...vkey, IC: [vkey.IC[0]!, vkey.IC[2]!, vkey.IC[1]!, ...vkey.IC.slice(3)] };
    const otherModel = `0x${'5a'.repeat(32)}`;
    await owner.send(owner.service, 'registerModel', [otherModel, encodeVerifyingKey(other)]);
    const block = await provider.getBlockNumber();
    const commitment = await inputHashOf(inputs[3]!, a.manifest.input);
    const ours = await newTask(inputs[3]!);
    const theirs = await owner.createTask(otherModel.slice(2), commitment, BigInt(block + 50), 1n);
    const p = await proveFor(ops[0]!, theirs.taskId, inputs[3]!);
    expect(await revertName(ops[0]!.submitProven(theirs.taskId, theirs.task, p.proof, p.publicSignals))).toBe(
      'InvalidProof',
    );
    // and the contract's own verifier agrees with snarkjs on a valid proof
    const q = await proveFor(ops[0]!, ours.taskId, inputs[3]!);
    await ops[0]!.submitProven(ours.taskId, ours.task, q.proof, q.publicSignals);
    expect(TASK_STATUS[await ops[0]!.status(ours.taskId)]).toBe('Proven');
  });

  /** Signatures of every operator over a batch. */
  async function signAll(batch: AttestationBatch, signers = ops) {
    return Promise.all(
      signers.map(async (o) => ({
        signer: await o.address(),
        signature: await o.signAttestation(batch),
      })),
    );
  }

  it('optimistic path: a stake quorum attests, the window passes, finalize pays signers pro rata', async () => {
    const { taskId, task } = await newTask(inputs[3]!, 50, 6_000n);
    const truth = await proveFor(ops[0]!, taskId, inputs[3]!);
    const batch: AttestationBatch = {
      taskIds: [taskId],
      tasks: [task],
      resultHashes: [await owner.resultHashOf(truth.publicSignals)],
    };
    const signed = await signAll(batch);
    // two of three by stake (100 + 200 of 600) miss a 2/3 quorum
    expect(await revertName(ops[0]!.attest(batch, signed.slice(0, 2)))).toBe('QuorumNotMet');
    const before = await Promise.all(
      ops.map(async (o) => (await owner.service.getFunction('claimable')(await o.address())) as bigint),
    );
    const { batchId, attested } = await ops[0]!.attest(batch, signed);
    expect(attested.stakes).toEqual([...attested.signers].map(() => expect.any(BigInt)));
    expect(await revertName(ops[0]!.finalize(batchId, attested))).toBe('ChallengeWindowOpen');
    expect(await revertName(ops[0]!.attest(batch, signed))).toBe('TaskNotOpen');
    // the recorded stakes are part of the batch: inflating one's own is refused
    const inflated = { ...attested, stakes: attested.stakes.map((x, i) => (i === 0 ? x * 2n : x)) };
    await mine(11);
    expect(await revertName(ops[0]!.finalize(batchId, inflated))).toBe('BatchMismatch');
    await ops[0]!.finalize(batchId, attested);
    const after = await Promise.all(
      ops.map(async (o) => (await owner.service.getFunction('claimable')(await o.address())) as bigint),
    );
    expect(after.map((x, i) => x - before[i]!)).toEqual([1_000n, 2_000n, 3_000n]);
  });

  it('gas: a batch of 4 attested results with 3 signers settles within 150k per result', async () => {
    const batch = { taskIds: [] as number[], tasks: [] as AvsTask[], resultHashes: [] as string[] };
    for (let k = 0; k < 4; k++) {
      const t = await newTask(inputs[10 + k]!, 50, 4_000n);
      batch.taskIds.push(t.taskId);
      batch.tasks.push(t.task);
      batch.resultHashes.push(`0x${String(k + 1).padStart(64, '0')}`);
    }
    const signed = await signAll(batch);
    const { batchId, receipt, attested } = await ops[1]!.attest(batch, signed);
    await mine(11);
    const fin = await ops[1]!.finalize(batchId, attested);
    gas['optimistic per result (batch of 4, 3 signers)'] = (receipt.gasUsed + fin.gasUsed) / 4n;
    expect(gas['optimistic per result (batch of 4, 3 signers)']!).toBeLessThanOrEqual(150_000n);
    for (const id of batch.taskIds) expect(await ops[0]!.status(id)).toBe(4);
  });

  it('a successful challenge slashes every signer through EigenLayer (shares burned), pays the challenger bond and bounty, refunds the consumer; a failed one loses the bond', async () => {
    const { taskId, task } = await newTask(inputs[4]!, 50, 5_000n);
    const batch: AttestationBatch = {
      taskIds: [taskId],
      tasks: [task],
      resultHashes: [`0x${'11'.repeat(32)}`],
    };
    const signed = await signAll(batch);
    const { batchId, attested } = await ops[0]!.attest(batch, signed);
    const stakeBefore = await Promise.all(ops.map(async (o) => owner.sharesOf(await o.address())));
    const proof = await proveFor(outsider, taskId, inputs[4]!);
    const claimable = async (who: string) => (await owner.service.getFunction('claimable')(who)) as bigint;
    const consumerBefore = await claimable(await owner.address());
    const challengerBefore = await claimable(await outsider.address());
    const receipt = await outsider.challenge(batchId, attested, 0, proof.proof, proof.publicSignals);
    const names = owner.events(receipt).map((e) => e.name);
    expect(names.filter((n) => n === 'OperatorSlashed')).toHaveLength(3);
    expect(names).toContain('ChallengeSucceeded');
    const stakeAfter = await Promise.all(ops.map(async (o) => owner.sharesOf(await o.address())));
    stakeAfter.forEach((x, i) => expect(x).toBe(stakeBefore[i]! - stakeBefore[i]! / 10n));
    const slashed = stakeBefore.reduce((x, y) => x + y, 0n) / 10n;
    // EigenLayer burns slashed shares: the tokens go to its default burn address, none to anyone
    expect(await owner.token.getFunction('balanceOf')('0x00000000000000000000000000000000000E16E4')).toBe(
      slashed,
    );
    expect(await owner.token.getFunction('balanceOf')(await outsider.address())).toBe(0n);
    const bounty = (await owner.tasks.getFunction('challengeBounty')()) as bigint;
    const bond = (await owner.tasks.getFunction('challengeBond')()) as bigint;
    expect((await claimable(await outsider.address())) - challengerBefore).toBe(bond + bounty);
    expect((await claimable(await owner.address())) - consumerBefore).toBe(5_000n); // the fee, back
    expect(await ops[0]!.status(taskId)).toBe(5);
    // a tampered batch is refused by name
    expect(
      await revertName(
        outsider.challenge(
          batchId,
          { ...attested, resultHashes: [`0x${'22'.repeat(32)}`] },
          0,
          proof.proof,
          proof.publicSignals,
        ),
      ),
    ).toBe('BatchMismatch');

    // an honest attestation survives a challenge: the challenger's bond is lost
    const honest = await newTask(inputs[5]!, 50, 5_000n);
    const truth = await proveFor(outsider, honest.taskId, inputs[5]!);
    const good: AttestationBatch = {
      taskIds: [honest.taskId],
      tasks: [honest.task],
      resultHashes: [await owner.resultHashOf(truth.publicSignals)],
    };
    const sigs = await signAll(good);
    const honestBatch = await ops[1]!.attest(good, sigs);
    const reserveBefore = (await owner.service.getFunction('bountyReserve')()) as bigint;
    const failed = await outsider.challenge(
      honestBatch.batchId,
      honestBatch.attested,
      0,
      truth.proof,
      truth.publicSignals,
    );
    const failedNames = owner.events(failed).map((e) => e.name);
    expect(failedNames).toContain('ChallengeFailed');
    expect((await owner.service.getFunction('bountyReserve')()) as bigint).toBe(reserveBefore + bond);
    expect(await ops[0]!.status(honest.taskId)).toBe(3); // still attested
  });

  it('refunds the fee after the deadline, and only then', async () => {
    const { taskId, task } = await newTask(inputs[6]!, 3, 7_777n);
    expect(await revertName(outsider.refund(taskId, task))).toBe('TaskNotExpired');
    await mine(4);
    const r = await outsider.refund(taskId, task);
    gas['refund'] = r.gasUsed;
    expect(await owner.service.getFunction('claimable')(await owner.address())).toBeGreaterThanOrEqual(
      7_777n,
    );
    const late = await proveFor(ops[0]!, taskId, inputs[6]!);
    expect(await revertName(ops[0]!.submitProven(taskId, task, late.proof, late.publicSignals))).toBe(
      'TaskNotOpen',
    );
  });

  it("an operator that is a contract wallet settles by proof, and zkinfer audit task takes the prover from the event, not the transaction's sender", async () => {
    // a minimal smart-contract wallet: its owner (an EOA) sends, the wallet is the operator
    const source = `// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
contract OperatorWallet {
    address public immutable owner;
    constructor() { owner = msg.sender; }
    function execute(address target, bytes calldata data) external returns (bytes memory ret) {
        require(msg.sender == owner, "not owner");
        bool ok;
        (ok, ret) = target.call(data);
        if (!ok) assembly { revert(add(ret, 32), mload(ret)) }
    }
}`;
    const c = (await compileSources({ 'OperatorWallet.sol': source }))['OperatorWallet']!;
    const deployed = await new ContractFactory(c.abi as never, c.bytecode, outsider.signer).deploy();
    const wallet = await deployed.getAddress();
    const exec = async (
      target: { getAddress(): Promise<string>; interface: Interface },
      fn: string,
      args: unknown[],
    ) => {
      const data = target.interface.encodeFunctionData(fn, args);
      return outsider.send(deployed as never, 'execute', [await target.getAddress(), data]);
    };
    const d = outsider.deployment;
    await owner.send(owner.token, 'mint', [wallet, 50n * 10n ** 18n]);
    await exec(outsider.token, 'approve', [d.strategyManager, 50n * 10n ** 18n]);
    await exec(outsider.delegation, 'registerAsOperator', [ZeroAddress, 0, '']);
    await exec(outsider.strategyManager, 'depositIntoStrategy', [d.strategies[0], d.token, 50n * 10n ** 18n]);
    await exec(outsider.allocation, 'modifyAllocations', [
      wallet,
      [{ operatorSet: outsider.operatorSet(), strategies: [d.strategies[0]], newMagnitudes: [10n ** 18n] }],
    ]);
    await exec(outsider.allocation, 'registerForOperatorSets', [
      wallet,
      { avs: d.serviceManager, operatorSetIds: [0], data: '0x' },
    ]);
    const { taskId, task } = await newTask(inputs[11]!);
    const bundle = await proveOnce(a, inputs[11]!, await outsider.bindingOf(taskId, wallet));
    await exec(outsider.tasks, 'submitProven', [
      taskId,
      task,
      toSolidityProof(bundle.proof),
      bundle.publicSignals.map(BigInt),
    ]);
    expect(TASK_STATUS[await owner.status(taskId)]).toBe('Proven');
    const dir = await mkdtemp(join(tmpdir(), 'zkinfer-wallet-'));
    const deploymentFile = join(dir, 'deployment.json');
    await writeFile(deploymentFile, JSON.stringify(d));
    const audit = await auditTaskCli(String(taskId), deploymentFile);
    expect(audit.stdout).toContain(`prover ${wallet}`);
    expect(audit.stdout).toMatch(/task audit passed/);
    expect(audit.code).toBe(0);
  });

  it('gas: proven settlement stays within 320k per result (3 public signals)', () => {
    // optimistic settlement in batches is the test above; scripts/bench/settlement-gas.ts reports all paths
    expect(gas['submitProven']!).toBeLessThanOrEqual(320_000n);
  });
});
