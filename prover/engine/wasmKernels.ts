import type { CodeBuilder, ModuleBuilder } from 'wasmbuilder';

/**
 * The engine's own WASM functions, added to the module that wasmcurves builds for BN254 so they
 * call its field and curve arithmetic (`f1m_*`, `g1m_*`, `f2m_*`) directly, with no JS between.
 *
 * Layout conventions (all little-endian, Montgomery form, as in a zkey file):
 * - G1 affine point: 64 bytes (x, y); the point at infinity is all zeros.
 * - G2 affine point: 128 bytes.
 * - An index list entry is an i32 `(pointIndex << 1) | negate`.
 */

const N8 = 32;
const G1A = 2 * N8;
const G2A = 4 * N8;

type Code = number[];

/** A group's sizes and the wasmcurves prefixes of its base field and curve arithmetic. */
interface Group {
  readonly name: 'g1' | 'g2';
  /** Bytes of one base-field element. */
  readonly N8: number;
  /** Bytes of one affine point. */
  readonly G1A: number;
  readonly fp: string;
  readonly gp: string;
}
const G1: Group = { name: 'g1', N8: 32, G1A: 64, fp: 'f1m', gp: 'g1m' };
const G2: Group = { name: 'g2', N8: 64, G1A: 128, fp: 'f2m', gp: 'g2m' };
const seq = (...codes: Code[]): Code => ([] as number[]).concat(...codes);

/** for (ptr = start; ptr != end; ptr += step) body — `ptr`, `end` are i32 locals. */
function forPtr(c: CodeBuilder, ptr: string, end: string, step: Code, body: Code): Code {
  return c.block(
    c.loop(
      c.br_if(1, c.i32_eq(c.getLocal(ptr), c.getLocal(end))),
      body,
      c.setLocal(ptr, c.i32_add(c.getLocal(ptr), step)),
      c.br(0),
    ),
  );
}

/** Adds an exported function with i32 parameters and locals (and optionally an i32 result). */
function declare(
  module: ModuleBuilder,
  name: string,
  params: string[],
  locals: string[],
  returnsI32 = false,
) {
  const f = module.addFunction(name);
  for (const p of params) f.addParam(p, 'i32');
  if (returnsI32) f.setReturnType('i32');
  for (const l of locals) f.addLocal(l, 'i32');
  module.exportFunction(name);
  return { f, c: f.getCodeBuilder() };
}

/**
 * zk_gather(pTable, pIdx, n, pDst, pointSize, negFn): copies the listed points of a table into a
 * dense array, negating those whose entry says so. One copy per group size so the loop is tight.
 */
function buildGather(module: ModuleBuilder, name: string, pointSize: number, negFn: string): void {
  const { f, c } = declare(module, name, ['pTable', 'pIdx', 'n', 'pDst'], ['it', 'end', 'e', 'src', 'dst']);
  const copyWords: Code[] = [];
  for (let o = 0; o < pointSize; o += 8) {
    copyWords.push(c.i64_store(c.getLocal('dst'), o, c.i64_load(c.getLocal('src'), o)));
  }
  f.addCode(
    c.setLocal('it', c.getLocal('pIdx')),
    c.setLocal('end', c.i32_add(c.getLocal('pIdx'), c.i32_shl(c.getLocal('n'), c.i32_const(2)))),
    c.setLocal('dst', c.getLocal('pDst')),
    forPtr(
      c,
      'it',
      'end',
      c.i32_const(4),
      seq(
        c.setLocal('e', c.i32_load(c.getLocal('it'))),
        c.setLocal(
          'src',
          c.i32_add(
            c.getLocal('pTable'),
            c.i32_mul(c.i32_shr_u(c.getLocal('e'), c.i32_const(1)), c.i32_const(pointSize)),
          ),
        ),
        ...copyWords,
        c.if(
          c.i32_and(c.getLocal('e'), c.i32_const(1)),
          c.call(
            negFn,
            c.i32_add(c.getLocal('dst'), c.i32_const(pointSize / 2)),
            c.i32_add(c.getLocal('dst'), c.i32_const(pointSize / 2)),
          ),
        ),
        c.setLocal('dst', c.i32_add(c.getLocal('dst'), c.i32_const(pointSize))),
      ),
    ),
  );
}

