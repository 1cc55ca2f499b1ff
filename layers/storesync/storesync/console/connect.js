// The connect form (design B2): name, marketplace by region, download switch, starting inventory; then Amazon.

import { api, marketplaceRegions } from "./api.js";
import { announce, clearErrors, field, h, showError } from "./dom.js";

function choice(type, name, value, labelText, checked, describedBy) {
  const id = `${name}-${value}`;
  return h(
    "div",
    { class: "choice" },
    h("input", { type, id, name, value, checked, "aria-describedby": describedBy }),
    h("label", { for: id }, labelText),
  );
}

function marketplaceSelect(regions) {
  return h(
    "select",
    { id: "marketplace_id", name: "marketplace_id", required: true },
    h("option", { value: "" }, "Choose a marketplace"),
    regions.map((region) =>
      h(
        "optgroup",
        { label: region.name },
        region.marketplaces.map((m) =>
          h("option", { value: m.marketplace_id, dataset: { region: region.name, sellerCentral: m.seller_central } },
            `${m.country} (${m.country_code})`),
        ),
      ),
    ),
  );
}

function reminderText(select) {
  const option = select.selectedOptions[0];
  if (!option || !option.value) {
    return "Before you connect, log into Amazon Seller Central with the seller account that sells in the marketplace you choose. Amazon then asks you to approve storesync for that account.";
  }
  const where = option.dataset.sellerCentral.replace(/^https:\/\//, "");
  return `Before you connect, log into Amazon Seller Central (${where}) with the seller account that sells in ${option.textContent}. If you approve storesync with an account that does not sell there, the connection is refused.`;
}

export async function renderConnect(main, _params, ctx) {
  const regions = await marketplaceRegions();
  if (!ctx.current()) return;
  const select = marketplaceSelect(regions);
  const reminder = h("p", { id: "account-reminder", class: "reminder", "aria-live": "polite" });
  const form = h(
    "form",
    { id: "connect-form", novalidate: true, "aria-labelledby": "connect-title" },
    field(
      "name",
      "Store name",
      h("input", { type: "text", id: "name", name: "name", maxlength: "100", autocomplete: "off" }),
      "How the store is called in storesync, e.g. “Acme US”.",
    ),
    field(
      "marketplace_id",
      "Marketplace",
      select,
      "Every Amazon marketplace, grouped by region. Connect one store per marketplace you sell in.",
      "marketplace-note",
    ),
    h(
      "div",
      { class: "field", "data-field": "download_products_and_orders" },
      h(
        "div",
        { class: "choice" },
        h("input", { type: "checkbox", id: "download_products_and_orders", name: "download_products_and_orders", checked: true, "aria-describedby": "download-note" }),
        h("label", { for: "download_products_and_orders" }, "Download products and orders that are created in Amazon"),
      ),
      h("p", { class: "note", id: "download-note" }, "Cancelled and shipped orders are updated regardless: cancellations and shipments made in Amazon always update the orders storesync already has."),
    ),
    h(
      "fieldset",
      { "data-field": "starting_inventory", "aria-describedby": "starting-note" },
      h("legend", {}, "Starting inventory for primary warehouse"),
      choice("radio", "starting_inventory", "match_amazon", "Match what is in Amazon", false, "starting-note"),
      choice("radio", "starting_inventory", "keep", "Leave stock as it is", true, "starting-note"),
      h("p", { class: "note", id: "starting-note" }, "“Match what is in Amazon” sets the primary warehouse's stock to Amazon's quantities; every other warehouse starts at 0."),
    ),
    reminder,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary", id: "connect" }, "Connect"),
      h("a", { class: "button", href: "#/stores" }, "Cancel"),
    ),
  );
  reminder.textContent = reminderText(select);
  select.addEventListener("change", () => {
    reminder.textContent = reminderText(select);
  });
  form.addEventListener("submit", (event) => connect(event, form));
  main.replaceChildren(
    h("h1", { id: "connect-title" }, "Add a New Store"),
    h("p", {}, "storesync sends you to Amazon to approve access, then brings you back here."),
    form,
  );
}

async function connect(event, form) {
  event.preventDefault();
  clearErrors(form);
  const button = form.querySelector("#connect");
  const body = {
    name: form.elements.name.value,
    marketplace_id: form.elements.marketplace_id.value,
    download_products_and_orders: form.elements.download_products_and_orders.checked,
    starting_inventory: form.querySelector("input[name=starting_inventory]:checked").value,
  };
  button.disabled = true;
  try {
    const answer = await api("POST", "stores", body);
    announce("Opening Amazon's consent page…", "info", { carry: true });
    location.assign(answer.consent_url);
  } catch (err) {
    button.disabled = false;
    showError(form, err);
  }
}
