// One store: status and what to do, sync now, settings, reauthorize, disconnect, sync log, orders per day,
// orders waiting for unknown SKUs.

import { api, marketplaceRegions } from "./api.js";
import { ordersChart } from "./chart.js";
import { announce, clearErrors, field, h, showError } from "./dom.js";
import { pollWhile, progressList } from "./progress.js";
import { lastRunsList, marketplaceText, statusBadge, warningsList } from "./stores.js";
import { JOBS, MODES, TRIGGERS, UNKNOWN_SKUS, amazonOrderId, countsText, duration, jobLabel, resultOf, statusOf, when } from "./words.js";

const LOG_POLL_MS = 1500;
const LOG_POLL_TRIES = 20;

export async function renderStore(main, [storeId], ctx) {
  const path = `stores/${encodeURIComponent(storeId)}`;
  const [store, regions, warehouses, runs, daily, unknown] = await Promise.all([
    api("GET", path),
    marketplaceRegions(),
    api("GET", "warehouses"),
    api("GET", `${path}/runs?limit=20`),
    api("GET", `${path}/orders/daily?days=14`),
    api("GET", `${path}/unknown-skus`),
  ]);
  if (!ctx.current()) return;
  const status = statusOf(store.status);
  const log = h("div", { id: "sync-log" });
  const progress = h("section", { class: "card", id: "in-progress", "aria-labelledby": "progress-title", "aria-live": "polite" });
  const view = { store, path, log, progress, ctx, polling: false };
  fillLog(log, runs.runs);
  fillProgress(view, runs.in_progress);
  main.replaceChildren(
    h("p", {}, h("a", { href: "#/stores" }, "← All stores")),
    h("div", { class: "page-head" }, h("h1", {}, store.name), statusBadge(store, "store-status")),
    h("p", { class: "muted" }, marketplaceText(store, regions),
      store.selling_partner_id ? ` · Amazon seller ${store.selling_partner_id}` : ""),
    h("section", { class: "card", "aria-labelledby": "status-title" },
      h("h2", { id: "status-title" }, `Status: ${status.label}`),
      h("p", { id: "status-todo" }, status.todo),
      store.status_reason && store.status !== "active" ? h("p", { class: "note" }, store.status_reason) : null,
      warningsList(store),
      authorizationActions(view),
    ),
    progress,
    syncSection(view),
    unknownSkusSection(unknown.skus),
    settingsSection(view, warehouses.warehouses),
    h("section", { "aria-labelledby": "chart-title" },
      h("h2", { id: "chart-title" }, "Orders imported per day"),
      ordersChart(daily.days)),
    h("section", { "aria-labelledby": "log-title" },
      h("div", { class: "page-head" },
        h("h2", { id: "log-title" }, "Sync log"),
        h("button", { type: "button", id: "refresh-log", onclick: () => refreshLog(view) }, "Refresh")),
      h("p", { class: "note" }, "The latest runs of every job, newest first. Runs are kept 30 days."),
      log),
    disconnectDialog(view),
  );
}

function authorizationActions(view) {
  const { store } = view;
  if (store.status === "disconnected") {
    return h("div", { class: "actions" }, h("a", { class: "button primary", href: "#/stores/new" }, "+ Add a New Store"));
  }
  const label = store.status === "pending_authorization" ? "Authorize with Amazon" : "Reauthorize";
  const primary = store.status !== "active";
  return h(
    "div",
    { class: "actions" },
    h("button", { type: "button", id: "reauthorize", class: primary ? "primary" : "", onclick: (e) => reauthorize(view, e.currentTarget) }, label),
    h("button", { type: "button", id: "disconnect", class: "danger", onclick: () => document.getElementById("disconnect-dialog").showModal() }, "Disconnect…"),
  );
}

async function reauthorize(view, button) {
  button.disabled = true;
  try {
    const answer = await api("POST", `${view.path}/reauthorize`);
    announce("Opening Amazon's consent page…", "info", { carry: true });
    location.assign(answer.consent_url);
  } catch (err) {
    button.disabled = false;
    announce(err.message, "error");
  }
}

function disconnectDialog(view) {
  const dialog = h(
    "dialog",
    { id: "disconnect-dialog", "aria-labelledby": "disconnect-title", "aria-describedby": "disconnect-text" },
    h("h2", { id: "disconnect-title" }, `Disconnect ${view.store.name}?`),
    h("p", { id: "disconnect-text" }, "storesync stops syncing this store and deletes its Amazon authorization. Orders already imported and the sync log are kept. To sync this marketplace again you add the store anew."),
    h(
      "form",
      { method: "dialog", class: "actions" },
      h("button", { value: "cancel", id: "disconnect-cancel", autofocus: true }, "Keep the store"),
      h("button", { value: "confirm", id: "disconnect-confirm", class: "danger primary" }, "Disconnect"),
    ),
  );
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "confirm") {
      document.getElementById("disconnect")?.focus();
      return;
    }
    try {
      await api("DELETE", view.path);
      announce(`${view.store.name} is disconnected. Its history is kept.`, "success", { carry: true });
      location.hash = "#/stores";
    } catch (err) {
      announce(err.message, "error");
    }
  });
  return dialog;
}

