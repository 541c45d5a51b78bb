// The demo chat in two browsers, ann's and bob's, in one transport mode of
// the page (?transport=sse|longpoll|jsonp, or ?shared=1): a message typed in
// one appears in the other, both ways; each lists both names as online;
// closing bob's tab removes his name after the gateway's presence grace.
// With shared, ann has a second tab that follows the first tab's
// connection, and leads when the first one closes.
// Usage: node demo_chat.js http://127.0.0.1:PORT/demo/ MODE GRACE_MS [SCREENSHOT.png]
'use strict';
const { launch } = require('./chromium');

async function parked(statsUrl) {
  const text = await (await fetch(statsUrl)).text();
  const m = /^comet_parked_requests (\d+)/m.exec(text);
  return m ? Number(m[1]) : -1;
}

async function waitParked(statsUrl, n) {
  const deadline = Date.now() + 10000;
  while ((await parked(statsUrl)) < n) {
    if (Date.now() > deadline) throw new Error('tabs never parked their requests');
    await new Promise((r) => setTimeout(r, 20));
  }
}

// The names in a tab's online list, sorted, comma-separated.
function online(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('#members li'),
    (li) => li.firstChild.textContent).sort().join(','));
}

async function waitOnline(page, who, names) {
  try {
    await page.waitForFunction((want) => Array.from(document.querySelectorAll('#members li'),
      (li) => li.firstChild.textContent).sort().join(',') === want, names, { timeout: 10000 });
  } catch (e) {
    throw new Error(who + ' lists "' + (await online(page)) + '" as online, not "' + names + '"');
  }
}

async function main() {
  const [base, mode, graceArg, screenshot] = process.argv.slice(2);
  const grace = Number(graceArg);
  const url = new URL(mode === 'shared' ? '?shared=1' : '?transport=' + mode, base).href;
  const statsUrl = new URL('/comet/stats', base).href;
  const browser = await launch();
  try {
    // One browser context each: two browsers, two users.
    const annBrowser = await browser.newContext();
    const bobBrowser = await browser.newContext();
    const join = async (page, name) => {
      await page.goto(url);
      await page.fill('#name', name);
      await page.press('#name', 'Enter');
      await page.waitForFunction(() => !document.querySelector('#text').disabled);
    };
    const a = await annBrowser.newPage();
    const b = await bobBrowser.newPage();
    await join(a, 'ann');
    await join(b, 'bob');
    const tabs = { 'ann\'s tab': a, 'bob\'s tab': b };
    let a2 = null;
    if (mode === 'shared') {
      // The same browser remembers ann: the second tab joins by itself.
      a2 = await annBrowser.newPage();
      await a2.goto(url);
      tabs['ann\'s second tab'] = a2;
    }
    await waitParked(statsUrl, 2);

    if (mode === 'shared') {
      await a.waitForFunction(() => window.demoClient.leader);
      const follower = await a2.evaluate(() => [window.demoClient.leader, window.demoClient.transport]);
      if (follower[0] !== false || follower[1] !== null) {
        throw new Error('the second tab has a connection of its own: ' + JSON.stringify(follower));
      }
    } else {
      for (const [who, page] of Object.entries(tabs)) {
        await page.waitForFunction(() => window.demoClient.transport !== null);
        const used = await page.evaluate(() => window.demoClient.transport);
        if (used !== mode) throw new Error(who + ' uses ' + used + ', not ' + mode);
      }
    }
    for (const [who, page] of Object.entries(tabs)) await waitOnline(page, who, 'ann,bob');

    const send = async (page, text) => {
      await page.fill('#text', text);
      await page.press('#text', 'Enter');
    };
    const seen = (page, text) => page.waitForFunction(
      (t) => document.querySelector('#log').innerText.includes(t), text, { timeout: 10000 });
    // Texts of this run alone: a demo that has run before shows its
    // earlier messages too (the page starts from the earliest buffered).
    const run = Date.now().toString(36);
    const hello = 'hello from tab A \u2713 ' + run;
    const hi = 'hi ann, <b>not bold</b> ' + run;
    await send(a, hello);
    for (const page of Object.values(tabs)) await seen(page, hello);
    await send(b, hi);
    for (const page of Object.values(tabs)) await seen(page, hi);
    if (screenshot) await a.screenshot({ path: screenshot });
    for (const [who, page] of Object.entries(tabs)) {
      const log = await page.innerText('#log');
      if (log.split(hello).length !== 2) throw new Error('duplicate message in ' + who + ': ' + log);
    }
    // Two browsers, two connections, however many tabs.
    const n = await parked(statsUrl);
    if (n > 2) throw new Error(n + ' requests parked, not 2');

    // ann stays online from her second tab, which leads from now on.
    let watcher = a;
    if (mode === 'shared') {
      await a.close();
      await a2.waitForFunction(() => window.demoClient.leader);
      watcher = a2;
    }
    const closed = Date.now();
    await bobBrowser.close();
    await waitOnline(watcher, 'ann\'s tab', 'ann');
    const took = Date.now() - closed;
    if (took < grace * 0.9) throw new Error('bob left ' + took + ' ms after closing, before the grace');
    console.log('ok: ' + mode + ': both tabs saw both messages and both names; bob left ' + took +
      ' ms after his tab closed');
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
