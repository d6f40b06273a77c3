// One progress panel of the admin (a send's, an import run's): polls the staff-only JSON endpoint
// named in the panel's data-progress-url, fills each [data-field] from the answer and moves the
// <progress data-field="bar">, until `options.running(data)` is false; then `options.finished`.
// A failed poll is retried, more slowly. No inline script (CSP-ready).
window.progressPanel = function (panel, options) {
  "use strict";
  var url = panel.getAttribute("data-progress-url");
  var interval = options.interval || 3000;

  function set(name, value) {
    var node = panel.querySelector('[data-field="' + name + '"]');
    if (node) {
      node.textContent = value;
    }
  }

  function render(data) {
    var bar = panel.querySelector('[data-field="bar"]');
    if (bar) {
      bar.max = data.total || 1;
      bar.value = data.done;
      bar.textContent = data.percent + "%";
    }
    options.fields.forEach(function (name) {
      set(name, data[name]);
    });
    if (options.render) {
      options.render(data, set);
    }
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
        if (options.running(data)) {
          window.setTimeout(poll, interval);
        } else if (options.finished) {
          options.finished(data);
        }
      })
      .catch(function () {
        window.setTimeout(poll, interval * 4);
      });
  }

  window.setTimeout(poll, interval);
};
