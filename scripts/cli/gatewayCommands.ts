import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { readInputFile } from '../../circuits/inputFile.ts';
import { InvalidInputError, ZkinferError } from '../../protocol/errors.ts';
import { GatewayClient, GatewayClientError } from '../../verifier/gateway/client.ts';
import { Gateway } from '../../verifier/gateway/gateway.ts';
import { type GatewayConfig, parseGatewayConfig } from '../../verifier/gateway/gatewayConfig.ts';
import { GatewayStore } from '../../verifier/gateway/gatewayStore.ts';
import type { Settler } from '../../verifier/gateway/settler.ts';
import { Validator } from '../../verifier/validator.ts';
import { parseValidatorConfig } from '../../verifier/validatorConfig.ts';
import type { GlobalOptions } from './compileCommands.ts';
import { readJsonConfig } from './jsonFile.ts';
import { EXIT, type Io } from './output.ts';

async function loadConfig(path: string): Promise<GatewayConfig> {
  return parseGatewayConfig(await readJsonConfig(path));
}

/** The gateway's validator config: inline, or a file named relative to the gateway config. */
async function validatorConfigOf(config: GatewayConfig, configPath: string) {
  if (typeof config.validator !== 'string') return parseValidatorConfig(config.validator);
  const p = isAbsolute(config.validator)
    ? config.validator
    : join(dirname(resolve(configPath)), config.validator);
  return parseValidatorConfig(await readJsonConfig(p));
}

/** The AVS settler the config asks for (loaded only then: ethers and the contracts cost start-up). */
async function settlerOf(config: GatewayConfig): Promise<Settler | undefined> {
  const s = config.settlement;
  if (!s) return undefined;
  const [{ GatewaySettler }, { AvsClient }, { readDeployment }, { providerFor }, { signerFrom }] =
    await Promise.all([
      import('../../contracts/gatewaySettler.ts'),
      import('../../contracts/avsClient.ts'),
      import('../../contracts/coreDeployment.ts'),
      import('../../contracts/localAvs.ts'),
      import('./signer.ts'),
    ]);
  const signer = signerFrom(
    s.keyEnv !== undefined ? { keyEnv: s.keyEnv } : { devAccount: String(s.devAccount ?? 0) },
    providerFor(s.rpc),
  );
  const client = await AvsClient.connect(await readDeployment(s.deployment), signer);
  return new GatewaySettler(client, s.queueDb, BigInt(s.feeWei), s.deadlineBlocks);
}

/** The key store of the gateway whose --config is given (to `gateway`, before or after `keys`). */
async function keyStore(cmd: Command): Promise<GatewayStore> {
  const path = cmd.optsWithGlobals<{ config?: string }>().config;
  if (!path)
    throw new InvalidInputError('gateway keys needs --config <file> (the gateway config)', 'INVALID_OPTION');
  return new GatewayStore((await loadConfig(path)).db);
}

