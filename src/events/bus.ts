// Docker's /events stream: services publish, the API streams. A bounded
// history lets `since` replay recent events.

export interface EngineEvent {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  // Legacy fields docker keeps for container and image events.
  status?: string;
  id?: string;
  from?: string;
}

export interface EventSink {
  publish(type: string, action: string, id: string, attributes?: Record<string, string>): void;
}

type Listener = (event: EngineEvent) => void;

export class EventBus implements EventSink {
  private readonly history: EngineEvent[] = [];
  private readonly listeners = new Set<Listener>();
  constructor(private readonly historyLimit = 1024) {}

  publish(type: string, action: string, id: string, attributes: Record<string, string> = {}): void {
    const nowNs = process.hrtime.bigint() - hrtimeOrigin + wallOriginNs;
    const event: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    if (type === 'container' || type === 'image') {
      event.status = action;
      event.id = id;
      if (attributes.image) event.from = attributes.image;
    }
    this.history.push(event);
    if (this.history.length > this.historyLimit) this.history.shift();
    for (const l of this.listeners) l(event);
  }

  /** Past events (oldest first) plus a subscription to new ones. */
  subscribe(listener: Listener): { past: EngineEvent[]; unsubscribe: () => void } {
    this.listeners.add(listener);
    return { past: [...this.history], unsubscribe: () => this.listeners.delete(listener) };
  }
}

const hrtimeOrigin = process.hrtime.bigint();
const wallOriginNs = BigInt(Date.now()) * 1_000_000n;
