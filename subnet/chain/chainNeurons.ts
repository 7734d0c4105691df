import type { Codec } from '@polkadot/types/types';
import type { NeuronInfo } from '../subtensorClient.ts';

/** rao per TAO: stakes are reported in TAO, as the local subtensor counts them. */
const RAO = 1e9;
/** u16 fractions (incentive, trust, …) are n / 65535 on chain. */
const U16 = 65535;

type Field = Codec & { toNumber(): number; toBigInt(): bigint; isTrue?: boolean };
type Struct = Codec & { get(name: string): Codec | undefined };

function field(s: Codec, name: string): Field {
  const v = (s as Struct).get(name);
  if (v === undefined) throw new Error(`NeuronInfoLite has no field ${name}`);
  return v as Field;
}

/** An axon's address from its on-chain u128 IP and type; null when none is served (ip 0). */
export function axonUrl(ip: bigint, ipType: number, port: number): string | null {
  if (ip === 0n || port === 0) return null;
  if (ipType === 4) {
    const v = Number(ip & 0xffffffffn);
    return `http://${[24, 16, 8, 0].map((s) => (v >>> s) & 255).join('.')}:${port}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => ((ip >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return `http://[${groups.join(':')}]:${port}`;
}

/**
 * One neuron from a decoded NeuronInfoLite (the runtime's own type): SS58 keys, stake summed over its
 * stakers in TAO, u16 scores as fractions. The lite form carries no registration block or lifetime
 * emission: those read 0.
 */
export function neuronFromLite(
  n: Codec,
): NeuronInfo & { readonly coldkey: string; readonly active: boolean } {
  const axon = field(n, 'axonInfo');
  const stakes = field(n, 'stake') as unknown as Codec[];
  const stakeRao = [...stakes].reduce(
    (s, entry) => s + (entry as unknown as [Codec, Field])[1].toBigInt(),
    0n,
  );
  const frac = (name: string) => field(n, name).toNumber() / U16;
  return {
    uid: field(n, 'uid').toNumber(),
    hotkey: field(n, 'hotkey').toString(),
    coldkey: field(n, 'coldkey').toString(),
    active: field(n, 'active').isTrue === true,
    stake: Number(stakeRao) / RAO,
    validatorPermit: field(n, 'validatorPermit').isTrue === true,
    incentive: frac('incentive'),
    dividends: frac('dividends'),
    consensus: frac('consensus'),
    trust: frac('trust'),
    validatorTrust: frac('validatorTrust'),
    emission: field(n, 'emission').toNumber(),
    totalEmission: 0,
    lastUpdate: field(n, 'lastUpdate').toNumber(),
    registeredAt: 0,
    axon: (() => {
      const url = axonUrl(
        field(axon, 'ip').toBigInt(),
        field(axon, 'ipType').toNumber(),
        field(axon, 'port').toNumber(),
      );
      return url ? { url } : null;
    })(),
  };
}
