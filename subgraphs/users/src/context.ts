import type { Logger, RequestMeta, TokenSigner, VerifyAuthorization, Viewer } from "@nexus/core";
import type { Kysely } from "kysely";
import type { AccountDeps } from "./account/account.service.ts";
import { createAddressLoaders } from "./address/address.loaders.ts";
import type { LoginThrottle } from "./auth/login-throttle.ts";
import type { Database } from "./db/database.ts";
import { createUserLoaders } from "./user/user.loaders.ts";
import type { SignInDeps } from "./user/user.service.ts";

/** Long-lived dependencies, created once at start-up. */
export interface Deps extends SignInDeps, AccountDeps {
  db: Kysely<Database>;
  signer: TokenSigner;
  throttle: LoginThrottle;
  verify: VerifyAuthorization;
  logger: Logger;
}

export interface Context extends Deps {
  viewer: Viewer | null;
  requestId: string;
  clientIp: string | undefined;
  loaders: ReturnType<typeof createUserLoaders> & ReturnType<typeof createAddressLoaders>;
}

/** Per request: verify the token and build fresh loaders, so no cache outlives a request. */
export async function createContext(deps: Deps, request: RequestMeta): Promise<Context> {
  return {
    ...deps,
    viewer: await deps.verify(request.authorization),
    requestId: request.requestId ?? "",
    clientIp: request.clientIp,
    loaders: { ...createUserLoaders(deps.db), ...createAddressLoaders(deps.db) },
  };
}
