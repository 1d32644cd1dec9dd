// Progressive enhancement only: every page works without this script.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
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
      } catch {
        const range = document.createRange();
        range.selectNodeContents(target);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "Selected: press Ctrl+C";
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

  // Enter inside the introspection section means Get TokenInfo, not Authorize.
  const introspection = document.getElementById("introspection");
  if (introspection) {
    introspection.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.target.tagName === "INPUT") {
        event.preventDefault();
        document.getElementById("get_tokeninfo").click();
      }
    });
  }
});
