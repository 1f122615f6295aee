import type {
  Logger,
  PersistedManifests,
  RequestMeta,
  TokenSigner,
  VerifyAuthorization,
  Viewer,
} from "@nexus/core";
import type { Kysely } from "kysely";
import type { AccountDeps } from "./account/account.service.ts";
import { createAddressLoaders } from "./address/address.loaders.ts";
import type { LoginThrottle } from "./auth/login-throttle.ts";
import type { Database } from "./db/database.ts";
import { createPartnerLoaders } from "./partner/partner.loaders.ts";
import { createUserLoaders } from "./user/user.loaders.ts";
import type { SignInDeps } from "./user/user.service.ts";

/** Long-lived dependencies, created once at start-up. */
export interface Deps extends SignInDeps, AccountDeps {
  db: Kysely<Database>;
  signer: TokenSigner;
  throttle: LoginThrottle;
  verify: VerifyAuthorization;
  logger: Logger;
  /** Every client's registered operations, read at start-up from the files the gateway reads. */
  manifests: PersistedManifests;
}

export interface Context extends Deps {
  viewer: Viewer | null;
  requestId: string;
  clientIp: string | undefined;
  loaders: ReturnType<typeof createUserLoaders> &
    ReturnType<typeof createAddressLoaders> &
    ReturnType<typeof createPartnerLoaders>;
}

/** Per request: verify the token and build fresh loaders, so no cache outlives a request. */
export async function createContext(deps: Deps, request: RequestMeta): Promise<Context> {
  return {
    ...deps,
    viewer: await deps.verify(request.authorization),
    requestId: request.requestId ?? "",
    clientIp: request.clientIp,
    loaders: {
      ...createUserLoaders(deps.db),
      ...createAddressLoaders(deps.db),
      ...createPartnerLoaders(deps.db),
    },
  };
}
