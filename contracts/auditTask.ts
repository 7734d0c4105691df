import { readFile } from 'node:fs/promises';
import { AbiCoder, Contract, keccak256 } from 'ethers';
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

/**
 * Re-verifies a task from the chain's data alone: the TaskCreated event, the stored task hash, the
 * settling event (proof and public signals), the model's registered key. The verification key is
 * supplied by the auditor and must be the one the chain holds (the registry computed vkHash from it).
 */
export async function auditTask(
  rpc: string,
  deployment: Deployment,
  taskId: number,
  vkeyPath: string,
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
    const [key, vkHash, numPublic] = (await service.getFunction('modelOf')(task[0])) as [
      string,
      string,
      bigint,
    ];
    const vkey = JSON.parse(await readFile(vkeyPath, 'utf8')) as SnarkjsVkey;
    const encoded = encodeVerifyingKey(vkey);
    check('vkey hashes to the registered vkHash', keccak256(encoded) === vkHash, `${vkHash} (key ${key})`);
    // the hash was computed by the registry; the key contract's code is what settlement verifies with
    const code = await provider.getCode(key);
    check(
      'the key the chain verifies with is this vkey',
      code.toLowerCase() === `0x00${encoded.slice(2)}`.toLowerCase(),
      `${(code.length - 2) / 2} bytes at ${key}`,
    );
    const settle =
      status === 'Proven' ? 'TaskProven' : status === 'Overturned' ? 'ChallengeSucceeded' : undefined;
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
    // ChallengeSucceeded(taskId, challenger, provenResultHash, slashed, proof, publicSignals)
    const at = settle === 'TaskProven' ? 3 : 4;
    const sp = log.args[at] as unknown as bigint[][] & { a: bigint[]; b: bigint[][]; c: bigint[] };
    const pub = (log.args[at + 1] as bigint[]).map((v) => v.toString());
    // the prover is the caller the task manager saw (an operator's contract wallet, not its signer)
    const prover = String(log.args[1]);
    check('public signal count = registered numPublic', BigInt(pub.length) === numPublic, `${pub.length}`);
    check(
      'input hash = task input commitment',
      pub[pub.length - 2] === (task[1] as bigint).toString(),
      pub[pub.length - 2] ?? '',
    );
    const network = await provider.getNetwork();
    const binding = taskBinding(network.chainId, deployment.taskManager, taskId, prover);
    check(
      'binding = keccak(chain, task manager, task, prover) mod r',
      pub[pub.length - 1] === binding.toString(),
      `prover ${prover}`,
    );
    const proof = fromSolidityProof(sp);
    const v = await verifyProof(vkey, pub, proof);
    check('Groth16 proof verifies off-chain', v.ok, v.ok ? 'pairing holds' : `${v.reason}: ${v.detail}`);
    const resultHash = resultHashOf(pub);
    const logged = log.args[2] as string;
    check('result hash in the event = keccak(outputs)', resultHash === logged, resultHash);
    return { status, checks, proven: true };
  } finally {
    provider.destroy();
  }
}
