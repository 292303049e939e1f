// The sign-in waiting page: ask the server for the answer every few seconds; once the device
// answered (or the request expired), submit the page's form so the server concludes the sign-in.
(function () {
  "use strict";
  var status = document.getElementById("kauth-status");
  var form = document.getElementById("kauth-form");
  if (!status || !form) { return; }
  var url = status.getAttribute("data-status-url");
  var every = Math.max(1, parseInt(status.getAttribute("data-interval"), 10) || 2) * 1000;
  function check() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : { status: "pending" }; })
      .then(function (data) {
        if (data.status && data.status !== "pending") { form.submit(); } else { setTimeout(check, every); }
      })
      .catch(function () { setTimeout(check, every * 2); });
  }
  setTimeout(check, every);
})();
