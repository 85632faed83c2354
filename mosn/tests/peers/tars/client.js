'use strict';
// Test peer for the MOSN end-to-end tests: a real @tars/rpc (tars4nodejs) client talking
// directly to HOST:PORT (no registry: the object name carries the endpoint,
// `Test.EchoServer.EchoObj@tcp -h HOST -p PORT -t TIMEOUT`).
//
//   node client.js HOST:PORT METHOD ARG [--count N] [--concurrency C] [--timeout MS]
//                  [--servant NAME] [--tup 2|3]
//
// Calls METHOD(ARG) of the servant (interface Echo, see echo.tars; ARG is an int for `sleep`,
// a string otherwise, any other METHOD is sent as `string METHOD(string)`) N times (default 1)
// with C calls in flight (default 1), all on the proxy's one connection. Prints `ok <value>`
// or `ERR ret=<code> <message>` per call, then `DONE ok=<n> err=<m>` when N > 1.
// Exit 0 iff every call succeeded. <code> is the response's iRet when the server answered
// (its sResultDesc is the message), else the client's own code (e.g. -13001 timeout).
// --timeout is the call timeout (default 3000); @tars/rpc ignores the endpoint's -t.
// --servant sends another sServantName (the endpoint stays the same).
// --tup 2|3 speaks TUP (RequestPacket with iVersion 2 = complex, 3 = simple) instead of TARS.
// Request ids are the proxy's counter: 2, 3, 4, ... (one counter for all connections).

// @tars/rpc and @tars/monitor (which it loads) require each other; keep Node's warning about
// the half-loaded module (harmless: monitor only reports under tarsnode) off stderr.
process.removeAllListeners('warning');
process.on('warning', w => {
  if (!/inside circular dependency/.test(w.message)) process.stderr.write(`${w.name}: ${w.message}\n`);
});
const TarsStream = require('@tars/stream');
const { Communicator } = require('@tars/rpc');

const [ addr, method, rawArg, ...rest ] = process.argv.slice(2);
if (!addr || !method || rawArg === undefined) {
  console.error('usage: node client.js HOST:PORT METHOD ARG [--count N] [--concurrency C] [--timeout MS] [--servant NAME] [--tup 2|3]');
  process.exit(2);
}
const opt = { count: 1, concurrency: 1, timeout: 3000, servant: 'Test.EchoServer.EchoObj', tup: 0 };
for (let i = 0; i < rest.length; i += 2) {
  const k = rest[i].replace(/^--/, '');
  opt[k] = k === 'servant' ? rest[i + 1] : Number(rest[i + 1]);
}
const isInt = method === 'sleep';
const arg = isInt ? Number(rawArg) : rawArg;
const [ host, port ] = addr.split(':');

// What tars2node generates for the proxy of `string f(string s)` / `int f(int ms)`, by hand:
// argument tag 1 (TUP: by name), return value tag 0 (TUP: name "").
const EchoProxy = function () {
  this._name = undefined;
  this._worker = undefined;
};
EchoProxy.prototype.setTimeout = function (ms) { this._worker.timeout = ms; };
EchoProxy.prototype.call = function (func, argName, v) {
  const worker = this._worker;
  // data is an RpcCallError: error {code, message}, response the decoded packet if any (a
  // TUP answer carries its description only in status STATUS_RESULT_DESC).
  const fail = data => {
    let message = data.error.message;
    if (opt.tup && !message && data.response && data.response.status) message = data.response.status.get('STATUS_RESULT_DESC');
    throw { code: data.error.code, message };
  };
  if (opt.tup) {
    const tup = new TarsStream.UniAttribute();
    tup.tupVersion = worker.version;
    if (isInt) tup.writeInt32(argName, v);
    else tup.writeString(argName, v);
    return worker.tup_invoke(func, tup).then(data => {
      const r = data.response.tup;
      return isInt ? r.readInt32('') : r.readString('');
    }, fail);
  }
  const os = new TarsStream.TarsOutputStream();
  if (isInt) os.writeInt32(1, v);
  else os.writeString(1, v);
  return worker.tars_invoke(func, os.getBinBuffer()).then(data => {
    const is = new TarsStream.TarsInputStream(data.response.sBuffer);
    return isInt ? is.readInt32(0, true, TarsStream.Int32) : is.readString(0, true, TarsStream.String);
  }, fail);
};

const comm = Communicator.New();
const prx = comm.stringToProxy(EchoProxy, `${opt.servant}@tcp -h ${host} -p ${port} -t ${opt.timeout}`);
prx.setTimeout(opt.timeout);
if (opt.tup) prx._worker.version = opt.tup;
// Deterministic behaviour for tests: never mark the server inactive (by default 5 failures
// in a row make the client close the connection and wait up to 30 s before trying again).
prx._worker.setCheckTimeoutInfo({ frequenceFailInvoke: Infinity, minTimeoutInvoke: Infinity });

let ok = 0;
let err = 0;
let next = 0;
async function worker() {
  while (next < opt.count) {
    next++;
    try {
      const v = await prx.call(method, isInt ? 'ms' : 's', arg);
      ok++;
      console.log(`ok ${v}`);
    } catch (e) {
      err++;
      const code = e && e.code !== undefined ? e.code : '?';
      const msg = e && e.message !== undefined ? String(e.message).split('\n')[0] : String(e);
      console.log(`ERR ret=${code} ${msg}`);
    }
  }
}

Promise.all(Array.from({ length: Math.max(1, opt.concurrency) }, worker)).then(() => {
  if (opt.count > 1) console.log(`DONE ok=${ok} err=${err}`);
  // comm.destroy() would keep the process up for the call timeout (AdapterProxy.destroy
  // closes its sockets after a timer); just leave.
  process.exit(err ? 1 : 0);
});
