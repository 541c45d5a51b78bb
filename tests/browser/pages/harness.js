// What the browser tests read back from a page: every message, gap, error
// and transport change of the client that startClient() makes. ES5, so the
// legacy-browser cases can use it too.
(function () {
  'use strict';
  var record = { messages: [], cursors: [], gaps: [], errors: [], codes: [], transports: [] };
  window.record = record;
  window.startClient = function (url, channels, options) {
    var Client = window.ClientClass || window.CometClient;
    var o = options || {};
    o.onMessage = function (m) {
      record.messages.push(m.channel + ':' + m.data);
      record.cursors.push(window.client.cursor);
    };
    o.onGap = function (channels) { record.gaps.push(channels.join(',')); };
    o.onError = function (err) { record.errors.push(err.message); record.codes.push(err.status + ' ' + err.code); };
    o.onTransport = function (name) { record.transports.push(name); };
    window.client = new Client(url, channels, o);
    window.client.start();
  };
})();
