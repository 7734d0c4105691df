/** Pure rendering of the demo's report (markdown) and its chart of scores over rounds (SVG). */

export interface MinerSummary {
  readonly name: string;
  readonly behavior: string;
  readonly hotkey: string;
  readonly verified: number;
  readonly invalid: number;
  readonly transport: number;
  readonly score: number;
  readonly weight: number;
  readonly incentive: number;
  readonly emission: number;
  readonly stakeBefore: string;
  readonly stakeAfter: string;
  readonly slashed: boolean;
}

/** The organic requests the demo sent through the gateway. */
export interface GatewaySummary {
  readonly url: string;
  readonly requests: readonly {
    readonly id: string;
    readonly class: number;
    readonly miner: string;
    readonly totalMs: number;
    readonly verifiedLocally: boolean;
    /** The proven-path settlement's transaction, for the request sent with settle: true. */
    readonly settledTx: string | null;
  }[];
}

export interface DemoSummary {
  readonly seconds: number;
  readonly rounds: number;
  readonly model: {
    readonly name: string;
    readonly constraints: number;
    readonly modelId: string;
    readonly insecureSetup: boolean;
    readonly cached: boolean;
  };
  readonly proofsVerified: number;
  readonly proofsRejected: number;
  readonly miners: readonly MinerSummary[];
  readonly scoresByRound: readonly (readonly number[])[];
  readonly settlements: {
    readonly proven: number;
    readonly overturned: number;
    readonly gas: Readonly<Record<string, number>>;
  };
  readonly gateway: GatewaySummary;
  readonly paths: Readonly<Record<string, string>>;
}

export function renderMarkdown(s: DemoSummary): string {
  const lines = [
    '# zkinfer local subnet demo',
    '',
    `${s.rounds} rounds in ${s.seconds.toFixed(1)} s. Model ${s.model.name} (${s.model.constraints} constraints, modelId ${s.model.modelId.slice(0, 16)}…${s.model.cached ? ', compiled artifacts reused' : ''}).`,
    s.model.insecureSetup ? '**Keys come from an INSECURE development Powers of Tau.**' : '',
    '',
    `Proofs verified by the validator: ${s.proofsVerified}; answers rejected: ${s.proofsRejected}.`,
    '',
    '| miner | behaviour | verified | invalid | transport | score | weight | incentive | emission (rao) | stake | slashed |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ...s.miners.map(
      (m) =>
        `| ${m.name} | ${m.behavior} | ${m.verified} | ${m.invalid} | ${m.transport} | ${m.score.toFixed(4)} | ${m.weight.toFixed(4)} | ${m.incentive.toFixed(4)} | ${m.emission} | ${m.stakeBefore} → ${m.stakeAfter} | ${m.slashed ? 'yes' : 'no'} |`,
    ),
    '',
    `AVS: ${s.settlements.proven} tasks settled by proof, ${s.settlements.overturned} false attestation overturned by a challenge.`,
    '',
    '| action | gas |',
    '|---|---:|',
    ...Object.entries(s.settlements.gas).map(([k, v]) => `| ${k} | ${v.toLocaleString('en-US')} |`),
    '',
    `Gateway (${s.gateway.url}, stopped with the demo): ${s.gateway.requests.length} organic requests, each verified by the validator and again by the client.`,
    '',
    '| request | class | proven by | total | verified locally | settled |',
    '|---|---:|---|---:|---|---|',
    ...s.gateway.requests.map(
      (r) =>
        `| ${r.id.slice(0, 8)} | ${r.class} | ${r.miner} | ${r.totalMs} ms | ${r.verifiedLocally ? 'yes' : 'NO'} | ${r.settledTx ? `tx ${r.settledTx.slice(0, 12)}…` : '–'} |`,
    ),
    '',
    '![scores over rounds](demo-scores.svg)',
    '',
    ...Object.entries(s.paths).map(([k, v]) => `- ${k}: \`${v}\``),
    '',
  ];
  return lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n');
}

/** One polyline per miner: score (0..1) over rounds. */
export function renderScoresSvg(
  names: readonly string[],
  scoresByRound: readonly (readonly number[])[],
): string {
  const w = 560;
  const h = 260;
  const pad = 40;
  const colors = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02'];
  const rounds = scoresByRound.length;
  const x = (r: number) => pad + (rounds <= 1 ? 0 : (r * (w - 2 * pad)) / (rounds - 1));
  const y = (v: number) => h - pad - v * (h - 2 * pad);
  const lines = names.map((name, m) => {
    const pts = scoresByRound.map((row, r) => `${x(r).toFixed(1)},${y(row[m] ?? 0).toFixed(1)}`).join(' ');
    const c = colors[m % colors.length];
    return `<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts}"/><text x="${w - pad + 4}" y="${(y(scoresByRound.at(-1)?.[m] ?? 0) + 4).toFixed(1)}" font-size="11" fill="${c}">${escapeXml(name)}</text>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w + 80}" height="${h}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#999"/>`,
    `<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#999"/>`,
    `<text x="${pad}" y="${pad - 12}" font-size="12">validator score by round</text>`,
    `<text x="${pad - 28}" y="${y(1) + 4}" font-size="10">1.0</text><text x="${pad - 28}" y="${y(0) + 4}" font-size="10">0.0</text>`,
    ...lines,
    '</svg>',
    '',
  ].join('\n');
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);
}
