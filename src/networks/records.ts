// Networks, endpoints and published ports in berth.db (migration 5): one
// JSON document per row, each change one statement or one transaction.
import type { DB } from '../store/db.js';
import type { PortBinding } from './ports.js';
import type { EndpointRecord, NetworkRecord } from './types.js';

export class NetworkRecords {
  private readonly stmts;

  constructor(private readonly db: DB) {
    this.stmts = {
      networks: db.prepare<[], { record: string }>('SELECT record FROM networks'),
      insertNetwork: db.prepare('INSERT INTO networks (id, name, record) VALUES (?, ?, ?)'),
      deleteNetwork: db.prepare('DELETE FROM networks WHERE id = ?'),
      endpoints: db.prepare<[], { record: string }>('SELECT record FROM network_endpoints'),
      putEndpoint: db.prepare('INSERT OR REPLACE INTO network_endpoints (network, container, record) VALUES (?, ?, ?)'),
      deleteEndpoint: db.prepare('DELETE FROM network_endpoints WHERE network = ? AND container = ?'),
      ports: db.prepare<[], { container: string; ports: string }>('SELECT container, ports FROM published_ports'),
      putPorts: db.prepare('INSERT OR REPLACE INTO published_ports (container, ports) VALUES (?, ?)'),
      deletePorts: db.prepare('DELETE FROM published_ports WHERE container = ?'),
    };
  }

  networks(): NetworkRecord[] {
    return this.stmts.networks.all().map((r) => JSON.parse(r.record) as NetworkRecord);
  }

  insertNetwork(n: NetworkRecord): void {
    this.stmts.insertNetwork.run(n.id, n.name, JSON.stringify(n));
  }

  deleteNetwork(id: string): void {
    this.stmts.deleteNetwork.run(id);
  }

  endpoints(): EndpointRecord[] {
    return this.stmts.endpoints.all().map((r) => JSON.parse(r.record) as EndpointRecord);
  }

  putEndpoint(e: EndpointRecord): void {
    this.stmts.putEndpoint.run(e.networkId, e.containerId, JSON.stringify(e));
  }

  deleteEndpoint(networkId: string, containerId: string): void {
    this.stmts.deleteEndpoint.run(networkId, containerId);
  }

  publishedPorts(): Map<string, PortBinding[]> {
    return new Map(this.stmts.ports.all().map((r) => [r.container, JSON.parse(r.ports) as PortBinding[]]));
  }

  putPorts(containerId: string, ports: PortBinding[]): void {
    this.stmts.putPorts.run(containerId, JSON.stringify(ports));
  }

  deletePorts(containerId: string): void {
    this.stmts.deletePorts.run(containerId);
  }

  /** Runs `fn` in one transaction. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
