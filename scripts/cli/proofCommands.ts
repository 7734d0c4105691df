import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadQuantGraph, openArtifacts } from '../../circuits/artifacts.ts';
import { type InferenceResult, infer } from '../../circuits/core/inference.ts';
import { readInputFile } from '../../circuits/inputFile.ts';
import { inputHashOf } from '../../circuits/inputHash.ts';
import { auditSetup } from '../../circuits/setup/auditSetup.ts';
import { DEV_PTAU_WARNING, makeDevPtau } from '../../circuits/setup/devPtau.ts';
import { setupArtifacts } from '../../circuits/setup/setup.ts';
import { isSlicedDir } from '../../circuits/slicedManifest.ts';
import { openSliced, sliceVkeys } from '../../circuits/slicedModel.ts';
import { type AuditKeys, auditTask } from '../../contracts/auditTask.ts';
import { readDeployment } from '../../contracts/coreDeployment.ts';
import type { SnarkjsVkey } from '../../contracts/verifyingKey.ts';
import { parseBinding } from '../../protocol/binding.ts';
import { BUNDLE_FORMAT, type ProofBundle } from '../../protocol/bundle.ts';
import { InvalidInputError, ZkinferError } from '../../protocol/errors.ts';
import { SLICED_BUNDLE_FORMAT } from '../../protocol/slicedBundle.ts';
import { DEFAULT_ENGINE, ENGINES, parseEngineName } from '../../prover/engine/engines.ts';
import { proveOnce } from '../../prover/proveOnce.ts';
import { auditRun } from '../../verifier/auditRun.ts';
import { checkBundleFields } from '../../verifier/bundleFields.ts';
import { type Expectations, type VerifyResult, verifyProof } from '../../verifier/verifyProof.ts';
import { type GlobalOptions, parseIntOption } from './compileCommands.ts';
import { readJson, readJsonConfig } from './jsonFile.ts';
import { EXIT, type Io, progressPrinter } from './output.ts';
import { proveSlicedCommand, setupSliced, verifySlicedCommand } from './slicedCommands.ts';

