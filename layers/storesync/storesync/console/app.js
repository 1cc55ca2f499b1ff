// The console's entry point: hash routes, sign-in, the outcome of an Amazon authorization, focus on route change.

import { ApiError, developmentToken, setToken, token, tokenSubject } from "./api.js";
import { announce, clearErrors, field, h, pageChanged, showError } from "./dom.js";
import { renderConnect } from "./connect.js";
import { renderOrder, renderOrders } from "./orders.js";
import { renderStore } from "./store.js";
import { renderStores } from "./stores.js";

const ROUTES = [
  { pattern: /^#\/sign-in$/, page: renderSignIn, nav: "sign-in", open: true },
  { pattern: /^#\/stores\/new$/, page: renderConnect, nav: "stores" },
  { pattern: /^#\/stores\/([^/]+)$/, page: renderStore, nav: "stores" },
  { pattern: /^#\/stores$/, page: renderStores, nav: "stores" },
  { pattern: /^#\/orders(?:\?(.*))?$/, page: renderOrders, nav: "orders" },
  { pattern: /^#\/orders\/([^/?]+)$/, page: renderOrder, nav: "orders" },
];

const OUTCOMES = {
  connected: ["success", "The store is connected and active. Products and orders arrive with the next sync; use “Sync now” to start at once."],
  reauthorized: ["success", "The store is authorized again. Syncing resumes."],
  denied: ["error", "The store waits for authorization: choose “Authorize with Amazon” to try again."],
};

let navigation = 0;
let pendingRoute = "";

/** Render the page of the current hash. Pages call `ctx.current()` to know they are still on screen. */
async function route() {
  const hash = location.hash && location.hash !== "#" ? location.hash : "#/stores";
  const found = ROUTES.find((r) => r.pattern.test(hash));
  if (!found) {
    location.replace("#/stores");
    return;
  }
  if (!found.open && !token()) {
    pendingRoute = hash;
    location.replace("#/sign-in");
    return;
  }
  const mine = ++navigation;
  pageChanged();
  const main = document.getElementById("main");
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === found.nav) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  updateAccountLink();
  const params = hash.match(found.pattern).slice(1).map((part) => (part === undefined ? "" : decodeURIComponent(part)));
  const ctx = { current: () => mine === navigation };
  try {
    await found.page(main, params, ctx);
  } catch (err) {
    if (!ctx.current()) return;
    if (err instanceof ApiError && err.status === 401) {
      setToken("");
      pendingRoute = hash;
      announce(err.message, "error", { carry: true });
      location.replace("#/sign-in");
      return;
    }
    main.replaceChildren(
      h("h1", { tabindex: "-1" }, "Something went wrong"),
      h("p", { role: "alert" }, err.message || String(err)),
      h("p", {}, h("a", { href: "#/stores" }, "Back to your stores")),
    );
  }
  if (!ctx.current()) return;
  const heading = main.querySelector("h1");
  document.title = heading ? `${heading.textContent} · storesync` : "storesync";
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    if (!main.contains(document.activeElement) || document.activeElement === main) heading.focus();
  }
}

function updateAccountLink() {
  const link = document.getElementById("account-link");
  const who = tokenSubject();
  link.textContent = token() ? (who ? `Account (${who})` : "Account") : "Sign in";
}

/** A form of one field and its submit button; `onsubmit` gets the submit event. */
function oneFieldForm(id, onsubmit, fieldElement, button) {
  return h("form", { id, novalidate: true, onsubmit }, fieldElement, h("div", { class: "actions" }, button));
}

function renderSignIn(main) {
  const signedIn = Boolean(token());
  const pasteForm = oneFieldForm(
    "token-form",
    usePastedToken,
    field("token", "Access token", h("textarea", { id: "token", name: "token", rows: "4", autocomplete: "off", spellcheck: "false" }),
      "The token your company's sign-in (identity provider) gives you. It is kept only in this browser tab and forgotten when you close it."),
    h("button", { type: "submit", class: "primary" }, "Use this token"),
  );
  const devForm = oneFieldForm(
    "dev-token-form",
    useDevelopmentToken,
    field("merchant", "Merchant id", h("input", { type: "text", id: "merchant", name: "merchant", value: "demo-merchant", autocomplete: "username" }),
      "Only the local runtime (make run) offers development tokens."),
    h("button", { type: "submit" }, "Get a development token"),
  );
  main.replaceChildren(
    h("h1", {}, signedIn ? "Your account" : "Sign in"),
    h("p", {}, "storesync needs to know which merchant account you manage."),
    signedIn
      ? h(
          "section",
          { class: "card", "aria-labelledby": "signed-in-title" },
          h("h2", { id: "signed-in-title" }, "Signed in"),
          h("p", {}, `You are signed in${tokenSubject() ? ` as ${tokenSubject()}` : ""}.`),
          h("div", { class: "actions" },
            h("a", { class: "button primary", href: "#/stores" }, "Go to your stores"),
            h("button", { type: "button", id: "sign-out", onclick: signOut }, "Sign out"),
          ),
        )
      : "",
    h("section", { class: "card", "aria-labelledby": "paste-title" }, h("h2", { id: "paste-title" }, "Paste a token"), pasteForm),
    h("section", { class: "card", "aria-labelledby": "dev-title" }, h("h2", { id: "dev-title" }, "Local development"), devForm),
  );
}

function signedIn(message) {
  updateAccountLink();
  announce(message, "success", { carry: true });
  const next = pendingRoute || "#/stores";
  pendingRoute = "";
  location.hash = next;
}

function usePastedToken(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  const value = form.elements.token.value.trim();
  if (value.split(".").length !== 3) {
    showError(form, { field: "token", message: "Paste the whole token: three parts separated by dots." });
    return;
  }
  setToken(value);
  signedIn("Signed in.");
}

async function useDevelopmentToken(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  try {
    const value = await developmentToken(form.elements.merchant.value.trim());
    if (!value) {
      showError(form, { field: "merchant", message: "This storesync does not offer development tokens: paste a token instead." });
      return;
    }
    setToken(value);
    signedIn(`Signed in as ${tokenSubject()} (development token).`);
  } catch (err) {
    showError(form, err);
  }
}

function signOut() {
  setToken("");
  announce("Signed out.", "info");
  route();
}

/** Amazon's consent page sent the merchant back through /amazon/callback to `/?outcome=...&store_id=...`. */
function takeAuthorizationOutcome() {
  const query = new URLSearchParams(location.search);
  const outcome = query.get("outcome");
  if (!outcome) return;
  const storeId = query.get("store_id");
  const [kind, text] = OUTCOMES[outcome] || ["info", ""];
  const message = [query.get("message"), text].filter(Boolean).join(" ");
  history.replaceState(null, "", location.pathname + (storeId ? `#/stores/${encodeURIComponent(storeId)}` : "#/stores"));
  announce(message || `Amazon authorization: ${outcome}`, kind, { carry: true });
}

takeAuthorizationOutcome();
window.addEventListener("hashchange", route);
route();
