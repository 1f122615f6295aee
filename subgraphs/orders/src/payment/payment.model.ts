import type { PaymentStatus } from "../db/database.ts";
import type { PaymentRow } from "./payment.repository.ts";

/** What Payment resolvers receive. */
export interface PaymentModel {
  orderId: string;
  provider: string;
  status: PaymentStatus;
  amount: number;
  currencyCode: string;
  reference: string | null;
  declineReason: string | null;
}

export const toPaymentModel = (row: PaymentRow): PaymentModel => ({
  orderId: row.order_id,
  provider: row.provider,
  status: row.status,
  amount: row.amount,
  currencyCode: row.currency_code,
  reference: row.reference,
  declineReason: row.decline_reason,
});
