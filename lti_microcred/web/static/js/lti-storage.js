/* LTI platform storage (client-side postMessage, https://www.imsglobal.org/spec/lti-cs-pm/v0p1):
   send one message to the frame the LMS named, wait for its answer from the auth endpoint's origin. */
window.ltiStorage = (function () {
  "use strict";
  function frameOf(name) {
    if (!name || !window.parent || window.parent === window) { return null; }
    if (name === "_parent") { return window.parent; }
    try { return window.parent.frames[name] || null; } catch (e) { return null; }
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }
  function ask(target, origin, message, timeoutMs) {
    return new Promise(function (resolve, reject) {
      var frame = frameOf(target);
      if (!frame) { reject(new Error("no storage frame " + target)); return; }
      var id = newId();
      var timer = setTimeout(function () { done(); reject(new Error("timeout")); }, timeoutMs || 4000);
      // The LMS's storage frame may still be loading: say it again until it answers (same message_id).
      var again = setInterval(send, 400);
      function send() { frame.postMessage(message, origin); }
      function done() { clearTimeout(timer); clearInterval(again); window.removeEventListener("message", listen); }
      function listen(event) {
        var data = event.data;
        if (event.origin !== origin || !data || data.message_id !== id) { return; }
        if (data.subject !== message.subject + ".response") { return; }
        done();
        if (data.error) { reject(new Error(data.error.code || "error")); } else { resolve(data); }
      }
      window.addEventListener("message", listen);
      message.message_id = id;
      send();
    });
  }
  return {
    put: function (target, origin, key, value) {
      return ask(target, origin, { subject: "lti.put_data", key: key, value: value });
    },
    get: function (target, origin, key) {
      return ask(target, origin, { subject: "lti.get_data", key: key }).then(function (d) { return d.value; });
    }
  };
})();
