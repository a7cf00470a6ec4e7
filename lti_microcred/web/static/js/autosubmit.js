/* Post the Deep Linking response back to the LMS without a click (the button stays for no-JS users). */
(function () {
  "use strict";
  var form = document.querySelector("form.autosubmit");
  if (form) { form.submit(); }
})();