function syncSection(view) {
  const active = view.store.status === "active";
  return h(
    "section",
    { class: "card", "aria-labelledby": "sync-title" },
    h("h2", { id: "sync-title" }, "Sync now"),
    h("p", { class: "note" }, active
      ? "Each job also runs on its own schedule. “Sync now” starts it at once; the run appears in the sync log below."
      : "Syncing is possible once the store is active."),
    h(
      "ul",
      { class: "runs", style: "list-style:none;padding:0" },
      JOBS.map(({ job, label, what }) =>
        h("li", {},
          h("button", { type: "button", id: `sync-${job}`, disabled: !active, "aria-describedby": `sync-${job}-what`, onclick: (e) => syncNow(view, job, e.currentTarget) }, `Sync ${label.toLowerCase()} now`),
          h("p", { class: "note", id: `sync-${job}-what` }, `${label}: ${what}.`)),
      ),
    ),
    h("h3", { style: "margin-top:1rem" }, "Last runs"),
    lastRunsList(view.store),
  );
}

async function syncNow(view, job, button) {
  button.disabled = true;
  const before = new Set(Array.from(view.log.querySelectorAll("tr[data-run]"), (tr) => tr.dataset.run));
  try {
    await api("POST", `${view.path}/sync`, { job });
    announce(`${jobLabel(job)} sync started. Its run appears in the sync log when it finishes.`, "info");
    for (let i = 0; i < LOG_POLL_TRIES && view.ctx.current(); i++) {
      await new Promise((resolve) => setTimeout(resolve, LOG_POLL_MS));
      const runs = await refreshLog(view);
      const fresh = runs.find((r) => r.job === job && r.trigger === "manual" && !before.has(runKey(r)));
      if (fresh) {
        const result = resultOf(fresh.result);
        announce(`${jobLabel(job)} sync finished: ${result.label} (${countsText(fresh.counts, fresh.result)}).`, fresh.result === "error" || fresh.result === "failed" ? "error" : "success");
        return;
      }
    }
  } catch (err) {
    announce(err.message, "error");
  } finally {
    button.disabled = false;
  }
}

function runKey(run) {
  return `${run.started_at}|${run.job}|${run.mode}|${run.finished_at}`;
}

async function refreshLog(view) {
  const answer = await api("GET", `${view.path}/runs?limit=20`);
  if (view.ctx.current()) {
    fillLog(view.log, answer.runs);
    fillProgress(view, answer.in_progress);
  }
  return answer.runs;
}

/** The runs in progress with their bars; while any runs, the page polls the sync log to keep them current. */
function fillProgress(view, inProgress) {
  const list = progressList(inProgress, view.store.store_id);
  view.progress.hidden = !list;
  view.progress.replaceChildren(h("h2", { id: "progress-title" }, "In progress"), list);
  if (!list || view.polling) return;
  view.polling = true;
  pollWhile(view.ctx, async () => {
    const answer = await api("GET", `${view.path}/runs?limit=20`);
    if (!view.ctx.current()) return false;
    fillLog(view.log, answer.runs);
    const running = answer.in_progress.length > 0;
    view.polling = running;
    const list = progressList(answer.in_progress, view.store.store_id);
    view.progress.hidden = !list;
    view.progress.replaceChildren(h("h2", { id: "progress-title" }, "In progress"), list);
    return running;
  });
}

function fillLog(container, runs) {
  if (!runs.length) {
    container.replaceChildren(h("p", { class: "card" }, "No runs yet."));
    return;
  }
  container.replaceChildren(
    h(
      "div",
      { class: "table-wrap", role: "region", "aria-label": "Sync log", tabindex: "0" },
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, ["Started", "Job", "Result", "Counts", "Problems"].map((t) => h("th", { scope: "col" }, t)))),
        h(
          "tbody",
          {},
          runs.map((run) => {
            const result = resultOf(run.result);
            return h(
              "tr",
              { dataset: { run: runKey(run), job: run.job, result: run.result } },
              h("td", {}, when(run.started_at), h("br"), h("span", { class: "muted" }, `${TRIGGERS[run.trigger] || run.trigger}, ${duration(run.duration_ms)}`)),
              h("td", {}, jobLabel(run.job), h("br"), h("span", { class: "muted" }, MODES[run.mode] || run.mode)),
              h("td", { class: `tone-${result.tone}` }, result.label),
              h("td", {}, countsText(run.counts, run.result)),
              h("td", {}, run.errors.length ? h("ul", {}, run.errors.map((e) => h("li", { "data-code": e.code }, e.message))) : h("span", { class: "muted" }, "none")),
            );
          }),
        ),
      ),
    ),
  );
}

