// Runs in progress (GET /stores/{id}/runs' and GET /stores' `in_progress`): one progress bar per job, and the
// polling that keeps them current while a run chain goes on.

import { h } from "./dom.js";
import { jobLabel } from "./words.js";

export const PROGRESS_POLL_MS = 1500;

/** "100 of 250 rows" when Amazon said how many there are, else "100 orders read so far". */
function amountText(p) {
  if (p.expected !== null && p.expected !== undefined) return `${p.done.toLocaleString()} of ${p.expected.toLocaleString()} ${p.unit}`;
  return p.done ? `${p.done.toLocaleString()} ${p.unit} so far` : "starting";
}

/** One job's progress: its step in words, a bar (determinate where the total is known) and the figures. */
export function progressItem(p, storeId) {
  const id = `progress-${storeId}-${p.job}`;
  const what = `${p.first_import ? "First import of " : ""}${p.first_import ? jobLabel(p.job).toLowerCase() : jobLabel(p.job)}`;
  const bar = h("progress", { id: `${id}-bar`, max: p.expected ? String(p.expected) : null, value: p.expected ? String(Math.min(p.done, p.expected)) : null, "aria-labelledby": `${id}-label`, "aria-describedby": `${id}-text` });
  return h(
    "li",
    { class: "progress-item", dataset: { job: p.job, step: p.step } },
    h("p", { id: `${id}-label` }, h("strong", {}, what), `: ${p.label} (step ${p.step_number} of ${p.steps})`),
    bar,
    h("p", { class: "note", id: `${id}-text` }, amountText(p), p.percent !== null && p.percent !== undefined ? ` · ${p.percent} %` : ""),
  );
}

/** The list of a store's runs in progress, or null when none runs. */
export function progressList(inProgress, storeId) {
  if (!inProgress || !inProgress.length) return null;
  return h("ul", { class: "progress-list", "aria-label": "Runs in progress" }, inProgress.map((p) => progressItem(p, storeId)));
}

/** Call `refresh` every PROGRESS_POLL_MS while `ctx` is on screen and `refresh` answers true (more to show). */
export function pollWhile(ctx, refresh) {
  let stopped = false;
  const tick = async () => {
    if (stopped || !ctx.current()) return;
    let more = false;
    try {
      more = await refresh();
    } catch {
      more = true; // a failed poll tries again
    }
    if (more && ctx.current()) setTimeout(tick, PROGRESS_POLL_MS);
  };
  setTimeout(tick, PROGRESS_POLL_MS);
  return () => {
    stopped = true;
  };
}
