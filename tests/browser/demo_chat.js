// Two tabs of the demo chat: a message typed in one appears in the other,
// both ways. Usage: node demo_chat.js http://127.0.0.1:PORT/demo/ SCREENSHOT.png
'use strict';
const { launch } = require('./chromium');

async function waitParked(statsUrl, n) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const text = await (await fetch(statsUrl)).text();
    const m = /^comet_parked_requests (\d+)/m.exec(text);
    if (m && Number(m[1]) >= n) return;
    if (Date.now() > deadline) throw new Error('tabs never parked their polls:\n' + text);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function main() {
  const [url, screenshot] = process.argv.slice(2);
  const browser = await launch();
  try {
    const a = await browser.newPage();
    const b = await browser.newPage();
    await a.goto(url);
    await b.goto(url);
    // Both tabs have parked their first poll once the gateway says so.
    await waitParked(new URL('/comet/stats', url).href, 2);
    const send = async (page, name, text) => {
      await page.fill('#name', name);
      await page.fill('#text', text);
      await page.press('#text', 'Enter');
    };
    const seen = (page, text) => page.waitForFunction(
      (t) => document.querySelector('#log').innerText.includes(t), text, { timeout: 10000 });
    await send(a, 'ann', 'hello from tab A \u2713');
    await seen(b, 'hello from tab A \u2713');
    await send(b, 'bob', 'hi ann, <b>not bold</b>');
    await seen(a, 'hi ann, <b>not bold</b>');
    if (screenshot) await a.screenshot({ path: screenshot });
    const log = await a.innerText('#log');
    if (log.split('hello from tab A').length !== 2) throw new Error('duplicate message: ' + log);
    console.log('ok: both tabs saw both messages');
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
