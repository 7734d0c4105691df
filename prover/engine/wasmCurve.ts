import { createRequire } from 'node:module';
import type { ModuleBuilder as ModuleBuilderT } from 'wasmbuilder';
import { addEngineKernels } from './wasmKernels.ts';

const require = createRequire(import.meta.url);
const { ModuleBuilder } = require('wasmbuilder') as { ModuleBuilder: new () => ModuleBuilderT };
const buildBn128 = require('wasmcurves/src/bn128/build_bn128.js') as (m: ModuleBuilderT) => string;

const PAGE = 65536;
/** wasm32 addresses: 4 GiB at most. */
const MAX_PAGES = 65536;
/** Kept free above the bump pointer for wasmcurves' own temporaries (scalar NAFs, inversions). */
const HEADROOM = 4 * 1024 * 1024;

export interface CurveModule {
  readonly module: WebAssembly.Module;
  /** Pointer to r (the scalar field's modulus) in the module's static data. */
  readonly pr: number;
}

let compiled: Promise<CurveModule> | undefined;

/**
 * BN254 arithmetic built by wasmcurves (the code ffjavascript and hence snarkjs run), plus the
 * engine's kernels. Built and compiled once per thread; every prepared model instantiates it
 * with a memory of its own, so dropping a model frees all of it.
 */
export function curveModule(): Promise<CurveModule> {
  compiled ??= (async () => {
    const builder = new ModuleBuilder();
    builder.setMemory(25);
    buildBn128(builder);
    addEngineKernels(builder);
    const code = new Uint8Array(builder.build());
    return { module: await WebAssembly.compile(code), pr: builder.modules['frm']!.pq! };
  })();
  return compiled;
}

type Fn = (...args: number[]) => number;

/**
 * One instance and its memory. Allocation is a bump pointer kept in the word at address 0, the
 * same word wasmcurves' own functions use for their temporaries: anything they allocate lands
 * above ours and is released when they return.
 */
export class CurveHeap {
  readonly exports: Record<string, Fn>;
  readonly pr: number;
  private readonly memory: WebAssembly.Memory;

  private constructor(instance: WebAssembly.Instance, memory: WebAssembly.Memory, pr: number) {
    this.exports = instance.exports as unknown as Record<string, Fn>;
    this.memory = memory;
    this.pr = pr;
  }

  static async create(): Promise<CurveHeap> {
    const { module, pr } = await curveModule();
    const memory = new WebAssembly.Memory({ initial: 32, maximum: MAX_PAGES });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    return new CurveHeap(instance, memory, pr);
  }

  get u8(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  get top(): number {
    return new Uint32Array(this.memory.buffer, 0, 1)[0]!;
  }

  set top(p: number) {
    new Uint32Array(this.memory.buffer, 0, 1)[0] = p;
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Ensures `bytes` free above the bump pointer (wasmcurves' temporaries need headroom). */
  reserve(bytes: number): void {
    const need = this.top + bytes;
    if (need > this.memory.buffer.byteLength) {
      const pages = Math.ceil((need - this.memory.buffer.byteLength) / PAGE);
      this.memory.grow(pages);
    }
  }

  /** 8-byte aligned block of `bytes`; its contents are whatever was there. */
  alloc(bytes: number): number {
    const p = (this.top + 7) & ~7;
    this.top = p;
    this.reserve(bytes + HEADROOM);
    this.top = p + bytes;
    return p;
  }

  allocCopy(data: Uint8Array): number {
    const p = this.alloc(data.byteLength);
    this.u8.set(data, p);
    return p;
  }

  read(p: number, bytes: number): Uint8Array {
    return this.u8.slice(p, p + bytes);
  }

  write(p: number, data: Uint8Array): void {
    this.u8.set(data, p);
  }

  i32(p: number, n: number): Int32Array {
    return new Int32Array(this.memory.buffer, p, n);
  }

  u32(p: number, n: number): Uint32Array {
    return new Uint32Array(this.memory.buffer, p, n);
  }
}
