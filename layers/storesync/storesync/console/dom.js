// Small DOM helpers: build elements safely (text is always text, never HTML), announce outcomes, field errors.

/** h("p", {class: "note"}, "text", child) -> element. Attributes starting with "on" are listeners; `style` is
 * set through the CSSOM, which the console's Content-Security-Policy (no inline styles) allows. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "style") {
      el.style.cssText = String(value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

/** A form field named `name` (API errors about it land in it): its label, its control described by the note, and
 * the note under it. */
export function field(name, label, control, note, noteId = `${name}-note`) {
  control.setAttribute("aria-describedby", noteId);
  return h("div", { class: "field", "data-field": name }, h("label", { for: control.id }, label), control, h("p", { class: "note", id: noteId }, note));
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and children (same rules as h). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

/**
 * Say something to screen readers and show it in the status banner. kind: "info" | "success" | "error".
 * A message stays until the next page, or (carry: true, for "you are now on another page because...") one more.
 */
export function announce(message, kind = "info", { carry = false } = {}) {
  const banner = document.getElementById("banner");
  banner.replaceChildren();
  if (!message) {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  banner.dataset.carry = carry ? "1" : "";
  banner.className = `banner banner-${kind}`;
  banner.dataset.kind = kind;
  banner.append(h("p", { id: "banner-text" }, message));
  banner.append(
    h("button", { type: "button", class: "link", "aria-label": "Dismiss message", onclick: () => announce("") }, "×"),
  );
}

/** On a route change: keep a carried message once, clear any other. */
export function pageChanged() {
  const banner = document.getElementById("banner");
  if (banner.dataset.carry) banner.dataset.carry = "";
  else announce("");
}

/** Remove every field error shown in `form`. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    const described = (el.getAttribute("aria-describedby") || "").split(" ").filter((id) => !id.endsWith("-error"));
    if (described.length) el.setAttribute("aria-describedby", described.join(" "));
    else el.removeAttribute("aria-describedby");
  }
  const summary = form.querySelector(".form-error");
  if (summary) summary.remove();
}

/** The API's message in plain words, without the "field: " prefix the API puts first. */
export function plainMessage(message, field) {
  let text = String(message || "Something went wrong.");
  if (field && text.startsWith(`${field}: `)) text = text.slice(field.length + 2);
  text = text.replace(/^Value error, /, "");
  if (/at least 1 character/.test(text)) return "This cannot be empty.";
  if (/unknown marketplace id ''/.test(text)) return "Choose a marketplace.";
  if (/must be a whole number/.test(text)) return "Enter a whole number.";
  if (/must not be negative/.test(text)) return "Enter 0 or more.";
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Show an API error next to the field it names (the element with data-field=<field> in `form`), or at the top of
 * the form when it names none of them. Focuses the field. Returns the element that got the focus.
 */
export function showError(form, error) {
  const field = error.field || "";
  const target = field ? form.querySelector(`[data-field="${CSS.escape(field)}"]`) : null;
  const text = plainMessage(error.message, field);
  if (!target) {
    const summary = h("p", { class: "form-error", role: "alert", tabindex: "-1", id: `${form.id}-error` }, text);
    form.prepend(summary);
    summary.focus();
    return summary;
  }
  const id = `${field}-error`;
  const message = h("p", { class: "field-error", id }, text);
  const control = target.matches("input, select, textarea") ? target : target.querySelector("input, select, textarea");
  const holder = target.closest(".field") || target;
  holder.append(message);
  const focusable = control || target;
  focusable.setAttribute("aria-invalid", "true");
  const described = (focusable.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  focusable.setAttribute("aria-describedby", [...described, id].join(" "));
  focusable.focus();
  announce(`Please correct the form: ${text}`, "error");
  return focusable;
}
