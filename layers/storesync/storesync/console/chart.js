// A small inline-SVG bar chart of orders imported per day, with a text summary for screen readers.

import { h, svg } from "./dom.js";

const WIDTH = 560;
const HEIGHT = 180;
const PAD = { top: 14, right: 8, bottom: 26, left: 30 };

function shortDate(isoDate) {
  const date = new Date(`${isoDate}T00:00:00Z`);
  return date.toLocaleDateString(undefined, { day: "numeric", month: "short", timeZone: "UTC" });
}

/** days: [{date: "YYYY-MM-DD", orders: n}], oldest first. */
export function ordersChart(days) {
  const total = days.reduce((sum, d) => sum + d.orders, 0);
  const max = Math.max(1, ...days.map((d) => d.orders));
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, days.length);
  const barW = Math.max(2, slot * 0.7);
  const summary = `${total} orders imported in the last ${days.length} days` +
    (days.length ? `, ${days[days.length - 1].orders} today.` : ".");
  const bars = days.map((d, i) => {
    const barH = (d.orders / max) * plotH;
    const x = PAD.left + i * slot + (slot - barW) / 2;
    const y = PAD.top + plotH - barH;
    return svg(
      "g",
      {},
      svg("rect", { class: "bar", x: x.toFixed(1), y: y.toFixed(1), width: barW.toFixed(1), height: barH.toFixed(1), "data-date": d.date, "data-orders": d.orders },
        svg("title", {}, `${shortDate(d.date)}: ${d.orders} orders`)),
      d.orders ? svg("text", { x: (x + barW / 2).toFixed(1), y: (y - 3).toFixed(1), "text-anchor": "middle" }, d.orders) : null,
      (days.length - 1 - i) % Math.ceil(days.length / 7) === 0
        ? svg("text", { x: (x + barW / 2).toFixed(1), y: HEIGHT - 8, "text-anchor": "middle" }, shortDate(d.date))
        : null,
    );
  });
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-labelledby": "orders-chart-summary", focusable: "false" },
    svg("line", { class: "axis", x1: PAD.left, x2: WIDTH - PAD.right, y1: PAD.top + plotH, y2: PAD.top + plotH }),
    svg("text", { x: 2, y: PAD.top + 4 }, max),
    svg("text", { x: 2, y: PAD.top + plotH }, 0),
    bars,
  );
  return h(
    "figure",
    { class: "chart card", id: "orders-chart" },
    chart,
    h("figcaption", { id: "orders-chart-summary" }, summary),
    h(
      "details",
      {},
      h("summary", {}, "Orders per day as a table"),
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Day"), h("th", { scope: "col" }, "Orders imported"))),
        h("tbody", {}, days.map((d) => h("tr", {}, h("td", {}, shortDate(d.date)), h("td", {}, d.orders)))),
      ),
    ),
  );
}
