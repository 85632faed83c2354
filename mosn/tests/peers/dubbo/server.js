// Real Dubbo provider (dubbo-js `apache-dubbo-service`, dubbo protocol + hessian2) for MOSN e2e tests.
// Usage: node server.js PORT [NAME]    (PORT 0 = any free port)
// Serves org.apache.dubbo.demo.DemoService:1.0.0 on 127.0.0.1 with
//   sayHello(String name) -> "Hello <name>" ("[NAME] Hello <name>" when NAME is given)
//   sleep(int ms)         -> waits ms, returns ms (the library answers null for 0)
// Prints "PORT <n>" on stdout once listening, then one line per call: `CALL id=<request id> ...`.
'use strict';
const net = require('net');
const [portArg = '0', serverName = ''] = process.argv.slice(2);

// The library picks a random port in 20888-30000 and listens on all interfaces;
// steer it to the requested port on 127.0.0.1 (no other server exists in this process).
require('apache-dubbo-service/lib/port').randomPort = async () => Number(portArg);
const createServer = net.createServer;
net.createServer = (...args) => {
  const server = createServer(...args);
  const listen = server.listen;
  server.listen = (port, cb) => listen.call(server, port, '127.0.0.1', cb);
  server.on('error', (err) => { console.error(`listen error: ${err.message}`); process.exit(1); });
  return server;
};

const { DubboService, dubboSetting } = require('apache-dubbo-service');

// No zookeeper/nacos: the provider only needs an object with these three methods.
const registry = {
  ready: async () => {},
  registerServices: async () => {},
  close: () => {},
};

const log = (ctx, what) => console.log(`CALL id=${ctx.request.requestId} ${what}`);
const demoService = {
  dubboInterface: 'org.apache.dubbo.demo.DemoService',
  methods: {
    sayHello(name, ctx) {
      log(ctx, `sayHello(${JSON.stringify(name)})`);
      return (serverName ? `[${serverName}] ` : '') + `Hello ${name}`;
    },
    async sleep(ms, ctx) {
      log(ctx, `sleep(${ms})`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    },
  },
};

const service = DubboService.from({
  registry,
  services: { demoService },
  dubboSetting: dubboSetting.match('org.apache.dubbo.demo.DemoService', { version: '1.0.0', group: '' }),
});
service.ready().then(() => console.log(`PORT ${service.server.address().port}`));
