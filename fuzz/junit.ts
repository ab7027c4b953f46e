// --junit FILE: the campaign as a JUnit XML report, which CI systems read. One test case per race:
// failed when it is new, skipped (with why) when it is a known race; its shortest trace and token in
// the message and body. One more case, `campaign`, passes when the campaign can be called clean of
// internal errors and worker deaths, so that a clean campaign is one passing test, not an empty suite.

import type { InternalError } from './campaign.js';
import type { ReportRace } from './report.js';

/** Text as XML character data: the five escapes, and no character XML 1.0 forbids. */
export function xmlText(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

export interface JunitInput {
  readonly name: string;
  readonly executions: number;
  readonly durationMs: number;
  readonly races: readonly ReportRace[];
  readonly internalErrors: readonly InternalError[];
  readonly workerDeaths: number;
}

export function junitXml(r: JunitInput): string {
  const cases: string[] = [];
  let failures = 0;
  let skipped = 0;
  for (const race of r.races) {
    const f = race.failures[0];
    if (!f) continue;
    const seen = `seen as ${race.kinds.join(', ')} on ${race.archs.join(', ')}; actors ${race.actors.join('; ')}`;
    const body = `${seen}\nreplay: npx mmfuzz --replay ${f.token}\n\n${f.trace}`;
    const time = race.firstFoundMs === null ? '' : ` time="${(race.firstFoundMs / 1000).toFixed(3)}"`;
    const open = `    <testcase classname="mmfuzz.${xmlText(f.era)}" name="${xmlText(race.title)}"${time}>`;
    if (race.known) {
      skipped++;
      cases.push(`${open}\n      <skipped message="${xmlText(`known race: ${race.known} (docs/known-races.md)`)}"/>\n      <system-out>${xmlText(body)}</system-out>\n    </testcase>`);
    } else {
      failures++;
      cases.push(`${open}\n      <failure message="${xmlText(`${f.kind}: ${race.title}; replay: npx mmfuzz --replay ${f.token}`)}" type="${xmlText(f.kind)}">${xmlText(body)}</failure>\n    </testcase>`);
    }
  }
  const trouble = [
    ...r.internalErrors.map((e) => `internal error in ${e.actors.join(', ')} on ${e.arch}: ${e.message}${e.token ? `; replay: npx mmfuzz --replay ${e.token}` : ''}`),
    ...(r.workerDeaths ? [`${r.workerDeaths} worker death(s): the campaign did not run all it was asked to`] : []),
    ...(r.executions === 0 ? ['no execution ran'] : []),
  ];
  const summary = `${r.executions} executions in ${(r.durationMs / 1000).toFixed(1)} s`;
  cases.push(trouble.length
    ? `    <testcase classname="mmfuzz" name="campaign">\n      <error message="${xmlText(trouble[0] ?? '')}">${xmlText(`${summary}\n${trouble.join('\n')}`)}</error>\n    </testcase>`
    : `    <testcase classname="mmfuzz" name="campaign">\n      <system-out>${xmlText(summary)}</system-out>\n    </testcase>`);
  const errors = trouble.length ? 1 : 0;
  const tests = cases.length;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="mmfuzz" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${(r.durationMs / 1000).toFixed(3)}">
  <testsuite name="${xmlText(r.name)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${(r.durationMs / 1000).toFixed(3)}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}
