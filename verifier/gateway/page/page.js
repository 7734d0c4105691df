// The gateway's page: no build step; snarkjs's browser bundle verifies the proofs.
const $ = (id) => document.getElementById(id);
const state = { models: [], result: null, pad: new Array(64).fill(0) };

async function api(path, options = {}) {
  const res = await fetch(path, options);
  const body = await res.json();
  if (!res.ok) throw new Error(`${body.error?.code ?? res.status}: ${body.error?.message ?? ''}`);
  return body;
}

function cell(text, mono) {
  const td = document.createElement('td');
  td.textContent = text;
  if (mono) td.className = 'mono';
  return td;
}
function fill(tableId, rows) {
  const tbody = $(tableId).querySelector('tbody');
  tbody.replaceChildren(
    ...rows.map((r) => {
      const tr = document.createElement('tr');
      tr.append(...r);
      return tr;
    }),
  );
}
const short = (s) => (s ? `${s.slice(0, 10)}…` : '–');

// ---- drawing pad (8×8, values in the model's range) --------------------------------------------
function buildPad() {
  const pad = $('pad');
  let drawing = false;
  for (let i = 0; i < 64; i++) {
    const d = document.createElement('div');
    d.dataset.i = String(i);
    const paint = () => {
      state.pad[i] = 1;
      d.className = 'on';
    };
    d.addEventListener('pointerdown', (e) => {
      drawing = true;
      e.preventDefault();
      paint();
    });
    d.addEventListener('pointerenter', () => drawing && paint());
    pad.append(d);
  }
  document.addEventListener('pointerup', () => {
    drawing = false;
  });
  $('clear').onclick = () => {
    state.pad.fill(0);
    for (const d of pad.children) d.className = '';
  };
}

function selectedModel() {
  return state.models.find((m) => m.modelId === $('model').value);
}

function showModel() {
  const m = selectedModel();
  if (!m) return;
  $('modelInfo').textContent =
    `${m.input.size} inputs in [${m.input.range.join(', ')}], ${m.constraints} constraints`;
  const usePad = m.input.size === 64;
  $('padBox').hidden = !usePad;
  $('textBox').hidden = usePad;
  if (!usePad && !$('inputText').value) randomInput();
}

function randomInput() {
  const m = selectedModel();
  const [lo, hi] = m.input.range;
  const x = Array.from({ length: m.input.size }, () => +(lo + Math.random() * (hi - lo)).toFixed(4));
  $('inputText').value = JSON.stringify(x);
}

function currentInput() {
  const m = selectedModel();
  if (m.input.size === 64) {
    const [lo, hi] = m.input.range;
    return state.pad.map((v) => (v ? hi : lo));
  }
  return JSON.parse($('inputText').value);
}

// ---- verification in the browser ---------------------------------------------------------------
function canonicalJson(v) {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
async function sha256Hex(text) {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Verifies a result's proof(s) here: the key must hash to the modelId, and every Groth16 pairing
 * must hold with the proof's binding as the one returned. Returns { ok, detail }.
 */
async function verifyInBrowser(result, vkey) {
  const slices = result.bundle.slices;
  const keys = slices ? vkey.slices : [vkey];
  const proofs = slices ?? [result.bundle];
  if (!crypto.subtle)
    return { ok: false, detail: 'this page is not in a secure context: the key hash cannot be checked' };
  const ids = await Promise.all(keys.map((k) => sha256Hex(canonicalJson(k))));
  const modelId = slices ? await sha256Hex(`zkinfer-sliced:${ids.join(',')}`) : ids[0];
  if (modelId !== result.modelId)
    return { ok: false, detail: 'the verification key does not hash to the modelId' };
  for (const [k, p] of proofs.entries()) {
    const signals = p.publicSignals;
    if (signals[signals.length - 1] !== result.binding.value)
      return { ok: false, detail: `proof ${k} carries another binding` };
    const ok = await snarkjs.groth16.verify(keys[k], signals, p.proof);
    if (!ok) return { ok: false, detail: `the pairing check of proof ${k} failed` };
  }
  return {
    ok: true,
    detail: `${proofs.length} Groth16 proof(s) verified in this browser; key hashes to ${result.modelId.slice(0, 16)}…`,
  };
}

function setStatus(kind, text) {
  $('status').className = kind;
  $('status').textContent = text;
}

async function check(result) {
  setStatus('working', 'verifying…');
  try {
    const vkey = await api(`/v1/models/${result.modelId}/vkey`);
    const r = await verifyInBrowser(result, vkey);
    setStatus(r.ok ? 'verified' : 'invalid', r.ok ? 'verified' : 'invalid');
    $('detail').textContent = r.detail;
  } catch (e) {
    setStatus('invalid', 'invalid');
    $('detail').textContent = String(e.message ?? e);
  }
}

function progress(text) {
  const li = document.createElement('li');
  li.textContent = text;
  $('progress').append(li);
}

async function send() {
  const m = selectedModel();
  $('progress').replaceChildren();
  $('class').textContent = '…';
  $('tamper').disabled = true;
  $('detail').textContent = '';
  setStatus('working', 'waiting for a proof…');
  const headers = { 'content-type': 'application/json' };
  const key = $('apiKey').value.trim();
  if (key) headers.authorization = `Bearer ${key}`;
  let accepted;
  try {
    accepted = await api('/v1/inference', {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: m.modelId, input: currentInput(), async: true }),
    });
  } catch (e) {
    setStatus('invalid', 'refused');
    $('class').textContent = '–';
    $('detail').textContent = String(e.message ?? e);
    return;
  }
  const events = new EventSource(accepted.events);
  for (const type of ['queued', 'sent', 'answered', 'verified', 'rejected'])
    events.addEventListener(type, (e) => {
      const d = JSON.parse(e.data);
      progress(
        `${type}${d.miner ? ` ${short(d.miner)}` : ''}${d.latencyMs ? ` ${d.latencyMs} ms` : ''}${d.reason ? `: ${d.reason}` : ''}`,
      );
    });
  events.addEventListener('failed', (e) => {
    events.close();
    const d = JSON.parse(e.data);
    progress(`failed: ${d.error.message}`);
    setStatus('invalid', 'no verified answer');
    $('class').textContent = '–';
  });
  events.addEventListener('done', async (e) => {
    events.close();
    const result = JSON.parse(e.data);
    state.result = result;
    progress(`done: class ${result.class} from ${short(result.miner)}`);
    $('class').textContent = String(result.class);
    await check(result);
    $('tamper').disabled = false;
    refresh();
  });
}

