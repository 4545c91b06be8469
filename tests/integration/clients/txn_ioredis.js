// ioredis's transactions against the server on 127.0.0.1:PORT (argv[2]):
// multi().exec() answers [err, result] per command with a run-time error
// in its place, and a WATCH broken by another client makes exec() answer
// null. Exit 0 when all hold.
'use strict';
const Redis = require('ioredis');

const port = Number(process.argv[2]);
let fails = 0;
function check(name, got, want) {
  const ok = JSON.stringify(got) === JSON.stringify(want);
  console.log((ok ? 'ok   - ' : 'FAIL - ') + name);
  if (!ok) {
    console.log('  want ' + JSON.stringify(want) + '\n  got  ' + JSON.stringify(got));
    fails++;
  }
}

(async () => {
  const opts = { host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1 };
  const a = new Redis(opts), b = new Redis(opts);
  await a.flushall();
  const res = await a.multi().set('k', 'v').incr('n').incr('n').get('k').exec();
  check('multi().exec()', res, [[null, 'OK'], [null, 1], [null, 2], [null, 'v']]);
  const err = await a.multi().incr('k').set('d', '1').exec();
  check('a run-time error in its place, the rest ran',
        [err[0][0] !== null, err[1], await a.get('d')], [true, [null, 'OK'], '1']);
  await a.set('w', '1');
  await a.watch('w');
  await b.set('w', '2');
  check('WATCH broken by another client: exec() answers null',
        await a.multi().set('w', '3').exec(), null);
  check('... and the queued SET did not run', await a.get('w'), '2');
  await a.watch('w');
  check('WATCH unbroken: exec() runs', await a.multi().set('w', '4').exec(), [[null, 'OK']]);
  a.disconnect();
  b.disconnect();
  process.exit(fails ? 1 : 0);
})().catch((e) => { console.log('FAIL - ' + e); process.exit(1); });
