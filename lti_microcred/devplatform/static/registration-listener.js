window.addEventListener("message", function (event) {
  if (event.data && event.data.subject === "org.imsglobal.lti.close") {
    document.getElementById("registration-status").textContent = "The tool finished its registration.";
  }
});
