'use strict';
// Test peer for the MOSN end-to-end tests: a low-level bolt client built on
// sofa-bolt-node's frame encoder/decoder over one raw TCP connection, for what
// the RpcClient cannot do (bolt v2 + CRC, explicit heartbeats, chosen request ids,
// pipelined requests).
//
//   node raw.js HOST:PORT MODE [ARG] [--timeout MS] [--id N]
//
// MODE:
//   v1-<method> ARG      one bolt v1 request (method echo|sleep|fail|...)
//   v2-<method> ARG      one bolt v2 request, ver1=2, CRC32 on
//   v2nocrc-<method> ARG one bolt v2 request, ver1=1, CRC off
//   heartbeat            one heartbeat (cmdcode 0)
//   concurrent           sleep(300), sleep(100), echo(x) at once on one connection
//   (heartbeat and concurrent also take the v2- / v2nocrc- prefix)
// Every frame is printed as one line, e.g.
//   SENT id=1 proto=1 type=1 cmd=1 timeout=3000 len=...
//   RECV id=1 proto=1 type=0 cmd=2 status=0 len=... OK hello
// (v2 adds ver1=.. crc=ok|none). Exit 0 iff every request got a status-0 answer in time.
const net = require('net');
const protocol = require('sofa-bolt-node/lib/protocol');
const { crc32 } = require('sofa-bolt-node/lib/utils');

const [ addr, mode = '', ...rest ] = process.argv.slice(2);
const opt = { timeout: 3000, id: 1 };
const pos = [];
for (let i = 0; i < rest.length; i++) {
  if (rest[i].startsWith('--')) opt[rest[i].slice(2)] = Number(rest[++i]);
  else pos.push(rest[i]);
}
const m = /^(v2nocrc|v1|v2)?-?(.*)$/.exec(mode);
const ver = m[1] || 'v1';
const what = m[2];
if (!addr || !what) {
  console.error('usage: node raw.js HOST:PORT MODE [ARG] [--timeout MS] [--id N]');
  process.exit(2);
}
const encOpts = {
  protocolType: ver === 'v1' ? 'bolt' : 'bolt2',
  boltVersion: ver === 'v2' ? 2 : 1,
  crcEnable: ver === 'v2',
  codecType: 'hessian2',
};
const call = (method, arg) => ({
  serverSignature: 'com.alipay.test.EchoService:1.0',
  methodName: method,
  args: [ method === 'sleep' ? Number(arg) : arg ],
  requestProps: { service: 'com.alipay.test.EchoService:1.0' },
  timeout: opt.timeout,
});

// Header fields, by hand (see the layouts in sofa-bolt-node/lib/protocol/v1.js, v2.js).
function header(b) {
  const v2 = b[0] === 2;
  const o = v2 ? 1 : 0; // v2 has ver1 after proto
  const h = { id: b.readUInt32BE(o + 5), proto: b[0] };
  if (v2) h.ver1 = b[1];
  h.type = b[o + 1];
  h.cmd = b.readUInt16BE(o + 2);
  const p = o + 10 + (v2 ? 1 : 0); // after codec (and switch)
  if (v2) h.switch = b[o + 10];
  if (h.type === 0) h.status = b.readUInt16BE(p);
  else h.timeout = b.readInt32BE(p);
  const l = p + (h.type === 0 ? 2 : 4);
  h.len = l + 8 + b.readUInt16BE(l) + b.readUInt16BE(l + 2) + b.readUInt32BE(l + 4);
  if (v2 && h.switch === 1) h.len += 4; // CRC32 of everything before it
  return h;
}
// `crc` field of a complete frame: ok | BAD | none (v1 frames: no field)
function checkCrc(h, b) {
  if (h.proto !== 2) return;
  h.crc = h.switch !== 1 ? 'none' : crc32(b.slice(0, h.len - 4)) === b.readInt32BE(h.len - 4) ? 'ok' : 'BAD';
}
// Fixed header size: v1 response 20, v1 request 22, v2 adds 2 (ver1, switch).
const headLen = b => (b[0] === 2 ? 22 : 20) + (b[b[0] === 2 ? 2 : 1] === 0 ? 0 : 2);
const show = h => Object.entries(h).map(([ k, v ]) => `${k}=${v}`).join(' ');

const frames = [];
let hb = false;
if (what === 'heartbeat') {
  hb = true;
  frames.push(protocol.heartbeatEncode(opt.id, { timeout: opt.timeout }, encOpts));
} else if (what === 'concurrent') {
  [ [ 'sleep', 300 ], [ 'sleep', 100 ], [ 'echo', 'x' ] ].forEach(([ meth, a ], i) =>
    frames.push(protocol.requestEncode(opt.id + i, call(meth, a), encOpts)));
} else {
  frames.push(protocol.requestEncode(opt.id, call(what, pos[0]), encOpts));
}

const [ host, port ] = addr.split(':');
const sock = net.connect(Number(port), host);
let pending = frames.length;
let failed = 0;
let buf = Buffer.alloc(0);
const order = [];
const finish = code => { if (order.length > 1) console.log(`ORDER ${order.join(',')}`); process.exit(code); };
const timer = setTimeout(() => { console.log(`TIMEOUT pending=${pending}`); finish(1); }, opt.timeout + 1000);

sock.on('connect', () => {
  for (const f of frames) {
    const h = header(f);
    checkCrc(h, f);
    console.log(`SENT ${show(h)}`);
  }
  sock.write(Buffer.concat(frames)); // all in one write: pipelined on one connection
});
sock.on('data', chunk => {
  buf = Buffer.concat([ buf, chunk ]);
  while (buf.length >= 3 && buf.length >= headLen(buf)) {
    const h = header(buf);
    if (buf.length < h.len) break;
    const frame = buf.slice(0, h.len);
    buf = buf.slice(h.len);
    checkCrc(h, frame);
    let res = '';
    if (!hb && h.crc !== 'BAD') {
      try {
        const d = protocol.decode(frame, { sentReqs: new Map(), classCache: new Map() }).data;
        res = d.error ? ` ERR ${d.error.message}` : ` OK ${d.appResponse}`;
      } catch (e) {
        res = ` UNDECODABLE ${e.message}`;
        failed++;
      }
    }
    console.log(`RECV ${show(h)}${res}`);
    order.push(h.id);
    if (h.status !== 0 || h.crc === 'BAD') failed++;
    if (--pending === 0) { clearTimeout(timer); sock.end(); finish(failed ? 1 : 0); }
  }
});
sock.on('error', e => { console.log(`ERR socket ${e.code || e.message}`); finish(1); });
sock.on('close', () => { if (pending) { console.log(`CLOSED pending=${pending}`); finish(1); } });