export function registerGatewayCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const gateway = program
    .command('gateway')
    .description(
      'run a validator with an HTTP API for verifiable inference, and a page that verifies in the browser',
    )
    .option('--config <file>', 'gateway config (JSON)')
    .action(async (opts: { config?: string }) => {
      if (!opts.config) throw new InvalidInputError('gateway needs --config <file>', 'INVALID_OPTION');
      const config = await loadConfig(opts.config);
      const log = (e: Record<string, unknown>) =>
        io.out(JSON.stringify({ ts: new Date().toISOString(), ...e }));
      const validator = await Validator.open(await validatorConfigOf(config, opts.config));
      const store = new GatewayStore(config.db);
      const gw = new Gateway(config, validator, store, log, await settlerOf(config));
      let stop: () => void = () => {};
      const stopped = new Promise<void>((r) => {
        stop = r;
      });
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      try {
        const url = await gw.start();
        log({ msg: 'gateway listening', url, models: validator.modelList().length, page: `${url}/` });
        await stopped;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await gw.stop();
        store.close();
        validator.close();
      }
      setExit(EXIT.ok);
    });

  const keys = gateway.command('keys').description("the gateway's API keys (stored hashed)");
  keys
    .command('create')
    .description('create a key and print it (the only time it is shown)')
    .requiredOption('--name <name>', 'who the key is for')
    .option('--quota <n>', 'requests a minute', '60')
    .action(async (opts: { name: string; quota: string }, cmd: Command) => {
      const quota = Number(opts.quota);
      if (!Number.isInteger(quota) || quota < 1)
        throw new InvalidInputError(
          `--quota must be a positive integer, got "${opts.quota}"`,
          'INVALID_OPTION',
        );
      const store = await keyStore(cmd);
      try {
        const { key, record } = store.createKey(opts.name, quota);
        if (cmd.optsWithGlobals<GlobalOptions>().json) io.out(JSON.stringify({ ok: true, key, ...record }));
        else {
          io.out(`key ${record.id} for ${record.name}, ${record.quotaPerMinute} requests a minute:`);
          io.out(key);
        }
      } finally {
        store.close();
      }
      setExit(EXIT.ok);
    });
  keys
    .command('list')
    .description('the keys: id, name, quota, created, revoked (never the keys themselves)')
    .action(async (_opts: unknown, cmd: Command) => {
      const store = await keyStore(cmd);
      try {
        const list = store.keys();
        if (cmd.optsWithGlobals<GlobalOptions>().json) io.out(JSON.stringify({ ok: true, keys: list }));
        else
          for (const k of list)
            io.out(
              `${k.id}  ${k.name}  ${k.quotaPerMinute}/min  created ${k.createdAt}${k.revokedAt ? `  REVOKED ${k.revokedAt}` : ''}`,
            );
      } finally {
        store.close();
      }
      setExit(EXIT.ok);
    });
  keys
    .command('revoke')
    .description('revoke a key by id: its requests get 403 from now on')
    .argument('<id>', 'the key id (from keys list)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const store = await keyStore(cmd);
      try {
        if (!store.revokeKey(id)) throw new ZkinferError('INVALID_OPTION', `no active key with id ${id}`);
        io.out(`revoked ${id}`);
      } finally {
        store.close();
      }
      setExit(EXIT.ok);
    });

  program
    .command('request')
    .description(
      'ask a gateway for a verified inference and verify its proof here (the key must hash to the modelId): exit 0 verified, 2 invalid, 1 error',
    )
    .requiredOption('--gateway <url>', 'the gateway, e.g. http://127.0.0.1:8080')
    .requiredOption('--model <id>', 'the modelId you trust (64 hex digits) or, less strictly, a model name')
    .requiredOption('--input <file>', 'JSON file {"input": [...]}')
    .option('--out <dir>', 'write result.json and bundle.json here')
    .option('--api-key <key>', 'API key (default: $ZKINFER_API_KEY)')
    .option('--redundancy <n>', 'miners asked at once', '1')
    .option('--deadline-ms <ms>', 'give up after this long')
    .action(
      async (
        opts: {
          gateway: string;
          model: string;
          input: string;
          out?: string;
          apiKey?: string;
          redundancy: string;
          deadlineMs?: string;
        },
        cmd: Command,
      ) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        const apiKey = opts.apiKey ?? process.env['ZKINFER_API_KEY'];
        const client = new GatewayClient(opts.gateway, apiKey ? { apiKey } : {});
        try {
          const model = await client.model(opts.model);
          const input = Array.from(await readInputFile(opts.input, model.input.size));
          const result = await client.infer(model.modelId, input, {
            redundancy: Number(opts.redundancy),
            ...(opts.deadlineMs ? { deadlineMs: Number(opts.deadlineMs) } : {}),
          });
          const check = await client.verifyLocally(result, model.modelId, model);
          if (opts.out) {
            await mkdir(opts.out, { recursive: true });
            await writeFile(join(opts.out, 'result.json'), `${JSON.stringify(result, null, 1)}\n`);
            await writeFile(join(opts.out, 'bundle.json'), `${JSON.stringify(result.bundle, null, 1)}\n`);
          }
          if (g.json)
            io.out(
              JSON.stringify({
                ok: check.ok,
                verified: check.ok,
                id: result.id,
                class: result.class,
                output: result.output,
                miner: result.miner,
                ...(check.ok ? {} : { reason: check.reason }),
              }),
            );
          else {
            io.out(`class ${result.class}  output [${result.output.map((v) => v.toFixed(4)).join(', ')}]`);
            io.out(`request ${result.id}, proven by ${result.miner} in ${result.latencyMs} ms`);
            io.out(check.ok ? 'verified locally' : `INVALID: ${check.reason}`);
          }
          setExit(check.ok ? EXIT.ok : EXIT.invalid);
        } catch (e) {
          if (e instanceof GatewayClientError)
            throw new ZkinferError('IO', `gateway ${e.status || 'unreachable'} ${e.code}: ${e.message}`);
          throw e;
        }
      },
    );
}
