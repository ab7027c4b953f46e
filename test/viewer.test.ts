// The trace viewer (--html) in a real browser: headless Chromium from Debian's package, driven by
// playwright-core. It opens the page of a real failure (a v5.8 known race: collapse_pte_mapped_thp()
// frees the pte table that unmap_mapping_range() is about to lock), steps to the marked line with the
// arrow keys, and checks the state shown at each step against the JSON trace of the same replay: every
// pmd the trace says was stored, every frame it says was freed, every CPU's IRQ state. Skipped, with
// a message, where /usr/bin/chromium is missing (.ci/run installs it).

import test from 'ava';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { JsonTrace } from '../src/explore/trace.js';
import { main } from '../fuzz/main.js';

const CHROMIUM = '/usr/bin/chromium';
/** v5.8, rcu-table-free: unmap_mapping_range vs collapse_pte_mapped_thp, table-use-after-free. */
const TOKEN = 'mmfz1:eyJhIjoicmN1LXRhYmxlLWZyZWUiLCJlIjoidjUuOCIsInYiOltdLCJzIjpbWyJ1bm1hcF9tYXBwaW5nX3JhbmdlIix7InNsb3QiOjN9XSxbImNvbGxhcHNlX3B0ZV9tYXBwZWRfdGhwIix7InNsb3QiOjN9XV0sInAiOltbMCw0LDFdXSwiYyI6W119.714f2e03';

const dir = mkdtempSync(join(tmpdir(), 'mmfuzz-viewer-'));
const html = join(dir, 'trace.html');
const json = join(dir, 'trace.json');

/** What the JSON trace says the state is after the step at index `upTo`: each pmd slot's value, the
 *  frames freed (and not allocated again), each CPU's IRQs. */
function expected(trace: JsonTrace, upTo: number): { pmds: Map<number, string>; freed: Set<number>; irqs: Map<number, string> } {
  const pmds = new Map<number, string>();
  const freed = new Set<number>();
  const irqs = new Map<number, string>();
  for (const s of trace.steps.slice(0, upTo + 1)) {
    for (const n of s.notes) {
      const store = /^pmd (\d+): .* → (.*)$/.exec(n);
      if (store) pmds.set(Number(store[1]), store[2]!);
      const load = /^pmd (\d+) = (.*)$/.exec(n);
      if (load) pmds.set(Number(load[1]), load[2]!);
      const free = /^free (\d+) /.exec(n);
      if (free) freed.add(Number(free[1]));
      const alloc = /^alloc (\d+) /.exec(n);
      if (alloc) freed.delete(Number(alloc[1]));
      if (n === 'IRQs off' || n === 'IRQs on') irqs.set(s.cpu, n === 'IRQs off' ? 'off' : 'on');
    }
  }
  return { pmds, freed, irqs };
}

async function shown(page: Page): Promise<{ pmds: Map<number, string>; frames: Set<number>; irqs: Map<number, string> }> {
  // A string, run in the page: this project compiles without the DOM's types.
  const r = await page.evaluate(`(() => {
    const all = (q) => [...document.querySelectorAll(q)];
    return {
      pmds: all('#state li[data-level="pmd"]').map((li) => [Number(li.dataset.slot), li.dataset.value || '']),
      frames: all('#state li[data-pfn]').map((li) => Number(li.dataset.pfn)),
      irqs: all('#state li[data-irqs]').map((li) => [Number(li.dataset.cpu), li.dataset.irqs || '']),
    };
  })()`) as { pmds: [number, string][]; frames: number[]; irqs: [number, string][] };
  return { pmds: new Map(r.pmds), frames: new Set(r.frames), irqs: new Map(r.irqs) };
}

if (!existsSync(CHROMIUM)) {
  console.log(`viewer.test: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does it): the browser test is skipped`);
  test.skip('the trace viewer in headless Chromium (skipped: no /usr/bin/chromium)', () => {});
} else {
  let browser: Browser | undefined;
  test.after.always(async () => { await browser?.close(); });

  test('the trace viewer of a real failure: stepping with the arrow keys to the marked line shows the state the JSON trace says', async (t) => {
    t.timeout(90_000);
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['--replay', TOKEN, '--html', html, '--json', json], (l) => out.push(l), (l) => err.push(l));
    t.is(code, 1, err.join('\n'));
    const trace = JSON.parse(readFileSync(json, 'utf8')) as JsonTrace;
    const v = trace.violation;
    if (!v?.changedBy || v.pfn === null) return t.fail('the replay must end in a violation with the table and the step that freed it');
    const pfn = v.pfn;
    const text = readFileSync(html, 'utf8');
    t.false(/<script[^>]+src=|<link[^>]+href=|https?:\/\//.test(text), 'self-contained: nothing fetched');

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`file://${html}`);
    t.is(await page.locator('#trace tr.current').count(), 0, 'it opens before the first step');

    // Step with the right arrow, checking the state shown at every step, up to the marked line.
    const fired = trace.steps.findIndex((s) => s.step === v.usedBy.step);
    t.is(fired, trace.steps.length - 1, 'the oracle fired at the last step');
    for (let i = 0; i <= fired; i++) {
      await page.keyboard.press('ArrowRight');
      const row = page.locator('#trace tr.current');
      t.is(await row.getAttribute('data-step'), String(trace.steps[i]!.step));
      t.is(await row.getAttribute('data-cpu'), String(trace.steps[i]!.cpu));
      const want = expected(trace, i);
      const got = await shown(page);
      for (const [slot, value] of want.pmds) t.is(got.pmds.get(slot), value, `step ${trace.steps[i]!.step}: pmd ${slot}`);
      for (const pfn of want.freed) t.false(got.frames.has(pfn), `step ${trace.steps[i]!.step}: frame ${pfn} was freed`);
      for (const [cpu, irq] of want.irqs) t.is(got.irqs.get(cpu), irq, `step ${trace.steps[i]!.step}: CPU ${cpu} IRQs`);
    }
    const current = page.locator('#trace tr.current');
    t.regex((await current.getAttribute('class')) ?? '', /\bfired\b/, 'the marked line');
    t.is((await current.locator('td.step .label').textContent()) ?? '', trace.steps[fired]!.label);
    // The frame the use went to is freed: gone from the frames shown, and the table's pmd no more.
    t.false((await shown(page)).frames.has(pfn), 'the table used is shown freed');
    t.is(await page.locator(`#trace tr.changed`).getAttribute('data-step'), String(v.changedBy.step), 'the step that freed it is marked');

    // Back a step with the left arrow, and to the step that changed it with its button.
    await page.keyboard.press('ArrowLeft');
    t.is(await page.locator('#trace tr.current').getAttribute('data-step'), String(trace.steps[fired - 1]!.step));
    await page.click('#to-changed');
    t.is(await page.locator('#trace tr.current').getAttribute('data-step'), String(v.changedBy.step));
    t.false((await shown(page)).frames.has(pfn), 'freed at the step that changed it');
    await page.keyboard.press('ArrowLeft');
    t.true((await shown(page)).frames.has(pfn), 'and still in use the step before');
    t.deepEqual(errors, []);
  });
}
