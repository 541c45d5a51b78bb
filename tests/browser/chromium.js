// Headless Chromium as the browser tests run it (Debian's /usr/bin/chromium,
// or $CHROMIUM): root in CI needs --no-sandbox; the other flags keep
// Chromium off the (closed) network.
'use strict';
const { chromium } = require('playwright-core');

exports.launch = () => chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
