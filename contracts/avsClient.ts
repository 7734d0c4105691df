import {
  AbiCoder,
  Contract,
  type ContractTransactionReceipt,
  type Interface,
  keccak256,
  type Signer,
  ZeroAddress,
} from 'ethers';
import type { Groth16Proof } from 'snarkjs';
import { ZkinferError } from '../protocol/errors.ts';
import { type CompiledContract, compileAvs } from './compileSolidity.ts';
import { type CoreDeployment, type Deployment, deployContract } from './coreDeployment.ts';
import { type SolidityProof, toSolidityProof } from './settlementMath.ts';

/** A task as the contracts hash it (field order matters: keccak256(abi.encode(task))). */
export interface AvsTask {
  readonly modelId: string;
  readonly inputCommitment: bigint;
  readonly consumer: string;
  readonly fee: bigint;
  readonly createdBlock: bigint;
  readonly deadline: bigint;
}

/** Tasks attested together: one signature per signer covers every (task, result) pair. */
export interface AttestationBatch {
  readonly taskIds: readonly number[];
  readonly tasks: readonly AvsTask[];
  readonly resultHashes: readonly string[];
}

/** EigenLayer's Withdrawal struct, as queueWithdrawals logs it. */
export interface QueuedWithdrawal {
  readonly staker: string;
  readonly delegatedTo: string;
  readonly withdrawer: string;
  readonly nonce: bigint;
  readonly startBlock: bigint;
  readonly strategies: readonly string[];
  readonly scaledShares: readonly bigint[];
}

/** An attested batch as the chain recorded it: the signers and the stake each put behind it. */
export interface AttestedBatch extends AttestationBatch {
  readonly signers: readonly string[];
  readonly stakes: readonly bigint[];
}

/** A revert decoded into the contract's custom error (name and arguments). */
export class AvsError extends ZkinferError {
  override name = 'AvsError';
  constructor(
    readonly errorName: string,
    readonly args: readonly unknown[],
    cause?: unknown,
  ) {
    super('CHAIN_ERROR', `the contract refused: ${errorName}(${args.map(String).join(', ')})`, { cause });
  }
}

export interface AvsParams {
  /** Blocks during which an attestation can be challenged; must be under the core's DEALLOCATION_DELAY. */
  readonly challengeWindow: number;
  readonly quorumBps: number;
  /** Share of each signer's allocation a successful challenge slashes (1e18 = all). */
  readonly slashWad: bigint;
  readonly challengeBond: bigint;
  /** Minimum slashable stake (shares) every signer of an attestation must have. */
  readonly minSignerStake: bigint;
  /** Wei paid to a successful challenger from the bounty reserve (slashed shares are burned). */
  readonly challengeBounty: bigint;
  /** Wei the deployer puts in the bounty reserve at deployment. */
  readonly bountyReserve: bigint;
  readonly metadataURI: string;
}

export const DEFAULT_AVS_PARAMS: AvsParams = Object.freeze({
  challengeWindow: 10,
  quorumBps: 6667,
  slashWad: 10n ** 17n, // 10%
  challengeBond: 10n ** 16n,
  minSignerStake: 10n ** 18n,
  challengeBounty: 10n ** 16n,
  bountyReserve: 10n ** 18n,
  metadataURI: 'https://github.com/zkinfer/zkinfer#avs',
});

/** Full magnitude: an operator allocating this gives the operator set all of its delegated shares. */
export const WAD = 10n ** 18n;

/** The EIP-712 type an attestation signs (TaskManager.ATTESTATION_TYPEHASH). */
export const ATTESTATION_TYPES = {
  Attestation: [
    { name: 'taskIds', type: 'uint32[]' },
    { name: 'taskHashes', type: 'bytes32[]' },
    { name: 'resultHashes', type: 'bytes32[]' },
  ],
};

/** keccak256(abi.encode(task)), as the contracts store and sign it. */
export function taskHashOf(t: AvsTask): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ['tuple(bytes32,uint256,address,uint96,uint64,uint64)'],
      [[t.modelId, t.inputCommitment, t.consumer, t.fee, t.createdBlock, t.deadline]],
    ),
  );
}

