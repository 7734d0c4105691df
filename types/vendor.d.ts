// Minimal types for the untyped packages zkinfer uses: only the calls made here.

declare module 'circomlibjs' {
  export function buildPoseidon(): Promise<unknown>;
}

declare module 'snarkjs' {
  export interface Groth16Proof {
    pi_a: string[];
    pi_b: string[][];
    pi_c: string[];
    protocol: string;
    curve: string;
  }
  export interface VerificationKey {
    protocol: string;
    curve: string;
    nPublic: number;
    [key: string]: unknown;
  }
  type Logger =
    | {
        info?: (...a: unknown[]) => void;
        debug?: (...a: unknown[]) => void;
        warn?: (...a: unknown[]) => void;
        error?: (...a: unknown[]) => void;
      }
    | undefined;
  type FileOrMem = string | { type: 'mem'; data?: Uint8Array };
  export const groth16: {
    prove(
      zkey: FileOrMem | Uint8Array,
      witness: FileOrMem | Uint8Array,
      logger?: Logger,
      options?: { singleThread?: boolean },
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    fullProve(
      input: Record<string, unknown>,
      wasm: FileOrMem | Uint8Array,
      zkey: FileOrMem | Uint8Array,
      logger?: Logger,
      wtnsOptions?: unknown,
      proverOptions?: { singleThread?: boolean },
    ): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(
      vkey: VerificationKey,
      publicSignals: (string | bigint)[],
      proof: Groth16Proof,
      logger?: Logger,
    ): Promise<boolean>;
    exportSolidityCallData(proof: Groth16Proof, publicSignals: string[]): Promise<string>;
  };
  export const zKey: {
    newZKey(r1cs: FileOrMem, ptau: FileOrMem, zkey: FileOrMem, logger?: Logger): Promise<unknown>;
    contribute(
      zkeyOld: FileOrMem,
      zkeyNew: FileOrMem,
      name: string,
      entropy: string,
      logger?: Logger,
    ): Promise<Uint8Array>;
    exportVerificationKey(zkey: FileOrMem | Uint8Array, logger?: Logger): Promise<VerificationKey>;
    verifyFromR1cs(r1cs: FileOrMem, ptau: FileOrMem, zkey: FileOrMem, logger?: Logger): Promise<boolean>;
    exportSolidityVerifier(
      zkey: FileOrMem,
      templates: Record<string, string>,
      logger?: Logger,
    ): Promise<string>;
  };
  export const powersOfTau: {
    newAccumulator(curve: unknown, power: number, file: FileOrMem, logger?: Logger): Promise<unknown>;
    contribute(
      oldFile: FileOrMem,
      newFile: FileOrMem,
      name: string,
      entropy: string,
      logger?: Logger,
    ): Promise<Uint8Array>;
    preparePhase2(oldFile: FileOrMem, newFile: FileOrMem, logger?: Logger): Promise<void>;
    truncate(ptau: FileOrMem, template: string, logger?: Logger): Promise<void>;
    verify(ptau: FileOrMem, logger?: Logger): Promise<boolean>;
  };
  export const wtns: {
    calculate(
      input: Record<string, unknown>,
      wasm: FileOrMem | Uint8Array,
      wtns: FileOrMem,
      options?: unknown,
    ): Promise<void>;
    check(r1cs: FileOrMem, wtns: FileOrMem, logger?: Logger): Promise<boolean>;
  };
  export const curves: { getCurveFromName(name: string, singleThread?: boolean): Promise<unknown> };
}

declare module 'ffjavascript' {
  export function buildBn128(singleThread?: boolean): Promise<{ terminate(): Promise<void> }>;
  export const utils: { unstringifyBigInts(o: unknown): unknown; stringifyBigInts(o: unknown): unknown };
}

declare module 'snarkjs' {
  export const r1cs: {
    exportJson(r1cs: string, logger?: unknown): Promise<unknown>;
    info(r1cs: string, logger?: unknown): Promise<unknown>;
  };
}

declare module 'ffjavascript' {
  export const Scalar: { toRprLE(buff: Uint8Array, offset: number, value: bigint, n8: number): void };
}