export function registerProofCommands(program: Command, io: Io, setExit: (code: number) => void): void {
  const ptau = program.command('ptau').description('Powers of Tau files for the trusted setup');
  ptau
    .command('dev')
    .description(
      'make an INSECURE development ptau, prepared for phase 2, from random secrets computed locally (33 s at 2^16 on 2 cores)',
    )
    .requiredOption('--power <n>', 'the ptau supports 2^n constraints')
    .requiredOption('--out <file>', 'the .ptau file to write (a .json record is written beside it)')
    .action(async (opts: { power: string; out: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const rec = await makeDevPtau(
        parseIntOption('--power', opts.power),
        opts.out,
        progressPrinter(io, !g.json),
      );
      if (g.json) io.out(JSON.stringify({ ok: true, file: opts.out, ...rec }));
      else {
        io.out(`wrote ${opts.out} (2^${rec.power}, sha256 ${rec.sha256})`);
        io.out(`WARNING: ${DEV_PTAU_WARNING}`);
      }
      setExit(EXIT.ok);
    });

  program
    .command('setup')
    .description('Groth16 setup of a compiled model: proving key, verification key, modelId')
    .argument('<dir>', 'artifact directory (from zkinfer compile)')
    .requiredOption('--ptau <file>', "a prepared Powers of Tau file (a real ceremony's, or zkinfer ptau dev)")
    .action(async (dir: string, opts: { ptau: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (isSlicedDir(dir)) {
        setExit(await setupSliced(dir, opts.ptau, io, !!g.json, progressPrinter(io, !g.json)));
        return;
      }
      const { setup } = await setupArtifacts(dir, opts.ptau, progressPrinter(io, !g.json));
      if (g.json) io.out(JSON.stringify({ ok: true, ...setup }));
      else {
        io.out(`modelId: ${setup.modelId}`);
        io.out(`keys: ${join(dir, 'circuit.zkey')}, ${join(dir, 'verification_key.json')}`);
        io.out(`ptau: ${setup.ptau.file} (2^${setup.ptau.power}, sha256 ${setup.ptau.sha256.slice(0, 16)}…)`);
        if (setup.insecure) io.out(`WARNING: keys derive from an ${DEV_PTAU_WARNING}`);
      }
      setExit(EXIT.ok);
    });

  program
    .command('prove')
    .description(
      'prove that the model maps an input to its output; writes proof.json, public.json, bundle.json',
    )
    .argument('<dir>', 'artifact directory (after zkinfer setup)')
    .requiredOption('--input <file>', 'JSON file {"input": [...]}')
    .option('--binding <value>', 'binding the proof commits to (0x-hex or decimal)', '0')
    .requiredOption('--out <dir>', 'directory for the proof files')
    .option('--engine <name>', `proving engine: ${ENGINES.join(' | ')}`, DEFAULT_ENGINE)
    .action(
      async (
        dir: string,
        opts: { input: string; binding: string; out: string; engine: string },
        cmd: Command,
      ) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        const engine = parseEngineName(opts.engine, '--engine');
        const progress = progressPrinter(io, !g.json);
        const binding = parseBinding(opts.binding);
        if (isSlicedDir(dir)) {
          setExit(
            await proveSlicedCommand(
              dir,
              { input: opts.input, out: opts.out, binding, engine },
              io,
              !!g.json,
              progress,
            ),
          );
          return;
        }
        const a = await openArtifacts(dir);
        const x = await readInputFile(opts.input, a.manifest.input.size);
        progress(`proving (${a.manifest.circuit.constraints} constraints)`);
        const bundle = await proveOnce(a, x, binding, { engine });
        await mkdir(opts.out, { recursive: true });
        await writeFile(join(opts.out, 'proof.json'), `${JSON.stringify(bundle.proof, null, 1)}\n`);
        await writeFile(join(opts.out, 'public.json'), `${JSON.stringify(bundle.publicSignals, null, 1)}\n`);
        await writeFile(join(opts.out, 'bundle.json'), `${JSON.stringify(bundle, null, 1)}\n`);
        if (g.json)
          io.out(
            JSON.stringify({
              ok: true,
              out: opts.out,
              modelId: bundle.modelId,
              predictedClass: bundle.predictedClass,
              timings: bundle.timings,
            }),
          );
        else {
          io.out(`proof written to ${opts.out} (proof.json, public.json, bundle.json)`);
          io.out(
            `predicted class ${bundle.predictedClass}; witness ${bundle.timings.witnessMs} ms, prove ${bundle.timings.proveMs} ms`,
          );
          if (a.manifest.setup?.insecure) io.out('WARNING: proved with keys from an INSECURE dev ptau');
        }
        setExit(EXIT.ok);
      },
    );

  program
    .command('verify')
    .description('verify a proof: exit 0 valid, 2 invalid, 1 error')
    .argument('<proof>', 'proof.json (snarkjs format) or bundle.json')
    .argument('[public]', 'public.json (not needed with a bundle)')
    .option('--vkey <file>', 'verification_key.json')
    .option('--artifacts <dir>', 'artifact directory (its key, and the input encoding for --input)')
    .option('--input <file>', 'also require the proof to be about this input (recomputes the input hash)')
    .option('--binding <value>', 'also require the proof to carry this binding')
    .action(
      async (
        proofPath: string,
        publicPath: string | undefined,
        opts: { vkey?: string; artifacts?: string; input?: string; binding?: string },
        cmd: Command,
      ) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        const result = await verifyCommand(proofPath, publicPath, opts);
        if (g.json)
          io.out(
            JSON.stringify({
              ok: result.ok,
              valid: result.ok,
              ...(result.ok ? {} : { reason: result.reason, detail: result.detail }),
            }),
          );
        else io.out(result.ok ? 'valid' : `invalid (${result.reason}): ${result.detail}`);
        setExit(result.ok ? EXIT.ok : EXIT.invalid);
      },
    );

  const audit = program.command('audit').description('auditor checks');
  audit
    .command('task')
    .description("re-verify a settled AVS task off-chain from the chain's data alone: exit 0 ok, 2 failed")
    .argument('<taskId>', 'task id')
    .requiredOption('--rpc <url>', 'JSON-RPC endpoint')
    .requiredOption('--deployment <file>', 'the AVS deployment (contract addresses, JSON)')
    .option(
      '--vkey <file>',
      'the model\'s verification key (must hash to the registered vkHash); for a sliced model {"slices": [key, …]} as the gateway serves it',
    )
    .option(
      '--artifacts <dir>',
      "take the verification key(s) from an artifact directory (or a sliced model's)",
    )
    .action(
      async (
        taskId: string,
        opts: { rpc: string; deployment: string; vkey?: string; artifacts?: string },
        cmd: Command,
      ) => {
        const g = cmd.optsWithGlobals<GlobalOptions>();
        const keys = await auditKeysFrom(opts);
        const id = Number(taskId);
        if (!Number.isInteger(id) || id < 0)
          throw new InvalidInputError(
            `task id must be a non-negative integer, got "${taskId}"`,
            'INVALID_OPTION',
          );
        const { status, checks, proven } = await auditTask(
          opts.rpc,
          await readDeployment(opts.deployment),
          id,
          keys,
        );
        const ok = proven && checks.every((c) => c.ok);
        if (g.json) io.out(JSON.stringify({ ok, proven, taskId: id, status, checks }));
        else {
          io.out(`task ${id}: ${status}`);
          for (const c of checks) io.out(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
          io.out(
            ok
              ? 'task audit passed'
              : proven
                ? 'task audit FAILED'
                : 'task audit: attested, not proven (nothing on chain proves this result)',
          );
        }
        setExit(ok ? EXIT.ok : EXIT.invalid);
      },
    );
  audit
    .command('run')
    .description(
      're-verify every proof and settlement of a demo run and recompute its weights: exit 0 ok, 2 failed',
    )
    .argument('<dir>', 'the demo directory (holds demo.json)')
    .action(async (dir: string, _opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const items = await auditRun(dir);
      const failed = items.filter((i) => !i.ok);
      if (g.json) io.out(JSON.stringify({ ok: failed.length === 0, items }));
      else {
        for (const i of failed) io.out(`FAIL ${i.item}: ${i.detail}`);
        io.out(
          `${items.length - failed.length} of ${items.length} items verified${failed.length ? `; ${failed.length} FAILED` : ''}`,
        );
      }
      setExit(failed.length === 0 ? EXIT.ok : EXIT.invalid);
    });
  audit
    .command('setup')
    .description(
      "check an artifact directory's keys against its r1cs, the ptau and the manifest: exit 0 ok, 2 failed",
    )
    .argument('<dir>', 'artifact directory')
    .requiredOption('--ptau <file>', 'the ptau the keys claim to come from')
    .action(async (dir: string, opts: { ptau: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const checks = await auditSetup(dir, opts.ptau);
      const ok = checks.every((c) => c.ok);
      if (g.json) io.out(JSON.stringify({ ok, checks }));
      else {
        for (const c of checks) io.out(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`);
        io.out(ok ? 'setup audit passed' : 'setup audit FAILED');
      }
      setExit(ok ? EXIT.ok : EXIT.invalid);
    });
}

async function verifyCommand(
  proofPath: string,
  publicPath: string | undefined,
  opts: { vkey?: string; artifacts?: string; input?: string; binding?: string },
): Promise<VerifyResult> {
  const first = await readJson(proofPath);
  if (opts.artifacts && isSlicedDir(opts.artifacts)) {
    if (!first.ok) return { ok: false, reason: 'malformed', detail: first.why };
    return verifySlicedCommand(first.value, opts.artifacts, {
      ...(opts.input ? { input: opts.input } : {}),
      ...(opts.binding !== undefined ? { binding: parseBinding(opts.binding) } : {}),
    });
  }
  if (first.ok && (first.value as { format?: unknown } | null)?.format === SLICED_BUNDLE_FORMAT)
    throw new InvalidInputError(
      `${proofPath} holds a sliced model's proofs: give the sliced model's directory with --artifacts <dir>`,
      'INVALID_OPTION',
    );
  const artifacts = opts.artifacts ? await openArtifacts(opts.artifacts) : undefined;
  const vkeyPath = opts.vkey ?? (artifacts ? artifacts.paths.vkey : undefined);
  if (!vkeyPath)
    throw new InvalidInputError(
      'give the verification key with --vkey <file> or --artifacts <dir>',
      'INVALID_OPTION',
    );
  if (!existsSync(vkeyPath)) throw new ZkinferError('IO', `verification key not found: ${vkeyPath}`);
  const vkeyJson = await readJson(vkeyPath);
  if (!vkeyJson.ok) throw new InvalidInputError(vkeyJson.why);
  if (!first.ok) return { ok: false, reason: 'malformed', detail: first.why };
  let proof: unknown;
  let signals: unknown;
  const asBundle = first.value as Partial<ProofBundle>;
  const isBundle = !!asBundle && typeof asBundle === 'object' && asBundle.format === BUNDLE_FORMAT;
  if (isBundle) {
    proof = asBundle.proof;
    signals = asBundle.publicSignals;
    const expectedId = artifacts?.manifest.setup?.modelId;
    if (expectedId && asBundle.modelId !== expectedId) {
      return {
        ok: false,
        reason: 'modelMismatch',
        detail: `the bundle is for model ${String(asBundle.modelId)}, the artifacts are ${expectedId}`,
      };
    }
  } else {
    if (!publicPath)
      throw new InvalidInputError(
        'give public.json after proof.json (or verify a bundle.json)',
        'INVALID_OPTION',
      );
    const pub = await readJson(publicPath);
    if (!pub.ok) return { ok: false, reason: 'malformed', detail: pub.why };
    proof = first.value;
    signals = pub.value;
  }
  const nPublic = (vkeyJson.value as { nPublic?: number }).nPublic ?? 0;
  const expect: Expectations = {};
  if (opts.input) {
    if (!artifacts)
      throw new InvalidInputError(
        "--input needs --artifacts <dir> (for the model's input encoding)",
        'INVALID_OPTION',
      );
    const x = await readInputFile(opts.input, artifacts.manifest.input.size);
    expect.inputHash = { index: nPublic - 2, value: await inputHashOf(x, artifacts.manifest.input) };
  }
  if (opts.binding !== undefined) expect.binding = { index: nPublic - 1, value: parseBinding(opts.binding) };
  const verified = await verifyProof(vkeyJson.value, signals, proof, expect);
  if (!verified.ok || !isBundle) return verified;
  // a bundle's informational fields must be what the proof (and the model, given the input) says
  let reference: InferenceResult | undefined;
  if (opts.input && artifacts) {
    reference = infer(
      await loadQuantGraph(artifacts),
      await readInputFile(opts.input, artifacts.manifest.input.size),
    );
  }
  return checkBundleFields(asBundle, signals as string[], {
    ...(artifacts ? { manifest: artifacts.manifest } : {}),
    ...(reference ? { reference } : {}),
  });
}

/** The auditor's key(s): a key file (one key, or {slices: […]}) or an artifact directory (sliced or not). */
async function auditKeysFrom(opts: { vkey?: string; artifacts?: string }): Promise<AuditKeys> {
  if (opts.vkey) {
    const raw = (await readJsonConfig(opts.vkey)) as Partial<{ slices: unknown }>;
    if (raw && typeof raw === 'object' && 'slices' in raw && !Array.isArray(raw.slices))
      throw new InvalidInputError(
        `${opts.vkey}: "slices" must be a list of verification keys`,
        'INVALID_INPUT',
      );
    return raw as AuditKeys;
  }
  if (opts.artifacts) {
    if (isSlicedDir(opts.artifacts))
      return { slices: (await sliceVkeys(await openSliced(opts.artifacts))) as SnarkjsVkey[] };
    return (await readJsonConfig((await openArtifacts(opts.artifacts)).paths.vkey)) as SnarkjsVkey;
  }
  throw new InvalidInputError(
    'give the verification key with --vkey <file> or --artifacts <dir>',
    'INVALID_OPTION',
  );
}
