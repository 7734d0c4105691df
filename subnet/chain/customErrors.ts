import { SubtensorError } from '../subtensorClient.ts';

/**
 * Subtensor's transaction-pool refusals ("1010: Invalid Transaction: Custom error: N"), named as
 * its documentation names them for current runtimes (the numbers have changed meaning across
 * runtime versions, so the node's own message is always kept beside the name).
 */
const CUSTOM_ERRORS: Readonly<Record<number, string>> = Object.freeze({
  0: 'ColdKeyInSwapSchedule',
  1: 'StakeAmountTooLow',
  2: 'BalanceTooLow',
  3: 'SubnetDoesntExist',
  4: 'HotkeyAccountDoesntExist',
  5: 'NotEnoughStakeToWithdraw',
  6: 'RateLimitExceeded',
  7: 'InsufficientLiquidity',
  8: 'SlippageTooHigh',
  9: 'TransferDisallowed',
  10: 'HotKeyNotRegisteredInNetwork',
  11: 'InvalidIpAddress',
  12: 'ServingRateLimitExceeded',
  13: 'InvalidPort',
  255: 'BadRequest',
});

/** The error a node's refusal of an extrinsic becomes: a custom error by its name, others as InvalidTransaction. */
export function poolRefusal(message: string): SubtensorError {
  const code = /Custom error: (\d+)/.exec(message)?.[1];
  const name = code === undefined ? undefined : CUSTOM_ERRORS[Number(code)];
  return name
    ? new SubtensorError(name, `the transaction pool refused it (${message})`)
    : new SubtensorError('InvalidTransaction', message);
}
