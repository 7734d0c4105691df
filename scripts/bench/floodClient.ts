/**
 * The hostile side of the flood benchmark, in its own process so that the validator's memory is
 * measured alone. Usage: floodClient.ts <url> <axonHotkey> <requests> <slowSockets>; runs until
 * SIGTERM, then prints its report as one JSON line.
 */
import { startFlood } from '../../test/helpers/flood.ts';

const [url, axonHotkey, requests, slowSockets] = process.argv.slice(2);
const flood = await startFlood({
  url: url!,
  axonHotkey: axonHotkey!,
  requests: Number(requests),
  slowSockets: Number(slowSockets),
});
console.error('flooding');
process.once('SIGTERM', () => {
  void flood.stop().then((report) => {
    console.log(JSON.stringify(report));
    process.exit(0);
  });
});
