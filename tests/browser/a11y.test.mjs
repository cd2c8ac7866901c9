// Accessibility of the main pages, checked by axe-core (WCAG 2.1 A and AA rules) in Chromium:
// every page of `mainPages` (lib/demo.mjs: login, consent, the citizen's account page with an
// authorized app, a passkey, a bound device and login history), on a phone and a desktop, in
// normal and in elder mode (长辈模式, switched with the page's own control). Any serious or
// critical violation fails, listed with its rule, help text and the elements it found; lesser
// ones are printed as diagnostics. /admin is checked too when the build has that route.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { launch } from './lib/browser.mjs';
import { startDemo, mainPages, optionalPages, newPageIn, isElder, VIEWPORTS, MODES } from './lib/demo.mjs';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core'), 'utf8');
const WCAG_21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const FAILING = new Set(['serious', 'critical']);

let browser, demo, pages, missing;

before(async () => {
  browser = await launch();
  demo = await startDemo(browser);
  const optional = await optionalPages(demo);
  pages = [...mainPages(demo), ...optional];
  missing = optional.some((p) => p.name === 'admin') ? [] : ['admin'];
});

after(async () => {
  await browser?.close();
  demo?.stop();
});

// Runs axe in the page. The pages' CSP forbids inline scripts, so axe is evaluated through
// DevTools (page.addScriptTag would be blocked) without loosening the page's policy. Returns
// the violations and what axe could not decide (`incomplete`: to be checked by a person).
async function audit(page) {
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations', 'incomplete'],
    });
    const found = (list) => list.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary ?? '' })),
    }));
    return { violations: found(result.violations), incomplete: found(result.incomplete), rules: result.passes.length };
  }, WCAG_21_AA);
}

// One line per rule and per element found (at most `limit` elements a rule).
function describe(violations, limit = Infinity) {
  return violations.flatMap((v) => [
    `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`,
    ...v.nodes.slice(0, limit).flatMap((n) => [
      `  at ${n.target}: ${n.html}`,
      ...n.summary.split('\n').filter(Boolean).map((line) => `    ${line.trim()}`),
    ]),
    ...(v.nodes.length > limit ? [`  and ${v.nodes.length - limit} more`] : []),
  ]);
}

function diagnose(t, title, lines) {
  if (!lines.length) return;
  t.diagnostic(title);
  for (const line of lines) t.diagnostic(line);
}

for (const viewport of Object.keys(VIEWPORTS)) {
  for (const mode of MODES) {
    test(`${viewport}, ${mode} mode`, async (t) => {
      for (const p of pages) {
        await t.test(p.name, async (t) => {
          const page = await newPageIn(browser, demo.issuer, viewport, mode);
          try {
            await p.open(page);
            assert.equal(await isElder(page), mode === 'elder', `${p.name} is shown in ${mode} mode`);
            const { violations, incomplete, rules } = await audit(page);
            assert.ok(rules > 10, `axe ran its rules on ${p.name} (${rules} passed)`);
            const failing = violations.filter((v) => FAILING.has(v.impact));
            const lesser = violations.filter((v) => !FAILING.has(v.impact));
            diagnose(t, 'not failing (moderate or minor):', describe(lesser, 3));
            diagnose(t, 'axe could not decide (check by hand):', describe(incomplete, 3));
            // Not an axe rule: a page wider than the phone makes the browser shrink all of it.
            const width = await page.evaluate(() => document.documentElement.scrollWidth);
            if (width > VIEWPORTS[viewport].viewport.width) {
              t.diagnostic(`${p.name} is ${width} px wide on a ${VIEWPORTS[viewport].viewport.width} px ${viewport}`);
            }
            assert.equal(
              failing.length,
              0,
              `serious or critical accessibility violations on ${p.name} (${page.url()}), ${viewport}, ${mode} mode:\n${describe(failing).join('\n')}`,
            );
          } finally {
            await page.context().close();
          }
        });
      }
      for (const name of missing) {
        await t.test(name, { skip: `no /${name} route in this build (it answers 404)` }, () => {});
      }
    });
  }
}

// The check itself can fail: on a login page whose password field lost its label and whose help
// text is made faint, axe reports both, as critical and serious.
test('a planted violation is found', async () => {
  const page = await newPageIn(browser, demo.issuer, 'desktop', 'normal');
  try {
    await page.evaluate(() => {
      document.querySelector('label[for="password"]').remove();
      document.getElementById('username-help').style.color = '#bbbbbb';
    });
    const { violations } = await audit(page);
    const byId = Object.fromEntries(violations.map((v) => [v.id, v]));
    assert.equal(byId.label?.impact, 'critical', describe(violations).join('\n'));
    assert.ok(byId.label.nodes.some((n) => n.target.includes('#password')), describe([byId.label]).join('\n'));
    assert.equal(byId['color-contrast']?.impact, 'serious', describe(violations).join('\n'));
    assert.ok(byId['color-contrast'].nodes.some((n) => n.target.includes('#username-help')));
  } finally {
    await page.context().close();
  }
});