/**
 * zk_{g}AddLevel(pSrc, pCnt, nSeg, pDst, pD, pPre, pFlag) -> max output count.
 *
 * `pSrc` holds nSeg segments of affine G1 points back to back; segment s has cnt[s] points.
 * Each segment's points are added pairwise (0+1, 2+3, ...; an odd last point is carried) into
 * `pDst`, laid out the same way, and cnt[s] becomes ceil(cnt[s]/2). All the pairs of a level
 * share one field inversion (Montgomery's trick): that is what makes affine additions cheaper
 * than Jacobian ones. Pairs that affine addition cannot take (an operand at infinity, equal x)
 * get denominator 1 in the shared product and are computed on the side, exactly.
 * `pD`, `pPre`: scratch of one field element per pair each; `pFlag`: 4 bytes per pair.
 */
function buildAddLevel(module: ModuleBuilder, g: Group): void {
  const { N8, G1A, fp, gp } = g;
  const { f, c } = declare(
    module,
    `zk_${g.name}AddLevel`,
    ['pSrc', 'pCnt', 'nSeg', 'pDst', 'pD', 'pPre', 'pFlag'],
    ['seg', 'pCntIt', 'pCntEnd', 'm', 'it', 'end', 'k', 'dst', 'mx', 'h', 'fl'],
    true,
  );

  const ACC = c.i32_const(module.alloc(N8));
  const INV = c.i32_const(module.alloc(N8));
  const T0 = c.i32_const(module.alloc(N8));
  const T1 = c.i32_const(module.alloc(N8));
  const LAMBDA = c.i32_const(module.alloc(N8));
  const X3 = c.i32_const(module.alloc(N8));
  const JAC = c.i32_const(module.alloc(3 * N8));

  const P = c.getLocal('it');
  const Px = P;
  const Py = c.i32_add(c.getLocal('it'), c.i32_const(N8));
  const Q = c.i32_add(c.getLocal('it'), c.i32_const(G1A));
  const Qx = Q;
  const Qy = c.i32_add(c.getLocal('it'), c.i32_const(G1A + N8));
  const D = c.i32_add(c.getLocal('pD'), c.getLocal('k'));
  const PRE = c.i32_add(c.getLocal('pPre'), c.getLocal('k'));
  const DST = c.getLocal('dst');
  const DSTy = c.i32_add(c.getLocal('dst'), c.i32_const(N8));

  // The pair's flag word: k counts field elements (N8 bytes), flags are 4 bytes.
  const FLAG = c.i32_add(c.getLocal('pFlag'), c.i32_shr_u(c.getLocal('k'), c.i32_const(Math.log2(N8 / 4))));
  const special = c.i32_load(FLAG);

  f.addCode(
    // Pass 1, forward: denominators and exclusive prefix products.
    c.call(`${fp}_one`, ACC),
    c.setLocal('k', c.i32_const(0)),
    c.setLocal('it', c.getLocal('pSrc')),
    c.setLocal('dst', c.getLocal('pDst')),
    c.setLocal('pCntIt', c.getLocal('pCnt')),
    c.setLocal('pCntEnd', c.i32_add(c.getLocal('pCnt'), c.i32_shl(c.getLocal('nSeg'), c.i32_const(2)))),
    forPtr(
      c,
      'pCntIt',
      'pCntEnd',
      c.i32_const(4),
      seq(
        c.setLocal('m', c.i32_load(c.getLocal('pCntIt'))),
        c.setLocal(
          'end',
          c.i32_add(
            c.getLocal('it'),
            c.i32_mul(c.i32_shr_u(c.getLocal('m'), c.i32_const(1)), c.i32_const(2 * G1A)),
          ),
        ),
        c.block(
          c.loop(
            c.br_if(1, c.i32_eq(c.getLocal('it'), c.getLocal('end'))),
            c.call(`${fp}_copy`, ACC, PRE),
            c.setLocal('fl', c.i32_or(c.call(`${gp}_isZeroAffine`, P), c.call(`${gp}_isZeroAffine`, Q))),
            c.if(
              c.i32_eqz(c.getLocal('fl')),
              seq(c.call(`${fp}_sub`, Qx, Px, D), c.setLocal('fl', c.call(`${fp}_isZero`, D))),
            ),
            c.if(c.getLocal('fl'), c.call(`${fp}_one`, D)),
            c.i32_store(FLAG, 0, c.getLocal('fl')),
            c.call(`${fp}_mul`, ACC, D, ACC),
            c.setLocal('k', c.i32_add(c.getLocal('k'), c.i32_const(N8))),
            c.setLocal('it', c.i32_add(c.getLocal('it'), c.i32_const(2 * G1A))),
            c.br(0),
          ),
        ),
        c.if(
          c.i32_and(c.getLocal('m'), c.i32_const(1)),
          c.setLocal('it', c.i32_add(c.getLocal('it'), c.i32_const(G1A))),
        ),
        c.setLocal(
          'dst',
          c.i32_add(
            c.getLocal('dst'),
            c.i32_mul(
              c.i32_shr_u(c.i32_add(c.getLocal('m'), c.i32_const(1)), c.i32_const(1)),
              c.i32_const(G1A),
            ),
          ),
        ),
      ),
    ),
    c.call(`${fp}_inverse`, ACC, INV),

    // Pass 2, backward: each pair's inverse from the running inverse, then the sum.
    c.setLocal('mx', c.i32_const(0)),
    c.setLocal('seg', c.getLocal('nSeg')),
    c.block(
      c.loop(
        c.br_if(1, c.i32_eqz(c.getLocal('seg'))),
        c.setLocal('seg', c.i32_sub(c.getLocal('seg'), c.i32_const(1))),
        c.setLocal('pCntIt', c.i32_add(c.getLocal('pCnt'), c.i32_shl(c.getLocal('seg'), c.i32_const(2)))),
        c.setLocal('m', c.i32_load(c.getLocal('pCntIt'))),
        c.if(
          c.i32_and(c.getLocal('m'), c.i32_const(1)),
          seq(
            c.setLocal('it', c.i32_sub(c.getLocal('it'), c.i32_const(G1A))),
            c.setLocal('dst', c.i32_sub(c.getLocal('dst'), c.i32_const(G1A))),
            c.call(`${gp}_copyAffine`, c.getLocal('it'), DST),
          ),
        ),
        c.setLocal(
          'end',
          c.i32_sub(
            c.getLocal('it'),
            c.i32_mul(c.i32_shr_u(c.getLocal('m'), c.i32_const(1)), c.i32_const(2 * G1A)),
          ),
        ),
        c.block(
          c.loop(
            c.br_if(1, c.i32_eq(c.getLocal('it'), c.getLocal('end'))),
            c.setLocal('it', c.i32_sub(c.getLocal('it'), c.i32_const(2 * G1A))),
            c.setLocal('dst', c.i32_sub(c.getLocal('dst'), c.i32_const(G1A))),
            c.setLocal('k', c.i32_sub(c.getLocal('k'), c.i32_const(N8))),
            c.call(`${fp}_mul`, INV, PRE, T0), // T0 = 1 / d_k
            c.call(`${fp}_mul`, INV, D, INV),
            c.if(
              special,
              c.if(
                c.call(`${gp}_isZeroAffine`, P),
                c.call(`${gp}_copyAffine`, Q, DST),
                c.if(
                  c.call(`${gp}_isZeroAffine`, Q),
                  c.call(`${gp}_copyAffine`, P, DST),
                  c.if(
                    c.call(`${fp}_eq`, Py, Qy),
                    seq(c.call(`${gp}_doubleAffine`, P, JAC), c.call(`${gp}_toAffine`, JAC, DST)),
                    c.call(`${gp}_zeroAffine`, DST),
                  ),
                ),
              ),
              seq(
                c.call(`${fp}_sub`, Qy, Py, LAMBDA),
                c.call(`${fp}_mul`, LAMBDA, T0, LAMBDA),
                c.call(`${fp}_square`, LAMBDA, X3),
                c.call(`${fp}_sub`, X3, Px, X3),
                c.call(`${fp}_sub`, X3, Qx, X3),
                c.call(`${fp}_sub`, Px, X3, T1),
                c.call(`${fp}_mul`, LAMBDA, T1, T1),
                c.call(`${fp}_sub`, T1, Py, DSTy),
                c.call(`${fp}_copy`, X3, DST),
              ),
            ),
            c.br(0),
          ),
        ),
        c.setLocal('h', c.i32_shr_u(c.i32_add(c.getLocal('m'), c.i32_const(1)), c.i32_const(1))),
        c.i32_store(c.getLocal('pCntIt'), 0, c.getLocal('h')),
        c.if(c.i32_gt_u(c.getLocal('h'), c.getLocal('mx')), c.setLocal('mx', c.getLocal('h'))),
        c.br(0),
      ),
    ),
    c.getLocal('mx'),
  );
}

