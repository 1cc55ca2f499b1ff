// The packer's view: the orders page (filters status, hold, channel, store; newest purchase first, page by
// page) and an order page (its lines, holds and why, shipments and tracking, the sync events that touched it,
// and every other field GET /orders/{id} answers, under "Details").

import { api } from "./api.js";
import { h } from "./dom.js";
import { HOLD_WHY, ORDER_STATUSES, holdLabel, jobLabel, orderStatusOf, when } from "./words.js";

const PAGE = 50;
const FILTERS = ["status", "hold", "channel", "store_id"];
// the fields the order page shows in its own sections; any other field of GET /orders/{id} goes to "Details"
const SHOWN = new Set(["id", "store_id", "amazon_order_id", "status", "amazon_status", "channel", "holds", "items",
  "address", "purchase_date", "ship_by", "deliver_by", "shipped_at", "created_at", "updated_at", "marketplace_id"]);

let choicesCache = null;

/** The filter choices as the API declares them (GET /orders' enums in /openapi.json): one place, the domain. */
async function filterChoices() {
  if (!choicesCache) {
    choicesCache = api("GET", "openapi.json").then((doc) => {
      const params = ((doc.paths["/orders"] || {}).get || {}).parameters || [];
      const choices = {};
      for (const p of params) {
        const schema = p.schema || {};
        const options = schema.enum || (schema.anyOf || []).flatMap((s) => s.enum || []);
        if (options.length) choices[p.name] = options;
      }
      return choices;
    });
    choicesCache.catch(() => {
      choicesCache = null;
    });
  }
  return choicesCache;
}

function queryOf(params) {
  const query = new URLSearchParams();
  for (const name of FILTERS) if (params[name]) query.set(name, params[name]);
  return query;
}

function select(name, label, options, value, words) {
  return h("div", { class: "field", "data-field": name },
    h("label", { for: `filter-${name}` }, label),
    h("select", { id: `filter-${name}`, name },
      h("option", { value: "" }, "Any"),
      options.map((o) => h("option", { value: o.value ?? o, selected: (o.value ?? o) === value }, o.label ?? (words ? words(o) : o)))));
}

export async function renderOrders(main, [queryText], ctx) {
  const params = Object.fromEntries(new URLSearchParams(queryText || ""));
  const [choices, stores] = await Promise.all([filterChoices(), api("GET", "stores")]);
  if (!ctx.current()) return;
  const storeNames = Object.fromEntries(stores.stores.map((s) => [s.store_id, s.name]));
  const form = h("form", { id: "order-filters", class: "filters", role: "search", "aria-label": "Filter orders", novalidate: true },
    select("status", "Status", choices.status || Object.keys(ORDER_STATUSES), params.status, (v) => orderStatusOf(v).label),
    select("hold", "Hold", choices.hold || Object.keys(HOLD_WHY), params.hold, holdLabel),
    select("channel", "Channel", choices.channel || ["FBM", "FBA"], params.channel),
    select("store_id", "Store", stores.stores.map((s) => ({ value: s.store_id, label: s.name })), params.store_id),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Show orders")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = Object.fromEntries(FILTERS.map((n) => [n, form.elements[n].value]));
    const query = queryOf(chosen).toString();
    location.hash = query ? `#/orders?${query}` : "#/orders";
  });
  const list = h("div", { id: "order-list" });
  const more = h("div", { class: "actions" });
  main.replaceChildren(
    h("h1", {}, "Orders"),
    h("p", { class: "note" }, "Every order of your stores, newest purchase first. Choose filters to find the orders to pack."),
    h("section", { class: "card", "aria-label": "Filters" }, form),
    list,
    more,
  );
  const rows = [];
  const load = async (token) => {
    const query = queryOf(params);
    query.set("limit", String(PAGE));
    if (token) query.set("next_token", token);
    const page = await api("GET", `orders?${query}`);
    if (!ctx.current()) return;
    rows.push(...page.orders);
    fillOrders(list, rows, storeNames);
    more.replaceChildren(page.next_token
      ? h("button", { type: "button", id: "more-orders", onclick: (e) => { e.currentTarget.disabled = true; load(page.next_token); } }, "Show more orders")
      : "");
  };
  await load(null);
}

