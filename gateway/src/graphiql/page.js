// GraphiQL with a sign-in, served by the gateway at /graphiql. A classic script, run after the
// React, ReactDOM and GraphiQL UMD builds (all `defer`, in order). Plain JavaScript so the
// gateway serves it as it is: no build step.
//
// The sign-in lives in this tab's memory only (`session` below), never in localStorage or
// sessionStorage: an admin's token is the most powerful credential the API knows, and memory
// is gone when the tab closes, while storage lingers in the browser profile and can be read by
// any script of this origin. A reload signs out; the access token (15 minutes) is refreshed
// with the refresh token a minute before it expires, and when that fails the sign-in is asked
// for again.

(() => {
  const { React, ReactDOM, GraphiQL } = window;
  const config = JSON.parse(document.documentElement.dataset.config ?? "{}");
  const endpoint = new URL(config.endpoint, document.baseURI).href;
  const adminOnly = config.mode === "admin";
  /** Refresh this long before the access token expires. */
  const REFRESH_MARGIN_MS = 60_000;
  /** setTimeout's longest delay; a pasted token may live longer. */
  const MAX_DELAY_MS = 2_147_483_647;

  const ui = {
    modeNote: byId("nx-mode-note"),
    viewer: byId("nx-viewer"),
    openSignIn: byId("nx-open-sign-in"),
    signOut: byId("nx-sign-out"),
    panel: byId("nx-sign-in"),
    hint: byId("nx-sign-in-hint"),
    error: byId("nx-sign-in-error"),
    loginForm: byId("nx-login-form"),
    tokenForm: byId("nx-token-form"),
    cancel: byId("nx-cancel-sign-in"),
    graphiql: byId("graphiql"),
  };

  /**
   * The current sign-in, or null for anonymous:
   * { accessToken, refreshToken (null for a pasted token), expiresAt (ms), label, role }.
   */
  let session = null;
  let expiryTimer;
  /** The refresh in flight: a refresh token is good for one use, so never two at once. */
  let refreshing = null;

  const root = ReactDOM.createRoot(ui.graphiql);

  function byId(id) {
    const element = document.getElementById(id);
    if (!element) throw new Error(`#${id} is missing from the page`);
    return element;
  }

  // --- Talking to the gateway -------------------------------------------------------------

  /**
   * POSTs a GraphQL request as JSON: a non-simple content type, plus Apollo's preflight
   * header, so the gateway's CSRF prevention accepts it. `token` null sends none.
   */
  function post(body, { token = session?.accessToken ?? null, headers = {} } = {}) {
    const base = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      "apollo-require-preflight": "true",
    };
    if (token) base.authorization = `Bearer ${token}`;
    return fetch(endpoint, {
      method: "POST",
      headers: { ...base, ...headers },
      body: JSON.stringify(body),
      credentials: "omit",
    });
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch {
      return {
        errors: [{ message: `The gateway answered HTTP ${response.status} without a GraphQL response.` }],
      };
    }
  }

  /**
   * Runs one operation of the page's own auth document, anonymously (none needs a token), and
   * returns its root field.
   */
  async function callAuth(operationName, variables, field) {
    const response = await post({ query: config.authDocument, operationName, variables }, { token: null });
    const result = await readJson(response);
    const value = result.data?.[field];
    if (value == null) throw new Error(result.errors?.[0]?.message ?? `No ${field} in the answer.`);
    return value;
  }

  /** GraphiQL's fetcher: every request carries the current token; a 401 tries one refresh. */
  function createFetcher() {
    return async (params, options) => {
      // Headers typed into GraphiQL's header editor win over the sign-in.
      const typed = options?.headers ?? {};
      let response = await post(params, { headers: typed });
      const sent = session;
      if (response.status === 401 && sent && !("authorization" in lowerCaseKeys(typed))) {
        if (await refresh()) response = await post(params, { headers: typed });
        else expire(sent, "The gateway no longer accepts this sign-in (expired or revoked). Sign in again.");
      }
      return readJson(response);
    };
  }

  function lowerCaseKeys(headers) {
    return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  }

  // --- The sign-in --------------------------------------------------------------------------

  /** Replaces the session; `identityChanged` re-renders GraphiQL, which then reloads the schema. */
  function setSession(next, { identityChanged = true } = {}) {
    session = next;
    clearTimeout(expiryTimer);
    if (session) scheduleExpiry();
    renderBar();
    if (identityChanged) renderGraphiql();
  }

  function scheduleExpiry() {
    const due = session.refreshToken ? session.expiresAt - REFRESH_MARGIN_MS : session.expiresAt;
    expiryTimer = setTimeout(onExpiryTimer, Math.min(Math.max(due - Date.now(), 1_000), MAX_DELAY_MS));
  }

  async function onExpiryTimer() {
    const current = session;
    if (!current) return;
    const due = current.refreshToken ? current.expiresAt - REFRESH_MARGIN_MS : current.expiresAt;
    if (Date.now() < due) return scheduleExpiry();
    if (current.refreshToken) {
      if (!(await refresh())) expire(current, "Your sign-in has expired. Sign in again.");
    } else {
      expire(current, "The token you pasted has expired. Sign in, or paste a new token.");
    }
  }

  /** Trades the refresh token for a new pair; false when the sign-in cannot go on. */
  function refresh() {
    if (!session?.refreshToken) return Promise.resolve(false);
    const current = session;
    refreshing ??= (async () => {
      try {
        const payload = await callAuth("GraphiqlRefresh", { token: current.refreshToken }, "refreshToken");
        if (payload.userErrors.length > 0 || !payload.accessToken) return false;
        // Signed out (or in as someone else) meanwhile: the new pair is not wanted.
        if (session !== current) {
          await callAuth("GraphiqlSignOut", { token: payload.refreshToken }, "logout").catch(() => {});
          return false;
        }
        setSession(sessionFromPayload(payload), { identityChanged: false });
        return true;
      } catch {
        return false;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  function sessionFromPayload(payload) {
    return {
      accessToken: payload.accessToken,
      refreshToken: payload.refreshToken,
      expiresAt: Date.parse(payload.expiresAt),
      label: payload.user?.email ?? "signed in",
      role: payload.user?.role ?? null,
    };
  }

  async function signIn(email, password) {
    const payload = await callAuth("GraphiqlSignIn", { input: { email, password } }, "login");
    const [userError] = payload.userErrors;
    if (userError) throw new Error(userError.message);
    if (adminOnly && payload.user?.role !== "ADMIN") {
      // End the sign-in that was just made: it is of no use here.
      await callAuth("GraphiqlSignOut", { token: payload.refreshToken }, "logout").catch(() => {});
      throw new Error(
        `This GraphiQL is for admins: ${email} is a ${payload.user?.role ?? "non-admin"} account.`,
      );
    }
    setSession(sessionFromPayload(payload));
  }

  /**
   * Uses an access token obtained elsewhere (a partner's, a test account's). The gateway checks
   * it; its claims are only read here to know who it is and when it runs out.
   */
  async function adoptToken(token) {
    const claims = readClaims(token);
    if (!claims) throw new Error("That is not an access token: expected a JWT (three dot-separated parts).");
    if (typeof claims.exp !== "number") throw new Error("That token has no expiry (exp claim).");
    if (claims.exp * 1000 <= Date.now()) {
      throw new Error(`That token expired at ${new Date(claims.exp * 1000).toISOString()}.`);
    }
    if (adminOnly && claims.role !== "ADMIN") {
      throw new Error(`This GraphiQL is for admins: that token is for role ${claims.role ?? "unknown"}.`);
    }
    const response = await post({ query: "{ __typename }" }, { token });
    if (!response.ok) {
      const result = await readJson(response);
      throw new Error(
        result.errors?.[0]?.message ?? `The gateway refused the token (HTTP ${response.status}).`,
      );
    }
    setSession({
      accessToken: token,
      refreshToken: null,
      expiresAt: claims.exp * 1000,
      label: claims.client_id ?? `token for ${claims.sub ?? "unknown subject"}`,
      role: claims.role ?? null,
    });
  }

  function readClaims(token) {
    const [, payload] = token.split(".");
    if (!payload || token.split(".").length !== 3) return null;
    try {
      const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
      const json = new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
      const claims = JSON.parse(json);
      return typeof claims === "object" && claims !== null ? claims : null;
    } catch {
      return null;
    }
  }

  async function signOut() {
    const ended = session;
    setSession(null);
    showPanel(adminOnly, null);
    if (ended?.refreshToken) {
      await callAuth("GraphiqlSignOut", { token: ended.refreshToken }, "logout").catch(() => {});
    }
  }

  /** Ends the sign-in `ended` for good, unless another has taken its place meanwhile. */
  function expire(ended, message) {
    if (session !== ended) return;
    setSession(null);
    showPanel(true, message);
  }

  // --- Rendering ----------------------------------------------------------------------------

  function renderBar() {
    ui.viewer.textContent = session
      ? `Signed in as ${session.label}${session.role ? ` (${session.role})` : ""}`
      : "Not signed in";
    ui.signOut.hidden = !session;
    ui.openSignIn.hidden = Boolean(session) || adminOnly;
  }

  function renderGraphiql() {
    // With GRAPHIQL=admin nothing of GraphiQL exists until an admin has signed in.
    ui.graphiql.hidden = adminOnly && !session;
    if (ui.graphiql.hidden) {
      root.render(null);
      return;
    }
    root.render(
      React.createElement(GraphiQL, {
        // A new fetcher for each viewer: GraphiQL then loads the schema as that viewer sees it.
        fetcher: createFetcher(),
        defaultTabs: config.examples,
        // Headers typed into the editor may hold tokens: never written to localStorage.
        shouldPersistHeaders: false,
        showPersistHeadersSettings: false,
      }),
    );
  }

  function showPanel(visible, message) {
    ui.panel.hidden = !visible;
    ui.error.hidden = !message;
    ui.error.textContent = message ?? "";
    if (visible) ui.loginForm.elements.namedItem("email").focus();
  }

  async function submit(form, action) {
    const buttons = form.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    ui.error.hidden = true;
    try {
      await action(new FormData(form));
      form.reset();
      showPanel(false, null);
    } catch (error) {
      showPanel(true, error instanceof Error ? error.message : String(error));
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  }

  ui.loginForm.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(ui.loginForm, (data) => signIn(String(data.get("email")).trim(), String(data.get("password"))));
  });
  ui.tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    submit(ui.tokenForm, (data) =>
      adoptToken(
        String(data.get("token"))
          .replace(/^Bearer\s+/i, "")
          .trim(),
      ),
    );
  });
  ui.openSignIn.addEventListener("click", () => showPanel(true, null));
  ui.cancel.addEventListener("click", () => showPanel(false, null));
  ui.signOut.addEventListener("click", () => {
    signOut();
  });

  if (adminOnly) {
    ui.modeNote.hidden = false;
    ui.cancel.hidden = true;
    ui.hint.textContent =
      "This GraphiQL is for admins: sign in with an ADMIN account. The token is kept in this " +
      "tab's memory only: reloading the page signs you out.";
  }
  renderBar();
  renderGraphiql();
  if (adminOnly) showPanel(true, null);
})();
