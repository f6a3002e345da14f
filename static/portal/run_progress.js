/* Follows runs under way without reloading the page: every element with a
   data-progress-url asks its run's progress (JSON) every 2 s and fills the elements inside
   it that name a field (data-field), its <progress> bar and its status badge. Once the run
   has ended the page is loaded once more, to show what the run did in full. */
(function () {
  "use strict";
  var EVERY_MS = 2000;

  function fill(box, p) {
    box.querySelectorAll("[data-field]").forEach(function (el) {
      var name = el.getAttribute("data-field");
      if (name === "of") {
        el.textContent = p.expected ? " of " + p.expected : "";
      } else if (name === "phase_label") {
        el.textContent = p.phase_label || (p.live ? "Waiting for a worker" : "Ended");
      } else if (p[name] !== undefined && p[name] !== null) {
        el.textContent = p[name];
      }
    });
    box.querySelectorAll("[data-badge]").forEach(function (el) {
      el.className = "badge badge-" + p.status;
    });
    box.querySelectorAll("progress").forEach(function (bar) {
      if (p.expected) {
        bar.max = p.expected;
        bar.value = Math.min(p.done, p.expected);
        bar.textContent = p.percent + " %";
      } else {
        bar.removeAttribute("value");  // unknown total: an indeterminate bar
      }
    });
  }

  function follow(box) {
    var url = box.getAttribute("data-progress-url");
    function ask() {
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin", cache: "no-store"})
        .then(function (response) {
          if (!response.ok) { throw new Error("progress answered " + response.status); }
          return response.json();
        })
        .then(function (p) {
          fill(box, p);
          if (p.live) { window.setTimeout(ask, EVERY_MS); } else { window.location.reload(); }
        })
        .catch(function () { window.setTimeout(ask, EVERY_MS * 5); });  // the server away for a moment
    }
    window.setTimeout(ask, EVERY_MS);
  }

  document.querySelectorAll("[data-progress-url]").forEach(follow);
})();