/**
 * zk_g1BucketSum(pPts, pCnt, nBuckets, pOut): with every bucket holding at most one affine point
 * (cnt 0 or 1, points back to back in bucket order), writes Σ b·bucket[b] (bucket b = index+1)
 * as a Jacobian point by the running-sum method: 2 additions per bucket, no multiplications.
 */
function buildBucketSum(module: ModuleBuilder, g: Group): void {
  const { N8, G1A, gp } = g;
  const { f, c } = declare(
    module,
    `zk_${g.name}BucketSum`,
    ['pPts', 'pCnt', 'nBuckets', 'pOut'],
    ['b', 'it', 'cnt'],
  );
  const ACC = c.i32_const(module.alloc(3 * N8));
  f.addCode(
    c.call(`${gp}_zero`, ACC),
    c.call(`${gp}_zero`, c.getLocal('pOut')),
    c.setLocal('it', c.getLocal('pPts')),
    // Points are in ascending bucket order: find the end first, then walk down.
    c.setLocal('b', c.i32_const(0)),
    c.block(
      c.loop(
        c.br_if(1, c.i32_eq(c.getLocal('b'), c.getLocal('nBuckets'))),
        c.setLocal(
          'it',
          c.i32_add(
            c.getLocal('it'),
            c.i32_mul(
              c.i32_load(c.i32_add(c.getLocal('pCnt'), c.i32_shl(c.getLocal('b'), c.i32_const(2)))),
              c.i32_const(G1A),
            ),
          ),
        ),
        c.setLocal('b', c.i32_add(c.getLocal('b'), c.i32_const(1))),
        c.br(0),
      ),
    ),
    c.block(
      c.loop(
        c.br_if(1, c.i32_eqz(c.getLocal('b'))),
        c.setLocal('b', c.i32_sub(c.getLocal('b'), c.i32_const(1))),
        c.setLocal(
          'cnt',
          c.i32_load(c.i32_add(c.getLocal('pCnt'), c.i32_shl(c.getLocal('b'), c.i32_const(2)))),
        ),
        c.if(
          c.getLocal('cnt'),
          seq(
            c.setLocal('it', c.i32_sub(c.getLocal('it'), c.i32_const(G1A))),
            // addMixed(zero, infinity) would give (0, 0, 1), not the Jacobian zero: skip infinity.
            c.if(
              c.i32_eqz(c.call(`${gp}_isZeroAffine`, c.getLocal('it'))),
              c.call(`${gp}_addMixed`, ACC, c.getLocal('it'), ACC),
            ),
          ),
        ),
        c.call(`${gp}_add`, c.getLocal('pOut'), ACC, c.getLocal('pOut')),
        c.br(0),
      ),
    ),
  );
}

