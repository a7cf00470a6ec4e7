/* The verification page's e-mail check: hash the address the way the credential's identity hash says
   (OB 3.0 IdentityObject: sha256 of the address followed by the salt, hex) and compare, in this browser.
   Nothing is sent anywhere. Without Web Crypto, a credential's own page posts the form to this site instead. */
(function () {
  "use strict";
  var form = document.getElementById("email-form");
  var result = document.getElementById("email-result");
  if (!form || !result || !window.crypto || !window.crypto.subtle || !window.TextEncoder) { return; }

  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }
  function sha256(text) {
    return window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)).then(hex);
  }
  function check(event) {
    event.preventDefault();
    var typed = form.elements.email.value.trim();
    if (!typed) { form.elements.email.focus(); return; }
    var wanted = (form.getAttribute("data-hash") || "").toLowerCase().replace(/^sha256\$/, "");
    var salt = form.getAttribute("data-salt") || "";
    var tries = form.getAttribute("data-type") === "emailAddress" ? [typed.toLowerCase(), typed] : [typed];
    Promise.all(tries.map(function (value) { return sha256(value + salt); })).then(function (hashes) {
      var match = hashes.indexOf(wanted) !== -1;
      result.setAttribute("data-match", match ? "true" : "false");
      result.textContent = result.getAttribute(match ? "data-yes" : "data-no");
      result.focus();
    });
  }
  form.addEventListener("submit", check);
  var button = document.getElementById("email-button");
  if (button && button.type === "button") { button.addEventListener("click", check); }
})();