/**
 * Deploys the AVS over EigenLayer core (the real one's addresses or the local mirror's) and
 * registers it there: metadata, operator set 0 over the core's strategies (the service manager is
 * its slasher), the registrar. The signer owns the service manager and funds the bounty reserve.
 */
export async function deployAvs(
  signer: Signer,
  core: CoreDeployment,
  params: AvsParams = DEFAULT_AVS_PARAMS,
): Promise<Deployment> {
  const c = await compileAvs();
  const sm = await deployContract(c['ServiceManager']!, signer, core.allocationManager);
  const registrar = await deployContract(
    c['Registrar']!,
    signer,
    core.allocationManager,
    await sm.getAddress(),
  );
  const tm = await deployContract(
    c['TaskManager']!,
    signer,
    await sm.getAddress(),
    core.allocationManager,
    0,
    core.strategies,
    params.challengeWindow,
    params.quorumBps,
    params.slashWad,
    params.challengeBond,
    params.minSignerStake,
    params.challengeBounty,
  );
  const wait = async (p: Promise<unknown>) => (await (p as Promise<{ wait(): Promise<unknown> }>)).wait();
  await wait(
    sm.getFunction('initializeAVS')(
      params.metadataURI,
      core.strategies,
      await registrar.getAddress(),
      await tm.getAddress(),
    ),
  );
  if (params.bountyReserve > 0n) await wait(sm.getFunction('fundBounty')({ value: params.bountyReserve }));
  return {
    ...core,
    serviceManager: await sm.getAddress(),
    registrar: await registrar.getAddress(),
    taskManager: await tm.getAddress(),
  };
}

type Call = (...args: unknown[]) => Promise<{ wait(): Promise<ContractTransactionReceipt | null> }>;

/**
 * Typed access to the AVS for one signer. Every action returns its receipt (gas included) and turns
 * a revert into an AvsError named after the contract's custom error.
 */
export class AvsClient {
  /** The strategies' underlying ERC-20 (the StakeToken ABI covers what is used of it). */
  readonly token: Contract;
  /** EigenLayer's AllocationManager, through its interface: the calls the real core receives. */
  readonly allocation: Contract;
  readonly delegation: Contract;
  readonly strategyManager: Contract;
  readonly service: Contract;
  readonly registrar: Contract;
  readonly tasks: Contract;
  private readonly interfaces: Interface[];

  private constructor(
    readonly deployment: Deployment,
    readonly signer: Signer,
    compiled: Record<string, CompiledContract>,
  ) {
    const at = (name: string, address: string) => new Contract(address, compiled[name]!.abi as never, signer);
    this.token = at('StakeToken', deployment.token);
    this.allocation = at('IAllocationManager', deployment.allocationManager);
    this.delegation = at('IDelegationManager', deployment.delegationManager);
    this.strategyManager = at('IStrategyManager', deployment.strategyManager);
    this.service = at('ServiceManager', deployment.serviceManager);
    this.registrar = at('Registrar', deployment.registrar);
    this.tasks = at('TaskManager', deployment.taskManager);
    // the mirror's ABIs only widen what reverts and logs can be decoded into
    const mirror = ['MirrorAllocationManager', 'MirrorDelegationManager'].map(
      (n) => new Contract(ZeroAddress, compiled[n]!.abi as never).interface,
    );
    this.interfaces = [
      ...[this.tasks, this.service, this.allocation, this.registrar, this.token, this.delegation].map(
        (x) => x.interface,
      ),
      ...mirror,
    ];
  }

  static async connect(deployment: Deployment, signer: Signer): Promise<AvsClient> {
    return new AvsClient(deployment, signer, await compileAvs());
  }

  async address(): Promise<string> {
    return this.signer.getAddress();
  }

  /** Sends a transaction; reverts become AvsError. */
  async send(
    contract: Contract,
    method: string,
    args: unknown[],
    value?: bigint,
  ): Promise<ContractTransactionReceipt> {
    try {
      const fn = contract.getFunction(method) as unknown as Call;
      const tx = await fn(...args, ...(value !== undefined ? [{ value }] : []));
      const receipt = await tx.wait();
      if (!receipt) throw new ZkinferError('IO', `no receipt for ${method}`);
      return receipt;
    } catch (e) {
      throw this.decode(e);
    }
  }

