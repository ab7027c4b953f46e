// How docs/viewer.png was taken: the --html page of a real failure (a v5.8 known race, race 9 of the
// README's campaign), in Debian's headless Chromium driven by playwright-core, at the line where the
// oracle fired. With a campaign's page, the third argument picks the race by its title.
//   npx mmfuzz --replay mmfz1:eyJhIjoicmN1LXRhYmxlLWZyZWUiLCJlIjoidjUuOCIsInYiOltdLCJzIjpbWyJ1bm1hcF9tYXBwaW5nX3JhbmdlIix7InNsb3QiOjN9XSxbImNvbGxhcHNlX3B0ZV9tYXBwZWRfdGhwIix7InNsb3QiOjN9XV0sInAiOltbMCw0LDFdXSwiYyI6W119.714f2e03 --html /tmp/trace.html
//   node docs/viewer-screenshot.mjs /tmp/trace.html docs/viewer.png
import { chromium } from 'playwright-core';

const [page, out, race = ''] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const tab = await browser.newPage({ viewport: { width: 1180, height: 740 } });
await tab.goto(`file://${page}`);
if (race) await tab.selectOption('#race', await tab.locator('#race option', { hasText: race }).first().getAttribute('value') ?? '0');
await tab.click('#to-used');
await tab.screenshot({ path: out });
await browser.close();
