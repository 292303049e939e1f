// "Add kAuth": ask the server every few seconds whether the device has enrolled, and say so
// without reloading the page.
(function () {
  "use strict";
  var status = document.getElementById("enrol-status");
  if (!status) { return; }
  var url = status.getAttribute("data-status-url");
  var every = Math.max(1, parseInt(status.getAttribute("data-interval"), 10) || 2) * 1000;
  function check() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : { status: "pending" }; })
      .then(function (data) {
        if (data.status === "done") {
          status.textContent = data.message;
          status.className = "notice notice-success";
          var qr = document.querySelector(".kauth-qr");
          if (qr) { qr.hidden = true; }
          if (data.next) {
            var link = document.createElement("a");
            link.href = data.next;
            link.id = "recovery-codes-link";
            link.textContent = data.next_label;
            status.parentNode.insertBefore(link, status.nextSibling);
          }
        } else if (data.status === "expired") {
          status.textContent = status.getAttribute("data-expired-text");
          status.className = "notice notice-warning";
        } else {
          setTimeout(check, every);
        }
      })
      .catch(function () { setTimeout(check, every * 2); });
  }
  setTimeout(check, every);
})();
