'use strict';
// Debug/fixture helper: a TCP relay that prints every bolt frame passing through.
//
//   node relay.js TARGET_HOST:TARGET_PORT [LISTEN_PORT|0]
//
// Prints `PORT <n>` once listening, then one line per complete bolt frame (v1 or v2):
//   c2s <lowercase hex>   (client -> server)
//   s2c <lowercase hex>   (server -> client)
// plus `open <n>` / `close <n>` for each client connection (n counts from 1).
// Used to capture crates/mosn-protocol/tests/fixtures/bolt_*.hex.
const net = require('net');

const [ target, listen = '0' ] = process.argv.slice(2);
const [ thost, tport ] = target.split(':');

// Total length of the frame at the start of b, or 0 if the header is incomplete.
function frameLen(b) {
  if (b.length < 3) return 0;
  const v2 = b[0] === 2;
  const type = b[v2 ? 2 : 1];
  const head = (v2 ? 22 : 20) + (type === 0 ? 0 : 2);
  if (b.length < head) return 0;
  const l = head - 8; // classLen, headerLen, contentLen are the last 8 header bytes
  return head + b.readUInt16BE(l) + b.readUInt16BE(l + 2) + b.readUInt32BE(l + 4) +
    (v2 && b[11] === 1 ? 4 : 0);
}

function tap(dir) {
  let buf = Buffer.alloc(0);
  return chunk => {
    buf = Buffer.concat([ buf, chunk ]);
    for (let n = frameLen(buf); n && buf.length >= n; n = frameLen(buf)) {
      console.log(`${dir} ${buf.slice(0, n).toString('hex')}`);
      buf = buf.slice(n);
    }
  };
}

let conns = 0;
const server = net.createServer(c => {
  const n = ++conns;
  console.log(`open ${n}`);
  c.on('close', () => console.log(`close ${n}`));
  const s = net.connect(Number(tport), thost);
  const c2s = tap('c2s');
  const s2c = tap('s2c');
  c.on('data', d => { c2s(d); s.write(d); });
  s.on('data', d => { s2c(d); c.write(d); });
  c.on('end', () => s.end());
  s.on('end', () => c.end());
  c.on('error', () => s.destroy());
  s.on('error', () => c.destroy());
});
server.listen(Number(listen), '127.0.0.1', () => console.log(`PORT ${server.address().port}`));