  /** Every event of the AVS contracts in a receipt, parsed (logs of other contracts are skipped). */
  events(receipt: ContractTransactionReceipt): { name: string; args: readonly unknown[] }[] {
    const out: { name: string; args: readonly unknown[] }[] = [];
    for (const log of receipt.logs) {
      for (const iface of this.interfaces) {
        const parsed = iface.parseLog(log);
        if (parsed) {
          out.push({ name: parsed.name, args: [...parsed.args] });
          break;
        }
      }
    }
    return out;
  }

  /** Turns an ethers error carrying revert data into an AvsError when one of our contracts defined it. */
  decode(e: unknown): unknown {
    const data = findRevertData(e);
    if (data) {
      for (const iface of this.interfaces) {
        try {
          const parsed = iface.parseError(data);
          if (parsed) return new AvsError(parsed.name, [...parsed.args], e);
        } catch {
          /* not this contract's error */
        }
      }
    }
    return e;
  }

  // --- operators (EigenLayer's own calls, in its order) ---

  /** The AVS's operator set, as EigenLayer names it. */
  operatorSet(): { avs: string; id: number } {
    return { avs: this.deployment.serviceManager, id: 0 };
  }

  /**
   * Becomes an EigenLayer operator (allocation delay 0: in force at once for a new operator),
   * deposits `amount` into the AVS's first strategy, allocates all of it to the operator set and
   * registers for the set. Each step is skipped when `steps` leaves it out.
   */
  async stakeAndRegister(
    amount: bigint,
    steps: { allocate?: boolean; register?: boolean } = {},
  ): Promise<void> {
    const me = await this.address();
    const strategy = this.deployment.strategies[0]!;
    if (!((await this.delegation.getFunction('isOperator')(me)) as boolean))
      await this.send(this.delegation, 'registerAsOperator', [ZeroAddress, 0, '']);
    if (amount > 0n) {
      await this.send(this.token, 'approve', [this.deployment.strategyManager, amount]);
      await this.send(this.strategyManager, 'depositIntoStrategy', [strategy, this.deployment.token, amount]);
    }
    if (steps.allocate !== false)
      await this.send(this.allocation, 'modifyAllocations', [
        me,
        [{ operatorSet: this.operatorSet(), strategies: [strategy], newMagnitudes: [WAD] }],
      ]);
    if (steps.register !== false) {
      await this.send(this.allocation, 'registerForOperatorSets', [
        me,
        { avs: this.deployment.serviceManager, operatorSetIds: [0], data: '0x' },
      ]);
      await this.send(this.service, 'touch', [me]);
    }
  }

  deregister(): Promise<ContractTransactionReceipt> {
    return this.address().then((me) =>
      this.send(this.allocation, 'deregisterFromOperatorSets', [
        { operator: me, avs: this.deployment.serviceManager, operatorSetIds: [0] },
      ]),
    );
  }

  /**
   * Queues a withdrawal of `shares` of the AVS's first strategy (they stop counting at once and
   * stay slashable for the core's withdrawal delay); returns EigenLayer's Withdrawal struct, which
   * completing it needs.
   */
  async queueWithdrawal(shares: bigint): Promise<QueuedWithdrawal> {
    const me = await this.address();
    const receipt = await this.send(this.delegation, 'queueWithdrawals', [
      [{ strategies: [this.deployment.strategies[0]], depositShares: [shares], __deprecated_withdrawer: me }],
    ]);
    const ev = this.events(receipt).find((e) => e.name === 'SlashingWithdrawalQueued');
    if (!ev) throw new ZkinferError('IO', 'queueWithdrawals emitted no SlashingWithdrawalQueued');
    const w = ev.args[1] as unknown as [string, string, string, bigint, bigint, string[], bigint[]];
    return {
      staker: w[0],
      delegatedTo: w[1],
      withdrawer: w[2],
      nonce: w[3],
      startBlock: w[4],
      strategies: [...w[5]],
      scaledShares: [...w[6]],
    };
  }

