/* Login step inside an LMS frame: keep the state in the LMS's storage when it offers one, else make sure
   a cookie can survive; when neither works, offer to open the activity in a new window. */
(function () {
  "use strict";
  var el = document.getElementById("lti-login");
  var d = el.dataset;
  function go() { window.location.replace(d.authUrl); }
  function fallback() {
    document.getElementById("login-working").hidden = true;
    document.getElementById("login-fallback").hidden = false;
  }
  function cookiesWork() {
    var secure = window.location.protocol === "https:" ? "; SameSite=None; Secure; Partitioned" : "";
    document.cookie = "lmc_probe=1; path=/; max-age=60" + secure;
    return document.cookie.indexOf("lmc_probe=1") !== -1;
  }
  function cookieOrFallback() { if (cookiesWork()) { go(); } else { fallback(); } }
  if (d.storageTarget) {
    window.ltiStorage.put(d.storageTarget, d.authOrigin, d.storageKey, d.state).then(go, cookieOrFallback);
  } else {
    cookieOrFallback();
  }
})();
