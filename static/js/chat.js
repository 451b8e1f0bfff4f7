// Échange avec un agent: new messages appear without reloading (short polling, stopped
// when the chat ends) and the form sends without leaving the page. Without JavaScript,
// the form posts and the page reloads. Messages are written with textContent only:
// whatever a user types is never read as HTML.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root || !window.fetch || !window.FormData) {
    return;
  }
  var list = document.getElementById("chat-messages");
  var empty = document.getElementById("chat-empty");
  var template = document.getElementById("chat-message-template");
  var statusLabel = document.getElementById("chat-status");
  var endedNotice = document.getElementById("chat-ended");
  var endForm = document.getElementById("chat-end-form");
  var form = document.getElementById("chat-form");
  var formError = document.getElementById("chat-form-error");

  var pollUrl = root.dataset.pollUrl;
  var interval = parseInt(root.dataset.interval, 10) || 3000;
  var lastId = parseInt(root.dataset.after, 10) || 0;
  var ended = root.dataset.status === "TERMINE";
  var timer = null;
  var inFlight = false;
  var again = false;

  function append(message) {
    if (message.id <= lastId || document.getElementById("message-" + message.id)) {
      return;
    }
    var item = template.content.firstElementChild.cloneNode(true);
    item.id = "message-" + message.id;
    item.setAttribute("data-id", message.id);
    item.classList.toggle("fr-background-alt--blue-france", message.is_agent);
    item.classList.toggle("fr-background-alt--grey", !message.is_agent);
    item.querySelector('[data-field="author"]').textContent = message.author;
    var time = item.querySelector('[data-field="time"]');
    time.textContent = message.time;
    time.setAttribute("datetime", message.created_at);
    item.querySelector('[data-field="body"]').textContent = message.body;
    list.appendChild(item);
    lastId = message.id;
    empty.hidden = true;
  }

  function showStatus(data) {
    if (statusLabel.textContent !== data.status_label) {
      statusLabel.textContent = data.status_label;
    }
    if (data.status === "TERMINE" && !ended) {
      ended = true;
      endedNotice.hidden = false;
      if (form) {
        form.hidden = true;
      }
      if (endForm) {
        endForm.hidden = true;
      }
    }
  }

  function schedule() {
    clearTimeout(timer);
    if (!ended && !document.hidden) {
      timer = setTimeout(poll, interval);
    }
  }

  function poll() {
    clearTimeout(timer);
    if (inFlight) {
      again = true; // one more poll as soon as this one answers
      return;
    }
    inFlight = true;
    fetch(pollUrl + "?after=" + encodeURIComponent(lastId), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (data) {
        data.messages.forEach(append);
        showStatus(data);
      })
      .catch(function () {
        // A failed poll (network, server restart) is simply tried again at the next tick.
      })
      .then(function () {
        inFlight = false;
        if (again) {
          again = false;
          poll();
        } else {
          schedule();
        }
      });
  }

  function showError(text) {
    formError.querySelector('[data-field="error"]').textContent = text;
    formError.hidden = !text;
  }

  if (form) {
    var textarea = form.querySelector("textarea");
    var button = form.querySelector('button[type="submit"]');
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      showError("");
      button.disabled = true;
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.json().then(function (data) {
            return { ok: response.ok, data: data };
          });
        })
        .then(function (result) {
          if (result.ok) {
            textarea.value = "";
          } else {
            showError(result.data.error || form.dataset.sendError);
          }
          // The new message, and any the other side wrote just before, come in order.
          poll();
        })
        .catch(function () {
          showError(form.dataset.sendError);
        })
        .then(function () {
          button.disabled = false;
          textarea.focus();
        });
    });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      clearTimeout(timer);
    } else if (!ended) {
      poll();
    }
  });

  schedule();
})();
