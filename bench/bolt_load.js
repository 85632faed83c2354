'use strict';
// Load generator for bench/run's bolt case, the bolt counterpart of `wrk --latency`:
// C raw TCP connections to HOST:PORT, each with one bolt v1 (hessian2) request in flight
// at a time, built with sofa-bolt-node's frame encoder/decoder (as in
// mosn/tests/peers/bolt/raw.js). Every request is com.alipay.test.EchoService:1.0
// echo(S), S being --size bytes of text; every answer is decoded and must be S.
//
//   node bench/bolt_load.js HOST:PORT [--connections C] [--duration S] [--count N]
//                           [--size BYTES] [--timeout MS]
//
// Defaults: 32 connections, 10 s, 100 bytes, 3000 ms. It stops after --duration seconds
// or, with --count, once N requests have finished (answered or failed), whichever comes
// first. A failed request is an error: a socket error or close while it was in flight
// (or connecting), no answer within --timeout, a status other than 0, an answer that is
// not S. The connection is then opened again. Requests still in flight at the end are
// not counted. Then it prints one `name value` line each:
//   requests <answered right> / seconds <elapsed> / rps <requests per second>
//   p50_us, p90_us, p99_us <latency percentiles of those, µs> / errors <failed requests>
// and `first_error <text>` when there was one. Like wrk, it exits 0 once it has printed
// them, errors or not (2 on bad usage).
const net = require('net');
const { performance } = require('perf_hooks');
const protocol = require('../mosn/tests/peers/bolt/node_modules/sofa-bolt-node/lib/protocol');

const [ addr, ...rest ] = process.argv.slice(2);
if (!addr || !addr.includes(':')) {
  console.error('usage: node bolt_load.js HOST:PORT [--connections C] [--duration S] [--count N] [--size BYTES] [--timeout MS]');
  process.exit(2);
}
const opt = { connections: 32, duration: 10, count: Infinity, size: 100, timeout: 3000 };
for (let i = 0; i < rest.length; i += 2) opt[rest[i].replace(/^--/, '')] = Number(rest[i + 1]);
const [ host, port ] = addr.split(':');

const text = 'mosn-bench bolt echo '.repeat(Math.ceil(opt.size / 21)).slice(0, opt.size);
// One request frame, encoded once; each request is a copy with its own id (bytes 5..8).
const template = Buffer.from(protocol.requestEncode(1, {
  serverSignature: 'com.alipay.test.EchoService:1.0',
  methodName: 'echo',
  args: [ text ],
  requestProps: { service: 'com.alipay.test.EchoService:1.0' },
  timeout: opt.timeout,
}, { protocolType: 'bolt', boltVersion: 1, crcEnable: false, codecType: 'hessian2' }));
// Length of the v1 response frame at the start of b, or 0 while its 20-byte header is incomplete.
const frameLen = b => (b.length < 20 ? 0 : 20 + b.readUInt16BE(12) + b.readUInt16BE(14) + b.readUInt32BE(16));

const latencies = []; // µs, of the requests answered right
let errors = 0;
let firstError = '';
let finished = 0; // answered or failed
let running = true;
const conns = new Set();

function fail(why) {
  errors++;
  if (!firstError) firstError = why;
  if (++finished >= opt.count) stop();
}

// A connection with one request in flight; opened again after a failure.
function open() {
  const conn = { sock: net.connect(Number(port), host), id: 0, sent: performance.now(), busy: true, buf: Buffer.alloc(0) };
  const decodeOpts = { sentReqs: new Map(), classCache: new Map() };
  conns.add(conn);
  conn.sock.setNoDelay(true);
  const send = () => {
    const frame = Buffer.from(template);
    frame.writeUInt32BE(++conn.id, 5);
    conn.busy = true;
    conn.sent = performance.now();
    conn.sock.write(frame);
  };
  conn.drop = why => { // the request in flight (or the connect) failed: start over
    if (!conns.delete(conn)) return;
    conn.sock.destroy();
    if (running) fail(why);
    if (running) open();
  };
  conn.sock.on('connect', send);
  conn.sock.on('data', chunk => {
    conn.buf = conn.buf.length ? Buffer.concat([ conn.buf, chunk ]) : chunk;
    let len;
    while (running && (len = frameLen(conn.buf)) && conn.buf.length >= len) {
      const frame = conn.buf.slice(0, len);
      conn.buf = conn.buf.slice(len);
      const id = frame.readUInt32BE(5);
      if (!conn.busy || id !== conn.id) return conn.drop(`answer with id ${id}, expected ${conn.busy ? conn.id : 'none'}`);
      conn.busy = false;
      let d;
      try {
        d = protocol.decode(frame, decodeOpts).data;
      } catch (e) {
        return conn.drop(`undecodable answer: ${e.message}`);
      }
      const status = frame.readUInt16BE(10);
      if (status !== 0 || d.error || d.appResponse !== text) {
        fail(`status ${status}: ${d.error ? d.error.message : `answer ${JSON.stringify(d.appResponse)}`}`);
      } else {
        latencies.push((performance.now() - conn.sent) * 1000);
        if (++finished >= opt.count) stop();
      }
      if (running) send();
    }
  });
  conn.sock.on('error', e => conn.drop(`socket ${e.code || e.message}`));
  conn.sock.on('close', () => conn.drop('closed by the peer'));
}

const start = performance.now();
const stopTimer = setTimeout(stop, opt.duration * 1000);
const timeoutTimer = setInterval(() => {
  const now = performance.now();
  for (const conn of conns) {
    if (conn.busy && now - conn.sent > opt.timeout) conn.drop(`no answer within ${opt.timeout} ms`);
  }
}, 100);
for (let i = 0; i < opt.connections; i++) open();

function stop() {
  if (!running) return;
  running = false;
  const seconds = (performance.now() - start) / 1000;
  clearTimeout(stopTimer);
  clearInterval(timeoutTimer);
  const sorted = Float64Array.from(latencies).sort();
  const pct = q => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] : 0);
  console.log([
    `requests ${sorted.length}`,
    `seconds ${seconds.toFixed(3)}`,
    `rps ${(sorted.length / seconds).toFixed(1)}`,
    `p50_us ${pct(0.5).toFixed(1)}`,
    `p90_us ${pct(0.9).toFixed(1)}`,
    `p99_us ${pct(0.99).toFixed(1)}`,
    `errors ${errors}`,
    ...(firstError ? [ `first_error ${firstError}` ] : []),
  ].join('\n'));
  process.exit(0); // without waiting for the requests still in flight
}