async function tamper() {
  const r = structuredClone(state.result);
  const target = r.bundle.slices ? r.bundle.slices[r.bundle.slices.length - 1] : r.bundle;
  // another output: add 1 to the first public signal
  target.publicSignals[0] = (BigInt(target.publicSignals[0]) + 1n).toString();
  await check(r);
  $('detail').textContent = `tampered copy: ${$('detail').textContent}`;
}

// ---- tables and charts -------------------------------------------------------------------------
const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#be185d', '#4b5563'];
function chart(svgId, series, yLabel) {
  const svg = $(svgId);
  const title = `<title>${svg.dataset.title}</title>`;
  const W = svg.width.baseVal.value;
  const H = svg.height.baseVal.value;
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) {
    svg.innerHTML = `${title}<text x="10" y="20" font-size="12">no data yet</text>`;
    return;
  }
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
  const [y0, y1] = [0, Math.max(...ys, 1e-9)];
  const X = (x) => 30 + ((x - x0) / (x1 - x0)) * (W - 40);
  const Y = (y) => H - 20 - ((y - y0) / (y1 - y0)) * (H - 30);
  const lines = series.map((s, i) => {
    const color = COLORS[i % COLORS.length];
    const xy = s.points.map((p) => [X(p[0]).toFixed(1), Y(p[1]).toFixed(1)]);
    return (
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${xy.map((p) => p.join(',')).join(' ')}"/>` +
      xy.map((p) => `<circle cx="${p[0]}" cy="${p[1]}" r="2.5" fill="${color}"/>`).join('') +
      `<text x="${W - 90}" y="${14 + 12 * i}" font-size="10" fill="${color}">${s.name.slice(0, 12)}</text>`
    );
  });
  svg.innerHTML = `${title}<text x="2" y="12" font-size="10">${y1.toFixed(y1 < 10 ? 2 : 0)} ${yLabel}</text><text x="2" y="${H - 8}" font-size="10">round ${x0}…${x1}</text>${lines.join('')}`;
}

async function refresh() {
  try {
    const [miners, recent] = await Promise.all([api('/v1/miners'), api('/v1/inference?limit=15')]);
    fill(
      'miners',
      miners.miners.map((m) => [
        cell(m.hotkey, true),
        cell(m.score.toFixed(4)),
        cell(m.weight.toFixed(4)),
        cell(String(m.verified)),
        cell(String(m.invalid)),
        cell(String(m.transport)),
      ]),
    );
    const byMiner = (keep, value) =>
      miners.miners.map((m) => ({
        name: m.hotkey,
        points: miners.history
          .filter((h) => h.hotkey === m.hotkey && keep(h))
          .map((h) => [h.round, value(h)]),
      }));
    chart(
      'scoreChart',
      byMiner(
        () => true,
        (h) => h.scoreAfter,
      ),
      'score',
    );
    chart(
      'latencyChart',
      byMiner(
        (h) => h.outcome === 'verified',
        (h) => h.latencyMs,
      ),
      'ms',
    );
    fill(
      'recent',
      recent.results.map((r) => [
        cell(new Date(r.createdAt).toLocaleTimeString()),
        cell(short(r.id), true),
        cell(r.status),
        cell(r.class === null ? '–' : String(r.class)),
        cell(short(r.miner), true),
        cell(r.latencyMs === null ? '–' : `${r.latencyMs} ms`),
      ]),
    );
  } catch (e) {
    console.error(e);
  }
}

async function init() {
  buildPad();
  const { models } = await api('/v1/models');
  state.models = models;
  $('model').replaceChildren(
    ...models.map((m) => {
      const o = document.createElement('option');
      o.value = m.modelId;
      o.textContent = m.name;
      return o;
    }),
  );
  fill(
    'models',
    models.map((m) => [
      cell(m.name),
      cell(m.modelId, true),
      cell(`[${m.input.shape.join('×')}] in [${m.input.range.join(', ')}]`),
      cell(String(m.constraints)),
      cell(m.slices === null ? '–' : String(m.slices)),
    ]),
  );
  $('model').onchange = () => {
    $('inputText').value = '';
    showModel();
  };
  $('random').onclick = randomInput;
  $('send').onclick = send;
  $('tamper').onclick = tamper;
  showModel();
  await refresh();
  setInterval(refresh, 5000);
  document.body.dataset.ready = 'true';
}

init();
