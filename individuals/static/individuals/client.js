/* The client page's Reveal buttons (POST, CSRF-protected, audited by the service; nothing goes in a URL). */
document.querySelectorAll("#personal-data .pd-reveal").forEach(function (button) {
  "use strict";
  button.addEventListener("click", function () {
    var token = document.querySelector("[name=csrfmiddlewaretoken]").value;
    fetch(button.dataset.url, {method: "POST", headers: {"X-CSRFToken": token}, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (body) {
        document.getElementById(button.dataset.target).textContent = body.value || body.error;
        button.remove();
      });
  });
});
