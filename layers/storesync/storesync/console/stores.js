// The Stores page: every store with its marketplace, status (and what to do), last runs and warnings.

import { api, marketplaceRegions } from "./api.js";
import { h } from "./dom.js";
import { pollWhile, progressList } from "./progress.js";
import { JOBS, healthOf, resultOf, statusOf, when } from "./words.js";

/** "United States (US) · North America" from a store view and the regions list. */
export function marketplaceText(store, regions) {
  const region = regions.find((r) => r.region === store.region);
  const country = `${store.marketplace.country} (${store.marketplace.country_code})`;
  return `${country} · ${region ? region.name : store.region}`;
}

export function statusBadge(store, id) {
  const status = statusOf(store.status);
  return h("span", { class: `badge tone-${status.tone}`, id, dataset: { status: store.status } }, status.label);
}

/** "Last success: 12 Aug 2026, 14:05" when a job's last run did not succeed, or a health note (late, failing). */
function healthNote(store, job, run) {
  const health = ((store.health || {}).jobs || {})[job];
  if (!health) return null;
  const state = healthOf(health.state);
  const succeeded = run && (run.result === "ok" || run.result === "partial");
  const parts = [];
  if (state.label) parts.push(state.label);
  if (run && !succeeded) parts.push(`last success: ${when(health.last_success_at)}`);
  if (!parts.length) return null;
  return h("span", { class: `health tone-${state.tone}`, dataset: { health: health.state } }, ` · ${parts.join(", ")}`);
}

/** The last run of every job: "Orders: Succeeded, 12 Aug 2026, 14:05 (imported: 3)". */
export function lastRunsList(store) {
  return h(
    "dl",
    { class: "runs" },
    JOBS.map(({ job, label }) => {
      const run = (store.last_runs || {})[job];
      const result = run ? resultOf(run.result) : null;
      return h(
        "div",
        { dataset: { job } },
        h("dt", {}, label),
        run
          ? h(
              "dd",
              {},
              h("span", { class: `tone-${result.tone}` }, result.label),
              `, ${when(run.at)}`,
              run.summary ? h("span", { class: "muted" }, ` (${run.summary})`) : null,
              healthNote(store, job, run),
            )
          : h("dd", { class: "muted" }, "Not run yet", healthNote(store, job, run)),
      );
    }),
  );
}

/** Its merchant orders late or at risk of shipping late (the ship-by window ends within 24 h), as a warning. */
function lateShipmentWarning(store) {
  const { late = 0, at_risk: atRisk = 0 } = store.late_shipments || {};
  if (!late && !atRisk) return [];
  const parts = [];
  if (late) parts.push(`${late} order${late === 1 ? "" : "s"} past the ship-by date`);
  if (atRisk) parts.push(`${atRisk} order${atRisk === 1 ? "" : "s"} at risk of shipping late`);
  return [{ code: "late_shipments", message: `${parts.join(", ")}: ship them first.` }];
}

/** The store's warnings, its sync-health warnings (a job late or failing) and late shipments, in one list. */
export function warningsList(store) {
  const warnings = [
    ...(store.warnings || []),
    ...((store.health || {}).warnings || []),
    ...lateShipmentWarning(store),
  ];
  if (!warnings.length) return null;
  return h(
    "div",
    { class: "warnings", role: "note", "aria-label": "Warnings" },
    h("ul", {}, warnings.map((w) => h("li", { "data-code": w.code }, w.message))),
  );
}

function storeCard(store, regions) {
  const status = statusOf(store.status);
  const titleId = `store-${store.store_id}-name`;
  return h(
    "li",
    { class: "card store-card", dataset: { storeId: store.store_id } },
    h(
      "article",
      { "aria-labelledby": titleId },
      h(
        "header",
        {},
        h("h2", { id: titleId }, h("a", { href: `#/stores/${encodeURIComponent(store.store_id)}` }, store.name)),
        statusBadge(store),
      ),
      h("p", { class: "muted" }, marketplaceText(store, regions)),
      h("p", {}, status.todo),
      store.status_reason && store.status !== "active" ? h("p", { class: "note" }, store.status_reason) : null,
      h("div", { class: "store-progress", "aria-live": "polite" }, progressList(store.in_progress, store.store_id)),
      lastRunsList(store),
      warningsList(store),
    ),
  );
}

/** While a store's import runs (a new store's first import), its card shows it as it happens. */
function followProgress(main, ctx, regions, stores) {
  const shape = (s) => JSON.stringify([s.status, s.in_progress, s.last_runs, s.warnings]);
  const shown = new Map(stores.map((s) => [s.store_id, shape(s)]));
  pollWhile(ctx, async () => {
    const answer = await api("GET", "stores");
    if (!ctx.current()) return false;
    for (const store of answer.stores) {
      const text = shape(store);
      const card = main.querySelector(`li[data-store-id="${CSS.escape(store.store_id)}"]`);
      if (card && shown.get(store.store_id) !== text) card.replaceWith(storeCard(store, regions)); // changed only
      shown.set(store.store_id, text);
    }
    return answer.stores.some(importing);
  });
}

/** A store whose import runs, or an active store whose first imports have not run yet (they start with the
 * next schedule or "Sync now"): the Stores page follows it. */
function importing(store) {
  if ((store.in_progress || []).length) return true;
  if (store.status !== "active") return false;
  const runs = store.last_runs || {};
  return !runs.orders || (store.settings.download_products_and_orders && !runs.products);
}

export async function renderStores(main, _params, ctx) {
  const [answer, regions] = await Promise.all([api("GET", "stores"), marketplaceRegions()]);
  if (!ctx.current()) return;
  const stores = answer.stores;
  const notices = answer.warnings || []; // about storesync itself (its Amazon app credential expiring)
  main.replaceChildren(
    h(
      "div",
      { class: "page-head" },
      h("h1", {}, "Stores"),
      h("a", { class: "button primary", href: "#/stores/new", id: "add-store" }, "+ Add a New Store"),
    ),
    ...(notices.length
      ? [
          h(
            "div",
            { class: "warnings", role: "alert", id: "app-warnings" },
            h("ul", {}, notices.map((w) => h("li", { "data-code": w.code }, w.message))),
          ),
        ]
      : []),
    stores.length
      ? h("ul", { class: "store-list", "aria-label": "Your Amazon stores" }, stores.map((s) => storeCard(s, regions)))
      : h(
          "p",
          { class: "card" },
          "No Amazon store is connected yet. Choose “+ Add a New Store” to connect your first marketplace.",
        ),
  );
  if (stores.some(importing)) followProgress(main, ctx, regions, stores);
}
