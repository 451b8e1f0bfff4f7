// Warns before the session ends for lack of activity (layout/_session_dialog.html):
// "Rester connecté" restarts the server's idle clock, "Se déconnecter" logs out. The
// server's timeout is the rule (core.sessions); this script is only a comfort, so it
// asks the server how much time is left before warning or leaving (another tab may
// have kept the session alive), and on the end leads to the login page with `next`.
(function () {
  "use strict";
  var modal = document.getElementById("modale-session");
  if (!modal || !window.fetch || !window.FormData) {
    return;
  }
  var sessionUrl = modal.dataset.sessionUrl;
  var loginUrl = modal.dataset.loginUrl;
  var warning = parseInt(modal.dataset.warning, 10) || 0;
  var endText = modal.querySelector("[data-session-end]");
  var finalNotice = modal.querySelector("[data-session-final]");
  var stayForm = document.getElementById("session-prolonger");
  var stayItem = stayForm.closest("li");
  var timer = null;
  var open = false;
  // A little after the server's end, so that the login page finds the session expired.
  var MARGIN = 2000;

  function leave() {
    var next = window.location.pathname + window.location.search;
    window.location.assign(loginUrl + "?next=" + encodeURIComponent(next));
  }

  function disclose() {
    if (!open) {
      open = true;
      window.dsfr(modal).modal.disclose();
    }
  }

  function conceal() {
    if (open) {
      open = false;
      window.dsfr(modal).modal.conceal();
    }
  }

  modal.addEventListener("dsfr.conceal", function () { open = false; });

  // Plans the warning and the end from the seconds the server says are left.
  function arm(state) {
    clearTimeout(timer);
    var idle = Number(state.idle_remaining);
    var absolute = Number(state.absolute_remaining);
    var left = Math.min(idle, absolute);
    if (!(left > 0)) {
      leave();
      return;
    }
    var finalEnd = absolute <= idle;
    var end = new Date(Date.now() + left * 1000);
    endText.textContent = end.toLocaleTimeString(document.documentElement.lang || "fr", {
      hour: "2-digit",
      minute: "2-digit",
    });
    // At the absolute lifetime, staying is not possible: only the notice remains.
    finalNotice.hidden = !finalEnd;
    stayItem.hidden = finalEnd;
    if (left > warning) {
      conceal();
      timer = setTimeout(check, (left - warning) * 1000);
    } else {
      disclose();
      timer = setTimeout(check, left * 1000 + MARGIN);
    }
  }

  // The server's answer, or null when the session is over (the login page answers
  // with a redirect, which "manual" leaves unfollowed).
  function answer(response) {
    return response.ok ? response.json() : null;
  }

  function follow(state) {
    if (state) {
      arm(state);
    } else {
      leave();
    }
  }

  // A network error is no proof that the session ended: ask again a little later.
  function retry() {
    clearTimeout(timer);
    timer = setTimeout(check, 30000);
  }

  // Asks without counting as activity.
  function check() {
    fetch(sessionUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
      redirect: "manual",
    })
      .then(answer)
      .then(follow, retry);
  }

  // Browsers slow down the timers of hidden tabs: back on the tab, ask again.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      check();
    }
  });

  stayForm.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(sessionUrl, {
      method: "POST",
      body: new FormData(stayForm),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      redirect: "manual",
    })
      .then(answer)
      .then(follow, retry);
  });

  arm({
    idle_remaining: modal.dataset.idleRemaining,
    absolute_remaining: modal.dataset.absoluteRemaining,
  });
})();
