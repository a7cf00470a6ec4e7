/* End of Dynamic Registration: tell the LMS it may close the registration frame. */
(function () {
  "use strict";
  function close() { (window.opener || window.parent).postMessage({ subject: "org.imsglobal.lti.close" }, "*"); }
  document.getElementById("close-registration").addEventListener("click", close);
  close();
})();
