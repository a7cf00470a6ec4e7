/* The design system's behaviour (classes: see static/css/app.css; markup: templates/_ui.html). Every page:
   - after a post, the result (error summary, else a notice) is scrolled to the top of the frame and focused;
   - a link in an error summary focuses its field (opening its disclosure) with the label in view;
   - forms with data-busy say they are working and are not sent twice;
   - forms with data-upload send a chosen file with a progress bar, then show the answer in place.
   Without JavaScript every form still posts normally and the page opens at its top. */
(function () {
  "use strict";
  var RESULTS = [".error-summary", "[data-autofocus]", "[role='alert']", "#notice"];  // the first found wins

  function reveal(element) {
    if (!element.hasAttribute("tabindex")) { element.setAttribute("tabindex", "-1"); }
    element.focus({ preventScroll: true });
    element.scrollIntoView({ block: "start" });
  }

  function showResult() {
    for (var i = 0; i < RESULTS.length; i += 1) {
      var result = document.querySelector(RESULTS[i]);
      if (result) { reveal(result); return; }
    }
  }

  function goToField(link, event) {
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    var closed = field.closest("details:not([open])");
    if (closed) { closed.open = true; }
    (document.querySelector("label[for='" + field.id + "']") || field).scrollIntoView({ block: "start" });
    field.focus({ preventScroll: true });
  }

  function busy(form, on) {
    var button = form.querySelector("button[type='submit'], button:not([type])");
    form.toggleAttribute("data-sending", on);
    form.setAttribute("aria-busy", on ? "true" : "false");
    if (!button) { return; }
    if (on) {
      button.setAttribute("data-idle-label", button.textContent);
      button.textContent = button.getAttribute("data-busy-label") || "Sending…";
    } else if (button.hasAttribute("data-idle-label")) {
      button.textContent = button.getAttribute("data-idle-label");
    }
    button.setAttribute("aria-disabled", on ? "true" : "false");
  }

  function refuse(form, input, message) {
    var old = document.getElementById("error-summary");
    if (old) { old.remove(); }
    var box = document.createElement("div");
    box.className = "error-summary";
    box.id = "error-summary";
    box.setAttribute("role", "alert");
    box.setAttribute("aria-labelledby", "error-summary-title");
    box.innerHTML = "<h2 class='error-summary__title' id='error-summary-title'></h2>" +
      "<ul class='error-summary__list'><li><a></a></li></ul>";
    box.querySelector("h2").textContent = form.getAttribute("data-error-title") || "There is a problem";
    box.querySelector("a").textContent = message;
    box.querySelector("a").setAttribute("href", "#" + input.id);
    var main = document.getElementById("main");
    main.insertBefore(box, main.firstChild);
    var beside = document.getElementById(input.id + "-error") || document.createElement("p");
    beside.className = "field-error";
    beside.id = input.id + "-error";
    beside.textContent = message;
    input.parentNode.insertBefore(beside, input);
    input.setAttribute("aria-invalid", "true");
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    if (described.indexOf(beside.id) < 0) { input.setAttribute("aria-describedby", described.concat(beside.id).join(" ")); }
    reveal(box);
  }

  function megabytes(bytes) { return (bytes / 1048576).toFixed(1).replace(/\.0$/, "") + " MB"; }

  function answered(xhr) {
    var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
    if (xhr.responseURL && xhr.status < 300) { window.history.replaceState(null, "", xhr.responseURL); }
    document.title = page.title;
    document.body.replaceWith(document.adoptNode(page.body));
    window.scrollTo(0, 0);
    showResult();
  }

  function upload(form, input, file) {
    var box = form.querySelector(".upload-progress");
    var bar = box && box.querySelector("progress");
    var status = box && box.querySelector("[data-upload-status]");
    var said = -1;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (event) {
      if (!bar || !event.lengthComputable) { return; }
      var percent = Math.floor(100 * event.loaded / event.total);
      bar.value = percent;
      if (percent >= said + 25 || percent === 100) {  // a few steps for screen readers, not every packet
        said = percent;
        status.textContent = "Sending " + file.name + ": " + percent + "% of " + megabytes(file.size);
      }
    });
    function failed() {
      busy(form, false);
      if (box) { box.hidden = true; }
      refuse(form, input, file.name + " could not be sent: the connection failed. Check it and try again.");
    }
    xhr.addEventListener("load", function () { if (xhr.responseText) { answered(xhr); } else { failed(); } });
    xhr.addEventListener("error", failed);
    if (box) { box.hidden = false; status.textContent = "Sending " + file.name + "…"; }
    xhr.send(new FormData(form));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-busy")) { return; }
    if (form.hasAttribute("data-sending")) { event.preventDefault(); return; }
    var input = form.hasAttribute("data-upload") && form.querySelector("input[type='file']");
    var file = input && input.files && input.files[0];
    var limit = file && Number(input.getAttribute("data-max-bytes"));
    if (file && limit && file.size > limit) {
      event.preventDefault();
      refuse(form, input, file.name + " is " + megabytes(file.size) + ": files can be up to " + megabytes(limit) +
        ". Choose a smaller file, or share a link to it instead.");
      return;
    }
    busy(form, true);
    if (file && window.FormData && window.DOMParser) {
      event.preventDefault();
      upload(form, input, file);
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".error-summary a[href^='#']");
    if (link) { goToField(link, event); }
  });

  window.addEventListener("pageshow", function (event) {  // back from the next page: forms work again
    if (event.persisted) { document.querySelectorAll("form[data-sending]").forEach(function (f) { busy(f, false); }); }
  });

  showResult();
})();