/** zk_frBatchMul(pA, pB, n, pOut): out[i] = a[i]·b[i] over Fr (Montgomery). */
function buildBatchMul(module: ModuleBuilder): void {
  const { f, c } = declare(module, 'zk_frBatchMul', ['pA', 'pB', 'n', 'pOut'], ['it', 'end']);
  f.addCode(
    c.setLocal('it', c.i32_const(0)),
    c.setLocal('end', c.i32_mul(c.getLocal('n'), c.i32_const(N8))),
    forPtr(
      c,
      'it',
      'end',
      c.i32_const(N8),
      c.call(
        'frm_mul',
        c.i32_add(c.getLocal('pA'), c.getLocal('it')),
        c.i32_add(c.getLocal('pB'), c.getLocal('it')),
        c.i32_add(c.getLocal('pOut'), c.getLocal('it')),
      ),
    ),
  );
}

/**
 * zk_{g}DoubleMany(pAffine, n, times, pJac): pJac[i] = 2^times · pAffine[i] (Jacobian out), for
 * building fixed-base tables.
 */
function buildDoubleMany(module: ModuleBuilder, g: Group): void {
  const { N8, G1A, gp } = g;
  const { f, c } = declare(
    module,
    `zk_${g.name}DoubleMany`,
    ['pIn', 'n', 'times', 'pOut'],
    ['it', 'end', 'dst', 't'],
  );
  f.addCode(
    c.setLocal('it', c.getLocal('pIn')),
    c.setLocal('end', c.i32_add(c.getLocal('pIn'), c.i32_mul(c.getLocal('n'), c.i32_const(G1A)))),
    c.setLocal('dst', c.getLocal('pOut')),
    forPtr(
      c,
      'it',
      'end',
      c.i32_const(G1A),
      seq(
        c.call(`${gp}_toJacobian`, c.getLocal('it'), c.getLocal('dst')),
        c.setLocal('t', c.getLocal('times')),
        c.block(
          c.loop(
            c.br_if(1, c.i32_eqz(c.getLocal('t'))),
            c.call(`${gp}_double`, c.getLocal('dst'), c.getLocal('dst')),
            c.setLocal('t', c.i32_sub(c.getLocal('t'), c.i32_const(1))),
            c.br(0),
          ),
        ),
        c.setLocal('dst', c.i32_add(c.getLocal('dst'), c.i32_const(3 * N8))),
      ),
    ),
  );
}

