// The Transmission web client (Debian's transmission-common) served by `starling daemon`, in a
// real headless Chromium driven by playwright-core. Run by test_daemon_web.py, which starts the
// daemon with one torrent ("alpha.bin") and passes: BASE_URL, UPLOAD_TORRENT (a .torrent whose
// name is "beta.bin"), SCREENSHOT (where to save the page), PLAYWRIGHT_DIR.
'use strict';

const path = require('path');
const { chromium } = require(path.join(process.env.PLAYWRIGHT_DIR, 'node_modules', 'playwright-core'));

const base = process.env.BASE_URL;
const upload = process.env.UPLOAD_TORRENT;
const screenshot = process.env.SCREENSHOT;
let failures = 0;
let checks = 0;
function check(ok, what, detail) {
  checks += 1;
  if (!ok) {
    failures += 1;
    console.log(`FAIL: ${what}${detail ? `\n      ${detail}` : ''}`);
  }
  return ok;
}

// The row whose name is `name`, as the list shows it.
function row(page, name) {
  return page.locator('li.torrent', { has: page.locator('.torrent_name', { hasText: name }) });
}

async function waitText(locator, pattern, ms) {
  const end = Date.now() + ms;
  let text = '';
  while (Date.now() < end) {
    text = (await locator.count()) ? await locator.first().innerText() : '';
    if (pattern.test(text)) return text;
    await new Promise((r) => setTimeout(r, 200));
  }
  return `(timed out) ${text}`;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', async (d) => { errors.push(`dialog: ${d.message()}`); await d.dismiss(); });
  try {
    const response = await page.goto(`${base}/`, { waitUntil: 'load' });
    check(page.url().endsWith('/transmission/web/'), '/ redirects to /transmission/web/', page.url());
    check(response && response.ok(), 'the web client loads', response && response.status());

    // The list shows the torrent added before, with its name and its progress.
    const alpha = row(page, 'alpha.bin');
    await alpha.waitFor({ timeout: 15000 }).catch(() => {});
    check(await alpha.count() === 1, 'the list shows alpha.bin');
    const progress = await waitText(alpha.locator('.torrent_progress_details'), /of .*\(\d+(\.\d+)?%\)|Seeding|uploaded/, 15000);
    check(/\d/.test(progress) && !/timed out/.test(progress), 'alpha.bin shows its progress', progress);
    const bar = await alpha.locator('.torrent_progress_bar.complete').first().getAttribute('style');
    check(/width:\s*\d+(\.\d+)?%/.test(bar || ''), 'alpha.bin has a progress bar', bar);

    // Add a torrent through the upload dialog.
    await page.click('#toolbar-open');
    await page.locator('#upload_container').waitFor({ state: 'visible', timeout: 5000 });
    await page.setInputFiles('#torrent_upload_file', upload);
    await page.click('#upload_confirm_button');
    const beta = row(page, 'beta.bin');
    await beta.waitFor({ timeout: 15000 }).catch(() => {});
    check(await beta.count() === 1, 'the uploaded torrent appears in the list');

    // Pause and resume it from the toolbar.
    await beta.click();
    await page.click('#toolbar-pause');
    const paused = await waitText(beta.locator('.torrent_peer_details'), /Paused/, 10000);
    check(/Paused/.test(paused), 'pause from the toolbar: the row says Paused', paused);
    await beta.click();
    await page.click('#toolbar-start');
    const resumed = await waitText(beta.locator('.torrent_peer_details'), /Downloading|Seeding|Idle|peers/, 10000);
    check(!/Paused/.test(resumed) && !/timed out/.test(resumed), 'resume from the toolbar', resumed);

    const text = await page.locator('body').innerText();
    check(text.includes('alpha.bin') && text.includes('beta.bin'), 'the page text names both torrents');
    check(/Transmission Web Interface|Transmission/.test(await page.title()), 'the page title', await page.title());
    check(errors.length === 0, 'no script errors or alerts', errors.join('; '));
    await page.screenshot({ path: screenshot, fullPage: true });
  } catch (e) {
    check(false, 'the browser session', String(e));
    await page.screenshot({ path: screenshot, fullPage: true }).catch(() => {});
  } finally {
    await browser.close();
  }
  console.log(failures ? `test_daemon_web.js: ${failures} of ${checks} checks FAILED`
                       : `test_daemon_web.js: all ${checks} checks passed`);
  process.exit(failures ? 1 : 0);
})();
