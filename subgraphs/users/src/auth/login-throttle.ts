import { createHash } from "node:crypto";
import { createFixedWindowLimiter } from "@nexus/stores";
import type { Redis } from "ioredis";

export interface LoginThrottle {
  /**
   * Counts a sign-in attempt for the email and the client address before the password is
   * checked; returns the seconds to wait when either is over its limit, else 0.
   */
  attempt(email: string, clientIp: string | undefined): Promise<number>;
  /** A successful sign-in: the account's count starts over and the address gets its attempt back. */
  succeeded(email: string, clientIp: string | undefined): Promise<void>;
}

/**
 * Brute-force protection for `login`: a fixed window per account (so one account cannot be
 * guessed at from many addresses) and a wider one per client address (so one address cannot
 * spray many accounts). Unknown emails are counted like known ones, so the throttle reveals
 * nothing about which emails are registered. Emails are hashed: Redis never holds them.
 */
export function createLoginThrottle(
  redis: Redis,
  options: {
    prefix: string;
    maxAttemptsPerAccount: number;
    maxAttemptsPerClient: number;
    windowSeconds: number;
  },
): LoginThrottle {
  const accounts = createFixedWindowLimiter(redis, {
    prefix: `${options.prefix}:login:account`,
    limit: options.maxAttemptsPerAccount,
    windowSeconds: options.windowSeconds,
  });
  const clients = createFixedWindowLimiter(redis, {
    prefix: `${options.prefix}:login:client`,
    limit: options.maxAttemptsPerClient,
    windowSeconds: options.windowSeconds,
  });
  const accountKey = (email: string) => createHash("sha256").update(email).digest("base64url");

  return {
    async attempt(email, clientIp) {
      const [account, client] = await Promise.all([
        accounts.consume(accountKey(email)),
        clientIp ? clients.consume(clientIp) : null,
      ]);
      return Math.max(account.retryAfterSeconds, client?.retryAfterSeconds ?? 0);
    },
    async succeeded(email, clientIp) {
      await Promise.all([accounts.reset(accountKey(email)), clientIp ? clients.refund(clientIp) : null]);
    },
  };
}
