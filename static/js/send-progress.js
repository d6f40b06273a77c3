// The send page's progress bar: polls the staff-only JSON endpoint named in data-progress-url and
// updates the figures until the send is no longer running. No inline script (CSP-ready).
// Included from the admin <head>, so it waits for the page body.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var panel = document.querySelector(".send-progress[data-progress-url]");
  if (!panel) {
    return;
  }
  var url = panel.getAttribute("data-progress-url");
  var INTERVAL = 3000;
  var RUNNING = { sending: true, paused: true };

  function set(name, value) {
    var node = panel.querySelector('[data-field="' + name + '"]');
    if (node) {
      node.textContent = value;
    }
  }

  function eta(seconds) {
    if (!seconds) {
      return "–";
    }
    if (seconds < 90) {
      return "about " + seconds + " s";
    }
    if (seconds < 5400) {
      return "about " + Math.round(seconds / 60) + " min";
    }
    return "about " + (seconds / 3600).toFixed(1) + " h";
  }

  function render(data) {
    var bar = panel.querySelector('[data-field="bar"]');
    if (bar) {
      bar.max = data.total || 1;
      bar.value = data.done;
      bar.textContent = data.percent + "%";
    }
    ["sent", "failed", "unknown", "skipped", "remaining", "rate", "status_label"].forEach(function (name) {
      set(name, data[name]);
    });
    set("eta", eta(data.eta_seconds));
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        render(data);
        if (RUNNING[data.status]) {
          window.setTimeout(poll, INTERVAL);
        }
      })
      .catch(function () {
        window.setTimeout(poll, INTERVAL * 4);
      });
  }

  window.setTimeout(poll, INTERVAL);
});
