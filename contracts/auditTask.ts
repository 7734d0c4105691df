import { AbiCoder, Contract, keccak256, type Provider } from 'ethers';
import { sha256Hex } from '../circuits/hashing.ts';
import { ZkinferError } from '../protocol/errors.ts';
import { verifyProof } from '../verifier/verifyProof.ts';
import type { Deployment } from './avsClient.ts';
import { compileAvs } from './compileSolidity.ts';
import { providerFor } from './localAvs.ts';
import { fromSolidityProof, resultHashOf, TASK_STATUS, taskBinding } from './settlementMath.ts';
import { encodeVerifyingKey, type SnarkjsVkey } from './verifyingKey.ts';

export interface AuditCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The auditor's verification key, or a sliced model's slice keys in order (as the gateway serves them). */
export type AuditKeys = SnarkjsVkey | { readonly slices: readonly SnarkjsVkey[] };

type SolProof = bigint[][] & { a: bigint[]; b: bigint[][]; c: bigint[] };

/**
 * Re-verifies a task from the chain's data alone: the TaskCreated event, the stored task hash, the
 * settling event (proof(s) and public signals), the model's registered key(s). The keys are
 * supplied by the auditor and must be the ones the chain holds (the registry computed each vkHash
 * from its key; a sliced model's id from its slices' ids).
 */
