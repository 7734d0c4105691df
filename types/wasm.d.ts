/** The slice of wasmbuilder's and wasmcurves' untyped CommonJS API the engine uses. */
declare module 'wasmbuilder' {
  type Code = number[];
  export interface CodeBuilder {
    getLocal(name: string): Code;
    setLocal(name: string, v: Code): Code;
    teeLocal(name: string, v: Code): Code;
    call(fn: string, ...args: Code[]): Code;
    if(cond: Code, then: Code, otherwise?: Code): Code;
    block(code: Code): Code;
    loop(...code: Code[]): Code;
    br_if(depth: number, cond: Code): Code;
    br(depth: number): Code;
    ret(v: Code): Code;
    i32_const(v: number): Code;
    i32_load(addr: Code, offset?: number, align?: number): Code;
    i32_store(addr: Code, offset: number | Code, align?: number | Code, value?: Code): Code;
    i64_load(addr: Code, offset?: number, align?: number): Code;
    i64_store(addr: Code, offset: number | Code, align?: number | Code, value?: Code): Code;
    i32_add(a: Code, b: Code): Code;
    i32_sub(a: Code, b: Code): Code;
    i32_mul(a: Code, b: Code): Code;
    i32_and(a: Code, b: Code): Code;
    i32_or(a: Code, b: Code): Code;
    i32_shl(a: Code, b: Code): Code;
    i32_shr_u(a: Code, b: Code): Code;
    i32_eq(a: Code, b: Code): Code;
    i32_ne(a: Code, b: Code): Code;
    i32_eqz(a: Code): Code;
    i32_gt_u(a: Code, b: Code): Code;
  }
  export interface FunctionBuilder {
    addParam(name: string, type: 'i32' | 'i64'): void;
    addLocal(name: string, type: 'i32' | 'i64'): void;
    setReturnType(type: 'i32' | 'i64'): void;
    getCodeBuilder(): CodeBuilder;
    addCode(...code: Code[]): void;
  }
  export class ModuleBuilder {
    modules: Record<string, { pq?: number; n64?: number; q?: bigint }>;
    setMemory(pages: number): void;
    addFunction(name: string): FunctionBuilder;
    exportFunction(name: string, exportName?: string): void;
    alloc(bytesOrSize: number | number[]): number;
    build(): number[];
  }
}

declare module 'wasmcurves' {
  import type { ModuleBuilder } from 'wasmbuilder';
  export function buildBn128(module: ModuleBuilder, prefix?: string): string;
}

/**
 * The WebAssembly JS API as Node provides it. The project compiles against ES2022 without the DOM
 * library, which is where TypeScript keeps these declarations.
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  class Instance {
    readonly exports: Record<string, unknown>;
  }
  function compile(bytes: Uint8Array): Promise<Module>;
  function validate(bytes: Uint8Array): boolean;
  function instantiate(module: Module, imports: Record<string, Record<string, unknown>>): Promise<Instance>;
}
