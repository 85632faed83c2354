'use strict';
// Test peer for the MOSN end-to-end tests: a real @tars/rpc (tars4nodejs) server
// without any registry or tarsnode, bound to 127.0.0.1.
//
//   node server.js [PORT|0] [NAME]
//
// Prints `PORT <n>` on stdout once listening. Serves the servant Test.EchoServer.EchoObj
// (interface Echo, see echo.tars) on the endpoint `tcp -h 127.0.0.1 -p PORT -t 60000`
// (the server closes a connection idle for 60 s, as a TARS server does by default):
//   echo(s)   -> s, or `NAME:s` when NAME is given
//   sleep(ms) -> waits ms, returns ms
//   fail(s)   -> throws an error with code -99 (TARSSERVERUNKNOWNERR); @tars/rpc answers it
//                with iRet=-99 and sResultDesc="BindAdapter Exception:<s>", sBuffer empty
//   tars_ping -> returns 0 (as generated servants do)
// An unknown function is answered by @tars/rpc with iRet=-3 (FUNC_NOT_FOUND), sResultDesc "".
// @tars/rpc itself dispatches every request on a port to that port's servant whatever its
// sServantName; this servant answers another name with iRet=-4 (SERVANT_NOT_FOUND,
// TARSSERVERNOSERVANTERR), sResultDesc `no servant <name>`, as TARS C++/Go servers do.
// Prints one line per call on stdout: `call <method> <arg>` (or `unknown <servant> <func>`).
// Requests in TARS (iVersion 1) and in TUP (iVersion 2 or 3, answered as a RequestPacket with
// STATUS_RESULT_CODE in status) are both served, like tars2node's generated code.

// @tars/rpc and @tars/monitor (which it loads) require each other; keep Node's warning about
// the half-loaded module (harmless: monitor only reports under tarsnode) off stderr.
process.removeAllListeners('warning');
process.on('warning', w => {
  if (!/inside circular dependency/.test(w.message)) process.stderr.write(`${w.name}: ${w.message}\n`);
});
const TarsStream = require('@tars/stream');
const TarsError = require('@tars/rpc').error;
const HeroServer = require('@tars/rpc').server;

const port = Number(process.argv[2] || 0);
const name = process.argv[3] || '';
const SERVANT = 'Test.EchoServer.EchoObj';
const TARSSERVERUNKNOWNERR = -99; // BaseF.tars; @tars/rpc's TarsError has no name for it

const isTup = current => current.getRequestVersion() === TarsStream.Tup.TUP_SIMPLE ||
  current.getRequestVersion() === TarsStream.Tup.TUP_COMPLEX;

// What tars2node generates for `string f(string s)` / `int f(int ms)`, by hand: the argument
// is tag 1 (TUP: its name), the return value tag 0 (TUP: name "").
const kinds = {
  string: {
    read: (is, tag) => is.readString(tag, true, TarsStream.String),
    readTup: (tup, n) => tup.readString(n),
    write: (os, tag, v) => os.writeString(tag, v),
    writeTup: (tup, n, v) => tup.writeString(n, v),
  },
  int: {
    read: (is, tag) => is.readInt32(tag, true, TarsStream.Int32),
    readTup: (tup, n) => tup.readInt32(n),
    write: (os, tag, v) => os.writeInt32(tag, v),
    writeTup: (tup, n, v) => tup.writeInt32(n, v),
  },
};

// interface Echo { string echo(string s); int sleep(int ms); string fail(string s); };
const methods = {
  echo: { arg: [ 's', 'string' ], ret: 'string', impl: (current, s) => current.sendResponse(name ? `${name}:${s}` : s) },
  sleep: { arg: [ 'ms', 'int' ], ret: 'int', impl: (current, ms) => setTimeout(() => current.sendResponse(ms), ms) },
  fail: { arg: [ 's', 'string' ], ret: 'string', impl: (current, s) => {
    const err = new Error(s);
    err.code = TARSSERVERUNKNOWNERR; // BindAdapter.dispatch answers iRet=e.code
    throw err;
  } },
};

const EchoImp = function () {};
EchoImp.prototype.initialize = function () {};
EchoImp.prototype.onDispatch = function (current, func, buf) {
  const req = current.getRequest();
  if (req.sServantName !== SERVANT) {
    process.stdout.write(`unknown ${req.sServantName} ${func}\n`);
    current.sendErrorResponse(TarsError.SERVER.SERVANT_NOT_FOUND, `no servant ${req.sServantName}`);
    return TarsError.SUCCESS;
  }
  const respond = (kind, v) => {
    if (isTup(current)) {
      const tup = new TarsStream.UniAttribute();
      tup.tupVersion = current.getRequestVersion();
      kinds[kind].writeTup(tup, '', v);
      current.doResponse(tup.encode());
    } else {
      const os = new TarsStream.TarsOutputStream();
      kinds[kind].write(os, 0, v);
      current.doResponse(os.getBinBuffer());
    }
  };
  if (func === 'tars_ping') {
    process.stdout.write('call tars_ping -\n');
    respond('int', 0);
    return TarsError.SUCCESS;
  }
  const m = methods[func];
  if (!m) {
    process.stdout.write(`unknown ${req.sServantName} ${func}\n`);
    return TarsError.SERVER.FUNC_NOT_FOUND; // BindAdapter answers iRet=-3
  }
  let arg;
  if (isTup(current)) {
    const tup = new TarsStream.UniAttribute();
    tup.tupVersion = current.getRequestVersion();
    tup.decode(buf);
    arg = kinds[m.arg[1]].readTup(tup, m.arg[0]);
  } else {
    arg = kinds[m.arg[1]].read(new TarsStream.TarsInputStream(buf), 1);
  }
  process.stdout.write(`call ${func} ${arg}\n`);
  current.sendResponse = v => respond(m.ret, v);
  m.impl(current, arg);
  return TarsError.SUCCESS;
};

const server = new HeroServer();
const option = new HeroServer.BindAdapterOption();
option.endpoint = `tcp -h 127.0.0.1 -p ${port} -t 60000`;
option.name = `${SERVANT}Adapter`;
option.servant = SERVANT;
option.protocolName = 'tars';
option.handleImp = EchoImp;
server.start(option); // EchoImp.initialize returns nothing: the listener is created now

// NetThread listens without a callback or an error handler; watch its listener.
const listener = server._adapters[0]._netthread._listener;
listener.once('error', err => {
  process.stderr.write(`listen failed: ${err.message}\n`);
  process.exit(2);
});
listener.once('listening', () => process.stdout.write(`PORT ${listener.address().port}\n`));
