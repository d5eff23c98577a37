// berthd's nftables table: what Docker's iptables chains do for bridge
// networks, minus port publishing (the userland proxy does that). Traffic
// between two berth bridges is dropped (DOCKER-ISOLATION), an internal
// network's bridge forwards nothing in or out, and a non-internal network's
// traffic leaving by another interface is masqueraded. The whole table is
// rewritten in one `nft -f` transaction whenever the set of bridges changes
// (network create/remove, berthd start); nothing on the container start path.
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import { SystemError } from '../errors.js';

export const TABLE = 'berth';

export interface FirewallBridge {
  /** The Linux bridge's name. */
  device: string;
  /** The IPv4 subnet, as CIDR. */
  subnet: string;
  internal: boolean;
  /** com.docker.network.bridge.enable_ip_masquerade. */
  masquerade: boolean;
}

function quote(device: string): string {
  return `"${device}"`;
}

/** The nft script replacing berth's table with rules for `bridges` (only its removal when there are none). */
export function rulesetScript(bridges: readonly FirewallBridge[], table = TABLE): string {
  // Declaring the table first makes the delete valid when it does not exist yet.
  const lines = [`table inet ${table}`, `delete table inet ${table}`];
  if (bridges.length === 0) return lines.join('\n') + '\n';
  lines.push(`table inet ${table} {`, '  chain forward {', '    type filter hook forward priority filter; policy accept;');
  for (const b of bridges) {
    if (b.internal) {
      lines.push(`    iifname ${quote(b.device)} oifname != ${quote(b.device)} drop`);
      lines.push(`    oifname ${quote(b.device)} iifname != ${quote(b.device)} drop`);
      continue;
    }
    const others = bridges.filter((o) => o.device !== b.device).map((o) => quote(o.device));
    if (others.length > 0) lines.push(`    iifname ${quote(b.device)} oifname { ${others.join(', ')} } drop`);
  }
  lines.push('  }', '  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;');
  for (const b of bridges) {
    if (b.internal || !b.masquerade) continue;
    lines.push(`    ip saddr ${b.subnet} oifname != ${quote(b.device)} masquerade`);
  }
  lines.push('  }', '}');
  return lines.join('\n') + '\n';
}

/** Applies berth's table with `nft`; disabled (berthd --iptables=false) it does nothing. */
export class Firewall {
  constructor(
    private readonly opts: { enabled: boolean; nft?: string; log: Logger; /** The nftables table (inet family) this berthd owns. */ table?: string },
  ) {}

  get enabled(): boolean {
    return this.opts.enabled;
  }

  async apply(bridges: readonly FirewallBridge[]): Promise<void> {
    if (!this.opts.enabled) return;
    await runNft(this.opts.nft ?? 'nft', rulesetScript(bridges, this.opts.table ?? TABLE));
    this.opts.log.debug({ bridges: bridges.map((b) => b.device) }, 'firewall rules applied');
  }
}

function runNft(binary: string, script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (e) => reject(new SystemError(`cannot run ${binary} (berthd --iptables=false runs without firewall rules): ${e.message}`, { cause: e })));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new SystemError(`${binary} failed: ${stderr.trim()}`))));
    child.stdin.on('error', () => undefined);
    child.stdin.end(script);
  });
}
