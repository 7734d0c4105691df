import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../verifier/gateway/gateway.ts';
import { parseGatewayConfig } from '../../verifier/gateway/gatewayConfig.ts';
import { GatewayStore } from '../../verifier/gateway/gatewayStore.ts';
import type { Settler } from '../../verifier/gateway/settler.ts';
import { Validator } from '../../verifier/validator.ts';
import { parseValidatorConfig } from '../../verifier/validatorConfig.ts';

/** The hotkey URI every test gateway's validator signs with (miners allow its ss58). */
export const TEST_VALIDATOR_URI = '//Validator';

export interface TestGateway {
  readonly url: string;
  readonly gw: Gateway;
  readonly validator: Validator;
  readonly store: GatewayStore;
  /** Stops the gateway and closes its databases (idempotent). */
  stop(): Promise<void>;
}

/**
 * A real gateway on loopback over a validator of its own (fresh databases in a temp dir), serving
 * `models` from `miners`: no rounds of its own unless asked, open to callers unless `extra.auth`
 * says otherwise.
 */
export async function startTestGateway(options: {
  models: readonly string[];
  miners: readonly { hotkey: string; url: string }[];
  extra?: Record<string, unknown>;
  settler?: Settler;
  dir?: string;
  /** The validator's hotkey (default TEST_VALIDATOR_URI): the one the miners allow. */
  validatorUri?: string;
}): Promise<TestGateway> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'zkinfer-test-gateway-')));
  const validator = await Validator.open(
    parseValidatorConfig({
      hotkey: { uri: options.validatorUri ?? TEST_VALIDATOR_URI },
      db: join(dir, 'validator.db'),
      models: options.models,
      miners: options.miners,
      timeoutMs: 30_000,
    }),
  );
  const config = parseGatewayConfig({
    validator: {},
    db: join(dir, 'gateway.db'),
    port: 0,
    syntheticRounds: false,
    auth: { open: true },
    ...options.extra,
  });
  const store = new GatewayStore(config.db);
  const gw = new Gateway(config, validator, store, () => {}, options.settler);
  const url = await gw.start();
  let stopped = false;
  return {
    url,
    gw,
    validator,
    store,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await gw.stop();
      store.close();
      validator.close();
    },
  };
}