function unknownSkusSection(skus) {
  const words = UNKNOWN_SKUS;
  return h(
    "section",
    { class: "card", id: "unknown-skus", "aria-labelledby": "unknown-skus-title" },
    h("h2", { id: "unknown-skus-title" }, words.title),
    h("p", { class: "note" }, words.note),
    !skus.length
      ? h("p", {}, words.none)
      : h(
        "div",
        { class: "table-wrap", role: "region", "aria-label": words.title, tabindex: "0" },
        h(
          "table",
          {},
          h("thead", {}, h("tr", {}, words.columns.map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            skus.map((item) =>
              h(
                "tr",
                { dataset: { sku: item.sku } },
                h("td", {}, item.sku),
                h("td", {}, String(item.units)),
                h("td", {}, h("ul", {}, item.orders.map((id) => h("li", {}, amazonOrderId(id))))),
              ),
            ),
          ),
        ),
      ),
  );
}

function settingsSection(view, warehouses) {
  const s = view.store.settings;
  const editable = view.store.status !== "disconnected";
  const feeding = s.warehouses.length ? s.warehouses : warehouses.filter((w) => w.is_primary).map((w) => w.warehouse_id);
  const check = (name, label, note) =>
    h("div", { class: "field", "data-field": name },
      h("div", { class: "choice" },
        h("input", { type: "checkbox", id: name, name, checked: Boolean(s[name]), "aria-describedby": `${name}-note` }),
        h("label", { for: name }, label)),
      h("p", { class: "note", id: `${name}-note` }, note));
  const number = (name, label, value, note) =>
    field(name, label, h("input", { type: "number", id: name, name, min: "0", step: "1", inputmode: "numeric", value: value ?? "" }), note);
  const form = h(
    "form",
    { id: "settings-form", novalidate: true },
    check("download_products_and_orders", "Download products and orders that are created in Amazon",
      "Cancelled and shipped orders are updated regardless."),
    check("import_pending_orders", "Import pending orders",
      "Orders Amazon has not released yet (payment not confirmed) are imported with a payment hold. Their stock is allocated at once, automation rules do not run on them, and they have no address until Amazon releases them (1 hour to 21 days later); then the hold clears and the address arrives with the next sync."),
    check("remove_stock_for_external_fulfillments", "Remove stock for fulfillments created in Amazon and not in the WMS",
      "When an order is shipped outside the WMS (Amazon shows it shipped, the WMS has no shipment), its units leave on-hand stock."),
    number("inventory_buffer", "Inventory buffer", s.inventory_buffer,
      "Units held back from Amazon for every product (safety stock): Amazon is shown available stock minus this number."),
    number("max_quantity", "Maximum quantity", s.max_quantity,
      "Amazon is never shown more than this many units of a product. Leave empty for no maximum."),
    h("fieldset", { "data-field": "warehouses", "aria-describedby": "warehouses-note" },
      h("legend", {}, "Warehouses that feed this store"),
      warehouses.map((w) => h("div", { class: "choice" },
        h("input", { type: "checkbox", id: `warehouse-${w.warehouse_id}`, name: "warehouses", value: w.warehouse_id, checked: feeding.includes(w.warehouse_id), "aria-describedby": "warehouses-note" }),
        h("label", { for: `warehouse-${w.warehouse_id}` }, w.is_primary ? `${w.name} (primary)` : w.name))),
      h("p", { class: "note", id: "warehouses-note" }, "Orders take stock from these warehouses and Amazon is shown their total available stock. None ticked: the primary warehouse alone.")),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "save-settings", disabled: !editable }, "Save settings")),
  );
  form.addEventListener("submit", (event) => saveSettings(event, view, form));
  return h("section", { class: "card", "aria-labelledby": "settings-title" }, h("h2", { id: "settings-title" }, "Sync settings"), form);
}

/** A number field's value for the API: a whole number, null when empty (if allowed), else the text as typed. */
function numberValue(input, emptyIsNull) {
  if (input.validity.badInput) return "not a number";
  const text = input.value.trim();
  if (!text) return emptyIsNull ? null : 0;
  return /^-?\d+$/.test(text) ? Number(text) : text;
}

async function saveSettings(event, view, form) {
  event.preventDefault();
  clearErrors(form);
  const el = form.elements;
  const body = {
    download_products_and_orders: el.download_products_and_orders.checked,
    import_pending_orders: el.import_pending_orders.checked,
    remove_stock_for_external_fulfillments: el.remove_stock_for_external_fulfillments.checked,
    inventory_buffer: numberValue(el.inventory_buffer, false),
    max_quantity: numberValue(el.max_quantity, true),
    warehouses: Array.from(form.querySelectorAll("input[name=warehouses]:checked"), (i) => i.value),
  };
  const button = form.querySelector("#save-settings");
  button.disabled = true;
  try {
    const store = await api("PATCH", `${view.path}/settings`, body);
    view.store = store;
    announce("Settings saved.", "success");
  } catch (err) {
    showError(form, err);
  } finally {
    button.disabled = false;
  }
}
