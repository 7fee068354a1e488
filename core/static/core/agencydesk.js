/* AgencyDesk admin: small behaviours shared by every page. */
// A job's live part was swapped in by htmx: the window title follows the job's status too.
document.addEventListener("htmx:afterSwap", function () {
  var title = document.getElementById("job-title");
  if (title) document.title = title.textContent + " | AgencyDesk";
});
