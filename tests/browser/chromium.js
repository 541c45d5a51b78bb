// Headless Chromium as the browser tests run it (Debian's /usr/bin/chromium,
// or $CHROMIUM): root in CI needs --no-sandbox; the other flags keep
// Chromium off the (closed) network. Also the tests' two assertions: check()
// and until() (a condition awaited with a deadline, polled every 20 ms).
'use strict';
const { chromium } = require('playwright-core');

exports.launch = () => chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

exports.check = (cond, what) => {
  if (!cond) throw new Error(what);
};

exports.until = async (what, fn, ms = 15000) => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 20));
  }
};
