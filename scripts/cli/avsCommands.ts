import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { openArtifacts } from '../../circuits/artifacts.ts';
import { isSlicedDir } from '../../circuits/slicedManifest.ts';
import { openSliced, slicedModelId } from '../../circuits/slicedModel.ts';
import { AvsClient, DEFAULT_AVS_PARAMS, deployAvs } from '../../contracts/avsClient.ts';
import { deployMirrorCore, readCoreDeployment, readDeployment } from '../../contracts/coreDeployment.ts';
import { providerFor } from '../../contracts/localAvs.ts';
import { registerAnyModel } from '../../contracts/registerModel.ts';
import { InvalidInputError } from '../../protocol/errors.ts';
import { EXIT, type Io } from './output.ts';
import { type KeyOptions, signerFrom } from './signer.ts';

function positiveInt(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidInputError(`${name} must be a positive integer, got "${v}"`, 'INVALID_OPTION');
  return n;
}

export function registerAvsCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const avs = program.command('avs').description('the AVS contracts on an EVM chain');
  avs
    .command('deploy')
    .description(
      'deploy the AVS over EigenLayer core: the existing core named by --core, or else a local mirror of it; write the deployment file',
    )
    .requiredOption('--rpc <url>', 'JSON-RPC endpoint')
    .requiredOption('--out <file>', 'where to write the deployment (contract addresses, JSON)')
    .option(
      '--core <file>',
      'EigenLayer core addresses (JSON: allocationManager, delegationManager, strategyManager, strategies, token)',
    )
    .option(
      '--model <dir...>',
      "artifact directories (with keys) whose verification keys to register; a sliced model's directory registers its slices",
    )
    .option(
      '--challenge-window <blocks>',
      'blocks an attestation can be challenged (under the core DEALLOCATION_DELAY)',
    )
    .option('--quorum-bps <n>', "attestation quorum, basis points of the members' slashable stake")
    .option('--dev-account <n>', "deployer: account n of a local node's development mnemonic (default 0)")
    .option('--key-env <var>', 'deployer: the private key held in this environment variable')
    .action(
      async (
        opts: KeyOptions & {
          rpc: string;
          out: string;
          core?: string;
          model?: string[];
          challengeWindow?: string;
          quorumBps?: string;
        },
      ) => {
        const params = {
          ...DEFAULT_AVS_PARAMS,
          challengeWindow: positiveInt(
            '--challenge-window',
            opts.challengeWindow,
            DEFAULT_AVS_PARAMS.challengeWindow,
          ),
          quorumBps: positiveInt('--quorum-bps', opts.quorumBps, DEFAULT_AVS_PARAMS.quorumBps),
        };
        if (params.quorumBps > 10_000)
          throw new InvalidInputError(
            `--quorum-bps must be at most 10000, got ${params.quorumBps}`,
            'INVALID_OPTION',
          );
        const models = await Promise.all(
          (opts.model ?? []).map((d) => (isSlicedDir(d) ? openSliced(d) : openArtifacts(d))),
        );
        const provider = providerFor(opts.rpc, 30_000);
        try {
          const signer = signerFrom(opts, provider);
          const core = opts.core ? await readCoreDeployment(opts.core) : await deployMirrorCore(signer);
          const deployment = await deployAvs(signer, core, params);
          const owner = await AvsClient.connect(deployment, signer);
          for (const a of models) await registerAnyModel(owner, a);
          await writeFile(opts.out, `${JSON.stringify(deployment, null, 2)}\n`);
          io.out(
            JSON.stringify({
              ok: true,
              core: opts.core ? 'existing' : 'local mirror',
              deployment: opts.out,
              ...deployment,
              models: models.map((a) => ('slices' in a ? slicedModelId(a) : a.manifest.setup?.modelId)),
            }),
          );
        } finally {
          provider.destroy();
        }
        setExit(EXIT.ok);
      },
    );
  avs
    .command('join')
    .description(
      "become an operator of the AVS: register with EigenLayer, deposit, allocate to the AVS's operator set, register for it",
    )
    .requiredOption('--rpc <url>', 'JSON-RPC endpoint')
    .requiredOption('--deployment <file>', 'the AVS deployment (contract addresses, JSON)')
    .requiredOption(
      '--amount <wei>',
      'the strategy token amount to deposit (0: allocate what is deposited already)',
    )
    .option('--dev-account <n>', "the operator: account n of a local node's development mnemonic")
    .option('--key-env <var>', 'the operator: the private key held in this environment variable')
    .action(async (opts: KeyOptions & { rpc: string; deployment: string; amount: string }) => {
      if (!/^\d+$/.test(opts.amount))
        throw new InvalidInputError(
          `--amount must be a whole number of wei, got "${opts.amount}"`,
          'INVALID_OPTION',
        );
      const provider = providerFor(opts.rpc, 30_000);
      try {
        const client = await AvsClient.connect(
          await readDeployment(opts.deployment),
          signerFrom(opts, provider),
        );
        await client.stakeAndRegister(BigInt(opts.amount));
        const me = await client.address();
        io.out(JSON.stringify({ ok: true, operator: me, shares: String(await client.sharesOf(me)) }));
      } finally {
        provider.destroy();
      }
      setExit(EXIT.ok);
    });
}
