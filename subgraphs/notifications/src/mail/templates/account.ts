import { formatDateTime, oneLine } from "../format.ts";
import type { Composed } from "../layout.ts";
import type { MessageData, StoreInfo } from "../message-types.ts";

export function emailVerification(data: MessageData["EMAIL_VERIFICATION"], store: StoreInfo): Composed {
  const storeName = oneLine(store.name);
  const expires = formatDateTime(data.expiresAt);
  return {
    subject: `Confirm your email address for ${storeName}`,
    summary: `Confirm your email address: the link expires ${expires}.`,
    greetingName: data.name,
    blocks: [
      { kind: "heading", text: "Confirm your email address" },
      {
        kind: "paragraph",
        parts: [`Please confirm that this is the email address of your ${storeName} account.`],
      },
      { kind: "button", label: "Confirm email address", url: data.verifyUrl },
      { kind: "paragraph", parts: ["The link works once and expires on ", { strong: expires }, "."] },
      {
        kind: "note",
        parts: [
          `If you did not create an account at ${storeName} or change its email address, ignore this email: nothing changes until the address is confirmed.`,
        ],
      },
    ],
  };
}

export function passwordReset(data: MessageData["PASSWORD_RESET"], store: StoreInfo): Composed {
  const storeName = oneLine(store.name);
  const expires = formatDateTime(data.expiresAt);
  const expiry = {
    kind: "paragraph" as const,
    parts: ["The link works once and expires on ", { strong: expires }, "."],
  };
  if (data.purpose === "invite") {
    return {
      subject: `You are invited to ${storeName}: set your password`,
      summary: `An account was created for you: set its password before ${expires}.`,
      greetingName: data.name,
      blocks: [
        { kind: "heading", text: `Welcome to ${storeName}` },
        {
          kind: "paragraph",
          parts: [`An account was created for you at ${storeName}. Choose a password to sign in to it.`],
        },
        { kind: "button", label: "Set your password", url: data.resetUrl },
        expiry,
        {
          kind: "note",
          parts: [
            'Once it has expired, ask for a new one with "Forgot your password?" on the sign-in page. If you did not expect this invitation, ignore this email.',
          ],
        },
      ],
    };
  }
  return {
    subject: `Reset your ${storeName} password`,
    summary: `A password reset link was sent; it expires ${expires}.`,
    greetingName: data.name,
    blocks: [
      { kind: "heading", text: "Reset your password" },
      {
        kind: "paragraph",
        parts: [
          `Someone asked to reset the password of your ${storeName} account. If it was you, choose a new one:`,
        ],
      },
      { kind: "button", label: "Choose a new password", url: data.resetUrl },
      expiry,
      {
        kind: "note",
        parts: ["If you did not ask for this, ignore this email: your password stays as it is."],
      },
    ],
  };
}

export function passwordChanged(data: MessageData["PASSWORD_CHANGED"], store: StoreInfo): Composed {
  const storeName = oneLine(store.name);
  const how =
    data.via === "reset"
      ? `The password of your ${storeName} account was just changed with a password reset link, and every device signed in to the account was signed out.`
      : `The password of your ${storeName} account was just changed from the account's settings.`;
  return {
    subject: `Your ${storeName} password was changed`,
    summary:
      data.via === "reset" ? "Your password was changed with a reset link." : "Your password was changed.",
    greetingName: data.name,
    blocks: [
      { kind: "heading", text: "Your password was changed" },
      { kind: "paragraph", parts: [how] },
      { kind: "paragraph", parts: ["If this was you, there is nothing more to do."] },
      {
        kind: "paragraph",
        parts: [
          { strong: "If it was not you," },
          ` reset your password now and tell us at ${oneLine(store.supportEmail)}.`,
        ],
      },
      { kind: "button", label: "Reset your password", url: data.resetRequestUrl },
    ],
  };
}
