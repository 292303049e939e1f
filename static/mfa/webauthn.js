// WebAuthn ceremonies for forms marked data-webauthn="create" or "get": ask the browser for a
// credential with the server's options (data-options), put its JSON in the hidden "credential"
// field and submit. Every error the browser can raise is shown in words, with a way to retry.
(function () {
  "use strict";

  function describe(form, error, elapsed, timeout) {
    var d = form.dataset;
    if (!error || !error.name) { return d.msgOther; }
    if (error.name === "NotAllowedError") {
      // Chromium reports both "cancelled" and "timed out" as NotAllowedError.
      return timeout && elapsed >= timeout ? d.msgTimeout : d.msgNotAllowed;
    }
    if (error.name === "AbortError") { return d.msgAbort; }
    if (error.name === "TimeoutError") { return d.msgTimeout; }
    if (error.name === "InvalidStateError") { return d.msgInvalidState; }
    if (error.name === "SecurityError") { return d.msgSecurity; }
    return d.msgOther;
  }

  function supported() {
    return !!(window.PublicKeyCredential && PublicKeyCredential.parseCreationOptionsFromJSON &&
              PublicKeyCredential.parseRequestOptionsFromJSON && navigator.credentials);
  }

  function setup(form) {
    var button = form.querySelector("[data-webauthn-start]");
    var status = form.querySelector("[data-webauthn-status]");
    var field = form.querySelector("input[name=credential]");
    if (!button || !status || !field) { return; }
    if (!supported()) {
      status.textContent = form.dataset.msgUnsupported;
      button.disabled = true;
      return;
    }
    var busy = false;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      if (busy || !form.reportValidity()) { return; }
      var options = JSON.parse(form.dataset.options);
      var started = Date.now();
      busy = true;
      button.disabled = true;
      status.classList.remove("error");
      status.textContent = form.dataset.msgWaiting;
      var request = form.dataset.webauthn === "create"
        ? navigator.credentials.create({publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options)})
        : navigator.credentials.get({publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options)});
      request.then(function (credential) {
        field.value = JSON.stringify(credential.toJSON());
        form.submit();
      }).catch(function (error) {
        busy = false;
        button.disabled = false;
        button.textContent = form.dataset.msgRetry;
        status.classList.add("error");
        status.textContent = describe(form, error, Date.now() - started, options.timeout);
      });
    });
  }

  document.querySelectorAll("form[data-webauthn]").forEach(setup);
})();
