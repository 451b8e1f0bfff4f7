// The virtual assistant's bubble: opens a non-modal dialog (focus moves to the
// question, Escape or "Fermer" closes it and gives focus back to the button), posts the
// question and appends the answer fragment the server rendered (every text in it is
// escaped there). Without JavaScript, the bubble is a link to the assistant's page.
(function () {
  "use strict";
  var root = document.getElementById("assistant");
  if (!root) {
    return;
  }
  var toggle = document.getElementById("assistant-virtuel");
  var panel = document.getElementById("assistant-panneau");
  var closeButton = document.getElementById("assistant-fermer");
  var form = document.getElementById("assistant-formulaire");
  var field = document.getElementById("assistant-question");
  var log = document.getElementById("assistant-fil");
  var busy = false;

  toggle.hidden = false;

  function open() {
    panel.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    field.focus();
  }

  function close() {
    panel.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    toggle.focus();
  }

  toggle.addEventListener("click", function () {
    if (panel.hidden) {
      open();
    } else {
      close();
    }
  });
  closeButton.addEventListener("click", close);
  // Any link marked data-open-assistant (e.g. on Nous contacter) opens the panel in place.
  document.addEventListener("click", function (event) {
    var link = event.target.closest("[data-open-assistant]");
    if (link) {
      event.preventDefault();
      open();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden && (panel.contains(document.activeElement) || document.activeElement === toggle)) {
      event.preventDefault();
      close();
    }
  });

  function append(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    log.appendChild(template.content);
    log.scrollTop = log.scrollHeight;
  }

  function appendError() {
    var paragraph = document.createElement("p");
    paragraph.className = "fr-error-text";
    paragraph.textContent = root.getAttribute("data-error");
    log.appendChild(paragraph);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) {
      return;
    }
    busy = true;
    form.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "XMLHttpRequest" },
      credentials: "same-origin"
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.text();
      })
      .then(function (html) {
        append(html);
        field.value = "";
      })
      .catch(appendError)
      .then(function () {
        busy = false;
        form.removeAttribute("aria-busy");
        field.focus();
      });
  });

  // Enter sends the question; Shift+Enter starts a new line.
  field.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      if (form.requestSubmit) {
        form.requestSubmit();
      } else {
        form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    }
  });
})();
