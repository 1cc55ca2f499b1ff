// What the console says about statuses, jobs and results, in plain words (one place).

export const STATUSES = {
  pending_authorization: {
    label: "Waiting for Amazon authorization",
    tone: "warn",
    todo: "The store is not syncing yet. Choose “Authorize with Amazon”, sign in to Seller Central with the account that sells in this marketplace and approve storesync.",
  },
  active: {
    label: "Active",
    tone: "ok",
    todo: "Products, orders, inventory and shipments sync on schedule. Nothing to do.",
  },
  needs_reauthorization: {
    label: "Needs reauthorization",
    tone: "bad",
    todo: "Amazon no longer accepts this store's authorization (it expires every year, or it was revoked in Seller Central). Syncing is paused: choose “Reauthorize” and approve storesync again.",
  },
  disconnected: {
    label: "Disconnected",
    tone: "off",
    todo: "Syncing has stopped and the Amazon authorization was deleted. Its orders and sync log are kept. To sync this marketplace again, add a new store.",
  },
};

export function statusOf(status) {
  return STATUSES[status] || { label: status, tone: "off", todo: "" };
}

export const JOBS = [
  { job: "products", label: "Products", what: "imports new products every 30 minutes and all products daily" },
  { job: "orders", label: "Orders", what: "imports new and changed orders every 30 minutes" },
  { job: "inventory", label: "Inventory", what: "sends available quantities to Amazon every 20 minutes" },
  { job: "shipments", label: "Shipments", what: "sends shipments and tracking numbers to Amazon every 30 minutes" },
];

export function jobLabel(job) {
  return (JOBS.find((j) => j.job === job) || { label: job }).label;
}

export const RESULTS = {
  ok: { label: "Succeeded", tone: "ok" },
  partial: { label: "Partly succeeded: some records had problems", tone: "warn" },
  error: { label: "Failed", tone: "bad" },
  failed: { label: "Failed: retries used up, the next scheduled run continues", tone: "bad" },
  throttled: { label: "Amazon asked to slow down: continuing shortly", tone: "warn" },
  skipped: { label: "Skipped", tone: "off" },
};

export function resultOf(result) {
  return RESULTS[result] || { label: result || "Unknown", tone: "off" };
}

// A job's sync health (GET /stores: health.jobs[job].state); "ok" says nothing.
export const HEALTH = {
  ok: { label: "", tone: "ok" },
  late: { label: "Late: not succeeded for over twice its interval", tone: "warn" },
  failing: { label: "Failing: 3 or more failed runs in a row", tone: "bad" },
  paused: { label: "", tone: "off" },
};

export function healthOf(state) {
  return HEALTH[state] || { label: state || "", tone: "off" };
}

export const TRIGGERS = {
  schedule: "on schedule",
  manual: "Sync now",
  continuation: "continued",
  stockout: "stock ran out",
  rerun: "rerun",
  reauthorized: "store reauthorized",
  follow_up: "next round of a peak",
};

export const MODES = {
  incremental: "changes",
  full: "full import",
  catchup: "catch-up",
  stockout: "stock-out",
};

// The store page's section on orders that wait for SKUs the WMS does not know (the unknown-SKU hold).
export const UNKNOWN_SKUS = {
  title: "Orders waiting for unknown SKUs",
  note: "These orders contain SKUs that storesync does not know yet (no product, listing or stock). They are on hold and take no stock. As soon as a product import or a stock update brings the SKU, the next sync allocates the orders and lifts the hold.",
  none: "No order is waiting for an unknown SKU.",
  columns: ["SKU", "Units ordered", "Orders waiting"],
};

/** "111-2223334-5556667" from the API's order id "<store id>.<amazon order id>". */
export function amazonOrderId(orderId) {
  return orderId.slice(orderId.lastIndexOf(".") + 1);
}

/** "imported: 3, updated: 1" from {imported: 3, updated: 1}; a failed run with no counts did nothing (its
 * errors say why), it never reads "nothing to do". */
export function countsText(counts, result) {
  const entries = Object.entries(counts || {});
  if (!entries.length) return result === "error" || result === "failed" ? "nothing done" : "nothing to do";
  return entries.map(([name, value]) => `${name.replace(/_/g, " ")}: ${value}`).join(", ");
}

/** A date-time in the merchant's locale, e.g. "12 Aug 2026, 14:05". */
export function when(isoText) {
  if (!isoText) return "never";
  const date = new Date(isoText);
  if (Number.isNaN(date.getTime())) return isoText;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function duration(ms) {
  if (ms < 1000) return `${ms} ms`;
  const seconds = ms / 1000;
  return seconds < 60 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds / 60)} min`;
}

// The packer's orders pages (orders.js): WMS order statuses and holds in plain words.
export const ORDER_STATUSES = {
  pending: { label: "Pending on Amazon", tone: "warn" },
  open: { label: "Open: to pack", tone: "ok" },
  partially_shipped: { label: "Partly shipped", tone: "warn" },
  shipped: { label: "Shipped", tone: "off" },
  shipped_externally: { label: "Shipped outside the WMS", tone: "off" },
  cancelled: { label: "Cancelled", tone: "bad" },
  unfulfillable: { label: "Unfulfillable", tone: "bad" },
};

export function orderStatusOf(status) {
  return ORDER_STATUSES[status] || { label: String(status || "unknown").replace(/_/g, " "), tone: "off" };
}

export const HOLDS = {
  payment_hold: "Payment hold",
  unknown_sku: "Unknown SKU",
  buyer_requested_cancellation: "Buyer asked to cancel",
};

export const HOLD_WHY = {
  payment_hold: "Amazon has not released the order yet (the payment is not confirmed). Its stock is allocated; the hold clears when Amazon releases it.",
  unknown_sku: "The order contains SKUs storesync does not know yet (no product, listing or stock). It takes no stock until a product import or a stock update brings them.",
  buyer_requested_cancellation: "The buyer asked Amazon to cancel the order. Its stock stays allocated; the hold ends when Amazon cancels it or the order ships.",
};

export function holdLabel(hold) {
  return HOLDS[hold] || String(hold).replace(/_/g, " ");
}
