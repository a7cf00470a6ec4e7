/* Platform side of LTI platform storage: a frame of the LMS origin that keeps small values per tool origin,
   with Canvas's limits (instructure/canvas-lms ui/shared/lti/jquery/platform_storage.ts: STORAGE_CHAR_LIMIT
   4096 and STORAGE_KEY_LIMIT 500, counted per tool origin for as long as the page lives; every put counts a
   key and adds key.length + value.length characters, an empty value clears the key and gives its count back;
   going over answers the error code "storage_exhaustion"). The checks of the messages themselves are those
   of ui/shared/lti/jquery/subjects/lti.put_data.ts and lti.get_data.ts ("bad_request" without key or
   message_id). Canvas keeps the values in localStorage; this frame keeps them for the tab (sessionStorage). */
(function () {
  "use strict";
  var FRAME = "post_message_forwarding";
  var CHAR_LIMIT = 4096;
  var KEY_LIMIT = 500;
  var supported = ["lti.capabilities", "lti.put_data", "lti.get_data"];
  var limits = {};  // tool origin -> {keyCount, charCount}, as platform_storage.ts's `limits`

  function limitOf(origin) {
    if (!limits[origin]) { limits[origin] = { keyCount: 0, charCount: 0 }; }
    return limits[origin];
  }
  function slot(origin, key) { return "lti|platform_storage|" + origin + "|" + key; }

  function put(origin, key, value) {  // platform_storage.ts putData -> addToLimit
    var limit = limitOf(origin);
    if (limit.keyCount >= KEY_LIMIT) { return { code: "storage_exhaustion", message: "Reached key limit for tool" }; }
    if (limit.charCount + key.length + value.length > CHAR_LIMIT) {
      return { code: "storage_exhaustion", message: "Reached byte limit for tool" };
    }
    limit.keyCount += 1;
    limit.charCount += key.length + value.length;
    sessionStorage.setItem(slot(origin, key), value);
    return null;
  }

  function clear(origin, key) {  // platform_storage.ts clearData -> removeFromLimit
    var value = sessionStorage.getItem(slot(origin, key));
    if (!value) { return; }
    var limit = limitOf(origin);
    limit.keyCount = Math.max(0, limit.keyCount - 1);
    limit.charCount = Math.max(0, limit.charCount - key.length - value.length);
    sessionStorage.removeItem(slot(origin, key));
  }

  function answer(m, origin) {
    var reply = {};
    if (m.subject === "lti.capabilities") {
      reply.supported_messages = [{ subject: "lti.put_data", frame: FRAME }, { subject: "lti.get_data", frame: FRAME }];
      return reply;
    }
    if (!m.key || typeof m.key !== "string") { return { error: { code: "bad_request", message: "Missing required 'key' field" } }; }
    if (!m.message_id) { return { error: { code: "bad_request", message: "Missing required 'message_id' field" } }; }
    if (m.subject === "lti.get_data") { return { key: m.key, value: sessionStorage.getItem(slot(origin, m.key)) }; }
    if (!m.value) { clear(origin, m.key); return { key: m.key }; }
    var error = put(origin, m.key, String(m.value));
    return error ? { error: error } : { key: m.key, value: String(m.value) };
  }

  window.addEventListener("message", function (event) {
    var m = event.data;
    if (!m || typeof m !== "object" || supported.indexOf(m.subject) === -1) { return; }
    var reply = answer(m, event.origin);
    reply.subject = m.subject + ".response";
    if (m.message_id) { reply.message_id = m.message_id; }
    event.source.postMessage(reply, event.origin);
  });
})();
