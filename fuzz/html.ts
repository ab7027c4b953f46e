// --html FILE: one self-contained page to step through a trace. One column per CPU, a step at a time
// (buttons and arrow keys), and beside it the model's state after that step: the page tables with
// their entries, the locks held and by whom, each CPU's IRQ and RCU state, TLB, walk cache and pending
// IPIs, the RCU callbacks, the frames in use. The step where the oracle fired and the steps that
// changed and used the frame are marked. No server, no network, no framework: the data is a JSON
// island, drawn by a few lines of plain script with textContent only (actor labels are never HTML).

import type { JsonTrace } from '../src/explore/trace.js';
import type { ReplayView } from './replay-worker.js';

export interface ViewerTrace {
  /** The race's title, or what was replayed. */
  readonly title: string;
  readonly token: string;
  readonly trace: JsonTrace;
  readonly view: ReplayView;
}

/** JSON that may sit inside <script>: no `</script>`, no `<!--`, no line separators. */
function island(data: unknown): string {
  return JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const STYLE = `
body{font:13px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin:0;color:#1b1b1b;background:#fafafa}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;padding:6px 10px;z-index:2}
h1{font-size:15px;margin:0 0 2px}#sub{color:#555;word-break:break-all}
nav{margin-top:6px;display:flex;gap:6px;align-items:center;flex-wrap:wrap}
button{font:inherit;padding:2px 8px;cursor:pointer}#pos{min-width:11em;text-align:center}
main{display:flex;gap:10px;padding:8px 10px;align-items:flex-start}
#trace{flex:1 1 60%;overflow:auto}#state{flex:1 1 40%;position:sticky;top:84px;max-height:calc(100vh - 96px);overflow:auto}
select{font:inherit;max-width:36em}
table.trace{border-collapse:collapse;width:100%}
.trace th{text-align:left;border-bottom:2px solid #888;padding:2px 6px;background:#fff;position:sticky;top:0}
.trace td{vertical-align:top;padding:1px 6px;border-bottom:1px solid #eee;white-space:pre-wrap;cursor:pointer}
.trace td.n{color:#777;text-align:right;width:3em}
.trace tr.future td{color:#aaa}
.trace tr.current td{background:#fff3b0}
.trace tr.changed td.n{background:#ffd6a0}.trace tr.used td.n{background:#ffb3b3}.trace tr.fired td.n{background:#e33;color:#fff}
.mark{font-weight:bold;color:#b00}.note{color:#245;}
#state h2{font-size:13px;margin:8px 0 2px;border-bottom:1px solid #ccc}
#state ul{list-style:none;margin:0;padding:0 0 0 8px}
#state li.new{background:#d9f7d9}
.tbl{margin:2px 0 4px}.tbl b{font-weight:600}
#violation{padding:6px 10px;border-top:1px solid #ccc;white-space:pre-wrap;background:#fff}
.legend span{padding:0 6px;margin-right:4px}
`;

const SCRIPT = `
const data = JSON.parse(document.getElementById('data').textContent);
const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; };
let page = 0, pos = -1;
const select = document.getElementById('race');
data.pages.forEach((p, i) => { const o = el('option', '', (i + 1) + '. ' + p.title); o.value = String(i); select.appendChild(o); });
if (data.pages.length < 2) select.hidden = true;
select.addEventListener('change', () => { page = Number(select.value); load(); });
function cur() { return data.pages[page]; }
function marks(p) {
  const v = p.trace.violation, steps = p.trace.steps, last = steps.length ? steps[steps.length - 1].step : -1;
  return { used: v ? v.usedBy.step : null, fired: v && v.usedBy.step === last ? v.usedBy.step : null, changed: p.view.changedStep };
}
function fit() {
  // The state stays in view below the header, whatever its height.
  const h = document.querySelector('header').offsetHeight, state = document.getElementById('state');
  state.style.top = (h + 8) + 'px'; state.style.maxHeight = 'calc(100vh - ' + (h + 16) + 'px)';
}
window.addEventListener('resize', fit);
function load() {
  const p = cur(), t = p.trace, m = marks(p);
  document.getElementById('title').textContent = p.title;
  document.getElementById('sub').textContent = t.arch + ', era ' + t.era + (t.variants.length ? ', variants ' + t.variants.join(', ') : '') + (t.world === 'default' ? '' : ', world ' + t.world) + '; depth ' + t.depth + '; replay: npx mmfuzz --replay ' + p.token;
  const cpus = [...new Set(t.steps.map((s) => s.cpu))].sort((a, b) => a - b);
  const tbl = el('table', 'trace'), head = el('tr');
  head.appendChild(el('th', '', 'step'));
  for (const c of cpus) { const a = t.actors[c]; head.appendChild(el('th', '', 'CPU ' + c + ': ' + (a ? a.name : '?'))); }
  const thead = el('thead'); thead.appendChild(head); tbl.appendChild(thead);
  const body = el('tbody');
  t.steps.forEach((s, i) => {
    const tr = el('tr'); tr.dataset.index = String(i); tr.dataset.step = String(s.step); tr.dataset.cpu = String(s.cpu);
    const kinds = [];
    if (s.step === m.changed) kinds.push('changed');
    if (s.step === m.used) kinds.push('used');
    if (s.step === m.fired) kinds.push('fired');
    for (const k of kinds) tr.classList.add(k);
    tr.appendChild(el('td', 'n', String(s.step)));
    for (const c of cpus) {
      const td = el('td');
      if (c === s.cpu) {
        td.className = 'step';
        td.appendChild(el('span', 'label', s.label));
        if (kinds.length) td.appendChild(el('span', 'mark', '  <== ' + kinds.join(', ')));
        for (const n of s.notes) td.appendChild(el('div', 'note', '  ' + n));
      }
      tr.appendChild(td);
    }
    tr.addEventListener('click', () => go(i));
    body.appendChild(tr);
  });
  tbl.appendChild(body);
  const box = document.getElementById('trace'); box.replaceChildren(tbl);
  const v = t.violation;
  document.getElementById('violation').textContent = v
    ? v.kind + ': ' + v.message + '\\n  used at step ' + v.usedBy.step + ' by ' + v.usedBy.name + ': ' + v.usedBy.label
      + (v.changedBy ? '\\n  changed at step ' + v.changedBy.step + ' by ' + v.changedBy.name + ': ' + v.changedBy.label : (m.changed !== null ? '\\n  changed (read off the trace) at step ' + m.changed : ''))
    : 'no violation (' + t.outcome + ')';
  document.getElementById('to-used').disabled = m.used === null;
  document.getElementById('to-changed').disabled = m.changed === null;
  fit();
  go(-1);
}
function lines(snap) {
  const s = [];
  const add = (section, text, attrs) => s.push({ section, text, attrs: attrs || {} });
  for (const t of snap.tables) {
    const name = (snap.mms.length > 1 ? 'mm' + t.mm + ' ' : '') + t.level + ' table ' + t.pfn + (t.level === 'pte' ? ' (pmd ' + t.slots[0] + ')' : '');
    t.entries.forEach((e, i) => {
      if (t.level === 'pmd') add('Page tables', name + ': pmd ' + t.slots[i] + ' = ' + e, { level: 'pmd', slot: t.slots[i], mm: t.mm, value: e });
      else if (e !== 'none' || t.level === 'pte') add('Page tables', name + ': [' + i + '] = ' + e, { level: t.level, table: t.pfn, idx: i, mm: t.mm, value: e });
    });
  }
  for (const l of snap.locks) add('Locks held', l.name + ': ' + l.mode + ' by ' + l.holders.join(', '), { lock: l.name, holders: l.holders.join(',') });
  if (!snap.locks.length) add('Locks held', 'none');
  for (const c of snap.cpus) {
    add('CPUs', 'CPU ' + c.cpu + ' (' + c.actor + '): IRQs ' + (c.irqsOff ? 'off' : 'on') + ', RCU depth ' + c.rcuDepth + (c.lazy ? ', lazy TLB' : ''), { cpu: c.cpu, irqs: c.irqsOff ? 'off' : 'on' });
    for (const x of c.tlb) add('CPUs', '  CPU ' + c.cpu + ' TLB: ' + x, { cpu: c.cpu, tlb: x });
    for (const x of c.pwc) add('CPUs', '  CPU ' + c.cpu + ' walk cache: ' + x, { cpu: c.cpu, pwc: x });
    for (const x of c.pendingIpis) add('CPUs', '  CPU ' + c.cpu + ' IPI pending ' + x, { cpu: c.cpu, ipi: x });
  }
  for (const r of snap.rcu) add('RCU callbacks', r);
  if (!snap.rcu.length) add('RCU callbacks', 'none');
  for (const f of snap.frames) add('Frames in use', f, { pfn: f.split(' ')[0] });
  for (const x of snap.mms) add('mms', x);
  for (const x of snap.smmus) add('Secondary MMUs', x);
  return s;
}
function go(i) {
  const p = cur(), n = p.trace.steps.length;
  pos = Math.max(-1, Math.min(n - 1, i));
  document.getElementById('pos').textContent = pos < 0 ? 'before step 0 (of ' + n + ')' : 'step ' + p.trace.steps[pos].step + ' (' + (pos + 1) + ' of ' + n + ')';
  for (const tr of document.querySelectorAll('#trace tbody tr')) {
    const k = Number(tr.dataset.index);
    tr.classList.toggle('current', k === pos); tr.classList.toggle('future', k > pos);
  }
  const row = document.querySelector('#trace tr.current'); if (row) row.scrollIntoView({ block: 'nearest' });
  const now = lines(p.view.snapshots[pos + 1]), before = new Set(pos >= 0 ? lines(p.view.snapshots[pos]).map((l) => l.section + l.text) : []);
  const state = document.getElementById('state'); state.replaceChildren(); state.dataset.step = pos < 0 ? '' : String(p.trace.steps[pos].step);
  let ul = null, section = '';
  for (const l of now) {
    if (l.section !== section) { section = l.section; state.appendChild(el('h2', '', section)); ul = el('ul'); ul.dataset.section = section; state.appendChild(ul); }
    const li = el('li', pos >= 0 && !before.has(l.section + l.text) ? 'new' : '', l.text);
    for (const [k, v] of Object.entries(l.attrs)) li.dataset[k] = String(v);
    ul.appendChild(li);
  }
}
const first = () => go(-1), prev = () => go(pos - 1), next = () => go(pos + 1), last = () => go(cur().trace.steps.length - 1);
const toStep = (step) => { const i = cur().trace.steps.findIndex((s) => s.step === step); if (i >= 0) go(i); };
document.getElementById('first').addEventListener('click', first);
document.getElementById('prev').addEventListener('click', prev);
document.getElementById('next').addEventListener('click', next);
document.getElementById('last').addEventListener('click', last);
document.getElementById('to-used').addEventListener('click', () => toStep(marks(cur()).used));
document.getElementById('to-changed').addEventListener('click', () => toStep(marks(cur()).changed));
document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLSelectElement) return;
  const k = { ArrowRight: next, ArrowDown: next, ArrowLeft: prev, ArrowUp: prev, Home: first, End: last }[e.key];
  if (k) { e.preventDefault(); k(); }
});
load();
`;

/** The page: every trace given (a campaign's races, or one replay), chosen from a list. */
export function renderViewer(traces: readonly ViewerTrace[]): string {
  const title = traces.length === 1 ? traces[0]?.title ?? '' : `${traces.length} races`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>mmfuzz: ${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
<header><h1 id="title"></h1><div id="sub"></div>
<nav><select id="race" aria-label="race"></select>
<button id="first" title="start (Home)">« start</button><button id="prev" title="previous step (←)">◀</button><span id="pos"></span><button id="next" title="next step (→)">▶</button><button id="last" title="last step (End)">end »</button>
<button id="to-changed" title="the step that changed the frame">changed</button><button id="to-used" title="the step that used it">used</button>
<span class="legend"><span style="background:#ffd6a0">changed</span><span style="background:#ffb3b3">used</span><span style="background:#e33;color:#fff">oracle fired</span><span style="background:#d9f7d9">new in this step</span></span></nav></header>
<main><section id="trace"></section><aside id="state"></aside></main>
<footer id="violation"></footer>
<script type="application/json" id="data">${island({ version: 1, pages: traces })}</script>
<script>${SCRIPT}</script>
</body></html>
`;
}