  /** Completes a queued withdrawal once its delay has passed, in tokens (what a slash left of it). */
  completeWithdrawal(w: QueuedWithdrawal): Promise<ContractTransactionReceipt> {
    return this.send(this.delegation, 'completeQueuedWithdrawal', [
      w,
      w.strategies.map(() => this.deployment.token),
      true,
    ]);
  }

  /** An operator's delegated shares in the AVS's strategies, summed. */
  async sharesOf(operator: string): Promise<bigint> {
    const shares = (await this.delegation.getFunction('getOperatorShares')(
      operator,
      this.deployment.strategies,
    )) as bigint[];
    return shares.reduce((x, y) => x + y, 0n);
  }

  // --- tasks ---
  async createTask(
    modelId: string,
    inputCommitment: bigint,
    deadline: bigint,
    fee: bigint,
  ): Promise<{ taskId: number; task: AvsTask; receipt: ContractTransactionReceipt }> {
    const receipt = await this.send(
      this.tasks,
      'createTask',
      [`0x${modelId}`, inputCommitment, deadline],
      fee,
    );
    const ev = this.events(receipt).find((e) => e.name === 'TaskCreated');
    if (!ev) throw new ZkinferError('IO', 'createTask emitted no TaskCreated');
    return { taskId: Number(ev.args[0]), task: taskFromEvent(ev.args[1]), receipt };
  }

  async bindingOf(taskId: number, prover?: string): Promise<bigint> {
    return (await this.tasks.getFunction('bindingOf')(taskId, prover ?? (await this.address()))) as bigint;
  }

  submitProven(
    taskId: number,
    task: AvsTask,
    proof: Groth16Proof,
    publicSignals: readonly string[],
  ): Promise<ContractTransactionReceipt> {
    return this.send(this.tasks, 'submitProven', [
      taskId,
      task,
      toSolidityProof(proof),
      publicSignals.map(BigInt),
    ]);
  }

  /** Settles a sliced model's task: one proof per slice, in slice order, chained on chain. */
  submitProvenSliced(
    taskId: number,
    task: AvsTask,
    slices: readonly { readonly proof: Groth16Proof; readonly publicSignals: readonly string[] }[],
  ): Promise<ContractTransactionReceipt> {
    return this.send(this.tasks, 'submitProvenSliced', [
      taskId,
      task,
      slices.map((s) => toSolidityProof(s.proof)),
      slices.map((s) => s.publicSignals.map(BigInt)),
    ]);
  }

  /**
   * Signs an attestation of a batch of (task, result) pairs as EIP-712 typed data bound to this
   * chain and this task manager (as an operator): it cannot be replayed elsewhere.
   */
  async signAttestation(batch: AttestationBatch, chainId?: bigint): Promise<string> {
    const id = chainId ?? (await this.signer.provider!.getNetwork()).chainId;
    return this.signer.signTypedData(
      { name: 'zkinfer', version: '1', chainId: id, verifyingContract: this.deployment.taskManager },
      ATTESTATION_TYPES,
      { taskIds: batch.taskIds, taskHashes: batch.tasks.map(taskHashOf), resultHashes: batch.resultHashes },
    );
  }

  /** Attests a batch (one task is a batch of one); signers are sorted here. */
  async attest(
    batch: AttestationBatch,
    signed: readonly { signer: string; signature: string }[],
  ): Promise<{ batchId: number; receipt: ContractTransactionReceipt; attested: AttestedBatch }> {
    const sorted = [...signed].sort((x, y) => compareAddresses(x.signer, y.signer));
    const receipt = await this.send(this.tasks, 'attest', [
      batch.taskIds,
      batch.tasks,
      batch.resultHashes,
      sorted.map((s) => s.signer),
      sorted.map((s) => s.signature),
    ]);
    const ev = this.events(receipt).find((e) => e.name === 'BatchAttested');
    if (!ev) throw new ZkinferError('IO', 'attest emitted no BatchAttested');
    return {
      batchId: Number(ev.args[0]),
      receipt,
      attested: {
        ...batch,
        signers: [...(ev.args[3] as string[])],
        stakes: [...(ev.args[4] as bigint[])],
      },
    };
  }

