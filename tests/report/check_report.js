#!/usr/bin/env node
// Check a folder written by `trustchain report` against the result it was
// made from: policies.csv parsed as RFC 4180 CSV, and report.html rendered
// by headless Chromium.
//
// usage: node check_report.js RESULTS.json DIR [--images N] [--graphs N]
//            [--no-browser] [--screenshot FILE]
//   --images N      PNG images the page must show, each decoded by the browser
//   --graphs N      inline SVG graphs the page must show
//   --no-browser    check the files only (Chromium is not installed)
//   --screenshot F  also save a full-page screenshot to F, for a person to read
// environment: CHROMIUM (the browser program, default chromium)
//
// The page is rendered twice. First as written, with --dump-dom: the DOM
// that Chromium parsed must contain every section and no <script> element.
// Then a copy with a probe script added, and without the page's
// Content-Security-Policy because that policy forbids the script. Once the
// page has loaded, the probe records what the browser itself saw: which
// images decoded, what it fetched, the text of each table cell. It writes
// that into the DOM, and the dump carries it back here. Exits 1 with one
// line per failed check.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const failures = [];
function check(condition, message) {
  if (!condition) failures.push(message);
}

function parseArguments(argv) {
  const options = { images: null, graphs: null, browser: true, screenshot: null };
  const operands = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--images') options.images = Number(argv[++i]);
    else if (a === '--graphs') options.graphs = Number(argv[++i]);
    else if (a === '--no-browser') options.browser = false;
    else if (a === '--screenshot') options.screenshot = argv[++i];
    else operands.push(a);
  }
  if (operands.length !== 2) {
    console.error('usage: node check_report.js RESULTS.json DIR [--images N] [--graphs N] ' +
                  '[--no-browser] [--screenshot FILE]');
    process.exit(2);
  }
  [options.results, options.dir] = operands;
  return options;
}

// RFC 4180: fields separated by commas, quoted fields may hold commas,
// doubled quotes and line breaks. Returns an array of rows of strings.
function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') {
      quoted = true;
    } else if (c === ',') {
      row.push(field); field = '';
    } else if (c === '\n') {
      row.push(field); rows.push(row); row = []; field = '';
    } else {
      field += c;
    }
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row); }
  return rows;
}

function checkPoliciesCsv(result, dir) {
  const rows = parseCsv(fs.readFileSync(path.join(dir, 'policies.csv'), 'utf8'));
  const header = rows[0];
  const column = (name) => header.indexOf(name);
  check(rows.length === result.policies.length + 1,
        `policies.csv has ${rows.length - 1} rows, the result ${result.policies.length} policies`);
  result.policies.forEach((p, i) => {
    const row = rows[i + 1] || [];
    const at = `policies.csv row ${i + 1}`;
    check(row.length === header.length, `${at}: ${row.length} fields, header ${header.length}`);
    check(row[column('policy')] === p.name, `${at}: policy ${JSON.stringify(row[column('policy')])}, expected ${JSON.stringify(p.name)}`);
    check(Number(row[column('compromised')]) === p.compromised, `${at}: compromised ${row[column('compromised')]}, expected ${p.compromised}`);
    check(Number(row[column('fraction')]) === p.fraction, `${at}: fraction ${row[column('fraction')]}, expected ${p.fraction}`);
    check(Number(row[column('flows_broken')]) === p.legitimate_flows.broken, `${at}: flows_broken ${row[column('flows_broken')]}`);
    const first = p.first_crown_jewel_hop === null ? '' : String(p.first_crown_jewel_hop);
    check(row[column('first_crown_jewel_hop')] === first, `${at}: first_crown_jewel_hop ${row[column('first_crown_jewel_hop')]}, expected "${first}"`);
    for (const [kind, counts] of Object.entries(p.crown_jewels)) {
      check(Number(row[column(`crown_${kind}_compromised`)]) === counts.compromised,
            `${at}: crown_${kind}_compromised ${row[column(`crown_${kind}_compromised`)]}, expected ${counts.compromised}`);
    }
  });
}

