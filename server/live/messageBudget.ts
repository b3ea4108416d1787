// Per-socket message budget: a token bucket (rate plus burst). Every message a socket sends
// costs work on this node, and a subscribe costs a quorum read, so a socket that sends faster
// than the refill rate has its excess refused; one that keeps going after many refusals is
// flooding, not bursting, and the caller disconnects it.

export interface MessageBudgetLimits {
  /** Tokens added per second: the sustained message rate a socket may keep up. */
  messagesPerSecondMax: number;
  /** Bucket size: messages a quiet socket may send at once. */
  messageBurstMax: number;
  /** Refusals within one flood window after which the socket is disconnected. */
  refusedPerFloodWindowMax: number;
  /** Length of the window refusals are counted in. */
  floodWindowMs: number;
}

export type MessageVerdict = 'ok' | 'refused' | 'flooding';

export class MessageBudget {
  private tokens: number;
  private refilledAt: number;
  private refused = 0;
  private windowStart: number;

  constructor(
    private readonly limits: MessageBudgetLimits,
    private readonly now: () => number,
  ) {
    this.tokens = limits.messageBurstMax;
    this.refilledAt = now();
    this.windowStart = this.refilledAt;
  }

  /** Spend one token for a message: 'ok' to serve it, 'refused' to drop it, 'flooding' to disconnect. */
  take(): MessageVerdict {
    const t = this.now();
    const elapsedMs = Math.max(0, t - this.refilledAt);
    this.tokens = Math.min(
      this.limits.messageBurstMax,
      this.tokens + (elapsedMs * this.limits.messagesPerSecondMax) / 1000,
    );
    this.refilledAt = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    if (t - this.windowStart >= this.limits.floodWindowMs) {
      this.windowStart = t;
      this.refused = 0;
    }
    this.refused++;
    return this.refused > this.limits.refusedPerFloodWindowMax ? 'flooding' : 'refused';
  }
}
