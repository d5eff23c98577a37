// Volume API latency and throughput: berthd, and a real dockerd side by side
// when DOCKER_REFERENCE_HOST=unix:///path/docker.sock is set.
// Targets (issue 2): medians <= dockerd's, throughput >= 1.5x, ls of 10,000 <= half.
import { SocketClient, measure, fmt, startBerthd, type LatencyStats } from './lib.js';

interface Figures {
  create: LatencyStats;
  inspect: LatencyStats;
  list: LatencyStats;
  remove: LatencyStats;
  throughput: number;
  ls10k: LatencyStats;
  /** ls of the same volumes with a name regexp filter (RE2 in berth, as in dockerd). */
  lsFiltered: LatencyStats;
}

const N = Number(process.env.BENCH_N ?? 300);
const LS_VOLUMES = Number(process.env.BENCH_LS_VOLUMES ?? 10_000);

async function run(socket: string, label: string): Promise<Figures> {
  const c = new SocketClient(socket);
  const tag = `bench-${label}-${process.pid}`;
  const ok = (s: number, want: number[]) => {
    if (!want.includes(s)) throw new Error(`unexpected status ${s}`);
  };
  const create = await measure(N, async (i) => ok((await c.call('POST', '/volumes/create', { Name: `${tag}-${i}` })).status, [201]));
  const inspect = await measure(N, async (i) => ok((await c.call('GET', `/volumes/${tag}-${i}`)).status, [200]));
  const list = await measure(Math.min(N, 100), async () => ok((await c.call('GET', '/volumes')).status, [200]));
  const remove = await measure(N, async (i) => ok((await c.call('DELETE', `/volumes/${tag}-${i}`)).status, [204]));

  // 32 concurrent clients, each doing create → inspect → remove cycles.
  const clients = Array.from({ length: 32 }, () => new SocketClient(socket));
  const perClient = Math.max(10, Math.floor(N / 8));
  const t0 = process.hrtime.bigint();
  await Promise.all(
    clients.map(async (cc, k) => {
      for (let i = 0; i < perClient; i++) {
        const name = `${tag}-t${k}-${i}`;
        ok((await cc.call('POST', '/volumes/create', { Name: name })).status, [201]);
        ok((await cc.call('GET', `/volumes/${name}`)).status, [200]);
        ok((await cc.call('DELETE', `/volumes/${name}`)).status, [204]);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const throughput = (clients.length * perClient * 3) / seconds;
  clients.forEach((cc) => cc.close());

  // ls with LS_VOLUMES volumes.
  const fill = Array.from({ length: 16 }, () => new SocketClient(socket));
  let next = 0;
  await Promise.all(
    fill.map(async (cc) => {
      while (next < LS_VOLUMES) {
        const i = next++;
        ok((await cc.call('POST', '/volumes/create', { Name: `${tag}-ls-${i}` })).status, [201]);
      }
    }),
  );
  const ls10k = await measure(10, async () => ok((await c.call('GET', '/volumes')).status, [200]));
  const nameFilter = encodeURIComponent(JSON.stringify({ name: [`^${tag}-ls-[0-9]*7$`] }));
  const lsFiltered = await measure(10, async () => ok((await c.call('GET', `/volumes?filters=${nameFilter}`)).status, [200]));
  next = 0;
  await Promise.all(
    fill.map(async (cc) => {
      while (next < LS_VOLUMES) {
        const i = next++;
        await cc.call('DELETE', `/volumes/${tag}-ls-${i}`);
      }
    }),
  );
  fill.forEach((cc) => cc.close());
  c.close();
  return { create, inspect, list, remove, throughput, ls10k, lsFiltered };
}

function print(label: string, f: Figures, ref?: Figures): void {
  const row = (name: string, s: LatencyStats, r?: LatencyStats) =>
    `  ${name.padEnd(10)} median ${fmt(s.median).padStart(8)} ms  p99 ${fmt(s.p99).padStart(8)} ms` +
    (r ? `   | dockerd median ${fmt(r.median)} ms p99 ${fmt(r.p99)} ms  ratio ${(s.median / r.median).toFixed(2)}` : '');
  console.log(`${label}:`);
  console.log(row('create', f.create, ref?.create));
  console.log(row('inspect', f.inspect, ref?.inspect));
  console.log(row('list', f.list, ref?.list));
  console.log(row('remove', f.remove, ref?.remove));
  console.log(
    `  throughput (32 clients) ${f.throughput.toFixed(0)} ops/s` + (ref ? `   | dockerd ${ref.throughput.toFixed(0)} ops/s  ratio ${(f.throughput / ref.throughput).toFixed(2)}` : ''),
  );
  console.log(row(`ls ${LS_VOLUMES}`, f.ls10k, ref?.ls10k));
  console.log(row('ls name=re', f.lsFiltered, ref?.lsFiltered));
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/** The per-figure median over rounds (the machine is noisy; rounds alternate daemons). */
function combine(rounds: Figures[]): Figures {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const stat = (k: 'create' | 'inspect' | 'list' | 'remove' | 'ls10k' | 'lsFiltered'): LatencyStats => ({
    median: med(rounds.map((r) => r[k].median)),
    p99: med(rounds.map((r) => r[k].p99)),
    n: rounds[0]![k].n,
  });
  return {
    create: stat('create'),
    inspect: stat('inspect'),
    list: stat('list'),
    remove: stat('remove'),
    ls10k: stat('ls10k'),
    lsFiltered: stat('lsFiltered'),
    throughput: med(rounds.map((r) => r.throughput)),
  };
}

export async function benchVolumes(): Promise<void> {
  const d = await startBerthd();
  const refHost = process.env.DOCKER_REFERENCE_HOST;
  const berthRounds: Figures[] = [];
  const refRounds: Figures[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      berthRounds.push(await run(d.socket, `berth${round}`));
      if (refHost?.startsWith('unix://')) refRounds.push(await run(refHost.slice('unix://'.length), `docker${round}`));
    }
  } finally {
    await d.stop();
  }
  print(`volumes (N=${N}, median of ${ROUNDS} alternating rounds)`, combine(berthRounds), refRounds.length > 0 ? combine(refRounds) : undefined);
}
