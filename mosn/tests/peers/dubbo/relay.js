// Wire-capture relay for Dubbo: forwards 127.0.0.1:LISTEN_PORT <-> TARGET unchanged and logs every
// complete Dubbo frame (16-byte header, dataLen at bytes 12..15) on stderr, one line each:
//   <ms since start> conn<N> c2s|s2c <lowercase hex>
// Usage: node relay.js LISTEN_PORT TARGET_HOST:TARGET_PORT    (LISTEN_PORT 0 = any; prints "PORT <n>")
'use strict';
const net = require('net');
const [listenPort = '0', target] = process.argv.slice(2);
const [host, port] = target.split(':');
const t0 = Date.now();
let conns = 0;

// Split a byte stream into frames by the header's dataLen; log each frame as it completes.
function framer(tag) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 16 && buf.length >= 16 + buf.readUInt32BE(12)) {
      const len = 16 + buf.readUInt32BE(12);
      console.error(`${Date.now() - t0} ${tag} ${buf.subarray(0, len).toString('hex')}`);
      buf = buf.subarray(len);
    }
  };
}

net.createServer((client) => {
  const id = ++conns;
  const server = net.connect(Number(port), host);
  console.error(`${Date.now() - t0} conn${id} open`);
  client.on('data', framer(`conn${id} c2s`)).pipe(server);
  server.on('data', framer(`conn${id} s2c`)).pipe(client);
  let closed = false;
  const done = (who) => () => {
    if (!closed) console.error(`${Date.now() - t0} conn${id} closed by ${who}`);
    closed = true;
    client.destroy();
    server.destroy();
  };
  client.on('close', done('client')).on('error', () => {});
  server.on('close', done('server')).on('error', () => {});
}).listen(Number(listenPort), '127.0.0.1', function () {
  console.log(`PORT ${this.address().port}`);
});
