import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Artifacts, loadQuantGraph } from '../circuits/artifacts.ts';
import { infer } from '../circuits/core/inference.ts';
import { hotkeyFromUri } from '../protocol/keys.ts';
import { type MinerProcess, startMinerProcess } from '../prover/minerProcess.ts';
import { ROOT } from './helpers/fixtures.ts';
import { setUpModel } from './helpers/provedModel.ts';
import { startTestGateway, TEST_VALIDATOR_URI, type TestGateway } from './helpers/testGateway.ts';

/** Debian's chromium (installed by .ci/run); without it this file is skipped, saying why. */
function findChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {}
  }
  return undefined;
}
const chromium = findChromium();
if (!chromium)
  console.warn("gateway page tests skipped: no chromium on PATH (.ci/run installs Debian's chromium)");

/** The screenshot kept for people to look at. */
const OUTPUT_DIR = join(ROOT, '.zkinfer-cache', 'test-output');

let a: Artifacts;
let miner: MinerProcess;
let t: TestGateway | undefined;
let browser: Browser;
let url: string;

/** A "1": the two middle columns of rows 1..6 of the 8×8 pad. */
const STROKE: readonly number[] = [1, 2, 3, 4, 5, 6].flatMap((r) => [r * 8 + 3, r * 8 + 4]);

async function draw(page: Page, cells: readonly number[]): Promise<void> {
  for (const i of cells) {
    const box = await (await page.$(`#pad div[data-i="${i}"]`))!.boundingBox();
    await page.mouse.move(box!.x + box!.width / 2, box!.y + box!.height / 2);
    await page.mouse.down();
    await page.mouse.up();
  }
}

describe.skipIf(!chromium)('gateway page in a real headless browser', () => {
  beforeAll(async () => {
    a = await setUpModel('mlp-digits');
    const validator = await hotkeyFromUri(TEST_VALIDATOR_URI);
    miner = await startMinerProcess({
      hotkey: { uri: '//PageMiner' },
      models: [a.dir],
      workers: 1,
      allowedHotkeys: [validator.ss58],
    });
    t = await startTestGateway({ models: [a.dir], miners: [{ hotkey: miner.hotkey, url: miner.url }] });
    url = t.url;
    browser = await puppeteer.launch({
      executablePath: chromium!,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await miner?.stop();
  });

  it('loads, a drawn digit gets its class, the browser verifies the proof, and a tampered copy shows invalid', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setViewport({ width: 1200, height: 1000 });
    await page.goto(`${url}/`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    expect(await page.$eval('#models tbody', (t) => t.textContent)).toContain(a.manifest.setup!.modelId);
    expect(await page.$eval('#miners tbody', (t) => t.textContent)).toContain(miner.hotkey);

    await draw(page, STROKE);
    await page.click('#send');
    // (expressions run in the page, written as strings: this file is compiled without the DOM types)
    await page.waitForFunction(
      "['verified', 'invalid'].includes(document.getElementById('status').className)",
      {
        timeout: 90_000,
      },
    );
    expect(await page.$eval('#status', (e) => e.textContent)).toBe('verified');
    expect(await page.$eval('#detail', (e) => e.textContent)).toMatch(/verified in this browser/);
    // the class shown is what the quantized model computes on the drawn input
    const [lo, hi] = a.manifest.input.range;
    const drawn = Array.from({ length: 64 }, (_, i) => (STROKE.includes(i) ? hi : lo));
    const expected = infer(await loadQuantGraph(a), drawn).predictedClass;
    expect(await page.$eval('#class', (e) => e.textContent)).toBe(String(expected));
    expect(await page.$eval('#progress', (e) => e.textContent)).toMatch(/sent .*answered .*verified .*done/s);

    await mkdir(OUTPUT_DIR, { recursive: true });
    await page.screenshot({ path: join(OUTPUT_DIR, 'gateway-page.png'), fullPage: true });

    await page.click('#tamper');
    await page.waitForFunction("document.getElementById('status').className === 'invalid'", {
      timeout: 30_000,
    });
    expect(await page.$eval('#detail', (e) => e.textContent)).toMatch(/tampered copy: the pairing check/);
    await page.screenshot({ path: join(OUTPUT_DIR, 'gateway-page-tampered.png'), fullPage: true });
    // the request is in the recent list once the page refreshes it
    await page.waitForFunction("document.querySelector('#recent tbody').textContent.includes('verified')", {
      timeout: 15_000,
    });
    expect(errors).toEqual([]);
  }, 180_000);
});
