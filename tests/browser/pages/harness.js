// What the browser tests read back from a page: every message, gap, error,
// transport change and presence callback of the client that startClient()
// makes. ES5, so the legacy-browser cases can use it too.
(function () {
  'use strict';
  var record = { messages: [], cursors: [], gaps: [], errors: [], codes: [], transports: [], presence: [] };
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
    // "here:lobby.1:ann,bob", "join:lobby.1:bob", "leave:lobby.1:bob"
    function users(members) {
      var out = [];
      for (var i = 0; i < members.length; i++) out.push(members[i].user);
      return out.join(',');
    }
    o.onHere = function (channel, members) { record.presence.push('here:' + channel + ':' + users(members)); };
    o.onJoin = function (channel, m) { record.presence.push('join:' + channel + ':' + m.user); };
    o.onLeave = function (channel, m) { record.presence.push('leave:' + channel + ':' + m.user); };
    window.client = new Client(url, channels, o);
    window.client.start();
  };
})();
