/*
 * comet.js: a small long-poll client for comet-gateway. No dependencies,
 * no build step; works in browsers with fetch and AbortController.
 *
 *   const client = new CometClient('/comet/poll', ['chat.42'], {
 *     onMessage(msg) { ... msg.channel, msg.id, msg.data (string) or msg.bytes (Uint8Array) },
 *     onGap(channels) { ... messages may have been missed: reload state ... },
 *     onError(err) { ... },           // optional, for display
 *     onResponse() { ... },           // optional: after every successful poll
 *     since: 'earliest',              // optional: also deliver what is still buffered
 *     timeout: 25,                    // optional: seconds per poll
 *   });
 *   client.start();  ...  client.stop();
 *
 * It follows the cursor of every response, so no message is delivered twice
 * and none is lost silently: when the gateway cannot vouch for continuity it
 * names the channels in "gaps" and onGap is called before the messages of
 * that response. On network errors and 5xx it retries with exponential
 * back-off and jitter (honouring Retry-After); a 400 caused by a cursor the
 * gateway rejects makes it restart from "now" after reporting a gap.
 */
(function (root) {
  'use strict';

  function decodeBase64(text) {
    const bin = atob(text);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    return bytes;
  }

  class CometClient {
    constructor(url, channels, options) {
      if (!Array.isArray(channels) || channels.length === 0) {
        throw new Error('CometClient: at least one channel');
      }
      const o = options || {};
      this.url = url;
      this.channels = channels.slice();
      this.onMessage = o.onMessage || function () {};
      this.onGap = o.onGap || function () {};
      this.onError = o.onError || function () {};
      this.onResponse = o.onResponse || function () {};
      this.timeout = o.timeout === undefined ? 25 : o.timeout;
      this.token = o.token || null;
      this.cursor = o.since || null;
      this.minBackoff = o.minBackoff || 1000;
      this.maxBackoff = o.maxBackoff || 30000;
      this.backoff = 0;
      this.running = false;
      this.abort = null;
      this.timer = null;
    }

    start() {
      if (this.running) return;
      this.running = true;
      this.poll();
    }

    stop() {
      this.running = false;
      if (this.abort) this.abort.abort();
      if (this.timer) clearTimeout(this.timer);
      this.abort = null;
      this.timer = null;
    }

    requestUrl() {
      const q = new URLSearchParams();
      q.set('channel', this.channels.join(','));
      q.set('timeout', String(this.timeout));
      if (this.cursor) q.set('since', this.cursor);
      if (this.token) q.set('token', this.token);
      return this.url + (this.url.indexOf('?') < 0 ? '?' : '&') + q.toString();
    }

    async poll() {
      while (this.running) {
        this.abort = new AbortController();
        let retryAfter = 0;
        try {
          const res = await fetch(this.requestUrl(), {
            cache: 'no-store',
            credentials: 'same-origin',
            signal: this.abort.signal,
          });
          if (res.status === 200) {
            const body = await res.json();
            this.backoff = 0;
            this.onResponse();
            this.deliver(body);
            continue;
          }
          const text = await res.text();
          if (res.status === 400 && this.cursor && /since|cursor/i.test(text)) {
            // The cursor is not usable: start over, and say continuity is lost.
            this.cursor = null;
            this.onGap(this.channels.slice());
            continue;
          }
          retryAfter = parseInt(res.headers.get('Retry-After') || '0', 10) * 1000 || 0;
          throw new Error('HTTP ' + res.status + ': ' + text.slice(0, 200));
        } catch (err) {
          if (!this.running) return;
          this.onError(err);
          this.backoff = Math.min(this.maxBackoff, Math.max(this.minBackoff, this.backoff * 2));
          const delay = Math.max(retryAfter, this.backoff * (0.5 + Math.random() / 2));
          await new Promise((resolve) => { this.timer = setTimeout(resolve, delay); });
        }
      }
    }

    deliver(body) {
      if (typeof body.cursor === 'string') this.cursor = body.cursor;
      if (Array.isArray(body.gaps) && body.gaps.length) this.onGap(body.gaps.slice());
      for (const m of body.messages || []) {
        const msg = { channel: m.channel, id: m.id };
        if (typeof m.data === 'string') msg.data = m.data;
        else if (typeof m.data_base64 === 'string') msg.bytes = decodeBase64(m.data_base64);
        try {
          this.onMessage(msg);
        } catch (err) {
          this.onError(err);
        }
      }
    }
  }

  root.CometClient = CometClient;
  if (typeof module === 'object' && module.exports) module.exports = { CometClient };
})(typeof self !== 'undefined' ? self : this);