function fillOrders(container, orders, storeNames) {
  if (!orders.length) {
    container.replaceChildren(h("p", { class: "card", id: "no-orders" }, "No order matches these filters."));
    return;
  }
  container.replaceChildren(
    h("p", { class: "muted", id: "order-count", "aria-live": "polite" }, `${orders.length} order${orders.length === 1 ? "" : "s"} shown`),
    h("div", { class: "table-wrap", role: "region", "aria-label": "Orders", tabindex: "0" },
      h("table", {},
        h("thead", {}, h("tr", {}, ["Order", "Purchased", "Status", "Holds", "Channel", "Store", "Lines"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, orders.map((o) => h("tr", { dataset: { order: o.id, status: o.status } },
          h("td", {}, h("a", { href: `#/orders/${encodeURIComponent(o.id)}` }, o.amazon_order_id)),
          h("td", {}, when(o.purchase_date)),
          h("td", { class: `tone-${orderStatusOf(o.status).tone}` }, orderStatusOf(o.status).label),
          h("td", {}, o.holds.length ? o.holds.map(holdLabel).join(", ") : h("span", { class: "muted" }, "none")),
          h("td", {}, o.channel),
          h("td", {}, storeNames[o.store_id] || o.store_id),
          h("td", {}, o.items.map((i) => `${i.quantity} × ${i.sku}`).join(", ")),
        ))))),
  );
}

/** A value of a field the console does not know, as text (objects as "key: value" lines). */
function detailText(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.length ? value.map(detailText).join("; ") : "—";
  if (typeof value === "object") return Object.entries(value).map(([k, v]) => `${k.replace(/_/g, " ")}: ${detailText(v)}`).join(", ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

function section(id, title, ...children) {
  return h("section", { class: "card", id, "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, title), ...children);
}

export async function renderOrder(main, [orderId], ctx) {
  const path = `orders/${encodeURIComponent(orderId)}`;
  const [order, shipments, activity] = await Promise.all([
    api("GET", path),
    api("GET", `${path}/shipments`),
    api("GET", `${path}/activity`),
  ]);
  if (!ctx.current()) return;
  const status = orderStatusOf(order.status);
  const unknown = Object.entries(order).filter(([k]) => !SHOWN.has(k));
  main.replaceChildren(
    h("p", {}, h("a", { href: "#/orders" }, "← All orders")),
    h("div", { class: "page-head" },
      h("h1", {}, `Order ${order.amazon_order_id}`),
      h("span", { class: `badge tone-${status.tone}`, id: "order-status", dataset: { status: order.status } }, status.label)),
    h("p", { class: "muted" }, `${order.channel} · Amazon status ${order.amazon_status} · purchased ${when(order.purchase_date)}`,
      order.ship_by ? ` · ship by ${when(order.ship_by)}` : "",
      h("br"), h("a", { href: `#/stores/${encodeURIComponent(order.store_id)}` }, "Store page")),
    section("order-holds", "Holds",
      activity.holds.length
        ? h("ul", { class: "holds" }, activity.holds.map((hold) => h("li", { dataset: { hold: hold.hold } },
          h("strong", {}, holdLabel(hold.hold)), ": ", HOLD_WHY[hold.hold] || "storesync holds this order.",
          hold.unknown_skus.length ? ` Waiting for: ${hold.unknown_skus.join(", ")}.` : "",
          hold.blocks_shipping ? h("p", { class: "note" }, `The WMS cannot ship it while it is ${hold.blocks_shipping}.`) : "",
          hold.blocks_automation ? h("p", { class: "note" }, "Automation rules do not run on it.") : "")))
        : h("p", {}, "No hold: the order can be packed.")),
    section("order-lines", "Lines",
      h("div", { class: "table-wrap", role: "region", "aria-label": "Lines", tabindex: "0" },
        h("table", {},
          h("thead", {}, h("tr", {}, ["SKU", "Ordered", "Shipped", "Allocated", "Backorder", "Price"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, order.items.map((i) => h("tr", { dataset: { sku: i.sku } },
            h("td", {}, i.sku),
            h("td", {}, String(i.quantity)),
            h("td", {}, String(i.quantity_shipped)),
            h("td", {}, i.allocations.length ? i.allocations.map((a) => `${a.quantity} from ${a.warehouse_id}`).join(", ") : "none"),
            h("td", {}, String(i.backorder)),
            h("td", {}, i.price ? `${i.price} ${i.currency || ""}`.trim() : "—"))))))),
    section("order-shipments", "Shipments and tracking",
      shipments.shipments.length
        ? h("ul", {}, shipments.shipments.map((s) => h("li", { dataset: { package: s.package_reference_id, push: s.push_state } },
          `${[s.carrier, s.shipping_method].filter(Boolean).join(" ")}: tracking `, h("strong", {}, s.tracking_number),
          `, shipped ${when(s.ship_date)}; `, s.items.map((i) => `${i.quantity} × ${i.sku}`).join(", "), ". ",
          s.push_state === "confirmed" ? `Amazon confirmed it ${when(s.confirmed_at)}.`
            : s.push_state === "refused" ? `Amazon refused it: ${s.amazon_message || "no reason given"}.`
              : "Waiting to be sent to Amazon.")))
        : h("p", {}, "No shipment yet.")),
    section("order-events", "Sync events",
      h("p", { class: "note" }, "What storesync did with this order, newest first (the sync log keeps 30 days)."),
      h("ol", {}, activity.events.map((e) => h("li", { dataset: { kind: e.kind } },
        h("span", { class: "muted" }, `${when(e.at)} · ${jobLabel(e.job)}: `), e.message)))),
    section("order-address", "Ship to",
      order.address ? h("p", {}, detailText(order.address))
        : h("p", { class: "muted" }, order.channel === "FBA" ? "Amazon ships FBA orders: no address." : "No address (not released yet, or removed 30 days after the order closed).")),
    unknown.length
      ? section("order-details", "Details",
        h("dl", { class: "details" }, unknown.map(([k, v]) => [h("dt", {}, k.replace(/_/g, " ")), h("dd", { dataset: { field: k } }, detailText(v))])))
      : null,
  );
}
