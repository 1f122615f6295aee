import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { CaptureRequest, CaptureResult, PaymentProvider, RefundRequest } from "./payment.provider.ts";

/** Documented test tokens; every other well-formed token is approved. */
export const TEST_PAYMENT_TOKENS = {
  /** What checkout uses when no token is given. Approved. */
  approve: "tok_test_visa",
  /** Declined with `card_declined`. */
  decline: "tok_test_decline",
  /** Declined with `insufficient_funds`. */
  insufficientFunds: "tok_test_insufficient_funds",
} as const;

const DECLINES: Readonly<Record<string, string>> = {
  [TEST_PAYMENT_TOKENS.decline]: "card_declined",
  [TEST_PAYMENT_TOKENS.insufficientFunds]: "insufficient_funds",
};

/** A charge the test provider made: what tests count to prove nothing is charged twice. */
export interface TestCharge {
  kind: "capture" | "refund";
  idempotencyKey: string;
  amount: number;
  currencyCode: string;
  reference: string;
}

export interface TestPaymentProvider extends PaymentProvider {
  /** Every capture and refund actually made, oldest first (repeats with a known key are not charges). */
  charges(): Promise<TestCharge[]>;
}

const TOKEN = /^[\x21-\x7e]{1,200}$/;

/** SET NX of the answer and, when it was the first, the ledger entry (if any) in one step. */
const RECORD_ONCE = `
if redis.call("SET", KEYS[1], ARGV[1], "NX") then
  if ARGV[2] ~= "" then redis.call("RPUSH", KEYS[2], ARGV[2]) end
  return 1
end
return 0`;

/**
 * A deterministic provider for development, demos and tests. It keeps its ledger in Redis
 * (under the events prefix) rather than in memory, so that like a real provider it remembers
 * idempotency keys across restarts and replicas.
 */
export function createTestPaymentProvider(redis: Redis, prefix: string): TestPaymentProvider {
  const key = (kind: string, idempotencyKey: string) => `${prefix}:payments:test:${kind}:${idempotencyKey}`;
  const ledger = `${prefix}:payments:test:charges`;

  /**
   * Records `result` under the key unless one is there already; returns whichever is stored.
   * The key and the ledger entry are written by one script, so a process killed mid-call leaves
   * both or neither, as a real provider's books would.
   */
  async function once<T extends { amount: number }>(
    kind: "capture" | "refund",
    idempotencyKey: string,
    result: T,
    charge: TestCharge | null,
  ): Promise<T> {
    const stored = await redis.eval(
      RECORD_ONCE,
      2,
      key(kind, idempotencyKey),
      ledger,
      JSON.stringify(result),
      charge ? JSON.stringify(charge) : "",
    );
    if (stored === 1) return result;
    const first = JSON.parse((await redis.get(key(kind, idempotencyKey))) ?? "null") as T | null;
    if (!first) throw new Error(`test provider lost its record of ${kind} ${idempotencyKey}`);
    // A real provider refuses a key reused for a different charge; so does this one.
    if (first.amount !== result.amount) {
      throw new Error(`idempotency key ${idempotencyKey} was used for a different ${kind} amount`);
    }
    return first;
  }

  return {
    name: "test",
    checkToken: (token) =>
      token === null || TOKEN.test(token) ? null : "paymentToken must be 1 to 200 visible ASCII characters.",

    async capture(request: CaptureRequest): Promise<CaptureResult> {
      const declined = DECLINES[request.token ?? TEST_PAYMENT_TOKENS.approve];
      const result: CaptureResult & { amount: number } = declined
        ? { status: "DECLINED", reason: declined, reference: null, amount: request.amount }
        : { status: "CAPTURED", reference: `test_ch_${randomUUID()}`, amount: request.amount };
      const stored = await once(
        "capture",
        request.idempotencyKey,
        result,
        result.status === "CAPTURED"
          ? {
              kind: "capture",
              idempotencyKey: request.idempotencyKey,
              amount: request.amount,
              currencyCode: request.currencyCode,
              reference: result.reference,
            }
          : null,
      );
      const { amount: _amount, ...answer } = stored;
      return answer;
    },

    async refund(request: RefundRequest) {
      const reference = `test_re_${randomUUID()}`;
      const stored = await once(
        "refund",
        request.idempotencyKey,
        { reference, amount: request.amount },
        {
          kind: "refund",
          idempotencyKey: request.idempotencyKey,
          amount: request.amount,
          currencyCode: request.currencyCode,
          reference,
        },
      );
      return { reference: stored.reference };
    },

    async charges() {
      return (await redis.lrange(ledger, 0, -1)).map((entry) => JSON.parse(entry) as TestCharge);
    },
  };
}
