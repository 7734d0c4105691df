import type { Groth16Proof } from 'snarkjs';
import type {
  OpenedTask,
  ProofAndSignals,
  ProvenAnswer,
  Settlement,
  Settler,
} from '../verifier/gateway/settler.ts';
import type { AvsClient, AvsTask } from './avsClient.ts';
import { SettlementQueue } from './settlementQueue.ts';

/**
 * The gateway's settler: its operator creates a task per request (paying `feeWei`, deadline
 * `deadlineBlocks` ahead) and settles the verified proof by the proven path through the
 * persistent settlement queue, so a result whose transaction failed in transit is retried, never
 * lost, and never settled twice.
 */
export class GatewaySettler implements Settler {
  private readonly queue: SettlementQueue;
  private draining: Promise<void> | undefined;
  private readonly waiting = new Map<number, (s: Settlement) => void>();
  private closed = false;

  constructor(
    private readonly client: AvsClient,
    queueDb: string,
    private readonly feeWei: bigint,
    private readonly deadlineBlocks: number,
  ) {
    this.queue = new SettlementQueue(queueDb, client);
  }

  async registered(modelId: string): Promise<boolean> {
    const id = `0x${modelId}`;
    const [key] = (await this.client.service.getFunction('modelOf')(id)) as [string];
    if (BigInt(key) !== 0n) return true;
    return ((await this.client.service.getFunction('slicesOf')(id)) as string[]).length > 0;
  }

  async open(modelId: string, inputHash: bigint): Promise<OpenedTask> {
    const provider = this.client.signer.provider!;
    const [block, network] = await Promise.all([provider.getBlockNumber(), provider.getNetwork()]);
    const { taskId, task } = await this.client.createTask(
      modelId,
      inputHash,
      BigInt(block + this.deadlineBlocks),
      this.feeWei,
    );
    return {
      taskId,
      task,
      avs: {
        chainId: network.chainId.toString(),
        taskManager: this.client.deployment.taskManager,
        taskId,
        prover: await this.client.address(),
      },
    };
  }

  async settle(
    opened: OpenedTask,
    proven: ProvenAnswer,
    waitMs: number,
    onSettled: (s: Settlement) => void,
  ): Promise<Settlement> {
    const one = (p: ProofAndSignals) => ({ proof: p.proof as Groth16Proof, publicSignals: p.publicSignals });
    this.queue.enqueue({
      taskId: opened.taskId,
      task: opened.task as AvsTask,
      ...('slices' in proven ? { slices: proven.slices.map(one) } : one(proven)),
    });
    const deadline = Date.now() + waitMs;
    for (;;) {
      await this.queue.drainOnce();
      const s = this.settlementOf(opened.taskId);
      if (s.status !== 'pending' || Date.now() > deadline) {
        if (s.status === 'pending') {
          this.waiting.set(opened.taskId, onSettled);
          this.drainInBackground();
        }
        return s;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  private settlementOf(taskId: number): Settlement {
    const row = this.queue.rows().find((r) => r.taskId === taskId);
    return {
      taskId,
      status: row?.status ?? 'pending',
      txHash: row?.txHash ?? null,
      error: row?.lastError ?? null,
    };
  }

  /** Retries pending settlements until none is left (or the gateway stops), reporting each outcome. */
  private drainInBackground(): void {
    if (this.draining) return;
    this.draining = (async () => {
      while (!this.closed && this.waiting.size > 0) {
        await new Promise((r) => setTimeout(r, 1000));
        await this.queue.drainOnce().catch(() => {});
        for (const [taskId, report] of this.waiting) {
          const s = this.settlementOf(taskId);
          if (s.status !== 'pending') {
            this.waiting.delete(taskId);
            report(s);
          }
        }
      }
      this.draining = undefined;
    })();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.draining;
    this.queue.close();
  }
}
