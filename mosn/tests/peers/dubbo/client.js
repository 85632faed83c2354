// Real Dubbo consumer (dubbo-js `apache-dubbo-consumer`, DubboDirectlyInvoker: no registry) for MOSN e2e tests.
// Usage: node client.js HOST:PORT METHOD ARG [--count N] [--concurrency C] [--timeout MS] [--linger MS]
// Calls org.apache.dubbo.demo.DemoService:1.0.0 METHOD(ARG) over one connection; ARG is sent
// as java int for `sleep`, as java.lang.String otherwise. Prints "OK <value>" or
// "ERR status=<dubbo status|-> <error>" per call, then "DONE ok=<n> err=<m>" when --count/--concurrency
// is given. --linger keeps the connection open (idle) that long before exiting, to observe heartbeats.
// Exit code 0 when every call succeeded, else 1.
'use strict';
const [target, method, arg, ...rest] = process.argv.slice(2);
const opt = { count: 1, concurrency: 1, timeout: 5000, linger: 0 };
for (let i = 0; i < rest.length; i += 2) opt[rest[i].replace(/^--/, '')] = Number(rest[i + 1]);
if (!target || !method || arg === undefined) {
  console.error('usage: node client.js HOST:PORT METHOD ARG [--count N] [--concurrency C] [--timeout MS] [--linger MS]');
  process.exit(2);
}
const summary = rest.some((a) => a === '--count' || a === '--concurrency');

// The library drops the response status byte (a non-20 status only becomes an error whose message
// is the body string); tag the library's decoded error with the status byte of its frame.
const decoder = require('apache-dubbo-serialization/lib/decode-hessian2');
const decodeDubboResponse = decoder.decodeDubboResponse;
decoder.decodeDubboResponse = (frame) => {
  const res = decodeDubboResponse(frame);
  if (res.err) res.err.dubboStatus = frame[3];
  return res;
};

const { DubboDirectlyInvoker, java } = require('apache-dubbo-consumer');
const invoker = DubboDirectlyInvoker.from({
  dubboHost: target,
  dubboVersion: '2.0.2',
  dubboInvokeTimeout: opt.timeout,
});
const service = invoker.proxyService({
  dubboInterface: 'org.apache.dubbo.demo.DemoService',
  version: '1.0.0',
  methods: { [method]: (a) => [method === 'sleep' ? java.int(Number(a)) : java.String(a)] },
});

let ok = 0, err = 0, started = 0;
async function worker() {
  while (started < opt.count) {
    started++;
    const r = await service[method](arg); // resolves to {res, err}; never throws
    if (r.err) {
      err++;
      console.log(`ERR status=${r.err.dubboStatus ?? '-'} ${r.err.constructor.name}: ${r.err.message}`);
    } else {
      ok++;
      console.log(`OK ${r.res}`);
    }
  }
}

Promise.all(Array.from({ length: opt.concurrency }, worker)).then(async () => {
  if (summary) console.log(`DONE ok=${ok} err=${err}`);
  if (opt.linger) await new Promise((resolve) => setTimeout(resolve, opt.linger));
  invoker.close();
  process.exit(err ? 1 : 0);
});
