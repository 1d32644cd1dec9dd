// Progressive enhancement only: every page works without this script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // Say the result of a click in the page's status region, for screen readers (WCAG 4.1.3).
  const announce = (text) => {
    const region = document.getElementById("announce");
    if (region) region.textContent = text;
  };

  // Show / hide a secret field.
  for (const button of document.querySelectorAll("button.toggle-secret")) {
    button.addEventListener("click", () => {
      const input = document.getElementById(button.dataset.for);
      const show = input.type === "password";
      input.type = show ? "text" : "password";
      button.textContent = show ? "Hide" : "Show";
      button.setAttribute("aria-pressed", String(show));
    });
  }

  // Copy the text of an element.
  for (const button of document.querySelectorAll("button.copy")) {
    button.addEventListener("click", async () => {
      const root = button.closest("[data-exchange]");
      const selector = "#" + CSS.escape(button.dataset.copy);
      const target = (root && root.querySelector(selector)) || document.querySelector(selector);
      const text = target ? target.textContent : "";
      const label = button.textContent;
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
        announce("Copied to the clipboard");
      } catch {
        const range = document.createRange();
        range.selectNodeContents(target);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "Selected: press Ctrl+C";
        announce("Selected: press Ctrl+C to copy");
      }
      setTimeout(() => { button.textContent = label; }, 1800);
    });
  }

  // Reveal or mask the secrets of an exchange.
  for (const button of document.querySelectorAll("button.reveal")) {
    button.addEventListener("click", () => {
      const name = button.dataset.reveal;
      const masked = document.querySelector(`[data-view="${name}-masked"]`);
      const revealed = document.querySelector(`[data-view="${name}-revealed"]`);
      const reveal = revealed.hidden;
      revealed.hidden = !reveal;
      masked.hidden = reveal;
      button.textContent = reveal ? "Mask secrets" : "Reveal secrets";
      button.setAttribute("aria-pressed", String(reveal));
      const panel = button.closest("[aria-label]");
      const where = panel ? ` in ${panel.getAttribute("aria-label")}` : "";
      announce(reveal ? `Secrets revealed${where}` : `Secrets masked${where}`);
    });
  }

  // Introspection: show only the credentials the chosen method needs.
  const authSelect = document.getElementById("introspection_auth");
  if (authSelect) {
    const basic = document.querySelector(".auth-basic");
    const bearer = document.querySelector(".auth-bearer");
    const update = () => {
      basic.hidden = authSelect.value !== "basic";
      bearer.hidden = authSelect.value !== "bearer";
    };
    authSelect.addEventListener("change", update);
    update();
  }

});

document.addEventListener("DOMContentLoaded", () => {
  // Show only the fields the chosen grant uses (without JavaScript all stay, labelled and usable).
  const grant = document.getElementById("grant_type");
  if (grant && grant.tagName === "SELECT") {
    const scope = document.getElementById("scope");
    const defaults = document.getElementById("grant-scopes");
    const scopeFor = (value) => (defaults ? defaults.dataset[value.replace(/_(.)/g, (_m, c) => c.toUpperCase())] || "" : "");
    let previous = grant.value;
    // A grant the server's metadata does not list gets a note, never a block (servers under-report).
    const note = document.getElementById("grant-not-listed");
    const identifiers = document.getElementById("grant-identifiers");
    const update = () => {
      for (const element of document.querySelectorAll("[data-grants]")) {
        element.hidden = !element.dataset.grants.split(" ").includes(grant.value);
      }
      if (note && identifiers) {
        const listed = document.getElementById("grant_types_supported");  // filled by Discover
        const supported = (listed ? listed.value : note.dataset.supported).split(" ").filter(Boolean);
        const identifier = identifiers.dataset[grant.value.replace(/_(.)/g, (_m, c) => c.toUpperCase())] || grant.value;
        document.getElementById("grant-not-listed-id").textContent = identifier;
        note.hidden = supported.length === 0 || supported.includes(identifier);
      }
    };
    // The code grant asks for a login: its scope starts as the server's usual OpenID Connect one.
    if (scope && !scope.value && grant.value === "authorization_code") scope.value = scopeFor(grant.value);
    grant.addEventListener("change", () => {
      // A scope left as the other grant's default becomes this grant's default.
      if (scope && scope.value === scopeFor(previous)) scope.value = scopeFor(grant.value);
      previous = grant.value;
      update();
    });
    update();
  }

  // Revealing secrets anywhere means a downloaded transcript may include them.
  for (const button of document.querySelectorAll("button.reveal")) {
    button.addEventListener("click", () => {
      const revealed = document.querySelectorAll('.revealed-view:not([hidden])').length > 0;
      for (const input of document.querySelectorAll("input.reveal-state")) input.value = revealed ? "1" : "";
    });
  }

  // A saved server fills the endpoints it knows (without JS: the "Use server" button).
  const server = document.getElementById("server");
  if (server && server.tagName === "SELECT") {
    server.addEventListener("change", () => {
      const option = server.selectedOptions[0];
      for (const [key, value] of Object.entries(option.dataset)) {
        const input = document.getElementById(key.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase()));
        if (input) input.value = value;
      }
      if (grant) grant.dispatchEvent(new Event("change"));  // the grant note follows the server
    });
  }

  // Enter in a section presses that section's button.
  for (const section of document.querySelectorAll("[data-enter]")) {
    section.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target.tagName === "INPUT") {
        event.preventDefault();
        document.getElementById(section.dataset.enter).click();
      }
    });
  }

  // Remember the last non-secret values in this browser only; never a secret or a token.
  // Forget restores what the page came with and stops remembering until asked again.
  const REMEMBERED = ["server", "discovery_url", "issuer", "jwks_uri", "revocation_endpoint", "grant_type",
    "client_id", "scope", "token_endpoint", "client_auth", "resource", "audience", "introspection_endpoint",
    "authorization_endpoint", "userinfo_endpoint", "logout_endpoint", "pkce_method", "response_mode",
    "device_authorization_endpoint"];
  const KEY = "oauth-playground:last";
  const OFF = "oauth-playground:off";
  const store = {
    get(key) { try { return localStorage.getItem(key); } catch { return null; } },
    set(key, value) { try { localStorage.setItem(key, value); } catch { /* storage off */ } },
    remove(key) { try { localStorage.removeItem(key); } catch { /* storage off */ } },
  };
  const form = document.querySelector("form[data-remember]");
  if (form) {
    const input = (name) => form.elements.namedItem(name);
    const original = {};
    for (const name of REMEMBERED) if (input(name)) original[name] = input(name).value;
    form.addEventListener("submit", () => {
      if (store.get(OFF)) return;
      const values = {};
      for (const name of REMEMBERED) if (input(name) && input(name).value) values[name] = input(name).value;
      store.set(KEY, JSON.stringify(values));
    });
    const note = form.querySelector(".remembered");
    const off = form.querySelector(".not-remembering");
    let saved = null;
    try { saved = JSON.parse(store.get(KEY) || "null"); } catch { saved = null; }
    if (saved && typeof saved === "object" && form.hasAttribute("data-fresh") && !store.get(OFF)) {
      for (const [name, value] of Object.entries(saved)) {
        if (REMEMBERED.includes(name) && input(name) && typeof value === "string") {
          input(name).value = value;
          input(name).dispatchEvent(new Event("change"));
        }
      }
      if (note) note.hidden = false;
    }
    if (off && store.get(OFF)) off.hidden = false;
    if (note && off) {
      note.querySelector("button.forget").addEventListener("click", () => {
        store.remove(KEY);
        store.set(OFF, "1");
        for (const [name, value] of Object.entries(original)) {
          input(name).value = value;
          input(name).dispatchEvent(new Event("change"));  // the grant's fields follow
        }
        note.hidden = true;
        off.hidden = false;
      });
      off.querySelector("button.remember").addEventListener("click", () => {
        store.remove(OFF);
        off.hidden = true;
      });
    }
  }
});

