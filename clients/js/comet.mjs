// comet.mjs: the browser client as an ES module.
//
//   import { CometClient } from './comet.mjs';   // or: import CometClient from ...
//
// It evaluates comet.js, the one source of the client, and exports what that
// defines, so the script and the module cannot drift apart. (comet.js also
// sets the global CometClient, as it does when loaded by a script tag.)
import './comet.js';

const CometClient = (typeof globalThis !== 'undefined' ? globalThis : self).CometClient;

export { CometClient };
export default CometClient;