  /**
   * Adds `signer`'s signature of an attested batch that its submitter left out (during the
   * window): the signer is then paid with the batch and slashed with it.
   */
  async joinAttestation(
    batchId: number,
    batch: AttestedBatch,
    signed: { signer: string; signature: string },
  ): Promise<ContractTransactionReceipt> {
    return this.send(this.tasks, 'joinAttestation', [
      batchId,
      batchArg(batch),
      batch.tasks,
      signed.signer,
      signed.signature,
    ]);
  }

  /** The signers who joined batch `batchId` after it was attested, with their stakes. */
  async joinersOf(batchId: number): Promise<{ signer: string; stake: bigint }[]> {
    const [signers, stakes] = (await this.tasks.getFunction('joinersOf')(batchId)) as [string[], bigint[]];
    return signers.map((signer, i) => ({ signer, stake: stakes[i]! }));
  }

  /** Challenges task `batch.taskIds[index]` of an attested batch with a proof (the bond is sent). */
  async challenge(
    batchId: number,
    batch: AttestedBatch,
    index: number,
    proof: Groth16Proof,
    publicSignals: readonly string[],
  ): Promise<ContractTransactionReceipt> {
    const bond = (await this.tasks.getFunction('challengeBond')()) as bigint;
    return this.send(
      this.tasks,
      'challenge',
      [
        batchId,
        batchArg(batch),
        index,
        batch.tasks[index],
        toSolidityProof(proof),
        publicSignals.map(BigInt),
      ],
      bond,
    );
  }

  finalize(batchId: number, batch: AttestedBatch): Promise<ContractTransactionReceipt> {
    return this.send(this.tasks, 'finalize', [batchId, batchArg(batch), batch.tasks]);
  }

  refund(taskId: number, task: AvsTask): Promise<ContractTransactionReceipt> {
    return this.send(this.tasks, 'refund', [taskId, task]);
  }

  claim(): Promise<ContractTransactionReceipt> {
    return this.send(this.service, 'claim', []);
  }

  async resultHashOf(publicSignals: readonly string[]): Promise<string> {
    return (await this.tasks.getFunction('resultHashOf')(publicSignals.map(BigInt))) as string;
  }

  async status(taskId: number): Promise<number> {
    const r = (await this.tasks.getFunction('records')(taskId)) as unknown[];
    return Number(r[1]);
  }
}

export type { Deployment, SolidityProof };
export { toSolidityProof };

/** Ascending by numeric value, the order the contracts require of signers. */
function compareAddresses(x: string, y: string): number {
  return BigInt(x) < BigInt(y) ? -1 : BigInt(x) > BigInt(y) ? 1 : 0;
}

export function sortAddresses(a: readonly string[]): string[] {
  return [...a].sort(compareAddresses);
}

/** The contract's Batch struct: what the chain recorded, re-supplied in calldata. */
function batchArg(b: AttestedBatch) {
  return { taskIds: b.taskIds, resultHashes: b.resultHashes, signers: b.signers, stakes: b.stakes };
}

/** A task from a TaskCreated event's struct (an ethers Result, or its JSON with decimal strings). */
export function taskFromEvent(t: unknown): AvsTask {
  const x = t as unknown[];
  return {
    modelId: String(x[0]),
    inputCommitment: BigInt(x[1] as bigint),
    consumer: String(x[2]),
    fee: BigInt(x[3] as bigint),
    createdBlock: BigInt(x[4] as bigint),
    deadline: BigInt(x[5] as bigint),
  };
}

function findRevertData(e: unknown): string | undefined {
  const seen = new Set<unknown>();
  const walk = (x: unknown): string | undefined => {
    if (!x || typeof x !== 'object' || seen.has(x)) return undefined;
    seen.add(x);
    const o = x as Record<string, unknown>;
    if (typeof o['data'] === 'string' && /^0x[0-9a-fA-F]{8}/.test(o['data'])) return o['data'];
    for (const k of ['error', 'info', 'cause', 'revert']) {
      const found = walk(o[k]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(e);
}
