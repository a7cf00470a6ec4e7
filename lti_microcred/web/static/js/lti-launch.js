/* Launch step with platform storage: read back the state this browser stored at login and confirm it. */
(function () {
  "use strict";
  var form = document.getElementById("lti-confirm");
  var d = form.dataset;
  window.ltiStorage.get(d.storageTarget, d.authOrigin, d.storageKey).then(function (value) {
    form.elements.state.value = value || "";
    form.submit();
  }, function (error) {
    form.elements.storage_error.value = String(error && error.message || error);
    form.submit();
  });
})();
