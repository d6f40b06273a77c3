// The send page's progress bar (static/js/progress-panel.js polls): updates the figures until the
// send is no longer running. Included from the admin <head>, so it waits for the page body.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var panel = document.querySelector(".send-progress[data-progress-url]");
  if (!panel) {
    return;
  }
  var RUNNING = { sending: true, paused: true };

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

  window.progressPanel(panel, {
    interval: 3000,
    fields: ["sent", "failed", "unknown", "skipped", "remaining", "rate", "status_label"],
    render: function (data, set) {
      set("eta", eta(data.eta_seconds));
    },
    running: function (data) {
      return Boolean(RUNNING[data.status]);
    },
  });
});
