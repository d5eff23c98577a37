// The bridge driver's kernel side: a network is a Linux bridge holding the
// gateway address; a container's endpoint is a veth pair, one end on the
// bridge, the other made directly in the container's network namespace as
// eth0 (eth1, ...) with its address, MAC and default route. All through
// rtnetlink (netlink.ts): no `ip` process on the container start path.
import { closeSync, openSync } from 'node:fs';
import { SystemError, errorText } from '../errors.js';
import { Netlink, NetlinkError, withNetlink } from './netlink.js';
import { netlinkIn } from './netns.js';
import { lastAddress, parseIPv4, type Prefix } from './ipv4.js';
import type { EndpointRecord } from './types.js';

export const DEFAULT_MTU = 1500;

/** Creates the bridge if needed, gives it the gateway address and brings it up. */
export function ensureBridge(device: string, gateway: number, subnet: Prefix, mtu = DEFAULT_MTU): void {
  withNetlink(Netlink.open, (nl) => {
    const existing = nl.link(device);
    if (existing && existing.kind !== 'bridge') throw new SystemError(`cannot use ${device} as a network bridge: it is a ${existing.kind || 'device'} that is not a bridge`);
    if (!existing) {
      try {
        nl.addBridge(device, mtu);
      } catch (e) {
        if (!(e instanceof NetlinkError && e.code === 'EEXIST')) throw new SystemError(`cannot create bridge ${device}: ${errorText(e)}`, { cause: e });
      }
    }
    nl.replaceAddress(device, gateway, subnet.bits, lastAddress(subnet));
    nl.setUp(device);
  });
}

/** Deletes the bridge (its remaining ports go with it); false when it was not there. */
export function removeBridge(device: string): boolean {
  return withNetlink(Netlink.open, (nl) => nl.deleteLink(device));
}

/**
 * Plumbs `ep` into the namespace at `nsPath`: the veth pair, the
 * container's interface up with its address, and the default route when
 * this endpoint gives the container its gateway.
 */
export function joinEndpoint(ep: EndpointRecord, bridge: string, nsPath: string, opts: { defaultRoute: boolean; mtu?: number; isolated?: boolean }): void {
  const address = parseIPv4(ep.address)!;
  const mtu = opts.mtu ?? DEFAULT_MTU;
  const nsFd = openSync(nsPath, 'r');
  try {
    withNetlink(Netlink.open, (nl) => {
      nl.addVethPair({ hostName: ep.hostInterface, master: bridge, mtu, peerName: ep.interface, peerMac: ep.mac, peerNetnsFd: nsFd });
      // com.docker.network.bridge.enable_icc=false: the port reaches the gateway, not the other containers.
      if (opts.isolated) nl.setBridgePortIsolated(ep.hostInterface, true);
    });
  } finally {
    closeSync(nsFd);
  }
  try {
    withNetlink(
      () => netlinkIn(nsPath),
      (nl) => {
        const prefix: Prefix = { base: (address & (ep.prefixLen === 0 ? 0 : (0xffffffff << (32 - ep.prefixLen)) >>> 0)) >>> 0, bits: ep.prefixLen };
        nl.replaceAddress(ep.interface, address, ep.prefixLen, lastAddress(prefix));
        nl.setUp(ep.interface);
        if (opts.defaultRoute) nl.replaceDefaultRoute(ep.interface, parseIPv4(ep.gateway)!);
      },
    );
  } catch (e) {
    leaveEndpoint(ep);
    throw e;
  }
}

/** Removes the endpoint's veth pair (deleting the host end deletes both); false when it was gone already. */
export function leaveEndpoint(ep: Pick<EndpointRecord, 'hostInterface'>): boolean {
  return withNetlink(Netlink.open, (nl) => nl.deleteLink(ep.hostInterface));
}

/** leaveEndpoint() with the kernel's slow part (RCU grace periods, ~15 ms) off the event loop. */
export async function leaveEndpointInBackground(ep: Pick<EndpointRecord, 'hostInterface'>): Promise<boolean> {
  const nl = Netlink.open();
  try {
    return await nl.deleteLinkInBackground(ep.hostInterface);
  } finally {
    nl.close();
  }
}

/** The veth ends on `bridges` that no endpoint in `keep` owns: left by containers that ended while berthd was down. */
export function strayInterfaces(bridges: readonly string[], keep: ReadonlySet<string>): string[] {
  return withNetlink(Netlink.open, (nl) => {
    const links = nl.links();
    const masters = new Set(links.filter((l) => bridges.includes(l.name)).map((l) => l.index));
    return links.filter((l) => l.kind === 'veth' && masters.has(l.master) && !keep.has(l.name)).map((l) => l.name);
  });
}

/** Removes a link by name (stray veths at reconcile). */
export function removeInterface(name: string): boolean {
  return withNetlink(Netlink.open, (nl) => nl.deleteLink(name));
}
