/* Platform side of LTI platform storage: a frame of the LMS origin that keeps small values per tool origin. */
(function () {
  "use strict";
  var FRAME = "post_message_forwarding";
  var supported = ["lti.capabilities", "lti.put_data", "lti.get_data"];
  window.addEventListener("message", function (event) {
    var m = event.data;
    if (!m || typeof m !== "object" || supported.indexOf(m.subject) === -1) { return; }
    var reply = { subject: m.subject + ".response", message_id: m.message_id };
    var slot = "lti:" + event.origin + ":" + m.key;
    if (m.subject === "lti.capabilities") {
      reply.supported_messages = [{ subject: "lti.put_data", frame: FRAME }, { subject: "lti.get_data", frame: FRAME }];
    } else if (m.subject === "lti.put_data") {
      if (typeof m.key !== "string" || typeof m.value !== "string") {
        reply.error = { code: "bad_request", message: "key and value must be strings" };
      } else {
        sessionStorage.setItem(slot, m.value); reply.key = m.key; reply.value = m.value;
      }
    } else {
      reply.key = m.key; reply.value = sessionStorage.getItem(slot);
    }
    event.source.postMessage(reply, event.origin);
  });
})();
