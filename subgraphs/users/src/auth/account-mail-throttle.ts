import { createHash } from "node:crypto";
import { createFixedWindowLimiter } from "@nexus/stores";
import type { Redis } from "ioredis";

export interface AccountMailThrottle {
  /**
   * Counts a password-reset request for the email and the client address; false when either is
   * over its limit. Unknown emails count like known ones, so the limit says nothing about which
   * addresses have accounts.
   */
  resetRequest(email: string, clientIp: string | undefined): Promise<boolean>;
  /** Counts a request to send a verification email again; the seconds to wait when over the limit, else 0. */
  verificationResend(userId: string): Promise<number>;
}

export interface AccountMailThrottleOptions {
  prefix: string;
  maxPerEmail: number;
  maxPerClient: number;
  maxVerificationResends: number;
  windowSeconds: number;
}

/**
 * Every request here sends someone an email, so each is limited per recipient (no mailbox
 * flooded) and per client address (no one address spraying many). Emails are hashed: Redis never
 * holds them.
 */
export function createAccountMailThrottle(
  redis: Redis,
  options: AccountMailThrottleOptions,
): AccountMailThrottle {
  const limiter = (name: string, limit: number) =>
    createFixedWindowLimiter(redis, {
      prefix: `${options.prefix}:${name}`,
      limit,
      windowSeconds: options.windowSeconds,
    });
  const emails = limiter("password-reset:email", options.maxPerEmail);
  const clients = limiter("password-reset:client", options.maxPerClient);
  const resends = limiter("verification-resend:account", options.maxVerificationResends);
  const emailKey = (email: string) => createHash("sha256").update(email).digest("base64url");

  return {
    async resetRequest(email, clientIp) {
      const [byEmail, byClient] = await Promise.all([
        emails.consume(emailKey(email)),
        clientIp ? clients.consume(clientIp) : null,
      ]);
      return byEmail.allowed && (byClient?.allowed ?? true);
    },
    async verificationResend(userId) {
      return (await resends.consume(userId)).retryAfterSeconds;
    },
  };
}
