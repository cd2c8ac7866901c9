#!/usr/bin/env node
// Screenshots of the main pages for docs and reviews:
//   node tests/browser/screenshots.mjs [outdir]        (default docs/screenshots/)
// Starts `target/debug/idp serve` on a temporary database with demo data (lib/demo.mjs: a
// citizen with licences, a passkey, a bound phone, an authorized app; an app asking for more),
// and saves PAGE-VIEWPORT-MODE.png (e.g. login-phone-normal.png) for every page of the list,
// on a phone (390x844) and a desktop (1280x800), in normal and elder mode. Each picture is
// the first screen of the page, as the citizen sees it on opening it (not the whole page); a
// long page adds pictures of its further parts (account-apps-phone-normal.png: 我的授权 on).
// The console's pages (admin*.png) come only from builds that have /admin.
import { mkdirSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from './lib/browser.mjs';
import { startDemo, mainPages, optionalPages, newPageIn, VIEWPORTS, MODES } from './lib/demo.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const outdir = resolve(process.argv[2] ?? join(root, 'docs/screenshots'));
mkdirSync(outdir, { recursive: true });

const browser = await launch();
let demo;
try {
  demo = await startDemo(browser);
  const pages = [...mainPages(demo), ...(await optionalPages(demo))];
  for (const p of pages) {
    for (const viewport of Object.keys(VIEWPORTS)) {
      for (const mode of MODES) {
        const page = await newPageIn(browser, demo.issuer, viewport, mode);
        try {
          await p.open(page);
          // No blinking caret or focus ring in the picture.
          await page.evaluate(() => document.activeElement?.blur());
          const shoot = async (name) => {
            const file = join(outdir, `${name}-${viewport}-${mode}.png`);
            await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
            console.log(file);
          };
          await shoot(p.name);
          for (const view of p.views ?? []) {
            await page.locator(view.at).evaluate((e) => e.scrollIntoView({ block: 'start' }));
            await shoot(`${p.name}-${view.name}`);
          }
        } finally {
          await page.context().close();
        }
      }
    }
  }
} finally {
  await browser.close();
  demo?.stop();
}
