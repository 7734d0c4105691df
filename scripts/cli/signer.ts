import { type JsonRpcProvider, type Signer, Wallet } from 'ethers';
import { devWallet } from '../../contracts/localAvs.ts';
import { InvalidInputError } from '../../protocol/errors.ts';

export interface KeyOptions {
  devAccount?: string;
  keyEnv?: string;
}

/** The signer: a private key from the named environment variable, or a local node's dev account. */
export function signerFrom(opts: KeyOptions, provider: JsonRpcProvider): Signer {
  if (opts.keyEnv !== undefined) {
    const key = process.env[opts.keyEnv];
    if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key))
      throw new InvalidInputError(
        `--key-env ${opts.keyEnv}: the variable must hold a hex private key (0x + 64 hex digits)`,
        'INVALID_OPTION',
      );
    return new Wallet(key, provider);
  }
  const n = Number(opts.devAccount ?? '0');
  if (!Number.isInteger(n) || n < 0)
    throw new InvalidInputError(
      `--dev-account must be a non-negative integer, got "${opts.devAccount}"`,
      'INVALID_OPTION',
    );
  return devWallet(provider, n);
}
