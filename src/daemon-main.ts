#!/usr/bin/env -S node --
// berthd: the daemon's command line.
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { Daemon, DEFAULT_DATA_ROOT, DEFAULT_EXEC_ROOT, DEFAULT_SOCKET } from './daemon.js';
import { errorText } from './errors.js';
import { ENGINE_VERSION } from './api/version.js';

const program = new Command('berthd')
  .description('berth daemon: serves the Docker Engine API for volumes and containers')
  .version(ENGINE_VERSION)
  .option('--data-root <dir>', 'root of persistent state', process.env.BERTH_DATA_ROOT ?? DEFAULT_DATA_ROOT)
  .option('--exec-root <dir>', 'root of the containers\' runtime state (a tmpfs such as /run)', process.env.BERTH_EXEC_ROOT ?? DEFAULT_EXEC_ROOT)
  .option('-H, --host <addr...>', 'daemon socket(s) to listen on (unix:///path or tcp://host:port)')
  .option('--tlsverify', 'require TLS client certificates (needed for tcp://)')
  .option('--tlscacert <file>', 'CA that signs client certificates')
  .option('--tlscert <file>', 'server certificate')
  .option('--tlskey <file>', 'server key')
  .option('--runtime <binary>', 'OCI runtime binary', 'runc')
  .option('--conmon <binary>', 'container monitor binary', 'conmon')
  .option('--seccomp-profile <file>', 'seccomp profile containers run under by default ("builtin": Docker\'s default profile, "unconfined", or a profile file)', 'builtin')
  .option('--insecure-registry <host>', 'registry reached without TLS verification, or over plain HTTP: HOST[:PORT] or CIDR (repeatable)', collect, [])
  .option('--registry-mirror <url>', 'Docker Hub mirror tried before it for pulls (repeatable)', collect, [])
  .option('--registry-certs-dir <dir>', 'CA (*.crt) and client (*.cert, *.key) certificates per registry host', '/etc/docker/certs.d')
  .option('--max-concurrent-downloads <n>', 'layers downloaded at once per pull', positiveInt, 3)
  .option('--max-concurrent-uploads <n>', 'layers uploaded at once per push', positiveInt, 5)
  .option('--max-download-attempts <n>', 'attempts per layer download', positiveInt, 5)
  .option('--bridge <name>', 'Linux bridge of the default bridge network ("none": no default bridge network); default berth0, or bth-<hash> for a non-default --data-root')
  .option('--bip <cidr>', 'default bridge network\'s gateway address and subnet (e.g. 172.17.0.1/16)')
  .option('--iptables <bool>', 'manage nftables rules for networks (isolation, masquerading)', (v) => v !== 'false', true)
  .option('--log-level <level>', 'debug, info, warn, error', 'info')
  .option('-D, --debug', 'debug logging');

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

program.parse();
const opts = program.opts<{
  dataRoot: string;
  execRoot: string;
  host?: string[];
  tlsverify?: boolean;
  tlscacert?: string;
  tlscert?: string;
  tlskey?: string;
  runtime: string;
  conmon: string;
  seccompProfile: string;
  logLevel: string;
  debug?: boolean;
  insecureRegistry: string[];
  registryMirror: string[];
  registryCertsDir: string;
  maxConcurrentDownloads: number;
  maxConcurrentUploads: number;
  maxDownloadAttempts: number;
  bridge?: string;
  bip?: string;
  iptables: boolean;
}>();

let tls;
if (opts.tlsverify) {
  if (!opts.tlscacert || !opts.tlscert || !opts.tlskey) {
    process.stderr.write('berthd: --tlsverify needs --tlscacert, --tlscert and --tlskey\n');
    process.exit(1);
  }
  tls = { ca: readFileSync(opts.tlscacert), cert: readFileSync(opts.tlscert), key: readFileSync(opts.tlskey) };
}

const daemon = new Daemon({
  dataRoot: opts.dataRoot,
  execRoot: opts.execRoot,
  hosts: opts.host && opts.host.length > 0 ? opts.host : [process.env.BERTH_HOST ?? `unix://${DEFAULT_SOCKET}`],
  tls,
  runtime: opts.runtime,
  conmon: opts.conmon,
  seccompProfile: opts.seccompProfile,
  logLevel: opts.debug ? 'debug' : opts.logLevel,
  insecureRegistries: opts.insecureRegistry,
  registryMirrors: opts.registryMirror,
  registryCertsDir: opts.registryCertsDir,
  maxConcurrentDownloads: opts.maxConcurrentDownloads,
  maxConcurrentUploads: opts.maxConcurrentUploads,
  maxDownloadAttempts: opts.maxDownloadAttempts,
  bridge: opts.bridge,
  bip: opts.bip,
  iptables: opts.iptables,
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  daemon.log.info({ signal }, 'shutting down');
  try {
    await daemon.stop();
    daemon.log.info('stopped');
    process.exit(0);
  } catch (e) {
    daemon.log.error({ err: errorText(e) }, 'unclean shutdown');
    process.exit(1);
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
// Last resort, after every known source is handled where it arises (request
// errors are answered by the API server, streams have 'error' listeners).
// berthd stays up: each state change is one SQLite transaction and running
// containers belong to their shims, so continuing loses less than exiting,
// which would drop every client and in-flight operation. Logged at fatal with
// the stack: each occurrence is a bug to fix at its source.
process.on('uncaughtException', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE' || e.code === 'ECONNRESET' || e.code === 'ERR_STREAM_DESTROYED' || e.code === 'ERR_STREAM_WRITE_AFTER_END') {
    daemon.log.warn({ err: e.stack ?? e.message, code: e.code }, 'client connection error not handled at its source');
    return;
  }
  daemon.log.fatal({ err: e.stack ?? e.message, code: e.code }, 'uncaught exception (berthd continues; this is a bug)');
});
process.on('unhandledRejection', (reason: unknown) => {
  daemon.log.fatal({ err: reason instanceof Error ? (reason.stack ?? reason.message) : String(reason) }, 'unhandled promise rejection (berthd continues; this is a bug)');
});
process.on('SIGINT', () => void shutdown('SIGINT'));

try {
  await daemon.start();
  daemon.log.info({ dataRoot: opts.dataRoot, version: ENGINE_VERSION }, 'berthd started');
} catch (e) {
  daemon.log.fatal({ err: errorText(e) }, 'berthd failed to start');
  process.stderr.write(`berthd: ${errorText(e)}\n`);
  process.exit(1);
}
