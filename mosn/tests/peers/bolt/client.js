'use strict';
// Test peer for the MOSN end-to-end tests: a real sofa-rpc-node RpcClient
// (bolt v1, hessian2) talking directly to HOST:PORT (no registry, `serverHost`).
//
//   node client.js HOST:PORT METHOD ARG [--count N] [--concurrency C] [--timeout MS] [--v2 1]
//
// Calls com.alipay.test.EchoService:1.0 METHOD(ARG) (ARG is a number for `sleep`)
// N times (default 1) with C calls in flight (default 1), all on the client's one
// connection. Prints `OK <value>` or `ERR <name>: <message> [resultCode=..]` per call,
// then `DONE ok=<n> err=<m>` when N > 1. Exit 0 iff every call succeeded.
// --v2 1 makes the client speak bolt v2 (ver1=2, CRC on) instead of v1; RpcClient has no
// option for it, so it is set on the connection's sofa-bolt-node encoder.
const { RpcClient } = require('sofa-rpc-node').client;
const RpcConnection = require('sofa-rpc-node/lib/client/connection/rpc');
const DynamicConfig = require('sofa-rpc-node/lib/client/dynamic_config');

const [ addr, method, rawArg, ...rest ] = process.argv.slice(2);
if (!addr || !method || rawArg === undefined) {
  console.error('usage: node client.js HOST:PORT METHOD ARG [--count N] [--concurrency C] [--timeout MS] [--v2 1]');
  process.exit(2);
}
const opt = { count: 1, concurrency: 1, timeout: 3000, v2: 0 };
for (let i = 0; i < rest.length; i += 2) opt[rest[i].replace(/^--/, '')] = Number(rest[i + 1]);
const arg = method === 'sleep' ? Number(rawArg) : rawArg;

// Deterministic behaviour for tests: never short-circuit calls locally.
DynamicConfig.instance.circuitBreaker.forceClosed = true;

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

class V2Connection extends RpcConnection {
  _connect() {
    super._connect();
    Object.assign(this._encoder, { protocolType: 'bolt2', boltVersion: 2, crcEnable: true });
  }
}

async function main() {
  const client = new RpcClient({ logger: quiet, connectionClass: opt.v2 ? V2Connection : RpcConnection });
  client.on('error', () => {}); // socket errors also fail the pending calls
  const consumer = client.createConsumer({
    interfaceName: 'com.alipay.test.EchoService',
    version: '1.0',
    serverHost: addr,
  });
  await consumer.ready();

  let ok = 0;
  let err = 0;
  let next = 0;
  async function worker() {
    while (next < opt.count) {
      next++;
      try {
        const v = await consumer.invoke(method, [ arg ], { responseTimeout: opt.timeout });
        ok++;
        console.log(`OK ${v}`);
      } catch (e) {
        err++;
        console.log(`ERR ${e.name}: ${e.message.split('\n')[0]}${e.resultCode ? ` resultCode=${e.resultCode}` : ''}`);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, opt.concurrency) }, worker));
  if (opt.count > 1) console.log(`DONE ok=${ok} err=${err}`);
  process.exit(err ? 1 : 0); // client.close() would wait for timers; just leave
}

main().catch(e => {
  console.log(`ERR ${e.name}: ${e.message}`);
  process.exit(1);
});
