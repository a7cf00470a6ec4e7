/* "Copy link" buttons: copy the named input's value; select it when the clipboard is not available. */
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById(button.getAttribute("aria-describedby"));
      function say(text) { if (status) { status.textContent = text; } }
      input.focus();
      input.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { say("Copied."); },
          function () { say("Press Ctrl+C (or long-press and Copy) to copy the selected link."); });
      } else {
        say(document.execCommand && document.execCommand("copy") ? "Copied." :
          "Press Ctrl+C (or long-press and Copy) to copy the selected link.");
      }
    });
  });
})();