export async function auditTask(
  rpc: string,
  deployment: Deployment,
  taskId: number,
  keys: AuditKeys,
): Promise<{ status: string; checks: AuditCheck[]; proven: boolean }> {
  const compiled = await compileAvs();
  const provider = providerFor(rpc, 15_000);
  const tasks = new Contract(deployment.taskManager, compiled['TaskManager']!.abi as never, provider);
  const service = new Contract(deployment.serviceManager, compiled['ServiceManager']!.abi as never, provider);
  const checks: AuditCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  try {
    const created = await tasks.queryFilter(tasks.filters['TaskCreated']!(taskId), 0);
    const ev = created[0] as { args?: unknown[] } | undefined;
    if (!ev?.args)
      throw new ZkinferError('IO', `task ${taskId} has no TaskCreated event at ${deployment.taskManager}`);
    const t = ev.args[1] as unknown[];
    const task = [t[0], t[1], t[2], t[3], t[4], t[5]] as [string, bigint, string, bigint, bigint, bigint];
    const record = (await tasks.getFunction('records')(taskId)) as unknown[];
    const status = TASK_STATUS[Number(record[1])] ?? String(record[1]);
    const coder = AbiCoder.defaultAbiCoder();
    const taskHash = keccak256(coder.encode(['tuple(bytes32,uint256,address,uint96,uint64,uint64)'], [task]));
    check('stored task hash = keccak(TaskCreated task)', taskHash === record[0], taskHash);
    const sliceIds = (await service.getFunction('slicesOf')(task[0])) as string[];
    const vkeys = 'slices' in keys ? keys.slices : [keys];
    if (sliceIds.length > 0) {
      const ids = sliceIds.map((id) => id.slice(2));
      check(
        'model id = sha256 of its registered slices',
        `0x${sha256Hex(`zkinfer-sliced:${ids.join(',')}`)}` === task[0],
        `${ids.length} slices`,
      );
      check(
        'one key per registered slice',
        vkeys.length === ids.length,
        `${vkeys.length} keys given, ${ids.length} slices registered`,
      );
    } else if ('slices' in keys)
      check('the model is sliced on chain', false, 'one key expected, not slice keys');
    const models = sliceIds.length > 0 ? sliceIds : [task[0]];
    const numPublic: bigint[] = [];
    for (let k = 0; k < models.length; k++) {
      const [key, vkHash, n] = (await service.getFunction('modelOf')(models[k])) as [string, string, bigint];
      numPublic.push(n);
      const vkey = vkeys[k];
      const what = models.length > 1 ? `slice ${k} ` : '';
      if (!vkey) continue;
      await checkKey(provider, vkey, key, vkHash, what, check);
    }
    const settle =
      status === 'Proven'
        ? sliceIds.length > 0
          ? 'SlicedTaskProven'
          : 'TaskProven'
        : status === 'Overturned'
          ? 'ChallengeSucceeded'
          : undefined;
    if (!settle) {
      // an optimistic result stands on stake, not on a proof: an auditor must not read it as verified
      check(
        `status ${status}`,
        false,
        status === 'Finalized' || status === 'Attested'
          ? 'attested, not proven: no proof on chain to verify'
          : 'no result on chain to verify',
      );
      return { status, checks, proven: false };
    }
    const logs = await tasks.queryFilter(tasks.filters[settle]!(taskId), 0);
    const log = logs[0] as unknown as { args: unknown[] } | undefined;
    if (!log) throw new ZkinferError('IO', `task ${taskId} is ${status} but has no ${settle} event`);
    // TaskProven(taskId, operator, resultHash, proof, publicSignals);
    // SlicedTaskProven(taskId, operator, resultHash, proofs, publicSignals[]);
    // ChallengeSucceeded(taskId, challenger, provenResultHash, slashed, proof, publicSignals)
    const at = settle === 'ChallengeSucceeded' ? 4 : 3;
    const proofs = (settle === 'SlicedTaskProven' ? log.args[at] : [log.args[at]]) as SolProof[];
    const signals = (settle === 'SlicedTaskProven' ? log.args[at + 1] : [log.args[at + 1]]) as bigint[][];
    const pubs = signals.map((s) => s.map((v) => v.toString()));
    // the prover is the caller the task manager saw (an operator's contract wallet, not its signer)
    const prover = String(log.args[1]);
    const network = await provider.getNetwork();
    const binding = taskBinding(network.chainId, deployment.taskManager, taskId, prover).toString();
    check('one proof per slice', pubs.length === models.length, `${pubs.length} proofs`);
    let from = (task[1] as bigint).toString();
    for (let k = 0; k < Math.min(pubs.length, models.length); k++) {
      const pub = pubs[k]!;
      const what = models.length > 1 ? `slice ${k}: ` : '';
      check(
        `${what}public signal count = registered numPublic`,
        BigInt(pub.length) === numPublic[k],
        `${pub.length}`,
      );
      check(
        k === 0
          ? `${what}input hash = task input commitment`
          : `${what}input hash = slice ${k - 1}'s output hash`,
        pub[pub.length - 2] === from,
        pub[pub.length - 2] ?? '',
      );
      check(
        `${what}binding = keccak(chain, task manager, task, prover) mod r`,
        pub[pub.length - 1] === binding,
        `prover ${prover}`,
      );
      const vkey = vkeys[k];
      const v = vkey
        ? await verifyProof(vkey, pub, fromSolidityProof(proofs[k]!))
        : ({ ok: false, reason: 'malformed', detail: 'no key given' } as const);
      check(
        `${what}Groth16 proof verifies off-chain`,
        v.ok,
        v.ok ? 'pairing holds' : `${v.reason}: ${v.detail}`,
      );
      from = pub[0] ?? '';
    }
    const resultHash = resultHashOf(pubs[pubs.length - 1] ?? []);
    const logged = log.args[2] as string;
    check('result hash in the event = keccak(outputs)', resultHash === logged, resultHash);
    return { status, checks, proven: true };
  } finally {
    provider.destroy();
  }
}

/** The key hashes to the registered vkHash, and is the code the chain verifies with. */
async function checkKey(
  provider: Provider,
  vkey: SnarkjsVkey,
  key: string,
  vkHash: string,
  what: string,
  check: (name: string, ok: boolean, detail: string) => void,
): Promise<void> {
  const encoded = encodeVerifyingKey(vkey);
  check(
    `${what}vkey hashes to the registered vkHash`,
    keccak256(encoded) === vkHash,
    `${vkHash} (key ${key})`,
  );
  // the hash was computed by the registry; the key contract's code is what settlement verifies with
  const code = await provider.getCode(key);
  check(
    `${what}the key the chain verifies with is this vkey`,
    code.toLowerCase() === `0x00${encoded.slice(2)}`.toLowerCase(),
    `${(code.length - 2) / 2} bytes at ${key}`,
  );
}