document.addEventListener("DOMContentLoaded", () => {
  // The callback's fragment (response_mode=fragment): read it here and post it to the playground.
  const reader = document.querySelector("form[data-fragment-reader]");
  if (reader && window.location.hash.length > 1) {
    reader.elements.namedItem("fragment").value = window.location.hash.slice(1);
    history.replaceState(null, "", window.location.pathname);  // the code leaves the address bar
    reader.submit();
  }

  // The callback in query mode: the answer is read, so the code and state leave the address bar
  // (and the history, and a bookmark); the page keeps them in its form (RFC 9700 §4.3).
  if (document.getElementById("callback") && new URLSearchParams(window.location.search).has("code")) {
    history.replaceState(null, "", window.location.pathname);
  }

  // A page that only passes the answer on (the form_post relay): post it at once.
  const relay = document.querySelector("form[data-autosubmit]");
  if (relay) relay.submit();
});

document.addEventListener("DOMContentLoaded", () => {
  // The device grant (RFC 8628): count the codes' expiry down, and press Poll now every `interval`
  // seconds (the form carries the interval, 5 s more after each slow_down, §3.5) until the user
  // answers, the codes expire, or Stop polling. Without this script: the absolute expiry, Poll now by hand.
  const form = document.querySelector("form[data-device-poll]");
  if (!form) return;
  const expiry = document.getElementById("device-expiry");
  const pollNow = document.getElementById("poll-now");
  const stop = document.getElementById("stop-polling");
  const next = document.getElementById("next-poll");
  const stopped = form.elements.namedItem("poll_stopped");
  const started = Date.now();
  const left = (seconds) => Math.max(0, Math.ceil(seconds - (Date.now() - started) / 1000));
  const clock = (s) => `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  const expiresIn = expiry ? Number(expiry.dataset.expiresIn) : Infinity;
  const absolute = expiry ? expiry.textContent : "";
  let polling = form.hasAttribute("data-auto") && pollNow && expiresIn > 0;
  let due = Number(form.dataset.interval) || 5;
  const say = () => {
    if (!next) return;
    next.hidden = !polling;
    next.textContent = `Polling again in ${left(due)} s`;
  };
  const tick = () => {
    const remaining = left(expiresIn);
    if (expiry) expiry.textContent = remaining > 0 ? `in ${clock(remaining)} (${absolute})` : `expired (${absolute})`;
    if (remaining <= 0 && polling) {  // at expiry polling stops; Poll now still asks (expired_token)
      polling = false;
      if (stop) stop.hidden = true;
    }
    if (polling && left(due) <= 0) {
      polling = false;  // one poll: the next page starts its own count
      form.requestSubmit(pollNow);
    }
    say();
  };
  if (stop && pollNow) {
    stop.hidden = !polling;
    stop.addEventListener("click", () => {
      polling = !polling;
      if (stopped) stopped.value = polling ? "" : "1";  // carried: a Poll now by hand does not restart it
      stop.textContent = polling ? "Stop polling" : "Resume polling";
      if (polling) due = (Date.now() - started) / 1000 + (Number(form.dataset.interval) || 5);
      say();
    });
  }
  if (stopped && stopped.value === "1" && stop && pollNow && left(expiresIn) > 0) {
    stop.hidden = false;
    stop.textContent = "Resume polling";
  }
  tick();
  setInterval(tick, 1000);
});
