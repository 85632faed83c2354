'use strict';
// Debug/fixture helper: a TCP relay that prints every RPC frame passing through.
//
//   node relay.js bolt|dubbo|tars TARGET_HOST:TARGET_PORT [LISTEN_PORT|0]
//
// Prints `PORT <n>` once listening, then one line per complete frame:
//   c2s <lowercase hex>   (client -> server)
//   s2c <lowercase hex>   (server -> client)
// plus `open <n>` / `close <n>` for each client connection (n counts from 1). Bytes that cannot
// be framed are printed once as `c2s BAD <hex>` and no longer framed.
// Used to capture crates/mosn-protocol/tests/fixtures/*.hex. Needs no npm package.
const net = require('net');

// Each protocol's frame length, from the bytes at the start of a frame: 0 while the header is
// incomplete, -1 when the bytes are not a frame.
const FRAME_LENGTH = {
  // bolt v1 and v2: classLen, headerLen and contentLen are the last 8 header bytes; v2 may
  // end in a CRC32.
  bolt(b) {
    if (b.length < 3) return 0;
    const v2 = b[0] === 2;
    const type = b[v2 ? 2 : 1];
    const head = (v2 ? 22 : 20) + (type === 0 ? 0 : 2);
    if (b.length < head) return 0;
    const l = head - 8;
    return head + b.readUInt16BE(l) + b.readUInt16BE(l + 2) + b.readUInt32BE(l + 4) +
      (v2 && b[11] === 1 ? 4 : 0);
  },
  // dubbo: a 16-byte header whose last 4 bytes are the body length.
  dubbo: b => (b.length < 16 ? 0 : 16 + b.readUInt32BE(12)),
  // tars: a 4-byte total length that counts itself.
  tars(b) {
    if (b.length < 4) return 0;
    const n = b.readUInt32BE(0);
    return n < 4 ? -1 : n;
  },
};

const [ protocol, target, listen = '0' ] = process.argv.slice(2);
const frameLength = FRAME_LENGTH[protocol];
if (!frameLength || !target) {
  console.error(`usage: node relay.js ${Object.keys(FRAME_LENGTH).join('|')} HOST:PORT [LISTEN_PORT]`);
  process.exit(2);
}
const [ thost, tport ] = target.split(':');

function tap(dir) {
  let buf = Buffer.alloc(0);
  let framing = true;
  return chunk => {
    if (!framing) return;
    buf = Buffer.concat([ buf, chunk ]);
    for (let n = frameLength(buf); n !== 0 && buf.length >= n; n = frameLength(buf)) {
      if (n < 0) {
        console.log(`${dir} BAD ${buf.toString('hex')}`);
        framing = false;
        return;
      }
      console.log(`${dir} ${buf.subarray(0, n).toString('hex')}`);
      buf = buf.subarray(n);
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