// Checks on the HTML source: self-contained and script-free.
function checkSource(html) {
  check(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">/.test(html),
        'report.html has no Content-Security-Policy that forbids fetches');
  check(!/<script/i.test(html), 'report.html contains "<script"');
  const external = html.match(/\b(?:src|href)\s*=\s*["']?(?!data:|#)[^"'\s>]+/gi) || [];
  check(external.length === 0, `report.html refers to other resources: ${external.slice(0, 3).join(' ')}`);
  check(!/@import|url\(/i.test(html), 'report.html CSS loads something (@import or url())');
}

function chromium(args) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'report-chromium-'));
  try {
    return execFileSync(process.env.CHROMIUM || 'chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--hide-scrollbars',
      `--user-data-dir=${profile}`, ...args,
    ], { encoding: 'utf8', timeout: 120000, maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

// Runs in the page after load; its result comes back base64-encoded in
// the element #probe-result so no HTML escaping can change it.
const probeScript = `
window.addEventListener('load', () => {
  const cells = (row) => Array.from(row.cells).map((c) => c.textContent.trim());
  const result = {
    sections: Array.from(document.querySelectorAll('section')).map((s) => s.id),
    headings: Array.from(document.querySelectorAll('h2')).map((h) => h.textContent.trim()),
    images: Array.from(document.images).map((img) => ({
      file: img.dataset.file, complete: img.complete, width: img.naturalWidth,
      data: img.src.startsWith('data:image/png;base64,') })),
    graphs: Array.from(document.querySelectorAll('div.graph > svg')).map((svg) => {
      const box = svg.getBBox(); return { width: box.width, height: box.height,
        nodes: svg.querySelectorAll('g.node').length }; }),
    rows: Array.from(document.querySelectorAll('table.compare tbody tr')).map(cells),
    names: Array.from(document.querySelectorAll('table.compare tbody tr .name')).map((n) => n.textContent),
    best: Array.from(document.querySelectorAll('table.compare tr.best')).map((r) => r.dataset.policy),
    verdict: (document.getElementById('verdict') || {}).textContent || '',
    pathsText: document.getElementById('paths').textContent,
    planText: document.getElementById('plan').textContent,
    plotsText: document.getElementById('plots').textContent,
    pathRows: document.querySelectorAll('#paths details tr').length,
    planRows: document.querySelectorAll('#plan table tr').length,
    scripts: document.scripts.length,
    resources: performance.getEntriesByType('resource').map((e) => e.name),
    scrollWidth: document.documentElement.scrollWidth,
  };
  const out = document.createElement('pre');
  out.id = 'probe-result';
  out.textContent = btoa(unescape(encodeURIComponent(JSON.stringify(result))));
  document.body.appendChild(out);
});
`;

function probe(dir) {
  const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8')
    .replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '')
    .replace('</body>', `<script>${probeScript}</script>\n</body>`);
  const copy = path.join(dir, '.probe.html');
  fs.writeFileSync(copy, html);
  try {
    const dom = chromium(['--virtual-time-budget=10000', '--dump-dom', `file://${path.resolve(copy)}`]);
    const match = dom.match(/<pre id="probe-result">([A-Za-z0-9+/=]+)<\/pre>/);
    if (!match) {
      failures.push('the probe script left no result: the page did not load in Chromium');
      return null;
    }
    return JSON.parse(Buffer.from(match[1], 'base64').toString('utf8'));
  } finally {
    fs.rmSync(copy, { force: true });
  }
}

function formatCount(n) {
  return n.toLocaleString('en-US');
}

function checkBrowser(result, options) {
  const file = `file://${path.resolve(options.dir, 'report.html')}`;

  // The page as written: what Chromium parsed from it.
  const dom = chromium(['--dump-dom', file]);
  for (const id of ['summary', 'policies', 'plots', 'breakdown', 'paths', 'plan', 'run']) {
    check(dom.includes(`<section id="${id}">`), `rendered page has no section #${id}`);
  }
  check(!/<script/i.test(dom), 'rendered page has a <script> element');

  const seen = probe(options.dir);
  if (!seen) return;
  check(seen.scripts === 1, `the page has ${seen.scripts - 1} script elements of its own`);
  const fetched = seen.resources.filter((name) => !name.startsWith('data:'));
  check(fetched.length === 0, `the page fetched ${fetched.join(', ')}`);
  check(seen.headings.includes('Summary') && seen.headings.includes('Policy comparison') &&
        seen.headings.includes('Plots') && seen.headings.includes('Attack paths') &&
        seen.headings.includes('Closure plan'), `section headings: ${seen.headings.join(', ')}`);

  // One row per policy, in order, with the JSON's name and count.
  check(seen.rows.length === result.policies.length,
        `comparison table has ${seen.rows.length} rows, the result ${result.policies.length} policies`);
  result.policies.forEach((p, i) => {
    const row = seen.rows[i] || [];
    const name = seen.names[i];
    check(name === p.name, `comparison row ${i + 1} shows ${JSON.stringify(name)}, expected ${JSON.stringify(p.name)}`);
    check(row[2] === formatCount(p.compromised), `comparison row ${i + 1}: compromised ${row[2]}, expected ${formatCount(p.compromised)}`);
  });

  // The verdict names the policy with the smallest blast radius (ties: fewer
  // broken flows, then the first).
  let best = 0;
  result.policies.forEach((p, i) => {
    const b = result.policies[best];
    if (p.compromised < b.compromised ||
        (p.compromised === b.compromised && p.legitimate_flows.broken < b.legitimate_flows.broken)) best = i;
  });
  if (result.policies.length > 0) {
    const b = result.policies[best];
    check(seen.best.length === 1 && seen.best[0] === String(best), `highlighted row ${seen.best}, expected ${best}`);
    check(seen.verdict.includes(`Smallest blast radius: ${b.name}, ${formatCount(b.compromised)} of ${formatCount(result.topology.workloads)}`),
          `verdict does not name ${b.name}: ${seen.verdict.slice(0, 200)}`);
    const broken = b.legitimate_flows.broken;
    check(broken === 0 ? seen.verdict.includes('It breaks no legitimate flow')
                       : seen.verdict.includes(`It breaks ${formatCount(broken)} of`),
          `verdict does not say what ${b.name} breaks`);
  }

  // Images: every one decoded from a data URI, and as many as expected.
  const decoded = seen.images.filter((img) => img.complete && img.width > 0 && img.data);
  check(decoded.length === seen.images.length,
        `images not decoded: ${seen.images.filter((img) => !(img.complete && img.width > 0)).map((img) => img.file).join(', ')}`);
  if (options.images !== null) {
    check(seen.images.length === options.images, `the page shows ${seen.images.length} images, expected ${options.images}`);
  }
  if (options.graphs !== null) {
    check(seen.graphs.length === options.graphs, `the page shows ${seen.graphs.length} graphs, expected ${options.graphs}`);
    check(seen.graphs.every((g) => g.width > 0 && g.height > 0 && g.nodes > 0), 'an inline graph is empty');
  }

  // Paths and plan: shown when the result has them, "not computed" when not.
  const hasPaths = result.policies.some((p) => 'paths' in p);
  const hasPlan = result.policies.some((p) => 'plan' in p);
  check(hasPaths === !/Not computed: run with --paths N/.test(seen.pathsText),
        `paths section: ${seen.pathsText.slice(0, 120)}`);
  check(hasPlan === !/Not computed: run with --plan K/.test(seen.planText),
        `plan section: ${seen.planText.slice(0, 120)}`);
  if (hasPaths) check(seen.pathRows > 0, 'the paths section has no hop rows');
  if (hasPlan) check(seen.planRows > 0, 'the plan section has no step rows');

  if (options.screenshot) {
    chromium(['--window-size=1280,6000', `--screenshot=${path.resolve(options.screenshot)}`, file]);
    check(fs.existsSync(options.screenshot), 'no screenshot was written');
  }
}

function main() {
  const options = parseArguments(process.argv.slice(2));
  const result = JSON.parse(fs.readFileSync(options.results, 'utf8'));
  checkPoliciesCsv(result, options.dir);
  checkSource(fs.readFileSync(path.join(options.dir, 'report.html'), 'utf8'));
  if (options.browser) checkBrowser(result, options);

  if (failures.length > 0) {
    for (const f of failures) console.error(`check_report: ${f}`);
    process.exit(1);
  }
  console.log(`check_report: ${options.dir} matches ${options.results}` +
              (options.browser ? ' (rendered in Chromium)' : ' (files only)'));
}

main();
