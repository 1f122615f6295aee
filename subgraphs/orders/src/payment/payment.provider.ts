/** Providers this build can talk to; PAYMENT_PROVIDER picks one. */
export const PAYMENT_PROVIDERS = ["test"] as const;
export type PaymentProviderName = (typeof PAYMENT_PROVIDERS)[number];

export interface CaptureRequest {
  /**
   * The provider charges at most once per key, however often it is asked: orders passes the
   * order id, so a redelivered event or a retried handler never charges twice.
   */
  idempotencyKey: string;
  orderId: string;
  /** Minor units. */
  amount: number;
  currencyCode: string;
  /** The customer's payment-method token from checkout; null when none was given. */
  token: string | null;
}

export type CaptureResult =
  | { status: "CAPTURED"; reference: string }
  | { status: "DECLINED"; reason: string; reference: string | null };

export interface RefundRequest {
  /** As for captures: one refund per key. */
  idempotencyKey: string;
  /** The capture's reference. */
  captureReference: string;
  amount: number;
  currencyCode: string;
}

/**
 * A payment service provider. Calls may be repeated with the same idempotency key and must
 * then answer as the first call did. A provider that cannot answer now throws; callers retry.
 */
export interface PaymentProvider {
  readonly name: PaymentProviderName;
  /** Checked at checkout, before an order exists: why this token cannot be used, or null. */
  checkToken(token: string | null): string | null;
  capture(request: CaptureRequest): Promise<CaptureResult>;
  refund(request: RefundRequest): Promise<{ reference: string }>;
}
