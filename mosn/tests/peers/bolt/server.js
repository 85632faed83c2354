'use strict';
// Test peer for the MOSN end-to-end tests: a real sofa-rpc-node RpcServer
// (bolt, hessian2) without any registry, bound to 127.0.0.1.
//
//   node server.js [PORT|0] [NAME] [--quiet]
//
// Prints `PORT <n>` on stdout once listening. Serves com.alipay.test.EchoService:1.0:
//   echo(s)  -> s, or `NAME:s` when NAME is given
//   sleep(ms)-> waits ms, returns ms
//   fail(s)  -> throws Error(s) (client sees response status SERVER_EXCEPTION = 2)
// Prints one line per call on stdout: `call <method> <arg>`, unless --quiet is given (the
// benchmark's backend, see bench/README.md).
// It answers bolt v1 and bolt v2 (with or without CRC) requests in the version they came in.
const net = require('net');
const util = require('util');
const { RpcServer } = require('sofa-rpc-node').server;

const quiet = process.argv.includes('--quiet');
const [ portArg, name = '' ] = process.argv.slice(2).filter(a => a !== '--quiet');
const port = Number(portArg || 0);
const note = quiet ? () => {} : line => process.stdout.write(`${line}\n`);

const oneLine = args => util.format(...args.map(a => (a instanceof Error ? `${a.name}: ${a.message}` : a))).replace(/\n/g, ' ');
const logger = {
  debug() {},
  info() {},
  warn: (...a) => process.stderr.write(`warn ${oneLine(a)}\n`),
  error: (...a) => process.stderr.write(`error ${oneLine(a)}\n`),
};

// RpcServer listens on all interfaces; bind to loopback only.
class LoopbackServer extends RpcServer {
  _startServer(p) {
    const server = net.createServer();
    server.once('error', err => this.emit('error', err));
    server.on('connection', socket => this._handleSocket(socket));
    server.listen(p, '127.0.0.1', () => { this.publishPort = server.address().port; });
    return server;
  }
}

const server = new LoopbackServer({ logger, port });
server.on('error', () => {}); // already logged by the service (fail) or connection
server.addService({ interfaceName: 'com.alipay.test.EchoService', version: '1.0' }, {
  async echo(s) {
    note(`call echo ${s}`);
    return name ? `${name}:${s}` : s;
  },
  async sleep(ms) {
    note(`call sleep ${ms}`);
    await new Promise(r => setTimeout(r, ms));
    return ms;
  },
  async fail(s) {
    note(`call fail ${s}`);
    const err = new Error(s);
    err.ignoreLog = true;
    throw err;
  },
});

server.start().then(() => {
  process.stdout.write(`PORT ${server._servers[0].address().port}\n`);
}, err => {
  process.stderr.write(`listen failed: ${err.message}\n`);
  process.exit(2);
});