/**
 * zk_frFft(px, bits, pTw): in-place radix-2 DFT of 2^bits Fr elements (Montgomery) with a
 * precomputed twiddle table tw[i] = ω^i, i < 2^(bits−1), for ω the primitive 2^bits-th root (or
 * its inverse: then the unscaled inverse DFT). One multiplication per butterfly: wasmcurves'
 * FFT spends a second one stepping the twiddle.
 */
function buildFft(module: ModuleBuilder): void {
  const { f, c } = declare(
    module,
    'zk_frFft',
    ['px', 'bits', 'pTw'],
    ['n', 's', 'half', 'twStep', 'k', 'kEnd', 'p1', 'p2', 'w', 'groupEnd'],
  );
  const T = c.i32_const(module.alloc(32));
  f.addCode(
    c.call('frm__reversePermutation', c.getLocal('px'), c.getLocal('bits')),
    c.setLocal('n', c.i32_shl(c.i32_const(1), c.getLocal('bits'))),
    c.setLocal('kEnd', c.i32_add(c.getLocal('px'), c.i32_mul(c.getLocal('n'), c.i32_const(32)))),
    c.setLocal('s', c.i32_const(1)),
    c.block(
      c.loop(
        c.br_if(1, c.i32_gt_u(c.getLocal('s'), c.getLocal('bits'))),
        // half = 2^(s-1) elements (in bytes: ·32); twiddle step = 2^(bits-s) entries (bytes: ·32)
        c.setLocal('half', c.i32_shl(c.i32_const(32), c.i32_sub(c.getLocal('s'), c.i32_const(1)))),
        c.setLocal('twStep', c.i32_shl(c.i32_const(32), c.i32_sub(c.getLocal('bits'), c.getLocal('s')))),
        c.setLocal('k', c.getLocal('px')),
        c.block(
          c.loop(
            c.br_if(1, c.i32_eq(c.getLocal('k'), c.getLocal('kEnd'))),
            c.setLocal('p1', c.getLocal('k')),
            c.setLocal('groupEnd', c.i32_add(c.getLocal('k'), c.getLocal('half'))),
            c.setLocal('w', c.getLocal('pTw')),
            c.block(
              c.loop(
                c.br_if(1, c.i32_eq(c.getLocal('p1'), c.getLocal('groupEnd'))),
                c.setLocal('p2', c.i32_add(c.getLocal('p1'), c.getLocal('half'))),
                c.call('frm_mul', c.getLocal('p2'), c.getLocal('w'), T),
                c.call('frm_sub', c.getLocal('p1'), T, c.getLocal('p2')),
                c.call('frm_add', c.getLocal('p1'), T, c.getLocal('p1')),
                c.setLocal('p1', c.i32_add(c.getLocal('p1'), c.i32_const(32))),
                c.setLocal('w', c.i32_add(c.getLocal('w'), c.getLocal('twStep'))),
                c.br(0),
              ),
            ),
            c.setLocal('k', c.i32_add(c.getLocal('k'), c.i32_shl(c.getLocal('half'), c.i32_const(1)))),
            c.br(0),
          ),
        ),
        c.setLocal('s', c.i32_add(c.getLocal('s'), c.i32_const(1))),
        c.br(0),
      ),
    ),
  );
}

export function addEngineKernels(module: ModuleBuilder): void {
  buildGather(module, 'zk_g1Gather', G1A, 'f1m_neg');
  buildGather(module, 'zk_g2Gather', G2A, 'f2m_neg');
  buildAddLevel(module, G1);
  buildAddLevel(module, G2);
  buildBucketSum(module, G1);
  buildBucketSum(module, G2);
  buildBatchMul(module);
  buildFft(module);
  buildDoubleMany(module, G1);
  buildDoubleMany(module, G2);
}
